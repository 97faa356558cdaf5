#!/usr/bin/env bash
# The admin dashboard on a big shop: each GET /api/v1/dashboard/* endpoint on 1,000,000 orders
# of one shop (issue #17: p99 ≤ 50 ms each), timed with `hey`, after checking that the month's
# revenue and the pipeline the API answers equal a direct SQL sum and count of the orders.
#
# A fresh Postgres database is made, `cartwheel seed orders` fills it (migrations included;
# orders with 1–3 lines over two years, statuses by age, the dashboard's rollups as placing them
# would have kept them), VACUUM ANALYZE (this Postgres runs with autovacuum off), then
# `cartwheel serve` on it and, per endpoint, `hey -n $REQUESTS -c $CONNECTIONS` after a warm-up.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres tests/load/dashboard.sh
#
# DATABASE_URL names the Postgres server (its database part is replaced). The binary is built
# (`cargo build --release --locked`) and copied first; LOAD_BINARY=/path measures another.
# ORDERS (1000000), REQUESTS (400), CONNECTIONS (4), ROUNDS (3), PORT (18291).
# KEEP_DB=1 keeps the database; REUSE_DB=name measures one kept before.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?set DATABASE_URL to a Postgres server URL (any database)}"
for tool in hey psql curl python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (hey: apt-get install hey)" >&2; exit 1; }
done
ORDERS=${ORDERS:-1000000}
REQUESTS=${REQUESTS:-400}
CONNECTIONS=${CONNECTIONS:-4}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18291}
SHOP=dashload
BASE="http://127.0.0.1:$PORT"
SERVER="${DATABASE_URL%/*}"
DIR=$(mktemp -d /tmp/cartwheel-dashboard.XXXXXX)
PID=
if [[ -n "${REUSE_DB:-}" ]]; then DB=$REUSE_DB; KEEP_DB=1; else DB="cw_dashboard_$(date +%s)_$$"; fi
SECRET="/tmp/cartwheel-dashboard-$DB"
cleanup() {
  if [[ -n "$PID" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [[ "${KEEP_DB:-0}" != 1 ]]; then
    psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -f "$SECRET"
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT
if curl -s -o /dev/null "$BASE/health/live"; then
  echo "port $PORT already answers: stop that server first (fuser -k $PORT/tcp)" >&2; exit 1
fi
if [[ -n "${LOAD_BINARY:-}" ]]; then
  BIN=$(realpath "$LOAD_BINARY")
else
  cargo build --release --locked >&2
  cp target/release/cartwheel "$DIR/cartwheel"
  BIN="$DIR/cartwheel"
fi
URL="$SERVER/$DB"
sql() { psql "$URL" -XAtq "$@"; }
# The JSON on stdin as `d`, and what the Python expression $1 makes of it.
py() { python3 -c "import json,sys; d = json.load(sys.stdin); print($1)"; }
seconds_since() { python3 -c "import sys; print(round($(date +%s.%N) - $1, 1))"; }

echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(psql "$SERVER/postgres" -XAtc 'select version()' | cut -d' ' -f1-2); shared_buffers $(psql "$SERVER/postgres" -XAtc 'show shared_buffers'); autovacuum $(psql "$SERVER/postgres" -XAtc 'show autovacuum')"
if [[ -z "${REUSE_DB:-}" ]]; then
  psql "$SERVER/postgres" -qc "CREATE DATABASE \"$DB\"" >/dev/null
  started=$(date +%s.%N)
  DATABASE_URL="$URL" RUST_LOG=warn "$BIN" seed orders --shop "$SHOP" --orders "$ORDERS" >"$DIR/seed.json"
  echo "# seeded $ORDERS orders in $(seconds_since "$started") s"
  py 'd["owner_password"]' <"$DIR/seed.json" >"$SECRET"
fi
PASSWORD=$(cat "$SECRET")
started=$(date +%s.%N)
sql -c 'VACUUM ANALYZE'
echo "# VACUUM ANALYZE: $(seconds_since "$started") s; orders $(sql -c 'select count(*) from orders'), sales_days $(sql -c 'select count(*) from sales_days'), item_sales_days $(sql -c 'select count(*) from item_sales_days')"

(cd "$DIR" && DATABASE_URL="$URL" CARTWHEEL_BIND="127.0.0.1:$PORT" \
  CARTWHEEL_JWT_SECRET=load-test-secret-0123456789abcdef0123 \
  CARTWHEEL_RATE_LIMIT_PER_MINUTE=100000000 CARTWHEEL_OUTBOX_DIR="$DIR/outbox" RUST_LOG=warn \
  exec "$BIN" serve >>"$DIR/serve.log" 2>&1) &
PID=$!
for _ in $(seq 1 300); do curl -sf -o /dev/null "$BASE/health/ready" && break; sleep 0.2; done
TOKEN=$(curl -fs -H "X-Tenant: $SHOP" -H 'Content-Type: application/json' \
  -d "{\"email\":\"owner@$SHOP.example\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" | py 'd["token"]')
get() { curl -fs -H "X-Tenant: $SHOP" -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/dashboard/$1"; }

# The figures first: the month's revenue and orders, and the pipeline, against the orders.
TENANT=$(sql -c "select id from tenants where slug = '$SHOP'")
get revenue >"$DIR/revenue.json"
FROM=$(py 'd["month"]["from"]' <"$DIR/revenue.json")
TO=$(py 'd["month"]["to"]' <"$DIR/revenue.json")
api=$(py 'd["month"]["orders"], d["month"]["revenue"]' <"$DIR/revenue.json")
direct=$(sql -F' ' -c "select count(*), coalesce(sum(total - refunded), 0) from orders where tenant_id = '$TENANT' and status <> 'cancelled' and placed_at >= '$FROM' and placed_at < '$TO'")
echo "# this month ($FROM to $TO): the API says $api (orders, revenue); the orders say $direct"
[[ "$api" == "$direct" ]] || { echo "the month's figures differ" >&2; exit 1; }
pipeline=$(get orders | py 'd["pendingPayment"], d["toFulfil"], d["shipped"], d["delivered"], d["cancelled"]')
counted=$(sql -F' ' -c "select $(for s in pending processing shipped delivered cancelled; do printf "count(*) filter (where status = '%s')," "$s"; done | sed 's/,$//') from orders where tenant_id = '$TENANT'")
echo "# pipeline: the API says $pipeline; the orders say $counted"
[[ "$pipeline" == "$counted" ]] || { echo "the pipeline differs" >&2; exit 1; }

echo
echo "## GET /api/v1/dashboard/*, $REQUESTS requests at $CONNECTIONS connections per endpoint and round (ms)"
printf '| %-10s | %-22s | %-22s | %-16s |\n' endpoint 'p50 ms' 'p99 ms' 'req/s'
printf '|%s|%s|%s|%s|\n' "------------" "------------------------" "------------------------" "------------------"
declare -A P50 P99 RPS
ENDPOINTS=(revenue orders inventory attention summary)
for round in $(seq 1 "$ROUNDS"); do
  for e in "${ENDPOINTS[@]}"; do
    url="$BASE/api/v1/dashboard/$e"
    hey -n 40 -c "$CONNECTIONS" -H "X-Tenant: $SHOP" -H "Authorization: Bearer $TOKEN" "$url" >/dev/null
    hey -n "$REQUESTS" -c "$CONNECTIONS" -H "X-Tenant: $SHOP" -H "Authorization: Bearer $TOKEN" "$url" >"$DIR/hey.txt"
    if ! grep -q "\[200\]	$REQUESTS responses" "$DIR/hey.txt"; then
      echo "not all $REQUESTS answers were 200 for $e:" >&2; cat "$DIR/hey.txt" >&2; exit 1
    fi
    P50[$e]+="$(awk '/ 50% in/ {printf "%.1f", $3 * 1000}' "$DIR/hey.txt") "
    P99[$e]+="$(awk '/ 99% in/ {printf "%.1f", $3 * 1000}' "$DIR/hey.txt") "
    RPS[$e]+="$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$DIR/hey.txt") "
  done
done
for e in "${ENDPOINTS[@]}"; do
  printf '| %-10s | %-22s | %-22s | %-16s |\n' "$e" "${P50[$e]% }" "${P99[$e]% }" "${RPS[$e]% }"
done
[[ "${KEEP_DB:-0}" == 1 ]] && echo && echo "# kept database $DB (REUSE_DB=$DB to measure it again)"
exit 0
