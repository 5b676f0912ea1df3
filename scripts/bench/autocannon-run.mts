// One closed-loop run of autocannon, in a process of its own (load-generators.ts starts it with plain `node`, which
// strips the types, so no compiler's CPU lands in the load generator's figures). Prints autocannon's result and
// how long the run took, from its start to its last response: autocannon's own `duration` is counted in whole
// seconds of its timer, so a run bounded by a request count (the otel runs) came out up to a second long and its
// throughput that much low (docs/profiling.md, "The instrument, corrected").
//   node autocannon-run.mts '<autocannon options as JSON>'
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';

const options = JSON.parse(process.argv[2] ?? '{}') as autocannon.Options;
const started = performance.now();
let lastResponse = started;
const run = autocannon(options, (error: unknown, result) => {
  if (error) {
    console.error(`autocannon: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify({ result, seconds: (lastResponse - started) / 1000 }));
});
run.on('response', () => {
  lastResponse = performance.now();
});
