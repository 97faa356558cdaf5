// k6: Stripe's webhook deliveries as fast as VUS senders can post them, each a signed
// `payment_intent.created` event (a new id per iteration) carrying the PaymentIntent the driver
// made at the Stripe fake; every 10th iteration posts the previous event again, as Stripe's
// retries do. Run by tests/load/stripe-webhooks.sh, which passes:
//
//   BASE      http://127.0.0.1:PORT
//   TENANT    the shop's slug (X-Tenant)
//   SIGNING   the shop's webhook signing secret
//   INTENT    a file holding the PaymentIntent's JSON (as GET /v1/payment_intents/{id} answers)
//   VERSION   Stripe's API version async-stripe speaks (the events carry it)
//   VUS       concurrent senders (32)
//   WARMUP    seconds run first and not counted
//   DURATION  seconds measured after the warm-up (20)
//   SUMMARY   where handleSummary writes the numbers as JSON
import http from 'k6/http';
import crypto from 'k6/crypto';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';

const BASE = __ENV.BASE;
const TENANT = __ENV.TENANT;
const SIGNING = __ENV.SIGNING;
const VERSION = __ENV.VERSION;
const VUS = parseInt(__ENV.VUS || '32', 10);
const WARMUP = parseFloat(__ENV.WARMUP || '3');
const DURATION = parseFloat(__ENV.DURATION || '20');
if (!BASE || !TENANT || !SIGNING || !__ENV.INTENT || !VERSION) {
  throw new Error('set BASE, TENANT, SIGNING, INTENT and VERSION (see the header)');
}
const INTENT = JSON.parse(open(__ENV.INTENT));

const stored = new Counter('events_stored');
const repeated = new Counter('events_repeated');
const failed = new Counter('events_failed');
const storedAll = new Counter('events_stored_all');
const ingestMs = new Trend('ingest_ms', true);

export const options = {
  scenarios: {
    deliveries: {
      executor: 'constant-vus',
      vus: VUS,
      duration: `${WARMUP + DURATION}s`,
      gracefulStop: '0s',
    },
  },
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
};

function inWindow() {
  const t = exec.instance.currentTestRunDuration / 1000;
  return t >= WARMUP && t < WARMUP + DURATION;
}

let printed = 0;
let previous = null;

export default function () {
  const again = previous !== null && exec.vu.iterationInInstance % 10 === 9;
  const body = again
    ? previous
    : JSON.stringify({
        id: `evt_load_${exec.vu.idInTest}_${exec.vu.iterationInInstance}`,
        object: 'event',
        api_version: VERSION,
        created: Math.floor(Date.now() / 1000),
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type: 'payment_intent.created',
        data: { object: INTENT },
      });
  previous = body;
  const t = Math.floor(Date.now() / 1000);
  const signature = crypto.hmac('sha256', SIGNING, `${t}.${body}`, 'hex');
  const measured = inWindow();
  const res = http.post(`${BASE}/api/v1/store/payments/webhook`, body, {
    headers: {
      'X-Tenant': TENANT,
      'Content-Type': 'application/json',
      'Stripe-Signature': `t=${t},v1=${signature}`,
    },
    tags: { name: 'webhook' },
  });
  if (res.status !== 200) {
    if (measured) failed.add(1);
    if (printed++ < 5) console.error(`webhook: ${res.status}: ${String(res.body).slice(0, 300)}`);
    return;
  }
  const duplicate = res.json().duplicate;
  if (!duplicate) storedAll.add(1);
  if (!measured) return;
  ingestMs.add(res.timings.duration);
  if (duplicate) repeated.add(1);
  else stored.add(1);
}

export function handleSummary(data) {
  const m = data.metrics;
  const count = (name) => (m[name] ? m[name].values.count : 0);
  const v = m.ingest_ms ? m.ingest_ms.values : {};
  const out = {
    vus: VUS,
    warmupSeconds: WARMUP,
    durationSeconds: DURATION,
    stored: count('events_stored'),
    storedAll: count('events_stored_all'),
    repeated: count('events_repeated'),
    failed: count('events_failed'),
    eventsPerSecond: (count('events_stored') + count('events_repeated')) / DURATION,
    ingest: { p50: v.med, p95: v['p(95)'], p99: v['p(99)'], max: v.max },
  };
  const ms = (x) => (x === undefined ? '-' : x.toFixed(1));
  const lines = [
    `k6: ${VUS} senders, ${DURATION} s measured after ${WARMUP} s warm-up`,
    `deliveries ${out.stored + out.repeated} (${out.eventsPerSecond.toFixed(0)}/s): ${out.stored} new, ` +
      `${out.repeated} repeated, ${out.failed} failed`,
    `webhook ms: p50 ${ms(out.ingest.p50)}  p95 ${ms(out.ingest.p95)}  p99 ${ms(out.ingest.p99)}  max ${ms(out.ingest.max)}`,
  ];
  const result = { stdout: lines.join('\n') + '\n' };
  if (__ENV.SUMMARY) result[__ENV.SUMMARY] = JSON.stringify(out, null, 2);
  return result;
}
