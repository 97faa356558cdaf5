#!/usr/bin/env bash
# Throughput of an authenticated admin request: `hey` on GET /api/v1/auth/me with the demo
# owner's token, against `cartwheel api` alone on Postgres (DATABASE_URL, an empty database;
# `serve` provisions the demo shop first). Each admin request checks the user and role behind
# the token, so this is the cost of admin authentication plus a tiny answer.
#
#   createdb -h 127.0.0.1 -U postgres cw_admin_me
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/cw_admin_me tests/load/admin-me.sh
#   LOAD_BINARY=/tmp/cartwheel-old ...   # another build, to compare (the same database is fine)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?set DATABASE_URL to an empty Postgres database}"
command -v hey >/dev/null || { echo "needs hey: apt-get install hey" >&2; exit 1; }
BIN=$(realpath "${LOAD_BINARY:-./target/release/cartwheel}")
REQUESTS=${REQUESTS:-20000}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18284}
BASE="http://127.0.0.1:$PORT"
DIR=$(mktemp -d /tmp/cartwheel-admin-me.XXXXXX)
export CARTWHEEL_BIND="127.0.0.1:$PORT" CARTWHEEL_RATE_LIMIT_PER_MINUTE=100000000 RUST_LOG=warn \
  CARTWHEEL_DEMO_SHOP=true CARTWHEEL_JWT_SECRET=load-test-secret-0123456789abcdef0123
PID=
start() { (cd "$DIR" && exec "$BIN" "$1" >>"$DIR/cartwheel.log" 2>&1) & PID=$!; }
trap 'kill $PID 2>/dev/null || true; wait 2>/dev/null; rm -rf "$DIR"' EXIT
# A server left on the port would answer in place of this build's.
if curl -s -o /dev/null "$BASE/health/live"; then
  echo "port $PORT already answers: stop that server first (fuser -k $PORT/tcp)" >&2; exit 1
fi
ready() {
  for _ in $(seq 1 300); do
    [[ $(curl -s -H 'X-Tenant: demo' "$BASE/api/v1/tenant" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status",""))' 2>/dev/null) == READY ]] && return
    sleep 0.2
  done
  cat "$DIR/cartwheel.log" >&2; exit 1
}
# The demo owner's password is printed once, when `serve` creates the shop; keep it for reruns.
SECRET="/tmp/cartwheel-admin-me-$(echo "$DATABASE_URL" | sha256sum | cut -c1-12)"
start serve
ready
grep -o 'password: .*' "$DIR/cartwheel.log" | head -1 | cut -d' ' -f2 >>"$SECRET" || true
PASSWORD=$(grep -v '^$' "$SECRET" | head -1)
kill $PID; wait $PID 2>/dev/null || true
start api
ready
TOKEN=$(curl -fs -H 'X-Tenant: demo' -H 'Content-Type: application/json' \
  -d "{\"email\":\"owner@demo.example\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
hey -n 2000 -c "$CONNECTIONS" -H 'X-Tenant: demo' -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/auth/me" >/dev/null
hey -n "$REQUESTS" -c "$CONNECTIONS" -H 'X-Tenant: demo' -H "Authorization: Bearer $TOKEN" \
  "$BASE/api/v1/auth/me" | grep -E 'Requests/sec|99%|\[200\]|\[[45][0-9][0-9]\]'
