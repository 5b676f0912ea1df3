// The fair p99: otel at half its measured maximum, at a constant arrival rate (k6); then the same rate with tracing
// off, to tell how much of the tail is tracing's and how much this shared machine's. Time to a complete trace is
// measured beside it: idle first, then while the half-load run goes on.
import { traceStore } from '../trace-check/trace-store.ts';
import { measureTimeToTrace, type TimeToTrace } from '../trace-check/time-to-trace.ts';
import { constantRate, load, type LoadResult } from './load-generators.ts';
import type { BenchMesh } from './bench-mesh.ts';
import {
  CONNECTIONS,
  HALF_LOAD_SECONDS,
  SPANS_PER_REQUEST,
  TIME_TO_TRACE_GAP_MS,
  TIME_TO_TRACE_SAMPLES,
  type Run,
} from './settings.ts';

export interface HalfLoad {
  rate: number;
  otel: LoadResult;
  off: LoadResult;
  timeToTraceIdle: TimeToTrace;
  timeToTraceAtHalfLoad: TimeToTrace;
}

/** A constant-rate run in a mode, after the same unmeasured warm-up every run gets. */
async function atConstantRate(bench: BenchMesh, run: Run, rate: number): Promise<LoadResult> {
  await bench.enter(run);
  await load(`${bench.front}/trace/1`, 1, CONNECTIONS);
  return constantRate(`${bench.front}/trace/1`, rate, HALF_LOAD_SECONDS, CONNECTIONS * 4);
}

function timeToTrace(bench: BenchMesh, samples: number): Promise<TimeToTrace> {
  return measureTimeToTrace({
    url: `${bench.front}/trace/1`,
    store: traceStore('zipkin', bench.zipkin),
    spansPerTrace: SPANS_PER_REQUEST,
    samples,
    gapMs: TIME_TO_TRACE_GAP_MS,
  });
}

/** Time to a complete trace, idle first, then the half-load run while more of it is measured. */
async function otelAtHalfLoad(bench: BenchMesh, rate: number) {
  await bench.enter('otel');
  const idle = await timeToTrace(bench, TIME_TO_TRACE_SAMPLES);
  // The probes start after the load's warm-up and add about one request a second to it.
  const [otel, atLoad] = await Promise.all([
    atConstantRate(bench, 'otel', rate),
    new Promise((resolve) => setTimeout(resolve, 2000)).then(() =>
      timeToTrace(bench, Math.min(TIME_TO_TRACE_SAMPLES, Math.max(1, HALF_LOAD_SECONDS - 6))),
    ),
  ]);
  return { otel, idle, atLoad };
}

export async function measureHalfLoad(bench: BenchMesh, rate: number): Promise<HalfLoad> {
  // Whichever mode the rounds ended in goes first: one recreate of the apps fewer.
  let off: LoadResult;
  let otel: Awaited<ReturnType<typeof otelAtHalfLoad>>;
  if (bench.tracingMode === 'off') {
    off = await atConstantRate(bench, 'off', rate);
    otel = await otelAtHalfLoad(bench, rate);
  } else {
    otel = await otelAtHalfLoad(bench, rate);
    off = await atConstantRate(bench, 'off', rate);
  }
  console.log(
    `latency at 50 % of otel's maximum (${rate} req/s): p50 ${otel.otel.p50} ms, p99 ${otel.otel.p99} ms; tracing off: p50 ${off.p50} ms, p99 ${off.p99} ms`,
  );
  return { rate, otel: otel.otel, off, timeToTraceIdle: otel.idle, timeToTraceAtHalfLoad: otel.atLoad };
}
