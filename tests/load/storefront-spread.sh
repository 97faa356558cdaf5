#!/usr/bin/env bash
# Storefront pages spread over 620 URLs (200 categories × 3 pages, 20 searches), or with
# MIX=wide over 10,620 (the product pages too), with `wrk` (Debian package `wrk`) and tests/load/spread.lua, against the shop `cartwheel seed catalog`
# made (see tests/load/storefront.sh). Runs once with the catalog cache on (the default, 10 s
# fresh) and once with CARTWHEEL_STORE_CACHE_MS=0. Each run starts with a WARMUP (default 5 s)
# over the same URLs that is not counted, as a server in service is warm.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?set DATABASE_URL to the seeded Postgres database}"
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-5s}
# CACHE_MS: the CARTWHEEL_STORE_CACHE_MS values to run, in order. MIX=wide adds the 10,000
# product pages (see spread.lua).
MIX=${MIX:-lists}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-18183}
BIN=${LOAD_BINARY:-./target/release/cartwheel}  # LOAD_BINARY: another build, to compare
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
for cache_ms in ${CACHE_MS:-10000 0}; do
  # A server left on the port would answer in place of this build's.
  if curl -s -o /dev/null "http://127.0.0.1:$PORT/health"; then
    echo "port $PORT already answers: stop that server first (fuser -k $PORT/tcp)" >&2; exit 1
  fi
  CARTWHEEL_BIND="127.0.0.1:$PORT" CARTWHEEL_JWT_SECRET=load-test-secret-0123456789abcdef0123 \
    CARTWHEEL_RATE_LIMIT_PER_MINUTE=100000000 CARTWHEEL_STORE_CACHE_MS=$cache_ms RUST_LOG=warn \
    "$BIN" api >/tmp/cartwheel-spread-api.log 2>&1 &
  API=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
  curl -fs "http://127.0.0.1:$PORT/health" >/dev/null || { cat /tmp/cartwheel-spread-api.log >&2; exit 1; }
  echo "== MIX=$MIX CARTWHEEL_STORE_CACHE_MS=$cache_ms"
  wrk -t2 -c"$CONNECTIONS" -d"$WARMUP" -s tests/load/spread.lua "http://127.0.0.1:$PORT" -- "$MIX" >/dev/null
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s tests/load/spread.lua "http://127.0.0.1:$PORT" -- "$MIX" |
    grep -E 'Requests/sec|50%|99%|Non-2xx|requests in'
  kill $API; wait $API 2>/dev/null || true
done
