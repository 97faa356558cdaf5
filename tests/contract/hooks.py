"""Schemathesis hooks for Cartwheel's contract run: each operation gets the token it needs."""

import os

import schemathesis

CUSTOMER_PATHS = ("/api/v1/store/auth/me", "/api/v1/store/auth/profile", "/api/v1/store/auth/addresses")


@schemathesis.auth()
class CartwheelAuth:
    """The customer's token on customer endpoints, the operator's on the workers list, the
    shop owner's everywhere else (public endpoints ignore it)."""

    def get(self, case, context):
        path = context.operation.path
        if path.startswith(CUSTOMER_PATHS):
            return os.environ["CONTRACT_CUSTOMER_TOKEN"]
        if path == "/api/v1/admin/workers":
            return os.environ["CONTRACT_OPERATOR_TOKEN"]
        return os.environ["CONTRACT_ADMIN_TOKEN"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
