#!/usr/bin/env bash
# The admin order list on a big shop: GET /api/v1/store/admin/orders on 1,000,000 orders of one
# shop (issue #13 §8), timed per filter with `hey`, and each case's SQL through EXPLAIN ANALYZE.
#
# A fresh Postgres database is made, `cartwheel seed orders` fills it (migrations included;
# orders with 1–3 lines over two years, statuses by age, a fifth by 5,000 customers), VACUUM
# ANALYZE (this Postgres runs with autovacuum off), then `cartwheel serve` on it and, per case,
# `hey -n $REQUESTS -c $CONNECTIONS` after a warm-up; one table row per case with p50 and p99.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres tests/load/admin-orders.sh
#
# DATABASE_URL names the Postgres server (its database part is replaced). The binary is built
# (`cargo build --release --locked`) and copied to a temporary folder first, since target/
# changes under other builds; or give LOAD_BINARIES="/path/a /path/b" to compare builds on
# one seeded database (every case against a, then against b; ROUNDS times).
# ORDERS (1000000), REQUESTS (400), CONNECTIONS (4), ROUNDS (1), PORT (18290).
# KEEP_DB=1 keeps the database (its name is printed); REUSE_DB=name measures an existing one
# seeded by an earlier run (its owner password is kept in /tmp/cartwheel-admin-orders-<name>).
# EXPLAIN=0 skips the plans, LOAD=0 the timings. The list counts at most 10,001 matches
# (`total` 10,001 means more than 10,000) and finds pages from 1,000 rows in by the first
# order's placing time (see `orders::list`); the plans show those statements and, to compare,
# the ones it sent before.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?set DATABASE_URL to a Postgres server URL (any database)}"
for tool in hey psql curl python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (hey: apt-get install hey)" >&2; exit 1; }
done
ORDERS=${ORDERS:-1000000}
REQUESTS=${REQUESTS:-400}
CONNECTIONS=${CONNECTIONS:-4}
ROUNDS=${ROUNDS:-1}
PORT=${PORT:-18290}
SHOP=loadtest
BASE="http://127.0.0.1:$PORT"
SERVER="${DATABASE_URL%/*}"
DIR=$(mktemp -d /tmp/cartwheel-admin-orders.XXXXXX)
PID=

if [[ -n "${REUSE_DB:-}" ]]; then
  DB=$REUSE_DB
  KEEP_DB=1
else
  DB="cw_admin_orders_$(date +%s)_$$"
fi
SECRET="/tmp/cartwheel-admin-orders-$DB"
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

if [[ -n "${LOAD_BINARIES:-}" ]]; then
  read -r -a BINARIES <<<"$LOAD_BINARIES"
  for i in "${!BINARIES[@]}"; do BINARIES[i]=$(realpath "${BINARIES[i]}"); done
else
  cargo build --release --locked >&2
  cp target/release/cartwheel "$DIR/cartwheel"
  BINARIES=("$DIR/cartwheel")
fi
BIN=${BINARIES[0]}
URL="$SERVER/$DB"
sql() { psql "$URL" -XAtq "$@"; }

echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(psql "$SERVER/postgres" -XAtc 'select version()' | cut -d' ' -f1-2); shared_buffers $(psql "$SERVER/postgres" -XAtc 'show shared_buffers'); autovacuum $(psql "$SERVER/postgres" -XAtc 'show autovacuum')"
if [[ -z "${REUSE_DB:-}" ]]; then
  psql "$SERVER/postgres" -qc "CREATE DATABASE \"$DB\"" >/dev/null
  echo "# database $DB: seeding $ORDERS orders"
  started=$(date +%s.%N)
  DATABASE_URL="$URL" RUST_LOG=warn "$BIN" seed orders --shop "$SHOP" --orders "$ORDERS" >"$DIR/seed.json"
  echo "# seeded in $(python3 -c "import sys; print(round($(date +%s.%N) - $started, 1))") s (migrations, provisioning, customers, orders, lines): $(cat "$DIR/seed.json")"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["owner_password"])' "$DIR/seed.json" >"$SECRET"
fi
PASSWORD=$(cat "$SECRET")
# Autovacuum is off on this server: without statistics and a visibility map the planner guesses
# and index-only scans visit the heap.
started=$(date +%s.%N)
sql -c 'VACUUM ANALYZE'
echo "# VACUUM ANALYZE: $(python3 -c "import sys; print(round($(date +%s.%N) - $started, 1))") s; orders $(sql -c 'select count(*) from orders'), order_lines $(sql -c 'select count(*) from order_lines'); orders table $(sql -c "select pg_size_pretty(pg_table_size('orders'))"), its indexes $(sql -c "select pg_size_pretty(pg_indexes_size('orders'))")"

start() {
  (cd "$DIR" && DATABASE_URL="$URL" CARTWHEEL_BIND="127.0.0.1:$PORT" \
    CARTWHEEL_JWT_SECRET=load-test-secret-0123456789abcdef0123 \
    CARTWHEEL_RATE_LIMIT_PER_MINUTE=100000000 CARTWHEEL_OUTBOX_DIR="$DIR/outbox" RUST_LOG=warn \
    exec "$1" serve >>"$DIR/serve.log" 2>&1) &
  PID=$!
  for _ in $(seq 1 300); do curl -sf -o /dev/null "$BASE/health/ready" && return; sleep 0.2; done
  cat "$DIR/serve.log" >&2; exit 1
}
stop() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# What the cases look for: the customer with the most orders, an order from the middle, the email
# that ordered most, and one month half a year back.
TENANT=$(sql -c "select id from tenants where slug = '$SHOP'")
CUSTOMER=$(sql -c "select customer_id from orders where tenant_id = '$TENANT' and customer_id is not null group by 1 order by count(*) desc, 1 limit 1")
NUMBER=$(sql -c "select max(number) / 2 from orders where tenant_id = '$TENANT'")
EMAIL=$(sql -c "select email from orders where tenant_id = '$TENANT' group by 1 order by count(*) desc, 1 limit 1")
FROM=$(sql -c "select to_char(date_trunc('month', now() - interval '6 months') at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
BEFORE=$(sql -c "select to_char((date_trunc('month', now() - interval '6 months') + interval '1 month') at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
P="$BASE/api/v1/store/admin/orders"
# name | query string | the SQL filter after tenant_id (for EXPLAIN) | OFFSET
CASES=(
  "no filter, page 1||1=1|0"
  "no filter, page 500|page=500|1=1|9980"
  "no filter, page 10000 (max)|page=10000|1=1|199980"
  "status=pending|status=pending|status = 'pending'|0"
  "status=delivered|status=delivered|status = 'delivered'|0"
  "paymentStatus=paid|paymentStatus=paid|payment_status = 'paid'|0"
  "customerId (most orders)|customerId=$CUSTOMER|customer_id = '$CUSTOMER'|0"
  "one month|placedFrom=$FROM&placedBefore=$BEFORE|placed_at >= '$FROM' AND placed_at < '$BEFORE'|0"
  "search=#$NUMBER|search=%23$NUMBER|number = $NUMBER|0"
  "search=<email>|search=$EMAIL|email = '$EMAIL'|0"
)

declare -A P50 P99 RPS TOTAL
[[ "${LOAD:-1}" == 1 ]] || ROUNDS=0
for round in $(seq 1 "$ROUNDS"); do
  for b in "${!BINARIES[@]}"; do
    start "${BINARIES[b]}"
    TOKEN=$(curl -fs -H "X-Tenant: $SHOP" -H 'Content-Type: application/json' \
      -d "{\"email\":\"owner@$SHOP.example\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" | json '["token"]')
    for c in "${CASES[@]}"; do
      IFS='|' read -r name query _ _ <<<"$c"
      url="$P?$query"
      TOTAL[$b,$name]=$(curl -fs -H "X-Tenant: $SHOP" -H "Authorization: Bearer $TOKEN" "$url" |
        json '["total"]')
      hey -n 40 -c "$CONNECTIONS" -H "X-Tenant: $SHOP" -H "Authorization: Bearer $TOKEN" "$url" >/dev/null
      hey -n "$REQUESTS" -c "$CONNECTIONS" -H "X-Tenant: $SHOP" -H "Authorization: Bearer $TOKEN" "$url" >"$DIR/hey.txt"
      if ! grep -q "\[200\]	$REQUESTS responses" "$DIR/hey.txt"; then
        echo "not all $REQUESTS answers were 200 for $name:" >&2; cat "$DIR/hey.txt" >&2; exit 1
      fi
      p50=$(awk '/ 50% in/ {printf "%.1f", $3 * 1000}' "$DIR/hey.txt")
      p99=$(awk '/ 99% in/ {printf "%.1f", $3 * 1000}' "$DIR/hey.txt")
      rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$DIR/hey.txt")
      P50[$b,$name]+="$p50 "; P99[$b,$name]+="$p99 "; RPS[$b,$name]+="$rps "
    done
    stop
  done
done

((ROUNDS > 0)) && echo && echo "## GET /api/v1/store/admin/orders, $REQUESTS requests at $CONNECTIONS connections per case and round (ms; rounds in order)"
for b in "${!BINARIES[@]}"; do
  ((ROUNDS > 0)) || break
  echo
  echo "### ${BINARIES[b]}"
  printf '| %-28s | %-9s | %-22s | %-22s | %-16s |\n' case total 'p50 ms' 'p99 ms' 'req/s'
  printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..30})" "$(printf -- '-%.0s' {1..11})" \
    "$(printf -- '-%.0s' {1..24})" "$(printf -- '-%.0s' {1..24})" "$(printf -- '-%.0s' {1..18})"
  for c in "${CASES[@]}"; do
    IFS='|' read -r name _ _ _ <<<"$c"
    printf '| %-28s | %-9s | %-22s | %-22s | %-16s |\n' "$name" "${TOTAL[$b,$name]}" \
      "${P50[$b,$name]% }" "${P99[$b,$name]% }" "${RPS[$b,$name]% }"
  done
done

[[ "${EXPLAIN:-1}" == 1 ]] || exit 0
# The statements `orders::list` sends (as sea-orm writes them, values inlined), each through
# EXPLAIN (ANALYZE, BUFFERS): the capped count; the page by OFFSET below 1,000 rows in, else the
# placing time of the page's first order (index only) and the page from there; and, to compare,
# what the list sent before: count(*) of every match, and the page by OFFSET alone.
plan() {
  echo "    -- $1"
  sql -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $2" |
    grep -E 'Scan|Limit|Sort|Aggregate|Index Cond|Filter|Heap Fetches|Workers Launched|Execution' |
    sed 's/^/      /'
}
echo
echo "## EXPLAIN (ANALYZE, BUFFERS) of each case's statements"
for c in "${CASES[@]}"; do
  IFS='|' read -r name _ filter offset <<<"$c"
  where="tenant_id = '$TENANT' AND $filter"
  page="SELECT * FROM orders WHERE $where ORDER BY placed_at DESC, id DESC LIMIT 20"
  echo
  echo "### $name"
  plan "count, capped (now)" "SELECT COUNT(*) FROM (SELECT 1 FROM orders WHERE $where LIMIT 10001) AS sub"
  if ((offset < 1000)); then
    plan "page (OFFSET $offset, as before)" "$page OFFSET $offset"
  else
    boundary="SELECT placed_at FROM orders WHERE $where ORDER BY placed_at DESC LIMIT 1 OFFSET $offset"
    plan "the page's first placing time (now)" "$boundary"
    first=$(sql -c "$boundary")
    plan "orders placed at that instant (now; 1: the page starts there)" \
      "SELECT COUNT(*) FROM (SELECT 1 FROM orders WHERE $where AND placed_at = '$first' LIMIT 2) AS sub"
    plan "the page from there (now)" "SELECT * FROM orders WHERE $where AND placed_at <= '$first' ORDER BY placed_at DESC, id DESC LIMIT 20 OFFSET 0"
    plan "page by OFFSET $offset (before)" "$page OFFSET $offset"
  fi
  plan "count(*) of every match (before)" "SELECT COUNT(*) FROM (SELECT 1 FROM orders WHERE $where) AS sub"
done
[[ "${KEEP_DB:-0}" == 1 ]] && echo && echo "# kept database $DB (REUSE_DB=$DB to measure it again)"
exit 0
