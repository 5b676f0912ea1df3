// What the reliability scenarios share: steady traffic counted in requests, "recovered" meaning a fresh request
// traces completely, and, when it does not, where each Envoy is sending its spans.
import assert from 'node:assert/strict';
import { formatReport, verifyTrace, type VerifyResult } from '../../trace-check/verifier.ts';
import { countSpans, loadExpectedTraces } from '../../trace-check/trace-tree.ts';
import { collectorMetrics } from '../e2e/mesh-counters.ts';
import { afterEnvoyFlush, waitForCount, type MeshUnderTest } from '../e2e/support.ts';
import { TRACE_STORE_SERVICE } from '../../repo.ts';

/**
 * User requests to /trace/1 at a steady rate, one at a time. Counted, not timed: a slow machine makes a scenario
 * longer, never red. A request that fails (a status other than 200, or no answer in 10 s) is recorded, not thrown.
 */
export class SteadyTraffic {
  sent = 0;
  readonly failures: string[] = [];
  readonly durationsMs: number[] = [];
  /** The trace id of every request answered 200, in order (front-envoy's x-b3-traceid). */
  readonly traceIds: string[] = [];
  /** When each of those requests was sent (ms since the epoch), in the same order. */
  readonly sentAt: number[] = [];

  constructor(
    private readonly under: MeshUnderTest,
    private readonly perSecond: number,
    /** Runs after each request (e.g. to sample the apps' memory). */
    private readonly afterEach: () => void = () => undefined,
  ) {}

  async send(requests: number): Promise<void> {
    for (let n = 0; n < requests; n += 1) {
      const tick = Date.now();
      try {
        const response = await fetch(`${this.under.front}/trace/1`, { signal: AbortSignal.timeout(10_000) });
        if (response.status !== 200) this.failures.push(`${response.status} ${await response.text()}`);
        else {
          await response.arrayBuffer();
          this.traceIds.push(response.headers.get('x-b3-traceid') ?? '');
          this.sentAt.push(tick);
        }
      } catch (error) {
        this.failures.push(String(error));
      }
      this.sent += 1;
      this.durationsMs.push(Date.now() - tick);
      this.afterEach();
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, 1000 / this.perSecond - (Date.now() - tick))),
      );
    }
  }

  /** p50, p95 and the slowest request, for the log (a figure for docs/reliability.md, never an assertion). */
  latency(): string {
    const sorted = this.durationsMs.toSorted((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
    return `request ms p50 ${at(0.5)} p95 ${at(0.95)} max ${sorted.at(-1)}`;
  }
}

export interface Recovery {
  result: VerifyResult;
  /** Which fresh request (1-based) traced completely; the last one tried when none did. */
  request: number;
}

/**
 * Sends fresh requests, one after another, until one traces completely or `requests` were tried. Each trace is
 * awaited `waitMs`: a span that a working Envoy sends arrives within one flush interval, so a much longer wait only
 * hides a stuck one. A counted number of requests, not a timed window: a slow machine makes the test longer, never
 * red.
 */
export async function firstCompleteTrace(
  under: MeshUnderTest,
  { requests, waitMs }: { requests: number; waitMs: number },
): Promise<Recovery> {
  let request = 0;
  for (;;) {
    request += 1;
    const result = await verifyTrace({
      url: `${under.front}/trace/1`,
      store: under.store,
      timeoutMs: waitMs,
    });
    if (result.ok || request >= requests) return { result, request };
  }
}

/** For the scenario's log line: which fresh request was the first complete one. */
export function describeRecovery(recovery: Recovery): string {
  return recovery.result.ok
    ? `complete at request ${recovery.request}`
    : `INCOMPLETE after ${recovery.request} requests`;
}

/** Fails with the verifier's report and, beside it, where each Envoy is posting its spans. */
export async function assertRecovered(under: MeshUnderTest, recovery: Recovery): Promise<void> {
  if (recovery.result.ok) return;
  assert.fail(`${formatReport(recovery.result)}\ncollector addresses: ${await collectorAddresses(under)}`);
}

/**
 * Where each Envoy's `zipkin` cluster points, beside Zipkin's address now, read from each Envoy's admin
 * `/clusters` inside its container: an Envoy on a stale address drops every report it makes.
 */
export async function collectorAddresses(under: MeshUnderTest): Promise<string> {
  const { mesh } = under;
  const lines = [`the trace store (zipkin) is at ${mesh.ip(TRACE_STORE_SERVICE)}`];
  for (const envoy of mesh.envoys) {
    const clusters = await mesh.httpFrom(envoy, `http://127.0.0.1:${mesh.envoyAdminPort(envoy)}/clusters`);
    const host =
      /^zipkin::([0-9.]+:\d+)::cx_total/m.exec(clusters.body)?.[1] ?? `? (admin answered ${clusters.status})`;
    lines.push(`${envoy} sends spans to ${host}`);
  }
  return lines.join('; ');
}

/** Waits until the collector's queue holds exactly `spans` spans (or `timeoutMs` passed); returns what it holds. */
export async function collectorQueueHolds(
  under: MeshUnderTest,
  spans: number,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const queued = (await collectorMetrics(under.mesh))('otelcol_exporter_queue_size');
    if (queued === spans || Date.now() > deadline) return queued;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Every span sent before this call reached Zipkin: the Envoys flushed, the collector's queue is empty. */
export async function allDeliveredThroughCollector(under: MeshUnderTest, lastTraceId: string): Promise<void> {
  await afterEnvoyFlush();
  await waitForCount(under.store, lastTraceId, countSpans([loadExpectedTraces().otel.tree]));
  assert.equal(await collectorQueueHolds(under, 0), 0, "the collector's queue emptied");
}
