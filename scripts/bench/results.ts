// bench/results/<engine>.json: what one benchmark measured, summarized per run, and the targets it holds or misses.
import type { TimeToTrace } from '../trace-check/time-to-trace.ts';
import { CPU_GROUPS, type CpuSeconds } from './cpu-accounting.ts';
import type { HalfLoad } from './half-load.ts';
import type { LoadResult } from './load-generators.ts';
import type { CollectorPath } from './collector-path.ts';
import type { RoundsOf, Rounds } from './rounds.ts';
import type { Startup } from './startup.ts';
import {
  COLLECTOR_RUNS,
  RUNS,
  SPANS_PER_REQUEST,
  type CollectorRun,
  type MeshRun,
  type Run,
} from './settings.ts';
import { median, round1, round3 } from './statistics.ts';

export interface RunSummary {
  rps: number;
  /** In round order: the rounds' spread shows how much this shared machine drifted during the benchmark. */
  rps_per_round: number[];
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  errors: number;
  requests: number;
  /** The whole machine, by group, net of each group's idle use (cpu-accounting.ts). */
  cpu_seconds_per_1000_requests: CpuSeconds;
  apps_peak_rss_mib: number;
}

interface Latency {
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  errors: number;
  requests: number;
}

export interface Target {
  target: string;
  measured: string;
  holds: boolean;
}

/** CPU per request of the mesh and the machine around it: everything but the store and the load generator. */
export const meshCpuMsPerRequest = (summary: RunSummary) =>
  round3(
    CPU_GROUPS.filter((g) => g !== 'store' && g !== 'load_generator').reduce(
      (sum, g) => sum + summary.cpu_seconds_per_1000_requests[g],
      0,
    ),
  );

export interface BenchSettings {
  rounds: number;
  seconds_per_run: number;
  connections: number;
  load_generators: { closed_loop: string; constant_rate: string };
  half_load_seconds: number;
}

export interface BenchResults {
  machine: string;
  /** The container engine, as its API names itself: "Podman Engine 4.3.1", "Docker Engine 20.10.24+dfsg1". */
  engine: string;
  date: string;
  settings: BenchSettings;
  /** CPU seconds per second each group used while the mesh served nothing (healthchecks, timers, the engine). */
  idle_cpu_seconds_per_second: CpuSeconds;
  runs: Record<Run, RunSummary>;
  latency_at_half_otel_max: Latency & { rate_rps: number; tracing_off: Latency };
  startup: Startup | null;
  time_to_trace: {
    zipkin_idle: TimeToTrace;
    zipkin_at_half_load: TimeToTrace;
    jaeger_idle: TimeToTrace | null;
  };
  span_delivery: { expected: number; received: number; spans_per_request: number };
  /** Each run's throughput against off's: the median of the rounds' ratios (see vsOff). */
  throughput_vs_off: Record<Run, number>;
  /** The production path, through the OpenTelemetry Collector (collector-path.ts); null in the smoke run. */
  collector_path: {
    idle_cpu_seconds_per_second: CpuSeconds;
    runs: Record<CollectorRun, RunSummary>;
    /** Against the direct path's otel run at the same sampling: medians of the rounds, from different minutes. */
    throughput_vs_direct: Record<CollectorRun, number>;
    time_to_trace_idle: TimeToTrace;
    span_delivery: { expected: number; received: number };
  } | null;
  targets: Target[];
}

/** Every run's rounds summarized: medians of the rounds, errors and requests summed. */
function summarize<R extends MeshRun>(rounds: RoundsOf<R>, runs: readonly R[]): Record<R, RunSummary> {
  return Object.fromEntries(
    runs.map((run) => {
      const all = rounds.runs[run];
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
            CPU_GROUPS.map((g) => [g, round3(median(all.map((r) => r.cpuPer1k[g])))]),
          ) as CpuSeconds,
          apps_peak_rss_mib: round1(Math.max(...all.map((r) => r.peakRssMiB))),
        },
      ];
    }),
  ) as Record<R, RunSummary>;
}

const idleOf = (rounds: { idlePerSecond: CpuSeconds }) =>
  Object.fromEntries(CPU_GROUPS.map((g) => [g, round3(rounds.idlePerSecond[g])])) as CpuSeconds;

const latency = (result: LoadResult): Latency => ({
  p50_ms: result.p50,
  p90_ms: result.p90,
  p99_ms: result.p99,
  errors: result.errors,
  requests: result.requests,
});

export function benchResults(measured: {
  machine: string;
  engine: string;
  settings: BenchSettings;
  rounds: Rounds;
  halfLoad: HalfLoad;
  startup: Startup | null;
  jaegerIdle: TimeToTrace | null;
  collectorPath: CollectorPath | null;
}): BenchResults {
  const { rounds, halfLoad, jaegerIdle, collectorPath } = measured;
  /**
   * A run's throughput against off's, paired by round (the runs of one round are seconds apart) and the median
   * taken of those ratios: this shared machine's speed drifted by a third between rounds of one benchmark, and a
   * ratio of medians from different rounds then measured the drift.
   */
  const vsOff = (run: Run) =>
    round3(median(rounds.runs[run].map((result, i) => result.rps / (rounds.runs.off[i]?.rps ?? Number.NaN))));
  const half = halfLoad.otel;
  const zipkinIdle = halfLoad.timeToTraceIdle;
  const runs = summarize(rounds, RUNS);
  const collector = collectorPath === null ? null : summarize(collectorPath, COLLECTOR_RUNS);
  const direct: Record<CollectorRun, Run> = { collector: 'otel', 'collector-10': 'otel-10' };
  return {
    machine: measured.machine,
    engine: measured.engine,
    date: new Date().toISOString(),
    settings: measured.settings,
    idle_cpu_seconds_per_second: idleOf(rounds),
    runs,
    latency_at_half_otel_max: {
      rate_rps: halfLoad.rate,
      ...latency(half),
      tracing_off: latency(halfLoad.off),
    },
    startup: measured.startup,
    time_to_trace: {
      zipkin_idle: zipkinIdle,
      zipkin_at_half_load: halfLoad.timeToTraceAtHalfLoad,
      jaeger_idle: jaegerIdle,
    },
    span_delivery: {
      expected: rounds.spansExpected,
      received: rounds.spansReceived,
      spans_per_request: SPANS_PER_REQUEST,
    },
    throughput_vs_off: Object.fromEntries(RUNS.map((run) => [run, vsOff(run)])) as Record<Run, number>,
    collector_path:
      collectorPath === null || collector === null
        ? null
        : {
            idle_cpu_seconds_per_second: idleOf(collectorPath),
            runs: collector,
            throughput_vs_direct: Object.fromEntries(
              COLLECTOR_RUNS.map((run) => [run, round3(collector[run].rps / runs[direct[run]].rps)]),
            ) as Record<CollectorRun, number>,
            time_to_trace_idle: collectorPath.timeToTraceIdle,
            span_delivery: { expected: collectorPath.spansExpected, received: collectorPath.spansReceived },
          },
    targets: targets({ runs, vsOff, halfLoad, delivery: rounds, zipkinIdle, jaegerIdle, collectorPath }),
  };
}

/** The targets issue 21 set, each with what this run measured; the report prints them as held or missed. */
function targets(m: {
  runs: Record<Run, RunSummary>;
  vsOff: (run: Run) => number;
  halfLoad: HalfLoad;
  delivery: { spansExpected: number; spansReceived: number };
  zipkinIdle: TimeToTrace;
  jaegerIdle: TimeToTrace | null;
  collectorPath: CollectorPath | null;
}): Target[] {
  const throughput = (run: Run, percent: number, atLeast: number): Target => ({
    target: `otel at ${percent} % vs off, throughput ≥ ${atLeast} ×`,
    measured: `${m.vsOff(run)} ×`,
    holds: m.vsOff(run) >= atLeast,
  });
  const meshCpu = round3(meshCpuMsPerRequest(m.runs['otel-10']) / meshCpuMsPerRequest(m.runs.off));
  const half = m.halfLoad.otel;
  const offP99 = m.halfLoad.off.p99;
  // Every time to a complete trace measured idle, and every span delivery, by where the spans went.
  const idle: [string, TimeToTrace][] = [['Zipkin', m.zipkinIdle]];
  if (m.jaegerIdle !== null) idle.push(['Jaeger', m.jaegerIdle]);
  const deliveries: [string, { spansExpected: number; spansReceived: number }][] = [['direct', m.delivery]];
  if (m.collectorPath !== null) {
    idle.push(['Zipkin through the collector', m.collectorPath.timeToTraceIdle]);
    deliveries.push(['through the collector', m.collectorPath]);
  }
  return [
    throughput('otel-1', 1, 0.95),
    throughput('otel-10', 10, 0.9),
    throughput('otel', 100, 0.65),
    {
      target:
        'CPU per request of the whole machine but the store and the load generator, otel at 10 % vs off ≤ 1.1 ×',
      measured: `${meshCpu} × (${meshCpuMsPerRequest(m.runs['otel-10'])} vs ${meshCpuMsPerRequest(m.runs.off)} ms)`,
      holds: meshCpu <= 1.1,
    },
    {
      target: "half load, otel p99 ≤ 3 × its p50 and ≤ 2 × off's p99",
      measured: `p99 ${half.p99} ms, p50 ${half.p50} ms, off's p99 ${offP99} ms`,
      holds: half.p99 <= 3 * half.p50 && half.p99 <= 2 * offP99,
    },
    {
      // A surplus is not a loss: requests a client abandons are traced but not in the sampling counter (profiling.md).
      target: 'span delivery: every expected span of every otel run',
      measured: deliveries.map(([path, d]) => `${path} ${d.spansReceived} of ${d.spansExpected}`).join('; '),
      holds: deliveries.every(([, d]) => d.spansReceived >= d.spansExpected),
    },
    {
      target: `time to a complete trace, p95 ≤ 1 s idle (${idle.map(([store]) => store).join(', ')})`,
      measured: idle
        .map(([store, t]) => `${store} p95 ${t.p95_ms} ms, ${t.incomplete} incomplete`)
        .join('; '),
      holds: idle.every(([, t]) => t.incomplete === 0 && t.p95_ms <= 1000),
    },
  ];
}
