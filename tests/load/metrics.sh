#!/usr/bin/env bash
# Times /metrics against a big job table: 1,000,000 pending and 200,000 dead jobs in a fresh
# database `cw_metrics` on the local Postgres, served by `cartwheel api` (no worker runs them).
# 20 scrapes one after another; prints the median and the slowest.
#
# Usage: tests/load/metrics.sh BINARY [PORT]   (docs/BENCHMARKS.md, "/metrics")
set -euo pipefail
bin=$(realpath "$1"); port=${2:-18181}
server=postgres://postgres@127.0.0.1:5432
if ! psql "$server/cw_metrics" -Atqc "SELECT 1 FROM apalis.jobs LIMIT 1" >/dev/null 2>&1; then
  dropdb -h 127.0.0.1 -U postgres --if-exists cw_metrics
  createdb -h 127.0.0.1 -U postgres cw_metrics
  DATABASE_URL=$server/cw_metrics "$bin" migrate up >/dev/null
  psql "$server/cw_metrics" -q \
    -c "ALTER TABLE apalis.jobs DISABLE TRIGGER notify_workers" \
    -c "INSERT INTO apalis.jobs (job, id, job_type, status, run_at) SELECT '\\x00', 'm'||g, 'noop', 'Pending', now() - interval '1 minute' FROM generate_series(1, 1000000) g" \
    -c "INSERT INTO apalis.jobs (job, id, job_type, status, run_at, attempts, max_attempts, done_at) SELECT '\\x00', 'd'||g, 'email.send', 'Failed', now(), 8, 8, now() - interval '1 day' FROM generate_series(1, 200000) g" \
    -c "ALTER TABLE apalis.jobs ENABLE TRIGGER notify_workers" \
    -c "VACUUM ANALYZE apalis.jobs"
fi
DATABASE_URL=postgres://postgres@127.0.0.1:5432/cw_metrics CARTWHEEL_BIND=127.0.0.1:$port CARTWHEEL_JWT_SECRET=bench-secret-0123456789abcdef0123456789 RUST_LOG=warn "$bin" api >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.2; done
for _ in $(seq 20); do curl -s -o /dev/null -w "%{time_total}\n" http://127.0.0.1:$port/metrics; done | sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, max %.1f ms\n", a[int((NR+1)/2)]*1000, a[NR]*1000}'
kill $pid; wait $pid 2>/dev/null
