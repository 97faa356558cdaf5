// The storefront journey (journey.js) at VUS shoppers (100) for DURATION (60s), with the plan's
// and Cartwheel's thresholds. tests/load/k6.sh runs it against a seeded shop.
import { journey, thresholds, summaryTrendStats } from './journey.js';

export const options = {
  scenarios: {
    storefront: {
      executor: 'constant-vus',
      vus: parseInt(__ENV.VUS || '100', 10),
      duration: __ENV.DURATION || '60s',
    },
  },
  thresholds,
  summaryTrendStats,
};

export default journey;
