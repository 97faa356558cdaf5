-- wrk: posts pre-signed Stripe events to the webhook, one line of LINES per request (each wrk
-- thread takes every Nth line, so no two threads send the same new event); run by
-- tests/load/stripe-webhooks.sh. Arguments: TEMPLATE LINES TENANT THREADS. TEMPLATE is the event's body
-- with @ID@ and @T@ where each line's event id and timestamp go; a line is
-- "<event id> <timestamp> <Stripe-Signature>". Past the last line it starts again (repeats).
-- At the end it prints one JSON line: new, repeated and failed deliveries, and the latency.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local head, middle, tail
local lines = {}
local next_line = 1
new, repeated, failed = 0, 0, 0

function init(args)
  local template = io.open(args[1]):read("*a")
  head, middle, tail = template:match("^(.*)@ID@(.*)@T@(.*)$")
  local n, threads_in_all = 0, tonumber(args[4])
  for line in io.lines(args[2]) do
    if n % threads_in_all == index then
      table.insert(lines, line)
    end
    n = n + 1
  end
  tenant = args[3]
end

function request()
  local line = lines[next_line]
  next_line = next_line % #lines + 1
  local id, t, signature = line:match("^(%S+) (%S+) (%S+)$")
  return wrk.format("POST", "/api/v1/store/payments/webhook", {
    ["Content-Type"] = "application/json",
    ["X-Tenant"] = tenant,
    ["Stripe-Signature"] = signature,
  }, head .. id .. middle .. t .. tail)
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
  elseif body:find('"duplicate":true', 1, true) then
    repeated = repeated + 1
  else
    new = new + 1
  end
end

function done(summary, latency, requests)
  local n, r, f = 0, 0, 0
  for _, thread in ipairs(threads) do
    n = n + thread:get("new")
    r = r + thread:get("repeated")
    f = f + thread:get("failed")
  end
  io.write(string.format(
    '{"new": %d, "repeated": %d, "failed": %d, "seconds": %.3f, "p50": %.2f, "p95": %.2f, "p99": %.2f, "max": %.2f}\n',
    n, r, f, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
