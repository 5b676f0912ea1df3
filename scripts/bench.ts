// `make bench`: what tracing costs in this mesh, and whether spans get lost under load. One run, on the mesh
// `docker compose up --build --wait` starts, with closed-loop load from a separate process (autocannon) through
// front-envoy's address on the mesh network, bounded in time (scripts/bench/settings.ts has every size):
//   limit    front-envoy alone, answering its direct-response /healthz
//   off      the full chain, Envoy sampling 0 % everywhere, apps in `off` mode
//   forward  the full chain, 100 % sampling, apps copying headers by hand
//   otel     the full chain, 100 % sampling, apps with the OpenTelemetry SDK
//   otel-10, otel-1   the same, front-envoy sampling 10 % / 1 % of requests (the rest follow its B3 decision)
//   collector, collector-10   otel at 100 % / 10 % on the production path (every span through the OpenTelemetry
//                     Collector, docker-compose.collector.yaml): its own mesh, measured before the others
// The runs are interleaved over several rounds so that drift on a shared machine hits all of them alike.
// Then a latency run of `otel` at 50 % of its measured maximum, for a fair p99: an open model at a constant arrival
// rate (k6, bench/constant-rate.k6.js). Not autocannon's rate limit: it sends each second's quota in one burst (a
// half-load run is then a full-load run half of the time), and its latency correction for rate-limited runs
// records extra samples at a 1 ms interval, which drags the percentiles down.
// Writes bench/results/<engine>.json and docs/benchmarks.md. BENCH_SMOKE=1 runs it with tiny numbers (in `make test`)
// and writes to .run/bench-smoke/ instead.
import { composeVariables } from './mesh/compose.ts';
import { BenchMesh } from './bench/bench-mesh.ts';
import { measureCollectorPath } from './bench/collector-path.ts';
import { measureHalfLoad } from './bench/half-load.ts';
import { jaegerTimeToTrace } from './bench/jaeger-time-to-trace.ts';
import { containerEngine, machine, packageVersion } from './bench/machine.ts';
import { writeReport } from './bench/report.ts';
import { benchResults } from './bench/results.ts';
import { measureRounds } from './bench/rounds.ts';
import { CONNECTIONS, HALF_LOAD_SECONDS, ROUNDS, SECONDS, SMOKE } from './bench/settings.ts';
import { measureStartup } from './bench/startup.ts';
import { median } from './bench/statistics.ts';

async function main(): Promise<void> {
  // Skipped in the smoke run: each takes the mesh down and brings up another.
  const startup = SMOKE ? null : await measureStartup();
  const jaegerIdle = SMOKE ? null : await jaegerTimeToTrace();
  const collectorPath = SMOKE ? null : await measureCollectorPath();
  const bench = await BenchMesh.start();
  const rounds = await measureRounds(bench);
  const halfLoad = await measureHalfLoad(
    bench,
    Math.max(1, Math.round(median(rounds.runs.otel.map((r) => r.rps)) / 2)),
  );
  const results = benchResults({
    machine: machine(),
    engine: containerEngine(),
    settings: {
      rounds: ROUNDS,
      seconds_per_run: SECONDS,
      connections: CONNECTIONS,
      load_generators: {
        closed_loop: `autocannon ${packageVersion('autocannon')}`,
        constant_rate: `k6 ${composeVariables().K6_VERSION ?? '?'}`,
      },
      half_load_seconds: HALF_LOAD_SECONDS,
    },
    rounds,
    halfLoad,
    startup,
    jaegerIdle,
    collectorPath,
  });
  await writeReport(results);
  for (const t of results.targets)
    console.log(`bench: ${t.holds ? 'met   ' : 'MISSED'} ${t.target}: ${t.measured}`);
  // Back to the README's mesh (otel mode, the configs' sampling) and left running: to look at in Zipkin, or to
  // test against without another start (`make test` runs its tests on it next). `make stop` takes it down.
  await bench.enter('otel');
  console.log('bench: the mesh is left running as the README starts it; `make stop` takes it down');
}

main().catch((error: unknown) => {
  // fetch's own message is only "fetch failed": the cause says which address refused and how.
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}${cause}`);
  process.exit(1);
});
