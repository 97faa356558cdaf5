// A spike: 10 shoppers, then 200 within 10 s, held for HOLD (20s), then back to 10.
import { journey, thresholds, summaryTrendStats } from './journey.js';

export const options = {
  scenarios: {
    spike: {
      executor: 'ramping-vus',
      startVUs: 10,
      stages: [
        { duration: '5s', target: 10 },
        { duration: '10s', target: 200 },
        { duration: __ENV.HOLD || '20s', target: 200 },
        { duration: '5s', target: 10 },
      ],
      gracefulRampDown: '5s',
    },
  },
  thresholds,
  summaryTrendStats,
};

export default journey;
