// `make bench`: what tracing costs in this mesh, and whether spans get lost under load. One run, on the mesh
// `docker compose up --build --wait` starts, with closed-loop load from a separate process (autocannon) through the published port, bounded in time:
//   limit    front-envoy alone, answering its direct-response /healthz
//   off      the full chain, Envoy sampling 0 % everywhere, apps in `off` mode
//   forward  the full chain, 100 % sampling, apps copying headers by hand
//   otel     the full chain, 100 % sampling, apps with the OpenTelemetry SDK
//   otel-10, otel-1   the same, front-envoy sampling 10 % / 1 % of requests (the rest follow its B3 decision)
// The runs are interleaved over several rounds so that drift on a shared machine hits all of them alike.
// Then a latency run of `otel` at 50 % of its measured maximum, for a fair p99: an open model at a constant arrival
// rate (k6, bench/constant-rate.k6.js). Not autocannon's rate limit: it sends each second's quota in one burst (a
// half-load run is then a full-load run half of the time), and its latency correction for rate-limited runs
// records extra samples at a 1 ms interval, which drags the percentiles down.
// Writes bench/results/latest.json and docs/benchmarks.md. BENCH_SMOKE=1 runs it with tiny numbers (in `make test`)
// and writes to .run/bench-smoke/ instead.
import { format } from 'prettier';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { composeVariables } from './mesh/compose.ts';
import { ComposeMesh, runningVariant } from './mesh/compose-mesh.ts';
import { countSpans, loadExpectedTraces } from './trace-check/trace-tree.ts';
import { traceApiOf, traceBackend } from './trace-check/trace-backend.ts';
import { measureTimeToTrace, type TimeToTrace } from './trace-check/time-to-trace.ts';
import { envoyFlushIntervalMs } from './mesh/envoy-config.ts';
import { REPO_ROOT } from './repo.ts';
import { constantRate, load, round1, type LoadResult } from './bench/load-generators.ts';
import { cpuSeconds, machine, packageVersion, peakRssMiB } from './bench/machine.ts';
import { frontSampled, settledSpanCount } from './bench/span-counts.ts';

const SMOKE = process.env.BENCH_SMOKE === '1';
const ROUNDS = SMOKE ? 1 : 3;
const SECONDS = SMOKE ? 1 : 10;
const CONNECTIONS = SMOKE ? 2 : 16;
/** Long enough for a p99 that rests on more than a handful of requests (30 s × ~150 req/s: ~45 above it). */
const HALF_LOAD_SECONDS = SMOKE ? 2 : 30;
/** otel runs send a fixed number of requests (autocannon then waits for every answer), so spans can be counted. */
const OTEL_REQUESTS_PER_ROUND = SMOKE ? 40 : 3400;
/** The otel runs' warm-up: about a second of load at the rates measured here. */
const WARM_UP_REQUESTS = SMOKE ? 20 : 200;
/**
 * Requests sent to apps that were just started or recreated (another TRACING_MODE), before anything is measured on them. Fresh
 * Node processes are slow until the JIT has compiled the request path: measured on recreated otel apps at
 * 100 req/s after 1 s of warm-up, p50 53 ms, p99 858 ms and 24 requests dropped; warm, p50 17-20 ms and none.
 */
const AFTER_RECREATE_REQUESTS = SMOKE ? 20 : 2000;
const OUT_DIR = SMOKE
  ? path.join(REPO_ROOT, '.run', 'bench-smoke')
  : path.join(REPO_ROOT, 'bench', 'results');
const DOC = SMOKE ? path.join(OUT_DIR, 'benchmarks.md') : path.join(REPO_ROOT, 'docs', 'benchmarks.md');
const MODES = ['limit', 'off', 'forward', 'otel', 'otel-10', 'otel-1'] as const;
type Run = (typeof MODES)[number];
/**
 * The order of the runs in a round: the otel runs together, and every other round reversed, so that each round
 * starts in the apps' mode the one before ended in. Every change of the apps' mode recreates three containers (the
 * smoke run in `make test` pays for each too); the ratios to off are paired by round whatever the order.
 */
const RUN_ORDER: readonly Run[] = ['limit', 'otel', 'otel-10', 'otel-1', 'forward', 'off'];
const runOrder = (round: number) => (round % 2 === 1 ? RUN_ORDER : [...RUN_ORDER].reverse());
/** The otel runs and the share of requests front-envoy samples in each: the edge decides, the rest follow B3. */
const OTEL_SAMPLING: Partial<Record<Run, number>> = { otel: 100, 'otel-10': 10, 'otel-1': 1 };
const isOtel = (run: Run) => OTEL_SAMPLING[run] !== undefined;

const SPANS_PER_REQUEST = countSpans([loadExpectedTraces().otel.tree]);
/** Requests per time-to-trace measurement, one at a time; the smoke run skips the Jaeger one (a second mesh). */
const TIME_TO_TRACE_SAMPLES = SMOKE ? 2 : 20;
const TIME_TO_TRACE_GAP_MS = 300;

interface Startup {
  /** `docker compose build --no-cache`: the services image with no layer cache (base images present). */
  build_no_cache_s: number;
  /** The README's `docker compose up --build --wait` after `down`, images built: every container new (median). */
  up_from_images_s: number;
  /** The same command again on the running mesh: nothing to recreate (median). */
  up_running_s: number;
  /** Every measurement, in order: one start can take twice the others on this machine (seen once: 38 s). */
  samples: { up_from_images_s: number[]; up_running_s: number[] };
}

/** Startups measured per benchmark, each after `down`; the figures are their medians. */
const STARTUP_SAMPLES = 3;

/** How long the README's command takes to a mesh that `--wait` calls healthy, in three starting states. */
async function measureStartup(): Promise<Startup> {
  const mesh = new ComposeMesh('zipkin');
  const seconds = async (step: () => Promise<unknown>) => {
    const startedAt = performance.now();
    await step();
    return round1((performance.now() - startedAt) / 1000);
  };
  await mesh.down();
  const build = await seconds(() => mesh.compose(['build', '--no-cache']));
  const samples = { up_from_images_s: [] as number[], up_running_s: [] as number[] };
  for (let i = 0; i < STARTUP_SAMPLES; i++) {
    samples.up_from_images_s.push(await seconds(() => mesh.up()));
    samples.up_running_s.push(await seconds(() => mesh.up()));
    await mesh.down();
  }
  return {
    build_no_cache_s: build,
    up_from_images_s: median(samples.up_from_images_s),
    up_running_s: median(samples.up_running_s),
    samples,
  };
}

/** Time to a complete trace with Jaeger in Zipkin's place (the `jaeger` variant, otel mode, idle). */
async function jaegerTimeToTrace(): Promise<TimeToTrace> {
  const jaeger = new ComposeMesh('jaeger');
  await jaeger.upServing({ TRACING_MODE: 'otel' });
  try {
    return await measureTimeToTrace({
      url: `http://${jaeger.ip('front-envoy')}:8000/trace/1`,
      store: traceBackend('jaeger', jaeger.publishedUrl('zipkin', traceApiOf('jaeger').port)),
      spansPerTrace: SPANS_PER_REQUEST,
      samples: TIME_TO_TRACE_SAMPLES,
      gapMs: TIME_TO_TRACE_GAP_MS,
    });
  } finally {
    await jaeger.down();
  }
}

async function main(): Promise<void> {
  // Both skipped in the smoke run: each takes the mesh down and brings up another.
  const startup = SMOKE ? null : await measureStartup();
  const jaegerIdle = SMOKE ? null : await jaegerTimeToTrace();
  const mesh = new ComposeMesh('zipkin');
  // Another variant of the mesh mounts other configs into the sidecars: down first (see scripts/test/e2e/support.ts).
  const running = runningVariant();
  if (running !== null && running !== 'zipkin') await mesh.down();
  await mesh.upServing({ TRACING_MODE: 'otel' });
  // The process groups whose CPU is counted, as compose lists them.
  const GROUPS = { envoys: mesh.envoys, apps: mesh.apps, backend: ['zipkin'] };
  // The load goes straight to front-envoy's address on the mesh network (the host reaches it as the network's
  // gateway, as it does through the published port), so no port-forwarding process of the engine is measured.
  const front = `http://${mesh.ip('front-envoy')}:8000`;
  const zipkin = mesh.publishedUrl('zipkin', traceApiOf('zipkin').port);
  const frontAdmin = mesh.publishedUrl('front-envoy', 9901);
  /** Fresh app processes, started or recreated, get AFTER_RECREATE_REQUESTS before anything is measured on them. */
  const warmUpApps = () => load(`${front}/trace/1`, 60, CONNECTIONS, ['-a', String(AFTER_RECREATE_REQUESTS)]);
  await warmUpApps();
  /**
   * Envoy random sampling through each admin API in its own namespace ('' = back to the config's 100 %): `edge`
   * for front-envoy, `rest` for the sidecars (which follow the edge's B3 decision when the apps carry it).
   */
  const sampling = async (edge: string, rest: string) => {
    await Promise.all(
      mesh.envoys.map(async (envoy) => {
        const percent = envoy === 'front-envoy' ? edge : rest;
        const url = `http://127.0.0.1:${mesh.envoyAdminPort(envoy)}/runtime_modify?tracing.random_sampling=${percent}`;
        const { status } = await mesh.httpFrom(envoy, url, { method: 'POST' });
        if (status !== 200) throw new Error(`${envoy} runtime_modify answered ${status}`);
      }),
    );
  };
  let appsMode = 'otel';
  /**
   * Puts the mesh in a run's mode: the apps' TRACING_MODE (recreating them only on a change, then warming them up)
   * and Envoy sampling.
   */
  const enter = async (run: Run) => {
    if (run === 'limit') return; // front-envoy answers /healthz itself, untraced, in every mode
    const mode = isOtel(run) ? 'otel' : run;
    const recreate = mode !== appsMode;
    if (recreate) {
      await mesh.recreate(GROUPS.apps, { TRACING_MODE: mode });
      appsMode = mode;
    }
    // off: every Envoy at 0 % (apps in `off` carry no decision for the sidecars to follow).
    if (run === 'off') await sampling('0', '0');
    else await sampling(OTEL_SAMPLING[run] === 100 || !isOtel(run) ? '' : String(OTEL_SAMPLING[run]), '');
    if (recreate) await warmUpApps();
  };
  /** A constant-rate run in a mode, after the same unmeasured warm-up every run gets. */
  const atConstantRate = async (run: Run, rate: number) => {
    await enter(run);
    await load(`${front}/trace/1`, 1, CONNECTIONS);
    return constantRate(`${front}/trace/1`, rate, HALF_LOAD_SECONDS, CONNECTIONS * 4);
  };

  const runs = Object.fromEntries(MODES.map((run) => [run, []])) as unknown as Record<
    Run,
    (LoadResult & { cpuPer1k: Record<string, number>; peakRssMiB: number })[]
  >;
  let spansExpected = 0;
  let spansReceived = 0;
  /** Zipkin's settled count after the last otel run, while no other run has sent spans since (null then). */
  let settledAfterLastRun: number | null = null;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const run of runOrder(round)) {
      await enter(run);
      const url = run === 'limit' ? `${front}/healthz` : `${front}/trace/1`;
      // Span delivery is counted from before the warm-up (same mode, so its traces count too): a baseline taken
      // after it missed warm-up spans that reached a busy Zipkin late, and counted them as surplus (CI).
      const spansBefore = isOtel(run) ? (settledAfterLastRun ?? (await settledSpanCount(zipkin))) : 0;
      settledAfterLastRun = null;
      const sampledBefore = isOtel(run) ? await frontSampled(frontAdmin) : 0;
      // Warm-up, not measured. In otel runs bounded by a request count, like the measured load: a run bounded by
      // time ends with a request in flight on every connection, which the mesh completes and traces (19 spans)
      // but front-envoy's sampling counter never counts, since nobody is left to answer (docs/profiling.md).
      await load(url, 1, CONNECTIONS, isOtel(run) ? ['-a', String(WARM_UP_REQUESTS)] : []);
      const cpuBefore = Object.fromEntries(
        Object.values(GROUPS)
          .flat()
          .map((s) => [s, cpuSeconds(mesh.pid(s))]),
      );
      const result = await load(
        url,
        SECONDS,
        CONNECTIONS,
        isOtel(run) ? ['-a', String(OTEL_REQUESTS_PER_ROUND)] : [],
      );
      const cpuPer1k = Object.fromEntries(
        Object.entries(GROUPS).map(([group, services]) => [
          group,
          (services.reduce((sum, s) => sum + cpuSeconds(mesh.pid(s)) - (cpuBefore[s] ?? 0), 0) /
            Math.max(result.requests, 1)) *
            1000,
        ]),
      );
      const peak = Math.max(...GROUPS.apps.map((app) => peakRssMiB(mesh.pid(app))));
      runs[run].push({ ...result, cpuPer1k, peakRssMiB: peak });
      if (isOtel(run)) {
        // Expected: every request front-envoy sampled (both loads of the run are bounded by a request count, so
        // each was answered, and counted); received: Zipkin's count once it settled at or beyond that.
        const expected = ((await frontSampled(frontAdmin)) - sampledBefore) * SPANS_PER_REQUEST;
        settledAfterLastRun = await settledSpanCount(zipkin, spansBefore + expected);
        const received = settledAfterLastRun - spansBefore;
        console.log(`round ${round} ${run}: ${received} spans received of ${expected} expected`);
        spansReceived += received;
        spansExpected += expected;
      }
      console.log(
        `round ${round} ${run.padEnd(8)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  errors ${result.errors}`,
      );
    }
  }

  // The fair p99: otel at half its measured maximum, at a constant arrival rate; then the same rate with tracing
  // off, to tell how much of the tail is tracing's and how much this shared machine's.
  const halfRate = Math.max(1, Math.round(median(runs.otel.map((r) => r.rps)) / 2));
  const timeToTrace = (samples: number) =>
    measureTimeToTrace({
      url: `${front}/trace/1`,
      store: traceBackend('zipkin', zipkin),
      spansPerTrace: SPANS_PER_REQUEST,
      samples,
      gapMs: TIME_TO_TRACE_GAP_MS,
    });
  /** Time to a complete trace, idle first, then the half-load run while more of it is measured. */
  const otelAtHalfLoad = async () => {
    await enter('otel');
    const idle = await timeToTrace(TIME_TO_TRACE_SAMPLES);
    // The probes start after the load's warm-up and add about one request a second to it.
    const [load, atLoad] = await Promise.all([
      atConstantRate('otel', halfRate),
      new Promise((resolve) => setTimeout(resolve, 2000)).then(() =>
        timeToTrace(Math.min(TIME_TO_TRACE_SAMPLES, Math.max(1, HALF_LOAD_SECONDS - 6))),
      ),
    ]);
    return { idle, load, atLoad };
  };
  // Whichever mode the rounds ended in goes first: one recreate of the apps fewer.
  let halfOff: LoadResult;
  let otelHalf: Awaited<ReturnType<typeof otelAtHalfLoad>>;
  if (appsMode === 'off') {
    halfOff = await atConstantRate('off', halfRate);
    otelHalf = await otelAtHalfLoad();
  } else {
    otelHalf = await otelAtHalfLoad();
    halfOff = await atConstantRate('off', halfRate);
  }
  const { idle: zipkinIdle, load: half, atLoad: zipkinAtHalfLoad } = otelHalf;
  console.log(
    `latency at 50 % of otel's maximum (${halfRate} req/s): p50 ${half.p50} ms, p99 ${half.p99} ms; tracing off: p50 ${halfOff.p50} ms, p99 ${halfOff.p99} ms`,
  );

  const summary = Object.fromEntries(
    MODES.map((run) => {
      const all = runs[run];
      return [
        run,
        {
          rps: round1(median(all.map((r) => r.rps))),
          rps_per_round: all.map((r) => round1(r.rps)),
          p50_ms: median(all.map((r) => r.p50)),
          p90_ms: median(all.map((r) => r.p90)),
          p99_ms: median(all.map((r) => r.p99)),
          errors: all.reduce((sum, r) => sum + r.errors, 0),
          requests: all.reduce((sum, r) => sum + r.requests, 0),
          cpu_seconds_per_1000_requests: Object.fromEntries(
            Object.keys(GROUPS).map((g) => [g, round3(median(all.map((r) => r.cpuPer1k[g] ?? 0)))]),
          ),
          apps_peak_rss_mib: round1(Math.max(...all.map((r) => r.peakRssMiB))),
        },
      ];
    }),
  ) as Record<Run, RunSummary>;
  /**
   * A run's throughput against off's, paired by round (the runs of one round are seconds apart) and the median
   * taken of those ratios: this shared machine's speed drifted by a third between rounds of one benchmark, and a
   * ratio of medians from different rounds then measured the drift.
   */
  const vsOff = (run: Run) =>
    round3(median(runs[run].map((result, i) => result.rps / (runs.off[i]?.rps ?? Number.NaN))));
  const results: BenchResults = {
    machine: machine(),
    date: new Date().toISOString(),
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
    runs: summary,
    latency_at_half_otel_max: {
      rate_rps: halfRate,
      p50_ms: half.p50,
      p90_ms: half.p90,
      p99_ms: half.p99,
      errors: half.errors,
      requests: half.requests,
      tracing_off: {
        p50_ms: halfOff.p50,
        p90_ms: halfOff.p90,
        p99_ms: halfOff.p99,
        errors: halfOff.errors,
        requests: halfOff.requests,
      },
    },
    startup,
    time_to_trace: {
      zipkin_idle: zipkinIdle,
      zipkin_at_half_load: zipkinAtHalfLoad,
      jaeger_idle: jaegerIdle,
    },
    span_delivery: {
      expected: spansExpected,
      received: spansReceived,
      spans_per_request: SPANS_PER_REQUEST,
    },
    targets: {
      otel_vs_off_throughput: vsOff('otel'),
      otel_at_least_65_percent_of_off: vsOff('otel') >= 0.65,
      otel_10_vs_off_throughput: vsOff('otel-10'),
      otel_10_at_least_90_percent_of_off: vsOff('otel-10') >= 0.9,
      // No span lost: every span of every request front-envoy sampled arrived. A surplus would be printed
      // beside it (docs/profiling.md: requests a client abandons are traced but not in the sampling counter).
      span_delivery_complete: spansReceived >= spansExpected,
      p99_at_half_load_within_2x_p50: half.p99 <= 2 * half.p50,
      time_to_trace_p95_within_1s:
        zipkinIdle.incomplete === 0 &&
        zipkinIdle.p95_ms <= 1000 &&
        (jaegerIdle === null || (jaegerIdle.incomplete === 0 && jaegerIdle.p95_ms <= 1000)),
    },
  };
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(path.join(OUT_DIR, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  mkdirSync(path.dirname(DOC), { recursive: true });
  // Formatted as the repo formats Markdown, so `make lint` accepts the generated file as it is.
  const prettierOptions = JSON.parse(
    readFileSync(path.join(REPO_ROOT, '.prettierrc.json'), 'utf8'),
  ) as Record<string, unknown>;
  writeFileSync(DOC, await format(markdown(results, runs), { parser: 'markdown', ...prettierOptions }));
  console.log(
    `bench: wrote ${path.relative(REPO_ROOT, path.join(OUT_DIR, 'latest.json'))} and ${path.relative(REPO_ROOT, DOC)}`,
  );
  // Back to the README's mesh (otel mode, the configs' sampling) and left running: to look at in Zipkin, or to
  // test against without another start (`make test` runs its tests on it next). `make stop` takes it down.
  await enter('otel');
  console.log('bench: the mesh is left running as the README starts it; `make stop` takes it down');
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const round3 = (value: number) => Math.round(value * 1000) / 1000;

interface RunSummary {
  rps: number;
  /** In round order: the rounds' spread shows how much this shared machine drifted during the benchmark. */
  rps_per_round: number[];
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  errors: number;
  requests: number;
  cpu_seconds_per_1000_requests: Record<string, number>;
  apps_peak_rss_mib: number;
}

interface Latency {
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  errors: number;
  requests: number;
}

/** bench/results/latest.json */
interface BenchResults {
  machine: string;
  date: string;
  settings: {
    rounds: number;
    seconds_per_run: number;
    connections: number;
    load_generators: { closed_loop: string; constant_rate: string };
    half_load_seconds: number;
  };
  runs: Record<Run, RunSummary>;
  latency_at_half_otel_max: Latency & { rate_rps: number; tracing_off: Latency };
  startup: Startup | null;
  time_to_trace: {
    zipkin_idle: TimeToTrace;
    zipkin_at_half_load: TimeToTrace;
    jaeger_idle: TimeToTrace | null;
  };
  span_delivery: { expected: number; received: number; spans_per_request: number };
  targets: {
    otel_vs_off_throughput: number;
    otel_at_least_65_percent_of_off: boolean;
    otel_10_vs_off_throughput: number;
    otel_10_at_least_90_percent_of_off: boolean;
    span_delivery_complete: boolean;
    p99_at_half_load_within_2x_p50: boolean;
    time_to_trace_p95_within_1s: boolean;
  };
}

function markdown(r: BenchResults, runs: Record<Run, unknown[]>): string {
  const rows = MODES.map((run) => {
    const x = r.runs[run];
    const cpu = x.cpu_seconds_per_1000_requests;
    return `| ${run} | ${x.rps} | ${x.p50_ms} | ${x.p90_ms} | ${x.p99_ms} | ${x.errors} of ${x.requests} | ${cpu.envoys ?? 0} | ${cpu.apps ?? 0} | ${cpu.backend ?? 0} | ${run === 'limit' ? '-' : x.apps_peak_rss_mib} |`;
  });
  const h = r.latency_at_half_otel_max;
  const t = r.time_to_trace;
  const ttt = (x: TimeToTrace | null) =>
    x === null
      ? 'not measured in this run'
      : `p50 ${x.p50_ms} ms, p95 ${x.p95_ms} ms, max ${x.max_ms} ms${x.incomplete ? `, ${x.incomplete} of ${x.samples} incomplete after ${x.give_up_after_ms / 1000} s` : ''}`;
  const yes = (ok: boolean) => (ok ? 'holds' : 'missed');
  return `# Benchmarks

Written by \`make bench\` ([scripts/bench.ts](../scripts/bench.ts)); the numbers are in
[bench/results/latest.json](../bench/results/latest.json). One run on one shared machine: compare the rows with each
other (ratios), not with other machines.

- Machine: ${r.machine}
- Date: ${r.date}
- Load: ${r.settings.load_generators.closed_loop} in its own process, ${r.settings.connections} connections, closed loop; ${r.settings.rounds} rounds of
  ${r.settings.seconds_per_run} s per run, the runs interleaved in every round (the otel runs together, every other round in reverse order; medians below); each run after a warm-up (1 s; ${WARM_UP_REQUESTS} requests in the otel runs), and ${AFTER_RECREATE_REQUESTS} requests after every start or recreate of the apps (fresh Node processes are slow until warm: [profiling.md](profiling.md)).
  The mesh runs in containers (\`docker compose up\`, CPU per container from its cgroup), all of it on this machine: the load generator competes with it for the CPUs.

| run | req/s | p50 ms | p90 ms | p99 ms | errors | CPU s / 1000 req, Envoys | apps | Zipkin | apps' peak RSS MiB |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

- **limit**: front-envoy alone, answering \`/healthz\` itself. **off**: the whole chain, sampling 0 % in every Envoy and
  the apps in \`off\` mode. **forward** and **otel**: the whole chain at 100 % sampling in those modes. **otel-10**
  and **otel-1**: otel with front-envoy sampling 10 % and 1 % of requests (the sidecars and the SDK follow its B3
  decision), as production meshes run.
- Latency at 50 % of otel's maximum: ${h.rate_rps} new requests per second for ${r.settings.half_load_seconds} s, at a constant
  arrival rate (${r.settings.load_generators.constant_rate}, [bench/constant-rate.k6.js](../bench/constant-rate.k6.js)):
  p50 ${h.p50_ms} ms, p90 ${h.p90_ms} ms, p99 ${h.p99_ms} ms, ${h.errors} errors. The same rate with tracing off (as in
  **off**): p50 ${h.tracing_off.p50_ms} ms, p90 ${h.tracing_off.p90_ms} ms, p99 ${h.tracing_off.p99_ms} ms, ${h.tracing_off.errors} errors.
- Span delivery in the otel runs: ${r.span_delivery.received} spans received by Zipkin of ${r.span_delivery.expected} expected
  (${SPANS_PER_REQUEST} per request front-envoy sampled, in the otel, otel-10 and otel-1 runs), counted by Zipkin's own \`zipkin_collector_spans_total\`
  after every Envoy and SDK flushed${
    r.span_delivery.received > r.span_delivery.expected
      ? `; ${r.span_delivery.received - r.span_delivery.expected} more than front-envoy's sampling counter accounts for ([profiling.md](profiling.md))`
      : ''
  }.

- Time to a complete trace, from the response to all ${SPANS_PER_REQUEST} spans readable in the store's API (what its UI
  reads), ${t.zipkin_idle.samples} requests one at a time: Zipkin idle ${ttt(t.zipkin_idle)}; Zipkin during the 50 % load run
  (${t.zipkin_at_half_load.samples} requests) ${ttt(t.zipkin_at_half_load)}; Jaeger idle ${ttt(t.jaeger_idle)}. Envoy posts its
  spans every ${envoyFlushIntervalMs()} ms (\`tracing.zipkin.flush_interval_ms\`, 5 s by default), the SDK on its own
  \`scheduledDelayMillis\` (services/src/tracing/span-batching.ts, held to no later than Envoy's by the consistency check).

- Startup of the README's \`docker compose up --build --wait\` until every container is healthy: ${
    r.startup === null
      ? 'not measured in this run'
      : `${r.startup.up_from_images_s} s from built images (after \`down\`), ${r.startup.up_running_s} s on the running mesh (medians of ${STARTUP_SAMPLES}: ${r.startup.samples.up_from_images_s.join(', ')} s and ${r.startup.samples.up_running_s.join(', ')} s); building the services image without layer cache takes ${r.startup.build_no_cache_s} s more`
  }. Most of it is Zipkin's start (its JVM): front-envoy waits for Zipkin to be healthy, the rest of the mesh starts beside it. Measured on this project's Podman, whose healthcheck scheduler probes a starting container every second ([engine.md](engine.md)); on Docker each container's first probe comes one healthcheck interval (5 s, docker-compose.yaml) after it starts, so there Zipkin and then front-envoy take at least 5 s each.

Why tracing costs what it costs, and what was tried: [profiling.md](profiling.md).

| target | result |
|---|---|
| otel (100 %) throughput ≥ 0.65 × off (median of the rounds' ratios) | ${r.targets.otel_vs_off_throughput} × : ${yes(r.targets.otel_at_least_65_percent_of_off)} |
| otel at 10 % sampling ≥ 0.9 × off (same) | ${r.targets.otel_10_vs_off_throughput} × : ${yes(r.targets.otel_10_at_least_90_percent_of_off)} |
| span delivery 100 % (every expected span arrived) | ${yes(r.targets.span_delivery_complete)} |
| p99 at 50 % load ≤ 2 × p50 | ${yes(r.targets.p99_at_half_load_within_2x_p50)} |
| time to a complete trace, p95 ≤ 1 s idle (Zipkin, Jaeger) | ${yes(r.targets.time_to_trace_p95_within_1s)} |
${runs.otel.length ? '' : '\n(no otel runs)'}`;
}

main().catch((error: unknown) => {
  // fetch's own message is only "fetch failed": the cause says which address refused and how.
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}${cause}`);
  process.exit(1);
});
