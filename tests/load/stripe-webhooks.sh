#!/usr/bin/env bash
# Stripe webhook ingest (issue #14 §8) on a fresh Postgres database: CONNECTIONS (32) senders
# post signed `payment_intent.created` events to POST /api/v1/store/payments/webhook as fast as
# they are answered, one in ten a repeat of the one before as Stripe's retries are (wrk, with
# tests/load/stripe-webhooks.lua; the events are signed beforehand, so the load generator takes
# little of the 2 cores). Then a worker
# handles every event (its job fetches the PaymentIntent from the Stripe fake again) and the run
# checks that each stored event was processed by exactly one job.
#
# Each run: a new database, the Stripe fake (`stripe-fake`, built with the tests), `cartwheel
# serve` to provision a shop through POST /api/v1/provision and store its Stripe keys, one
# PaymentIntent made at the fake (every event carries it), VACUUM ANALYZE. Then the load goes to
# `cartwheel api` alone, as in production where workers run on other machines (WORKER=1: `serve`,
# the worker on the same 2 cores): wrk, WARMUP s not counted, DURATION s measured. Afterwards
# `cartwheel worker` handles the stored events, and how fast it did is printed too.
#
#   tests/load/stripe-webhooks.sh                      # one run, 32 connections, 3 s + 20 s
#   RUNS=3 tests/load/stripe-webhooks.sh               # three runs and their medians
#   LOAD_BINARY=/tmp/cartwheel-old tests/load/stripe-webhooks.sh   # another build
#
# Prints per run: deliveries/s (new and repeated events answered 200 while measured), their
# latency, how long after the load the worker had handled the last event, and the check. The
# target (2,000 events/s) is reported, not enforced: the script fails when an event is lost, is
# handled twice, or a delivery fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${LOAD_BINARY:-./target/release/cartwheel}")
FAKE=$(realpath "${FAKE_BINARY:-./target/release/stripe-fake}")
RUNS=${RUNS:-1}
CONNECTIONS=${CONNECTIONS:-32}
WARMUP=${WARMUP:-3}
DURATION=${DURATION:-20}
TARGET=2000
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-600}
OUT=${OUT:-$(mktemp -d /tmp/cartwheel-webhooks.XXXXXX)}
mkdir -p "$OUT"
[[ -x $FAKE ]] || { echo "no $FAKE: cargo build --release -p cartwheel-testkit --bin stripe-fake" >&2; exit 1; }

command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }

SECRET=sk_test_51Load00004242
PUBLISHABLE=pk_test_51Load00000000
SIGNING=whsec_Load00009876
# async-stripe's Stripe API version (the fake's events carry it too).
VERSION=$(sed -n 's/.*ApiVersion::V\([0-9_]*\)_\([a-z]*\);.*/\1.\2/p' \
  "$(ls -d ~/.cargo/registry/src/*/async-stripe-shared-1.0.0-rc.10 | head -n1)/src/version.rs" | tr _ -)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
sql() { psql "$PG/$DB" -Atqc "$1"; }

SERVER= STRIPE=
cleanup_run() {
  for pid in $SERVER $STRIPE; do kill "$pid" 2>/dev/null || true; done
  for pid in $SERVER $STRIPE; do wait "$pid" 2>/dev/null || true; done
  SERVER= STRIPE=
  [[ -n ${DB:-} ]] && psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  DB=
}
trap 'cleanup_run; rm -f "$OUT/cartwheel"' EXIT

run() {
  RUN="$OUT/run$1"
  mkdir -p "$RUN"
  DB="cw_webhooks_$(date +%s%N)"
  psql "$PG/postgres" -qc "CREATE DATABASE \"$DB\"" >/dev/null
  local port stripe_port base stripe shop=webhooks
  port=$(free_port)
  stripe_port=$(free_port)
  base="http://127.0.0.1:$port"
  stripe="http://127.0.0.1:$stripe_port/"

  "$FAKE" --listen "127.0.0.1:$stripe_port" --secret-key "$SECRET" --signing-secret "$SIGNING" \
    --webhook "$base/api/v1/store/payments/webhook" --header "X-Tenant: $shop" >"$RUN/stripe.log" 2>&1 &
  STRIPE=$!
  # Starts `cartwheel ROLE` as the server (SERVER), and for the HTTP roles waits until ready.
  start() {
    DATABASE_URL="$PG/$DB" CARTWHEEL_BIND="127.0.0.1:$port" \
      CARTWHEEL_JWT_SECRET=load-test-secret-0123456789abcdef0123 \
      CARTWHEEL_SECRETS_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff \
      CARTWHEEL_STRIPE_API_BASE="$stripe" CARTWHEEL_OUTBOX_DIR="$RUN/outbox" \
      CARTWHEEL_RATE_LIMIT_PER_MINUTE=100000000 CARTWHEEL_PROVISION_RATE_LIMIT_PER_MINUTE=1000000 \
      RUST_LOG=${LOG:-warn} "$OUT/cartwheel" "$1" >>"$RUN/$1.log" 2>&1 &
    SERVER=$!
    [[ $1 == worker ]] && return 0
    for _ in $(seq 150); do curl -sf "$base/health/ready" >/dev/null && break; sleep 0.2; done
    curl -sf "$base/health/ready" >/dev/null || { tail -n 30 "$RUN/$1.log" >&2; return 1; }
  }
  stop() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=; }
  start serve

  # The shop, provisioned as a signup is, with its Stripe keys.
  local tenant password=velvet-otter-lamp-9 token
  post() { curl -sf -H 'Content-Type: application/json' -H "X-Tenant: $shop" "$@"; }
  tenant=$(post -d "{\"businessName\":\"Webhooks\",\"ownerEmail\":\"owner@webhooks.example\",\"ownerPassword\":\"$password\",\"domain\":\"$shop\"}" \
    "$base/api/v1/provision" | json '["tenantId"]')
  for _ in $(seq 150); do
    [[ $(curl -sf "$base/api/v1/provision/$tenant/status" | json '["status"]') == READY ]] && break
    sleep 0.2
  done
  token=$(post -d "{\"email\":\"owner@webhooks.example\",\"password\":\"$password\"}" "$base/api/v1/auth/login" | json '["token"]')
  post -H "Authorization: Bearer $token" -X PUT "$base/api/v1/admin/payments/stripe" \
    -d "{\"publishableKey\":\"$PUBLISHABLE\",\"secretKey\":\"$SECRET\",\"webhookSecret\":\"$SIGNING\"}" >/dev/null

  # The PaymentIntent every event carries; each event's job fetches it again.
  curl -sf -H "Authorization: Bearer $SECRET" -d amount=1000 -d currency=usd "${stripe}v1/payment_intents" >"$RUN/intent.json"
  sql "VACUUM ANALYZE"
  if [[ ${WORKER:-0} != 1 ]]; then
    stop
    start api
  fi

  # The events, signed now (Stripe's tolerance is 300 s): the body with @ID@ and @T@ where each
  # event's id and timestamp go, and per event "<id> <timestamp> <signature>", every tenth line
  # the line before again. More than the load can send; past the end wrk starts over (repeats).
  python3 - "$RUN" "$SIGNING" "$VERSION" "$(( (WARMUP + DURATION) * 4000 ))" <<'EOF'
import hashlib, hmac, json, sys, time
run, secret, version, count = sys.argv[1], sys.argv[2].encode(), sys.argv[3], int(sys.argv[4])
intent = json.load(open(f"{run}/intent.json"))
template = json.dumps({
    "id": "@ID@", "object": "event", "api_version": version, "created": "@T@", "livemode": False,
    "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
    "type": "payment_intent.created", "data": {"object": intent},
}, separators=(",", ":")).replace('"@T@"', "@T@")
open(f"{run}/template.json", "w").write(template)
t = str(int(time.time()))
with open(f"{run}/events.txt", "w") as out:
    line = None
    for i in range(count):
        if i % 10 != 9 or line is None:
            event = f"evt_load_{i}"
            body = template.replace("@ID@", event).replace("@T@", t)
            mac = hmac.new(secret, f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
            line = f"{event} {t} t={t},v1={mac}\n"
        out.write(line)
EOF
  # The warm-up takes the events from the end of the list, the measured run from the start.
  tac "$RUN/events.txt" >"$RUN/warmup.txt"
  wrk_run() {
    wrk -t 2 -c "$CONNECTIONS" -d "$1s" -s tests/load/stripe-webhooks.lua "$base" -- \
      "$RUN/template.json" "$2" "$shop" 2
  }
  wrk_run "$WARMUP" "$RUN/warmup.txt" >"$RUN/wrk-warmup.txt" 2>&1
  wrk_run "$DURATION" "$RUN/events.txt" >"$RUN/wrk.txt" 2>&1 || { cat "$RUN/wrk.txt" >&2; return 1; }
  local load_end=$SECONDS
  tail -n 1 "$RUN/wrk.txt" >"$RUN/load.json"
  python3 - "$RUN/load.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
rate = (r["new"] + r["repeated"]) / r["seconds"]
print(f"deliveries {r['new'] + r['repeated']} ({rate:.0f}/s): {r['new']} new, {r['repeated']} repeated, {r['failed']} failed")
print(f"webhook ms: p50 {r['p50']:.1f}  p95 {r['p95']:.1f}  p99 {r['p99']:.1f}  max {r['max']:.1f}")
EOF

  # Every stored event handled, then: one job per event, each done, and nothing lost.
  if [[ ${WORKER:-0} != 1 ]]; then
    stop
    start worker
  fi
  local left drain_start=$SECONDS deadline=$((SECONDS + DRAIN_TIMEOUT))
  while left=$(sql "SELECT count(*) FROM stripe_events WHERE processed_at IS NULL"); ((left > 0 && SECONDS < deadline)); do
    sleep 0.5
  done
  local drained=$((SECONDS - load_end)) handling=$((SECONDS - drain_start))
  local events jobs done_jobs retried answered
  events=$(sql "SELECT count(*) FROM stripe_events")
  jobs=$(sql "SELECT count(*) FROM apalis.jobs WHERE job_type = 'payments.stripe_event'")
  done_jobs=$(sql "SELECT count(*) FROM apalis.jobs WHERE job_type = 'payments.stripe_event' AND status = 'Done'")
  retried=$(sql "SELECT count(*) FROM apalis.jobs WHERE job_type = 'payments.stripe_event' AND attempts > 1")
  # New deliveries answered 200, the warm-up's too.
  answered=$(( $(json '["new"]' <"$RUN/load.json") + $(tail -n 1 "$RUN/wrk-warmup.txt" | json '["new"]') ))
  echo "events stored $events (answered new: $answered), unhandled $left, jobs $jobs ($done_jobs done, $retried retried); last handled ${drained} s after the load"
  ((handling > 0)) && echo "the worker handled about $((events / handling)) events/s (all of them in ${handling} s)"
  python3 - "$RUN" "$events" "$jobs" "$done_jobs" "$left" "$answered" "$drained" <<'EOF'
import json, sys
run, events, jobs, done, left, answered, drained = sys.argv[1], *map(int, sys.argv[2:])
result = json.load(open(f"{run}/load.json"))
result["eventsPerSecond"] = (result["new"] + result["repeated"]) / result["seconds"]
result.update(events=events, jobs=jobs, doneJobs=done, unhandled=left, drainedAfterSeconds=drained)
json.dump(result, open(f"{run}/result.json", "w"), indent=2)
# A delivery cut off by the end of the load may be stored without wrk seeing its answer.
problems = [p for p, bad in [
    ("events left unhandled", left > 0),
    ("not one job per event", jobs != events or done != events),
    ("an event answered as stored is missing", events < answered),
    ("a delivery failed", result["failed"] > 0),
] if bad]
if problems:
    sys.exit("FAILED: " + "; ".join(problems))
EOF
  cleanup_run
}

cp "$BIN" "$OUT/cartwheel"
echo "binary $BIN ($(sha256sum "$OUT/cartwheel" | cut -c1-12)), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2), API version $VERSION"
echo "$CONNECTIONS connections, warm-up $WARMUP s, measured $DURATION s, $RUNS run(s); results in $OUT"
for i in $(seq 1 "$RUNS"); do
  echo "== run $i"
  run "$i"
done

python3 - "$OUT" "$RUNS" "$TARGET" <<'EOF'
import json, statistics, sys
out, runs, target = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
results = [json.load(open(f"{out}/run{i}/result.json")) for i in range(1, runs + 1)]
med = lambda f: statistics.median(f(r) for r in results)
rate = med(lambda r: r["eventsPerSecond"])
print(f"== medians of {runs} run(s)")
print(f"deliveries/s {rate:.0f} (target >= {target:.0f}: {'met' if rate >= target else 'MISSED'}); "
      f"p50 {med(lambda r: r['p50']):.1f} ms, p99 {med(lambda r: r['p99']):.1f} ms; "
      f"every event handled {med(lambda r: r['drainedAfterSeconds']):.0f} s after the load")
EOF
echo "results: $OUT"
