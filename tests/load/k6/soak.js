// A soak: 50 shoppers for DURATION (4 h by default; tests/load/k6.sh runs a bounded one).
import { journey, thresholds, summaryTrendStats } from './journey.js';

export const options = {
  scenarios: {
    soak: {
      executor: 'constant-vus',
      vus: parseInt(__ENV.VUS || '50', 10),
      duration: __ENV.DURATION || '4h',
    },
  },
  thresholds,
  summaryTrendStats,
};

export default journey;
