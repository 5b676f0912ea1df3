// The measured rounds: every run of RUNS in each round, interleaved, with the CPU each group used per request (the
// whole machine, net of what each group uses at idle: cpu-accounting.ts) and, in the otel runs, whether every span of
// every sampled request reached Zipkin.
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
  WARM_UP_REQUESTS,
  type Run,
} from './settings.ts';

export type RunResult = LoadResult & { cpuPer1k: CpuSeconds; peakRssMiB: number };

export interface Rounds {
  /** What each group used per second at idle, before the rounds (taken off every run's figures). */
  idlePerSecond: CpuSeconds;
  /** Each run's result in every round, in round order. */
  runs: Record<Run, RunResult[]>;
  spansExpected: number;
  spansReceived: number;
}

export async function measureRounds(bench: BenchMesh): Promise<Rounds> {
  const idlePerSecond = await idleCpuPerSecond(bench.pids(), IDLE_SECONDS);
  const runs = Object.fromEntries(RUNS.map((run) => [run, []])) as unknown as Record<Run, RunResult[]>;
  let spansExpected = 0;
  let spansReceived = 0;
  /** Zipkin's settled count after the last otel run, while no other run has sent spans since (null then). */
  let settledAfterLastRun: number | null = null;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const run of runOrder(round)) {
      await bench.enter(run);
      const url = bench.urlFor(run);
      // Span delivery is counted from before the warm-up (same mode, so its traces count too): a baseline taken
      // after it missed warm-up spans that reached a busy Zipkin late, and counted them as surplus (CI).
      const spansBefore = isOtel(run) ? (settledAfterLastRun ?? (await settledSpanCount(bench.zipkin))) : 0;
      settledAfterLastRun = null;
      const sampledBefore = isOtel(run) ? await frontSampled(bench.frontAdmin) : 0;
      // Warm-up, not measured. In otel runs bounded by a request count, like the measured load: a run bounded by
      // time ends with a request in flight on every connection, which the mesh completes and traces (19 spans)
      // but front-envoy's sampling counter never counts, since nobody is left to answer (docs/profiling.md).
      await load(url, 1, CONNECTIONS, isOtel(run) ? ['-a', String(WARM_UP_REQUESTS)] : []);
      const pids = bench.pids();
      const cpuBefore = readCpu(pids);
      const result = await load(
        url,
        SECONDS,
        CONNECTIONS,
        isOtel(run) ? ['-a', String(OTEL_REQUESTS_PER_ROUND)] : [],
      );
      const cpuPer1k = cpuPer1000Requests(
        cpuBetween(cpuBefore, readCpu(pids)),
        idlePerSecond,
        result.requests,
      );
      const peak = Math.max(...pids.apps.map((pid) => peakRssMiB(pid)));
      runs[run].push({ ...result, cpuPer1k, peakRssMiB: peak });
      if (isOtel(run)) {
        // Expected: every request front-envoy sampled (both loads of the run are bounded by a request count, so
        // each was answered, and counted); received: Zipkin's count once it settled at or beyond that.
        const expected = ((await frontSampled(bench.frontAdmin)) - sampledBefore) * SPANS_PER_REQUEST;
        settledAfterLastRun = await settledSpanCount(bench.zipkin, spansBefore + expected);
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
  return { idlePerSecond, runs, spansExpected, spansReceived };
}
