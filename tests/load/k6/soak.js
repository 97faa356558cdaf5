// A soak: 50 shoppers for DURATION (4 h by default; tests/load/k6.sh runs a bounded one).
import { journey, constantShoppers } from './journey.js';

export const options = constantShoppers('soak', 50, '4h');

export default journey;
