// k6: the shopper journey of issue #13 §9, each iteration one guest shopper from an empty cart
// to a placed order: create a cart, add 3 different items (qty 1), start the checkout, set email,
// shipping address and method, confirm with manual payment. Run by tests/load/checkout-journey.sh,
// which starts the server, provisions the shop and passes what it seeded:
//
//   BASE      http://127.0.0.1:PORT
//   TENANT    the shop's slug (X-Tenant)
//   ITEMS     comma-separated item ids; each journey takes 3 different ones at random (with 3
//             ids every order holds the same 3 stock rows, as a shop with one hot bundle would)
//   METHOD    the shipping method id
//   VUS       concurrent shoppers (32)
//   WARMUP    seconds run first and not counted (the driver runs the warm-up as a k6 run of
//             its own, WARMUP=5 DURATION=0, then the measured one with WARMUP=0)
//   DURATION  seconds measured after the warm-up (30)
//   SUMMARY   where handleSummary writes the numbers as JSON (the driver reads them)
//   PAYMENT   manual (the default) or stripe: confirm by card (202 with the PaymentIntent), then
//             pay it at the Stripe fake as Stripe.js would (publishable key and client secret);
//             the webhook places the order afterwards, so `orders_placed` counts payments made
//   STRIPE    the Stripe fake's base URL (PAYMENT=stripe)
//
// One scenario of VUS shoppers runs for WARMUP + DURATION; a request counts when it was sent in
// the measured window (tag phase=measure). The scenario stops at the end with no grace period,
// so every counted request also finished inside the window: orders/s is orders / DURATION.
import http from 'k6/http';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';

const BASE = __ENV.BASE;
const TENANT = __ENV.TENANT;
const ITEMS = (__ENV.ITEMS || '').split(',').filter((s) => s);
const METHOD = __ENV.METHOD;
const VUS = parseInt(__ENV.VUS || '32', 10);
const WARMUP = parseFloat(__ENV.WARMUP || '5');
const DURATION = parseFloat(__ENV.DURATION || '30');
const PAYMENT = __ENV.PAYMENT || 'manual';
const STRIPE = __ENV.STRIPE;
if (!BASE || !TENANT || ITEMS.length < 3 || !METHOD || (PAYMENT === 'stripe' && !STRIPE)) {
  throw new Error('set BASE, TENANT, ITEMS (3 or more ids), METHOD and for PAYMENT=stripe STRIPE (see the header)');
}

// Measured-window metrics only: the confirm's latency, the orders it placed, and failures.
const confirmMs = new Trend('confirm_ms', true);
const ordersPlaced = new Counter('orders_placed');
const journeyErrors = new Counter('journey_errors');

const STEPS = ['cart', 'add_item', 'checkout', 'checkout_update', 'confirm'];
if (PAYMENT === 'stripe') STEPS.push('pay');
// A threshold on a tagged sub-metric is what makes k6 keep it for handleSummary; these always
// hold (the driver reports the numbers against the targets, it does not fail on them).
const thresholds = { 'http_reqs{phase:measure}': ['count>=0'] };
for (const step of STEPS) {
  thresholds[`http_req_duration{phase:measure,step:${step}}`] = ['max>=0'];
  thresholds[`http_reqs{phase:measure,step:${step}}`] = ['count>=0'];
}

export const options = {
  scenarios: {
    journey: {
      executor: 'constant-vus',
      vus: VUS,
      duration: `${WARMUP + DURATION}s`,
      gracefulStop: '0s',
    },
  },
  thresholds,
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
};

const ADDRESS = {
  name: 'A',
  line1: '1 Main St',
  city: 'Springfield',
  postalCode: '62701',
  country: 'US',
};

function inWindow() {
  const t = exec.instance.currentTestRunDuration / 1000;
  return t >= WARMUP && t < WARMUP + DURATION;
}

// One request of the journey; the parsed body when the status is the one expected, else null
// (counted as a journey error, and the first few are printed).
let printed = 0;
function call(method, step, path, body, expected) {
  const phase = inWindow() ? 'measure' : 'warmup';
  const res = http.request(method, `${BASE}${path}`, body === null ? null : JSON.stringify(body), {
    headers: { 'X-Tenant': TENANT, 'Content-Type': 'application/json' },
    // `name` keeps one time series per step instead of one per cart or checkout id.
    tags: { step, phase, name: step },
  });
  if (res.status !== expected) {
    if (phase === 'measure') journeyErrors.add(1, { step });
    if (printed++ < 5) {
      console.error(`${step}: expected ${expected}, got ${res.status}: ${String(res.body).slice(0, 300)}`);
    }
    return null;
  }
  return { json: res.json(), res, phase };
}

// Three different items of the pool.
function pickThree() {
  const pool = ITEMS.slice();
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, 3);
}

export default function () {
  const cart = call('POST', 'cart', '/api/v1/store/cart', null, 201);
  if (!cart) return;
  const cartId = cart.json.id;
  for (const itemId of pickThree()) {
    if (!call('POST', 'add_item', `/api/v1/store/cart/${cartId}/items`, { itemId, qty: 1 }, 200)) return;
  }
  const checkout = call('POST', 'checkout', '/api/v1/store/checkout', { cartId }, 200);
  if (!checkout) return;
  const id = checkout.json.checkoutId;
  const email = `shopper-${exec.vu.idInTest}-${exec.vu.iterationInInstance}@load.example`;
  const update = { email, shippingAddress: ADDRESS, shippingMethodId: METHOD };
  if (!call('PUT', 'checkout_update', `/api/v1/store/checkout/${id}`, update, 200)) return;
  if (PAYMENT === 'stripe') {
    payByCard(id);
    return;
  }
  const placed = call('POST', 'confirm', `/api/v1/store/checkout/${id}/confirm`, { paymentMethod: 'manual' }, 200);
  if (!placed || placed.phase !== 'measure') return;
  if (!placed.json.orderId || !placed.json.orderNumber) {
    journeyErrors.add(1, { step: 'confirm' });
    return;
  }
  confirmMs.add(placed.res.timings.duration);
  ordersPlaced.add(1);
}

// Confirm by card, then pay the PaymentIntent at the Stripe fake the way Stripe.js does.
function payByCard(id) {
  const pending = call('POST', 'confirm', `/api/v1/store/checkout/${id}/confirm`, { paymentMethod: 'stripe' }, 202);
  if (!pending) return;
  const intent = pending.json;
  const res = http.post(
    `${STRIPE}v1/payment_intents/${intent.paymentIntentId}/confirm`,
    { payment_method: 'pm_card_visa', client_secret: intent.clientSecret },
    {
      headers: { Authorization: `Bearer ${intent.publishableKey}` },
      tags: { step: 'pay', phase: pending.phase, name: 'pay' },
    },
  );
  if (res.status !== 200 || res.json().status !== 'succeeded') {
    if (pending.phase === 'measure') journeyErrors.add(1, { step: 'pay' });
    if (printed++ < 5) console.error(`pay: got ${res.status}: ${String(res.body).slice(0, 300)}`);
    return;
  }
  if (pending.phase !== 'measure') return;
  confirmMs.add(pending.res.timings.duration);
  ordersPlaced.add(1);
}

// The numbers of the measured window, as JSON for the driver and as a few lines for a person.
export function handleSummary(data) {
  const m = data.metrics;
  const count = (name) => (m[name] ? m[name].values.count : 0);
  const trend = (name) => {
    const v = m[name] ? m[name].values : {};
    return { p50: v.med, p95: v['p(95)'], p99: v['p(99)'], max: v.max, avg: v.avg };
  };
  const steps = {};
  for (const step of STEPS) {
    steps[step] = trend(`http_req_duration{phase:measure,step:${step}}`);
    steps[step].count = count(`http_reqs{phase:measure,step:${step}}`);
  }
  const orders = count('orders_placed');
  const requests = count('http_reqs{phase:measure}');
  // Wall-clock bounds of the measured window (the test ran until just now), for the mail times.
  const startedAt = Date.now() - data.state.testRunDurationMs;
  const out = {
    startedAt,
    endedAt: startedAt + (WARMUP + DURATION) * 1000,
    vus: VUS,
    warmupSeconds: WARMUP,
    durationSeconds: DURATION,
    orders,
    ordersPerSecond: DURATION > 0 ? orders / DURATION : 0,
    requests,
    requestsPerSecond: DURATION > 0 ? requests / DURATION : 0,
    errors: count('journey_errors'),
    confirm: trend('confirm_ms'),
    steps,
  };
  const ms = (x) => (x === undefined ? '-' : x.toFixed(1));
  const lines = [
    `k6: ${VUS} shoppers, ${DURATION} s measured` + (WARMUP > 0 ? ` after ${WARMUP} s warm-up` : ''),
    `orders placed ${orders} (${out.ordersPerSecond.toFixed(1)}/s), requests ${requests} ` +
      `(${out.requestsPerSecond.toFixed(1)}/s), journey errors ${out.errors}`,
    `confirm ms: p50 ${ms(out.confirm.p50)}  p95 ${ms(out.confirm.p95)}  p99 ${ms(out.confirm.p99)}  max ${ms(out.confirm.max)}`,
  ];
  for (const step of STEPS) {
    const s = steps[step];
    lines.push(`  ${step.padEnd(16)} n=${String(s.count).padEnd(7)} p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  p99 ${ms(s.p99)} ms`);
  }
  const result = { stdout: lines.join('\n') + '\n' };
  if (__ENV.SUMMARY) result[__ENV.SUMMARY] = JSON.stringify(out, null, 2);
  return result;
}
