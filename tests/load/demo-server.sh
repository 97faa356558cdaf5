# Sourced by load scripts that run their own Cartwheel with the demo shop: set BIN, PORT and
# DIR first. Gives BASE, `start ROLE` (the server is the process PID, so stopping it stops the
# server), `ready` (waits for the demo shop), and `stop`; refuses a port that already answers
# (a server left there would answer in place of this build's).
BASE="http://127.0.0.1:$PORT"
export CARTWHEEL_BIND="127.0.0.1:$PORT" CARTWHEEL_RATE_LIMIT_PER_MINUTE=100000000 RUST_LOG=warn \
  CARTWHEEL_DEMO_SHOP=true CARTWHEEL_JWT_SECRET=load-test-secret-0123456789abcdef0123
PID=
start() { (cd "$DIR" && exec "$BIN" "$1" >>"$DIR/cartwheel.log" 2>&1) & PID=$!; }
stop() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
trap 'stop; rm -rf "$DIR"' EXIT
ready() {
  for _ in $(seq 1 300); do
    [[ $(curl -s -H 'X-Tenant: demo' "$BASE/api/v1/tenant" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status",""))' 2>/dev/null) == READY ]] && return
    sleep 0.2
  done
  cat "$DIR/cartwheel.log" >&2; exit 1
}
if curl -s -o /dev/null "$BASE/health/live"; then
  echo "port $PORT already answers: stop that server first (fuser -k $PORT/tcp)" >&2; exit 1
fi
