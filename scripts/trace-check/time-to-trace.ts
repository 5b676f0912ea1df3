// Time to a complete trace: what a user waits between `curl` answering and the whole trace being readable in the
// store (Zipkin's or Jaeger's API, which is what their UIs read). Measured by the benchmark, never asserted by a test.
import { performance } from 'node:perf_hooks';
import type { TraceStore } from './trace-store.ts';

export interface TimeToTraceOptions {
  /** The traced URL, e.g. http://127.0.0.1:8000/trace/1; it must answer the JSON form with `traceId`. */
  url: string;
  store: TraceStore;
  /** How many spans make the trace complete (expected-traces.yaml). */
  spansPerTrace: number;
  samples: number;
  /** Quiet time after each complete trace before the next request, so each sample starts idle. */
  gapMs: number;
  /** A trace not complete after this long counts as incomplete (and is left out of the percentiles). */
  giveUpAfterMs?: number;
}

export interface TimeToTrace {
  samples: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  incomplete: number;
  /** How long a trace had to become complete before it counted as incomplete. */
  give_up_after_ms: number;
}

const POLL_MS = 20;

/** The nearest-rank percentile of sorted values (0 when there are none). */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/** Sends `samples` requests one after another; for each, the time from its answer to its complete trace. */
export async function measureTimeToTrace(options: TimeToTraceOptions): Promise<TimeToTrace> {
  const giveUpAfterMs = options.giveUpAfterMs ?? 15_000;
  const times: number[] = [];
  let incomplete = 0;
  for (let n = 0; n < options.samples; n += 1) {
    const response = await fetch(options.url, { headers: { accept: 'application/json' } });
    const { traceId } = (await response.json()) as { traceId?: string };
    const answeredAt = performance.now();
    if (response.status !== 200 || !traceId) {
      throw new Error(`${options.url} answered ${response.status} without a trace id`);
    }
    for (;;) {
      const elapsed = performance.now() - answeredAt;
      if ((await options.store.trace(traceId)).length >= options.spansPerTrace) {
        times.push(performance.now() - answeredAt);
        break;
      }
      if (elapsed > giveUpAfterMs) {
        incomplete += 1;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    await new Promise((resolve) => setTimeout(resolve, options.gapMs));
  }
  const sorted = times.toSorted((a, b) => a - b).map((ms) => Math.round(ms));
  return {
    samples: options.samples,
    p50_ms: percentile(sorted, 50),
    p95_ms: percentile(sorted, 95),
    max_ms: sorted.at(-1) ?? 0,
    incomplete,
    give_up_after_ms: giveUpAfterMs,
  };
}
