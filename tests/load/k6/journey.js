// The storefront journey every k6 script here runs (tests/load/k6.sh starts the server, seeds the
// shop and passes what it made): browse the category tree and a category, search, open a
// product, put an item in a cart, check out with an address and shipping, and confirm with
// manual payment. Between steps a shopper pauses (THINK seconds, 0.5–1.5 by default).
//
//   BASE        http://127.0.0.1:PORT
//   TENANT      the shop's slug (X-Tenant)
//   BUY         comma-separated item ids with ample stock, put in carts
//   METHOD      the shipping method id
//   CATEGORIES  comma-separated category slugs to browse
//   SEARCH      comma-separated search terms
//   THINK       the longest pause between steps in seconds (default 1.5; 0: none)
import http from 'k6/http';
import { sleep } from 'k6';
import { Rate } from 'k6/metrics';

const BASE = __ENV.BASE;
const TENANT = __ENV.TENANT;
const list = (name) => (__ENV[name] || '').split(',').filter((s) => s);
const BUY = list('BUY');
const METHOD = __ENV.METHOD;
const CATEGORIES = list('CATEGORIES');
const SEARCH = list('SEARCH');
const THINK = parseFloat(__ENV.THINK || '1.5');
if (!BASE || !TENANT || !BUY.length || !METHOD || !CATEGORIES.length || !SEARCH.length) {
  throw new Error('set BASE, TENANT, BUY, METHOD, CATEGORIES and SEARCH (see the header)');
}

// A journey step that did not answer as it should (status or body), per request.
export const journeyErrors = new Rate('journey_errors');

// The thresholds (docs/BENCHMARKS.md has what this machine does against them). Every request is
// tagged with its kind: browse, cart or checkout.
export const thresholds = {
  // The plan: p95 < 500 ms, p99 < 1 s, errors < 1 %, cart < 300 ms, checkout < 1 s (p95);
  // then Cartwheel's own, stricter ones per kind, and no failed request at all to speak of.
  http_req_duration: ['p(95)<500', 'p(99)<1000'],
  journey_errors: ['rate<0.01'],
  'http_req_duration{kind:browse}': ['p(95)<100', 'p(99)<250'],
  'http_req_duration{kind:cart}': ['p(95)<300', 'p(95)<100', 'p(99)<250'],
  'http_req_duration{kind:checkout}': ['p(95)<1000', 'p(95)<250', 'p(99)<500'],
  http_req_failed: ['rate<0.001'],
};

export const summaryTrendStats = ['avg', 'med', 'p(95)', 'p(99)', 'max'];

// The options of a script that runs VUS shoppers (default `vus`) for DURATION (default
// `duration`), with the thresholds above.
export function constantShoppers(name, vus, duration) {
  return {
    scenarios: {
      [name]: {
        executor: 'constant-vus',
        vus: parseInt(__ENV.VUS || String(vus), 10),
        duration: __ENV.DURATION || duration,
      },
    },
    thresholds,
    summaryTrendStats,
  };
}

const ADDRESS = { name: 'A', line1: '1 Main St', city: 'Springfield', postalCode: '62701', country: 'US' };
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
const think = () => THINK > 0 && sleep(THINK / 3 + Math.random() * (THINK * 2 / 3));

let printed = 0;
function call(method, kind, name, path, body, expected) {
  const res = http.request(method, `${BASE}${path}`, body === null ? null : JSON.stringify(body), {
    headers: { 'X-Tenant': TENANT, 'Content-Type': 'application/json' },
    tags: { kind, name },
  });
  const ok = res.status === expected;
  journeyErrors.add(!ok, { kind });
  if (!ok && printed++ < 5) {
    console.error(`${name}: expected ${expected}, got ${res.status}: ${String(res.body).slice(0, 300)}`);
  }
  return ok ? res.json() : null;
}

export function journey() {
  if (!call('GET', 'browse', 'categories', '/api/v1/store/categories', null, 200)) return;
  think();
  const page = call('GET', 'browse', 'category', `/api/v1/store/products?category=${pick(CATEGORIES)}&limit=20`, null, 200);
  if (!page) return;
  think();
  const found = call('GET', 'browse', 'search', `/api/v1/store/products?search=${encodeURIComponent(pick(SEARCH))}&limit=20`, null, 200);
  if (!found) return;
  think();
  const items = (found.items || []).concat(page.items || []);
  if (items.length && !call('GET', 'browse', 'product', `/api/v1/store/products/${pick(items).slug}`, null, 200)) return;
  think();
  const cart = call('POST', 'cart', 'cart', '/api/v1/store/cart', null, 201);
  if (!cart) return;
  if (!call('POST', 'cart', 'add_item', `/api/v1/store/cart/${cart.id}/items`, { itemId: pick(BUY), qty: 1 }, 200)) return;
  think();
  const checkout = call('POST', 'checkout', 'checkout', '/api/v1/store/checkout', { cartId: cart.id }, 200);
  if (!checkout) return;
  const email = `shopper-${__VU}-${__ITER}@load.example`;
  const update = { email, shippingAddress: ADDRESS, shippingMethodId: METHOD };
  if (!call('PUT', 'checkout', 'checkout_update', `/api/v1/store/checkout/${checkout.checkoutId}`, update, 200)) return;
  think();
  const placed = call('POST', 'checkout', 'confirm', `/api/v1/store/checkout/${checkout.checkoutId}/confirm`, { paymentMethod: 'manual' }, 200);
  journeyErrors.add(!!placed && !placed.orderNumber, { kind: 'checkout' });
  think();
}
