// The production path (docker-compose.collector.yaml) under steady traffic while the trace store goes away: Zipkin
// killed for 600 requests at 10 a second (a minute or more), then started again, empty. Every span of every request
// answered from the kill on must reach the new Zipkin, counted exactly by Zipkin itself (its received-spans counter
// starts at 0 with the new process): the expected tree's spans for each request, none lost and none twice. The count, not the traces read back:
// Zipkin's in-memory store keeps the newest 10 000 spans (MEM_MAX_SPANS), fewer than 600 requests make; the newest
// traces, which it does hold, are read back whole. What the direct path does in the same outage:
// backend-outage.test.ts (requests survive, their spans do not). Counted in requests, not timed.
// `make test-reliability`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { settledSpanCount } from '../../bench/span-counts.ts';
import { countSpans, loadExpectedTraces } from '../../trace-check/trace-tree.ts';
import { meshFor, waitForCount } from '../e2e/support.ts';
import { allDeliveredThroughCollector, SteadyTraffic } from './support.ts';
import { TRACE_STORE_SERVICE } from '../../repo.ts';

const OUTAGE_REQUESTS = 600;
const REQUESTS_PER_SECOND = 10;
const SPANS_PER_REQUEST = countSpans([loadExpectedTraces().otel.tree]);
/** Traces read back whole at the end: the newest, well within what Zipkin's in-memory store keeps. */
const READ_BACK = 100;

describe('through the collector, the trace store stops for 600 requests of steady traffic', () => {
  const under = meshFor('collector', 'otel');

  it('loses no span: Zipkin receives every span of every request answered from the kill on, once', async () => {
    const traffic = new SteadyTraffic(under, REQUESTS_PER_SECOND);
    await traffic.send(20);
    // Everything before the kill delivered first (the queue on disk may hold an earlier run's spans), so that the
    // new Zipkin counts only the requests counted here.
    await allDeliveredThroughCollector(under, traffic.traceIds.at(-1) ?? '');
    const killedAt = Date.now();
    await under.mesh.kill(TRACE_STORE_SERVICE, 'SIGKILL');
    const firstCounted = traffic.traceIds.length;
    await traffic.send(OUTAGE_REQUESTS);
    const restartedAt = Date.now();
    await Promise.all([under.mesh.restart(TRACE_STORE_SERVICE), traffic.send(20)]);
    const backAt = Date.now();
    await traffic.send(20);

    const counted = traffic.traceIds.slice(firstCounted);
    const expected = counted.length * SPANS_PER_REQUEST;
    const received = await settledSpanCount(under.storeUrl, expected);
    console.log(
      `collector outage: ${traffic.sent} requests at ${REQUESTS_PER_SECOND}/s, ${traffic.failures.length} failed; ` +
        `zipkin down ${((restartedAt - killedAt) / 1000).toFixed(1)} s, healthy again after ${((backAt - restartedAt) / 1000).toFixed(1)} s; ` +
        `the new Zipkin received ${received} spans of the ${expected} that the ${counted.length} requests from the kill on made, ` +
        `all by ${((Date.now() - backAt) / 1000).toFixed(1)} s after it was back; ${traffic.latency()}`,
    );
    assert.deepEqual(traffic.failures, []);
    assert.equal(
      received,
      expected,
      `spans Zipkin received (zipkin_collector_spans_total) vs ${SPANS_PER_REQUEST} per request`,
    );
    for (const traceId of counted.slice(-READ_BACK)) {
      const spans = await waitForCount(under.store, traceId, SPANS_PER_REQUEST, 5000);
      assert.equal(spans.length, SPANS_PER_REQUEST, `trace ${traceId}`);
    }
  });
});
