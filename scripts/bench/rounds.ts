// The measured rounds: every run in each round, interleaved, with the CPU each group used per request (the whole
// machine, net of what each group uses at idle: cpu-accounting.ts) and, in the otel runs, whether every span of
// every sampled request reached Zipkin. The direct path's runs, and the collector path's in the same way.
import { load, type LoadResult } from './load-generators.ts';
import {
  cpuBetween,
  cpuPer1000Requests,
  idleCpuPerSecond,
  readCpu,
  type CpuSeconds,
} from './cpu-accounting.ts';
import { peakRssMiB } from './machine.ts';
import { frontSampled, settledSpanCount } from './span-counts.ts';
import type { BenchMesh } from './bench-mesh.ts';
import {
  CONNECTIONS,
  IDLE_SECONDS,
  isOtel,
  OTEL_REQUESTS_PER_ROUND,
  ROUNDS,
  runOrder,
  RUNS,
  SECONDS,
  SPANS_PER_REQUEST,
  SPANS_QUIET_MS,
  WARM_UP_REQUESTS,
  type MeshRun,
  type Run,
} from './settings.ts';

export type RunResult = LoadResult & { cpuPer1k: CpuSeconds; peakRssMiB: number };

export interface RoundsOf<R extends MeshRun> {
  /** What each group used per second at idle, before the rounds (taken off every run's figures). */
  idlePerSecond: CpuSeconds;
  /** Each run's result in every round, in round order. */
  runs: Record<R, RunResult[]>;
  spansExpected: number;
  spansReceived: number;
}
export type Rounds = RoundsOf<Run>;

/** What one otel run delivered: spans expected and received, and Zipkin's settled count after it. */
export interface Delivery {
  expected: number;
  received: number;
  settled: number;
}

/**
 * One run: the mesh put in the run's mode, a warm-up, the measured load, the CPU each group used per request and, in
 * otel runs, whether every span of every sampled request reached Zipkin. `settledBefore` is Zipkin's settled count
 * after the previous run when no other run has sent spans since (null: count it now).
 */
export async function measureRun(
  bench: BenchMesh,
  run: MeshRun,
  idlePerSecond: CpuSeconds,
  settledBefore: number | null,
  label: string,
): Promise<{ result: RunResult; delivery: Delivery | null }> {
  await bench.enter(run);
  const url = bench.urlFor(run);
  // Span delivery is counted from before the warm-up (same mode, so its traces count too): a baseline taken
  // after it missed warm-up spans that reached a busy Zipkin late, and counted them as surplus (CI). A baseline
  // with no target to reach waits the full quiet time, also in the smoke run: once, right after a start, the
  // smoke's first otel run counted 3,322 spans received of 1,140 expected (not seen again in two tries; most likely
  // the start's warm-up still reaching a cold Zipkin after a 500 ms pause). A surplus like that hides a loss.
  const spansBefore = isOtel(run) ? (settledBefore ?? (await settledSpanCount(bench.zipkin))) : 0;
  const sampledBefore = isOtel(run) ? await frontSampled(bench.frontAdmin) : 0;
  // Warm-up, not measured. In otel runs bounded by a request count, like the measured load: a run bounded by
  // time ends with a request in flight on every connection, which the mesh completes and traces (19 spans)
  // but front-envoy's sampling counter never counts, since nobody is left to answer (docs/profiling.md).
  await load(url, 1, CONNECTIONS, isOtel(run) ? WARM_UP_REQUESTS : undefined);
  const pids = bench.pids();
  const cpuBefore = readCpu(pids);
  const loaded = await load(url, SECONDS, CONNECTIONS, isOtel(run) ? OTEL_REQUESTS_PER_ROUND : undefined);
  const cpuPer1k = cpuPer1000Requests(cpuBetween(cpuBefore, readCpu(pids)), idlePerSecond, loaded.requests);
  const result = { ...loaded, cpuPer1k, peakRssMiB: Math.max(...pids.apps.map((pid) => peakRssMiB(pid))) };
  let delivery: Delivery | null = null;
  if (isOtel(run)) {
    // Expected: every request front-envoy sampled (both loads of the run are bounded by a request count, so
    // each was answered, and counted); received: Zipkin's count once it settled at or beyond that.
    const expected = ((await frontSampled(bench.frontAdmin)) - sampledBefore) * SPANS_PER_REQUEST;
    const settled = await settledSpanCount(bench.zipkin, spansBefore + expected, SPANS_QUIET_MS);
    delivery = { expected, received: settled - spansBefore, settled };
    console.log(`${label} ${run}: ${delivery.received} spans received of ${expected} expected`);
  }
  console.log(
    `${label} ${run.padEnd(12)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  errors ${result.errors}`,
  );
  return { result, delivery };
}

/** Every run of `runs` in each round, in the order `orderOf(round)` gives; the otel runs' delivery summed. */
export async function measureRoundsOf<R extends MeshRun>(
  bench: BenchMesh,
  runs: readonly R[],
  orderOf: (round: number) => readonly R[],
): Promise<RoundsOf<R>> {
  const idlePerSecond = await idleCpuPerSecond(bench.pids(), IDLE_SECONDS);
  const results = Object.fromEntries(runs.map((run) => [run, []])) as unknown as Record<R, RunResult[]>;
  let spansExpected = 0;
  let spansReceived = 0;
  let settled: number | null = null;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const run of orderOf(round)) {
      const { result, delivery } = await measureRun(bench, run, idlePerSecond, settled, `round ${round}`);
      results[run].push(result);
      settled = delivery?.settled ?? null;
      spansExpected += delivery?.expected ?? 0;
      spansReceived += delivery?.received ?? 0;
    }
  }
  return { idlePerSecond, runs: results, spansExpected, spansReceived };
}

/** The direct path's rounds: every run of RUNS, interleaved (settings.ts has the order). */
export function measureRounds(bench: BenchMesh): Promise<Rounds> {
  return measureRoundsOf(bench, RUNS, runOrder);
}
