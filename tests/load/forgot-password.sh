#!/usr/bin/env bash
# Times POST /api/v1/store/auth/forgot-password for addresses that have an account and for
# addresses that do not, interleaved, one request at a time, each address once (the per-account
# budget of 5 an hour never comes into it). Prints the median and p90 of each, in ms, from
# curl's time_total.
#
# On Postgres (DATABASE_URL, an empty database) as production runs it: `serve` provisions the
# demo shop, then `cartwheel api` alone answers, with no worker in the process, so the time is
# the request's own. Without DATABASE_URL: `serve` on SQLite in a temp dir, whose in-process
# worker then competes with the requests for the one SQLite writer.
#
#   createdb -h 127.0.0.1 -U postgres cw_forgot
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/cw_forgot tests/load/forgot-password.sh
#   LOAD_BINARY=/tmp/cartwheel-old ...   # another build, to compare
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${LOAD_BINARY:-./target/release/cartwheel}")
N=${N:-200}
# Seconds between requests (default 0): with SQLite `serve`, 0.2 lets the in-process worker
# finish what the previous request queued before the next one comes (docs/BENCHMARKS.md).
PAUSE=${PAUSE:-0}
PORT=${PORT:-18282}
DIR=$(mktemp -d /tmp/cartwheel-forgot.XXXXXX)
. tests/load/demo-server.sh
start serve
ready
if [[ -n "${DATABASE_URL:-}" ]]; then
  stop
  start api
  ready
fi
post() { curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H 'X-Tenant: demo' \
  -H 'Content-Type: application/json' -d "$2" "$BASE/api/v1/store/auth/$1"; }
for i in $(seq 1 "$N"); do
  post register "{\"email\":\"known$i@example.com\",\"password\":\"tangerine-bicycle-42\",\"firstName\":\"K\",\"lastName\":\"N\"}" >/dev/null
done
for i in $(seq 1 "$N"); do
  echo "known $(post forgot-password "{\"email\":\"known$i@example.com\"}")"
  sleep "$PAUSE"
  echo "unknown $(post forgot-password "{\"email\":\"nobody$i@example.com\"}")"
  sleep "$PAUSE"
done | python3 -c '
import statistics, sys
times = {"known": [], "unknown": []}
for line in sys.stdin:
    kind, status, seconds = line.split()
    assert status == "202", line
    times[kind].append(float(seconds) * 1000)
for kind, ms in times.items():
    ms.sort()
    print(f"{kind:8} n={len(ms)} median {statistics.median(ms):.2f} ms  p90 {ms[int(len(ms) * 0.9)]:.2f} ms")
'
