// The fair-latency run of `make bench` (scripts/bench.ts starts it): an open model, new requests arrive at a fixed
// rate whether or not earlier ones have answered, so a slow answer cannot hold the next request back (autocannon's
// rate limit sends each second's quota in a burst instead). Parameters come from the environment:
//   URL, RATE (requests per second), DURATION (seconds), MAX_VUS (connections k6 may open to keep up).
import http from 'k6/http';

export const options = {
  scenarios: {
    constant_rate: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE),
      timeUnit: '1s',
      duration: `${__ENV.DURATION}s`,
      preAllocatedVUs: Number(__ENV.MAX_VUS),
      maxVUs: Number(__ENV.MAX_VUS),
    },
  },
  summaryTrendStats: ['p(50)', 'p(90)', 'p(99)', 'max'],
  discardResponseBodies: true,
};

export default function () {
  http.get(__ENV.URL);
}
