#!/usr/bin/env bash
# Load test of the storefront against a seeded Postgres shop: product pages (category filter,
# search, one product) and cart adds, with `hey` (Debian package `hey`). Prints hey's summaries.
#
#   createdb -h 127.0.0.1 -U postgres cw_load
#   export DATABASE_URL=postgres://postgres@127.0.0.1:5432/cw_load
#   ./target/release/cartwheel seed catalog --shop loadtest --products 10000 --categories 200
#   tests/load/storefront.sh '<owner password printed by seed>'
#
# The API's catalog cache is on (10 s fresh) unless CARTWHEEL_STORE_CACHE_MS=0 is exported: run both.
set -euo pipefail
cd "$(dirname "$0")/../.."
PASSWORD=${1:?usage: tests/load/storefront.sh OWNER_PASSWORD}
: "${DATABASE_URL:?set DATABASE_URL to the seeded Postgres database}"
REQUESTS=${REQUESTS:-20000}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-18181}
BASE="http://127.0.0.1:$PORT"
BIN=${LOAD_BINARY:-./target/release/cartwheel}  # LOAD_BINARY: another build, to compare
command -v hey >/dev/null || { echo "needs hey: apt-get install hey" >&2; exit 1; }

# A server left on the port would answer in place of this build's.
if curl -s -o /dev/null "$BASE/health"; then
  echo "port $PORT already answers: stop that server first (fuser -k $PORT/tcp)" >&2; exit 1
fi
CARTWHEEL_BIND="127.0.0.1:$PORT" CARTWHEEL_JWT_SECRET=load-test-secret-0123456789abcdef0123 \
  CARTWHEEL_RATE_LIMIT_PER_MINUTE=100000000 CARTWHEEL_LOG_FORMAT=json RUST_LOG=warn \
  "$BIN" api >/tmp/cartwheel-load-api.log 2>&1 &
API=$!
trap 'kill $API 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "$BASE/health" >/dev/null && break; sleep 0.1; done
curl -fs "$BASE/health" >/dev/null || { cat /tmp/cartwheel-load-api.log >&2; exit 1; }

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
TOKEN=$(curl -fs -H 'X-Tenant: loadtest' -H 'Content-Type: application/json' \
  -d "{\"email\":\"owner@loadtest.example\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" | json '["token"]')
admin() { curl -fs -H 'X-Tenant: loadtest' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
# An item with plenty of stock for the cart adds (created on the first run).
admin -d '{"sku":"LOAD-1","name":"Load Item","unit":"Nos","price":100,"listing":{"published":true,"slug":"load-1"}}' \
  "$BASE/api/v1/store/admin/products" >/dev/null || true
ITEM=$(curl -fs -H 'X-Tenant: loadtest' "$BASE/api/v1/store/products/load-1" | json '["id"]')
admin -d "{\"itemId\":\"$ITEM\",\"location\":\"PICKING\",\"quantity\":100000000,\"reason\":\"load test\"}" \
  "$BASE/api/v1/admin/stock/adjustments" >/dev/null
CART=$(curl -fs -X POST -H 'X-Tenant: loadtest' "$BASE/api/v1/store/cart" | json '["id"]')

run() {
  echo "== $1"
  shift
  hey -n "$REQUESTS" -c "$CONNECTIONS" -H 'X-Tenant: loadtest' "$@" | \
    grep -E 'Requests/sec|Average|Fastest|Slowest|50% in|95% in|99% in|\[[0-9]+\]'
}
# A top-level category (with its nine sub-categories' products), first page of 20.
run "GET /store/products?category=seed-cat-3&limit=20" "$BASE/api/v1/store/products?category=seed-cat-3&limit=20"
# SEARCH: the search term (default `oak lamp`, 128 matches; `oak` matches 1,256).
TERM_Q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "${SEARCH:-oak lamp}")
run "GET /store/products?search=$TERM_Q&limit=20" "$BASE/api/v1/store/products?search=$TERM_Q&limit=20"
run "GET /store/products?limit=20" "$BASE/api/v1/store/products?limit=20"
# One product's page: its long description and its SEO data (title, Open Graph, JSON-LD).
run "GET /store/products/seed-000042" "$BASE/api/v1/store/products/seed-000042"
run "POST /store/cart/{id}/items (one cart)" -m POST -T application/json \
  -d "{\"itemId\":\"$ITEM\",\"qty\":1}" "$BASE/api/v1/store/cart/$CART/items"
