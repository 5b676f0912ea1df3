// What the benchmark runs and for how long: the runs, their order, and every size, in one place. BENCH_SMOKE=1 (the
// smoke run in `make test`) shrinks every size so the whole script runs in about a minute.
import path from 'node:path';
import { countSpans, loadExpectedTraces } from '../trace-check/trace-tree.ts';
import { REPO_ROOT } from '../repo.ts';
import { SETTLED_QUIET_MS } from './span-counts.ts';

export const SMOKE = process.env.BENCH_SMOKE === '1';
export const ROUNDS = SMOKE ? 1 : 3;
export const SECONDS = SMOKE ? 1 : 10;
export const CONNECTIONS = SMOKE ? 2 : 16;
/** Long enough for a p99 that rests on more than a handful of requests (30 s × ~150 req/s: ~45 above it). */
export const HALF_LOAD_SECONDS = SMOKE ? 2 : 30;
/** otel runs send a fixed number of requests (autocannon then waits for every answer), so spans can be counted. */
export const OTEL_REQUESTS_PER_ROUND = SMOKE ? 40 : 3400;
/** The otel runs' warm-up: about a second of load at the rates measured here. */
export const WARM_UP_REQUESTS = SMOKE ? 20 : 200;
/**
 * Requests sent to apps that were just started or recreated (another TRACING_MODE), before anything is measured on
 * them. Fresh Node processes are slow until the JIT has compiled the request path: measured on recreated otel apps
 * at 100 req/s after 1 s of warm-up, p50 53 ms, p99 858 ms and 24 requests dropped; warm, p50 17-20 ms and none.
 * The smoke run's half-load run asserts that none is dropped, right after a recreate: 20 requests were too few for
 * that once (a fresh clone's CI run), once they no longer took a whole second (load-generators.ts).
 */
export const AFTER_RECREATE_REQUESTS = SMOKE ? 200 : 2000;
/**
 * How long Zipkin's span count must stand still before an otel run's delivery is read. The smoke run's few hundred
 * spans are decoded in milliseconds, and the count must still reach what front-envoy sampled (span-counts.ts); a
 * baseline without such a target waits the full SETTLED_QUIET_MS (rounds.ts).
 */
export const SPANS_QUIET_MS = SMOKE ? 500 : SETTLED_QUIET_MS;
/** Requests per time-to-trace measurement, one at a time; the smoke run skips the Jaeger one (a second mesh). */
export const TIME_TO_TRACE_SAMPLES = SMOKE ? 2 : 20;
export const TIME_TO_TRACE_GAP_MS = 300;
/** How long the idle mesh is watched for each group's fixed CPU per second (healthchecks, timers, the engine). */
export const IDLE_SECONDS = SMOKE ? 2 : 20;
/** Startups measured per benchmark, each after `down`; the figures are their medians. */
export const STARTUP_SAMPLES = 3;

export const OUT_DIR = SMOKE
  ? path.join(REPO_ROOT, '.run', 'bench-smoke')
  : path.join(REPO_ROOT, 'bench', 'results');
export const DOC = SMOKE
  ? path.join(OUT_DIR, 'benchmarks.md')
  : path.join(REPO_ROOT, 'docs', 'benchmarks.md');

/** Every run of a round, in the order the report lists them. */
export const RUNS = ['limit', 'off', 'forward', 'otel', 'otel-10', 'otel-1'] as const;
export type Run = (typeof RUNS)[number];

/**
 * The order of the runs in a round: the otel runs together, and every other round reversed, so that each round
 * starts in the apps' mode the one before ended in. Every change of the apps' mode recreates three containers (the
 * smoke run in `make test` pays for each too); the ratios to off are paired by round whatever the order.
 */
const RUN_ORDER: readonly Run[] = ['limit', 'otel', 'otel-10', 'otel-1', 'forward', 'off'];
export const runOrder = (round: number) => (round % 2 === 1 ? RUN_ORDER : [...RUN_ORDER].reverse());

/**
 * The production path's runs (docker-compose.collector.yaml): otel at 100 % and 10 %, every span through the
 * OpenTelemetry Collector. Measured on their own mesh before the direct rounds, round after round, in the same way.
 */
export const COLLECTOR_RUNS = ['collector', 'collector-10'] as const;
export type CollectorRun = (typeof COLLECTOR_RUNS)[number];
export type MeshRun = Run | CollectorRun;

/** The otel runs and the share of requests front-envoy samples in each: the edge decides, the rest follow B3. */
export const OTEL_SAMPLING: Partial<Record<MeshRun, number>> = {
  otel: 100,
  'otel-10': 10,
  'otel-1': 1,
  collector: 100,
  'collector-10': 10,
};
export const isOtel = (run: MeshRun) => OTEL_SAMPLING[run] !== undefined;

export const SPANS_PER_REQUEST = countSpans([loadExpectedTraces().otel.tree]);
