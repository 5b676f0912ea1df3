// Span delivery: what Zipkin counted as received, and how many requests front-envoy traced.
import { envoyFlushIntervalMs } from '../mesh/envoy-config.ts';

export async function zipkinSpansReceived(zipkin: string): Promise<number> {
  const text = await (await fetch(`${zipkin}/prometheus`)).text();
  return Number(/^zipkin_collector_spans_total\{transport="http",?\} (\S+)/m.exec(text)?.[1] ?? NaN);
}

/** Requests front-envoy's `front` listener sampled (every traced /trace/ request), from its admin API. */
export async function frontSampled(admin: string): Promise<number> {
  const text = await (await fetch(`${admin}/stats?filter=^http\\.front\\.tracing\\.random_sampling$`)).text();
  const count = Number(/: (\d+)/.exec(text)?.[1] ?? NaN);
  if (Number.isNaN(count))
    throw new Error(`front-envoy's admin API has no http.front.tracing.random_sampling: ${text}`);
  return count;
}

/** How long Zipkin's count must stand still to call it settled: a busy Zipkin decodes a big report for a while. */
export const SETTLED_QUIET_MS = 1500;

/**
 * Waits until every Envoy and every SDK flushed and Zipkin's count stopped moving for `quietMs` (and reached `target`,
 * if given).
 */
export async function settledSpanCount(
  zipkin: string,
  target = 0,
  quietMs = SETTLED_QUIET_MS,
): Promise<number> {
  // Without a target, nothing tells a count still to come from none: give every Envoy's buffer one flush first.
  if (target === 0) await new Promise((resolve) => setTimeout(resolve, envoyFlushIntervalMs() + 1000));
  let last = await zipkinSpansReceived(zipkin);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error('Zipkin kept receiving spans for 60 s after the load stopped');
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const now = await zipkinSpansReceived(zipkin);
    // Quiet is not enough while short of the target: a busy Zipkin may still be decoding a report (up to the
    // 30 s this waits for it).
    const shortOfTarget = now < target && Date.now() < deadline - 30_000;
    if (now === last && !shortOfTarget) return now;
    last = now;
  }
}
