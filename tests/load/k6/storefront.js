// The storefront journey (journey.js) at VUS shoppers (100) for DURATION (60s), with the plan's
// and Cartwheel's thresholds. tests/load/k6.sh runs it against a seeded shop.
import { journey, constantShoppers } from './journey.js';

export const options = constantShoppers('storefront', 100, '60s');

export default journey;
