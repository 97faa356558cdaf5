#!/usr/bin/env bash
# The contract run: schemathesis (pinned in scripts/test) over the whole OpenAPI document with
# every check, the stateful phase included, against a real `cartwheel serve` on a fresh Postgres
# database, with a shop owner's, a customer's and the operator's token. Must report 0 failures.
#
# Usage: tests/contract/run.sh [BINARY]  (default target/release/cartwheel); needs
# TEST_DATABASE_URL (a Postgres server URL, as scripts/test sets it) and `st` on PATH.
set -euo pipefail
binary=$(realpath "${1:-$(dirname "$0")/../../target/release/cartwheel}")
cd "$(dirname "$0")"
: "${TEST_DATABASE_URL:?set TEST_DATABASE_URL to a Postgres server URL}"

work=$(mktemp -d /tmp/cartwheel-contract.XXXXXX)
db="contract_$(date +%s)_$$"
server="${TEST_DATABASE_URL%/*}"
psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE \"$db\"" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
operator="contract-operator-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"

cleanup() {
  [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

DATABASE_URL="$server/$db" CARTWHEEL_BIND="127.0.0.1:$port" \
  CARTWHEEL_JWT_SECRET="contract-run-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  CARTWHEEL_OPERATOR_TOKEN="$operator" CARTWHEEL_OUTBOX_DIR="$work/outbox" \
  CARTWHEEL_SECRETS_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  CARTWHEEL_RATE_LIMIT_PER_MINUTE=1000000 CARTWHEEL_PROVISION_RATE_LIMIT_PER_MINUTE=1000000 \
  "$binary" serve >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "$base/health/ready" >/dev/null && break; sleep 0.2; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
post() { curl -sf -H 'Content-Type: application/json' -H 'X-Tenant: contract' "$@"; }
password="velvet-otter-lamp-9"
tenant=$(post -d "{\"businessName\":\"Contract\",\"ownerEmail\":\"owner@contract.example\",\"ownerPassword\":\"$password\",\"domain\":\"contract\"}" \
  "$base/api/v1/provision" | json '["tenantId"]')
for _ in $(seq 100); do
  [[ $(curl -sf "$base/api/v1/provision/$tenant/status" | json '["status"]') == READY ]] && break
  sleep 0.2
done
export CONTRACT_ADMIN_TOKEN CONTRACT_CUSTOMER_TOKEN CONTRACT_OPERATOR_TOKEN="$operator"
CONTRACT_ADMIN_TOKEN=$(post -d "{\"email\":\"owner@contract.example\",\"password\":\"$password\"}" "$base/api/v1/auth/login" | json '["token"]')
CONTRACT_CUSTOMER_TOKEN=$(post -d "{\"email\":\"kim@contract.example\",\"password\":\"$password\",\"firstName\":\"Kim\",\"lastName\":\"Park\"}" \
  "$base/api/v1/store/auth/register" | json '["token"]')

SCHEMATHESIS_HOOKS=hooks st --config-file schemathesis.toml run "$base/api/v1/openapi.json" \
  --checks all --max-examples 60 --seed 1 --generation-database none --header 'X-Tenant: contract' --no-color \
  --report junit --report-dir "$work/report" --max-failures 50 || {
  echo "schemathesis found failures; the server log:" >&2
  tail -n 50 "$work/serve.log" >&2
  exit 1
}
