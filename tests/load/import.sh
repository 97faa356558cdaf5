#!/usr/bin/env bash
# Time of POST /api/v1/store/admin/products/import with a 10,000-row CSV: into a fresh
# database (every row creates an item), then the same skus again with new names and prices
# (every row updates one). Each run starts `serve` on a new database (SQLite in a temp dir, and
# a new Postgres database that is dropped after), waits for the demo shop, and times both
# requests with curl's time_total. Prints every run and the median of each kind, per backend
# and build. With OLD_BINARY the two builds alternate run by run.
#
#   tests/load/import.sh
#   OLD_BINARY=/tmp/cartwheel-old RUNS=5 tests/load/import.sh
#   BACKENDS=sqlite ROWS=2000 tests/load/import.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
NEW=$(realpath "${LOAD_BINARY:-${CARGO_TARGET_DIR:-./target}/release/cartwheel}")
OLD=${OLD_BINARY:+$(realpath "$OLD_BINARY")}
RUNS=${RUNS:-3}
ROWS=${ROWS:-10000}
BACKENDS=${BACKENDS:-"sqlite postgres"}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-18286}
WORK=$(mktemp -d /tmp/cartwheel-import.XXXXXX)
# A 10,000-row file is over the default 1 MiB body limit.
export CARTWHEEL_BODY_LIMIT_BYTES=$((16 * 1024 * 1024))

# The file: sku, name, price and a listing's usual columns; `second` renames and reprices.
csv() {
  python3 - "$ROWS" "$1" <<'EOF'
import sys
rows, which = int(sys.argv[1]), sys.argv[2]
print("sku,name,price,unit,reorder_level,published,short_description,long_description,image_url")
for n in range(rows):
    name = f"Imported product {n}" if which == "first" else f"Imported product {n} (v2)"
    price = 100 + n if which == "first" else 200 + n
    print(f"IMP-{n:06},{name},{price},Nos,2,true,A product for the load test,"
          f"\"Made to last, easy to care for: number {n}.\",https://img.example/imp-{n:06}.jpg")
EOF
}
csv first >"$WORK/first.csv"
csv second >"$WORK/second.csv"

# One run: a fresh database, `serve`, the two imports. Prints "<create s> <update s>".
run() {
  local bin=$1 backend=$2 db=""
  BIN=$bin DIR=$(mktemp -d "$WORK/run.XXXXXX")
  if [[ $backend == postgres ]]; then
    db="cw_import_$(date +%s%N)"
    psql "$PG/postgres" -qc "CREATE DATABASE $db"
    export DATABASE_URL="$PG/$db"
  else
    export DATABASE_URL="sqlite://$DIR/cartwheel.db?mode=rwc"
  fi
  local failed=0
  (
    . tests/load/demo-server.sh
    start serve
    ready
    password=$(grep -o 'password: .*' "$DIR/cartwheel.log" | head -1 | cut -d' ' -f2)
    token=$(curl -fs -H 'X-Tenant: demo' -H 'Content-Type: application/json' \
      -d "{\"email\":\"owner@demo.example\",\"password\":\"$password\"}" "$BASE/api/v1/auth/login" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    times=()
    for file in first second; do
      out=$(curl -s -o "$DIR/report.json" -w '%{http_code} %{time_total}' -H 'X-Tenant: demo' \
        -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' \
        --data-binary "@$WORK/$file.csv" "$BASE/api/v1/store/admin/products/import")
      want=$([[ $file == first ]] && echo created || echo updated)
      python3 - "$DIR/report.json" "$want" "$ROWS" "$out" <<'EOF'
import json, sys
path, want, rows, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
report = json.load(open(path))
if not out.startswith("200 ") or report.get(want) != rows or report.get("failed") != 0:
    sys.exit(f"import answered {out}: {json.dumps(report)[:500]}")
EOF
      times+=("${out#* }")
    done
    echo "${times[*]}"
  ) || failed=1
  if [[ -n $db ]]; then
    psql "$PG/postgres" -qc "DROP DATABASE $db"
  fi
  return "$failed"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

trap 'rm -rf "$WORK"' EXIT
builds=("new $NEW")
[[ -n $OLD ]] && builds=("old $OLD" "new $NEW")
for backend in $BACKENDS; do
  for i in $(seq 1 "$RUNS"); do
    for build in "${builds[@]}"; do
      set -- $build
      times=$(run "$2" "$backend")
      echo "$backend $1 run $i: create update (s) $times" | tee -a "$WORK/results"
    done
  done
done
echo "rows per file: $ROWS; medians of $RUNS runs:"
for backend in $BACKENDS; do
  for build in "${builds[@]}"; do
    set -- $build
    rows=$(grep "^$backend $1 run" "$WORK/results" | awk '{print $(NF-1), $NF}')
    echo "$backend $1: create $(cut -d' ' -f1 <<<"$rows" | median) s, update $(cut -d' ' -f2 <<<"$rows" | median) s"
  done
done
