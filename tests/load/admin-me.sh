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
DIR=$(mktemp -d /tmp/cartwheel-admin-me.XXXXXX)
. tests/load/demo-server.sh
# The demo owner's password is printed once, when `serve` creates the shop; keep it for reruns.
SECRET="/tmp/cartwheel-admin-me-$(echo "$DATABASE_URL" | sha256sum | cut -c1-12)"
start serve
ready
grep -o 'password: .*' "$DIR/cartwheel.log" | head -1 | cut -d' ' -f2 >>"$SECRET" || true
PASSWORD=$(grep -v '^$' "$SECRET" | head -1)
stop
start api
ready
TOKEN=$(curl -fs -H 'X-Tenant: demo' -H 'Content-Type: application/json' \
  -d "{\"email\":\"owner@demo.example\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
hey -n 2000 -c "$CONNECTIONS" -H 'X-Tenant: demo' -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/auth/me" >/dev/null
hey -n "$REQUESTS" -c "$CONNECTIONS" -H 'X-Tenant: demo' -H "Authorization: Bearer $TOKEN" \
  "$BASE/api/v1/auth/me" | grep -E 'Requests/sec|99% in|responses'
