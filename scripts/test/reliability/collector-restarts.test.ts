// The production path (docker-compose.collector.yaml) under steady traffic while a part of it restarts:
//   - the trace store (`docker compose restart zipkin`): the collector accepts every span of every request answered
//     from the restart on and hands each to a Zipkin, which acknowledges it (the collector's own counters, exactly);
//     the old Zipkin takes a few in its last moments and forgets them with its in-memory store, so the new one is
//     held to what it cannot have missed: every request sent after the old one exited traces whole in it;
//   - the collector itself, while the store is away: every span it had accepted before reaches the store once it is
//     back (its queue is on disk: the file_storage extension, a named volume), and what the senders lose while it is
//     down is counted span by span and named: the Envoys' tracer does not retry (tracing.zipkin.reports_dropped);
//     the apps' SDK retries a refused connection five times over about 13 s, so it should lose none.
// Counted in requests, not timed. `make test-reliability`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { settledSpanCount } from '../../bench/span-counts.ts';
import { countSpans, loadExpectedTraces, type TreeNode } from '../../trace-check/trace-tree.ts';
import { collectorMetrics, envoyCounterSum } from '../e2e/mesh-counters.ts';
import { afterEnvoyFlush, meshFor, type MeshUnderTest } from '../e2e/support.ts';
import { allDeliveredThroughCollector, collectorQueueHolds, SteadyTraffic } from './support.ts';
import { COLLECTOR_SERVICE, TRACE_STORE_SERVICE } from '../../repo.ts';

const REQUESTS_PER_SECOND = 10;
const SPANS_PER_REQUEST = countSpans([loadExpectedTraces().otel.tree]);

/** Per trace, the spans Zipkin holds of it; the missing ones by the service that made them. */
async function readBack(under: MeshUnderTest, traceIds: string[]) {
  let found = 0;
  const whole: string[] = [];
  const missingBy = new Map<string, number>();
  const services = (node: TreeNode): string[] => [node.service, ...node.children.flatMap(services)];
  const expected = services(loadExpectedTraces().otel.tree);
  for (const traceId of traceIds) {
    const spans = await under.store.trace(traceId);
    found += spans.length;
    if (spans.length === SPANS_PER_REQUEST) whole.push(traceId);
    const left = spans.map((span) => span.localEndpoint?.serviceName ?? '?');
    for (const service of expected) {
      const at = left.indexOf(service);
      if (at >= 0) left.splice(at, 1);
      else missingBy.set(service, (missingBy.get(service) ?? 0) + 1);
    }
  }
  return { found, whole, missingBy };
}

/** For a log line or a failure: the spans missing from the traces read back, by the service that made them. */
function describeMissing({ missingBy }: { missingBy: Map<string, number> }): string {
  return [...missingBy].map(([service, n]) => `${service} ${n}`).join(', ') || 'none';
}

describe('through the collector, a restart under steady traffic', () => {
  const under = meshFor('collector', 'otel');

  it('the store restarted: the collector hands every span to a Zipkin; the new one gets all it cannot have missed', async () => {
    const traffic = new SteadyTraffic(under, REQUESTS_PER_SECOND);
    await traffic.send(20);
    await allDeliveredThroughCollector(under, traffic.traceIds.at(-1) ?? '');
    const before = await collectorMetrics(under.mesh);
    const firstCounted = traffic.traceIds.length;
    await Promise.all([under.mesh.restart(TRACE_STORE_SERVICE), traffic.send(50)]);
    await traffic.send(50);
    const oldZipkinExited = await under.mesh.lastExitedAt(TRACE_STORE_SERVICE);

    const counted = traffic.traceIds.slice(firstCounted);
    const expected = counted.length * SPANS_PER_REQUEST;
    await allDeliveredThroughCollector(under, counted.at(-1) ?? '');
    const received = await settledSpanCount(under.storeUrl);
    const after = await collectorMetrics(under.mesh);
    const delta = (name: string) => after(name) - before(name);
    // Requests sent once the old Zipkin had exited: none of their spans can have reached it.
    const sentAfterExit = counted.filter((_, n) => (traffic.sentAt[firstCounted + n] ?? 0) > oldZipkinExited);
    const readBackAfterExit = await readBack(under, sentAfterExit);
    console.log(
      `store restart: ${traffic.sent} requests at ${REQUESTS_PER_SECOND}/s, ${traffic.failures.length} failed; ` +
        `of the ${expected} spans of the ${counted.length} requests from the restart on, the collector accepted ` +
        `${delta('otelcol_receiver_accepted_spans')} and Zipkin acknowledged ${delta('otelcol_exporter_sent_spans')}: ` +
        `the new Zipkin ${received}, the old one the other ${expected - received} in its last moments (forgotten with it); ` +
        `${readBackAfterExit.whole.length} of the ${sentAfterExit.length} requests sent after the old one exited are whole; ${traffic.latency()}`,
    );
    assert.deepEqual(traffic.failures, []);
    assert.equal(
      delta('otelcol_receiver_accepted_spans'),
      expected,
      `spans the collector accepted vs ${SPANS_PER_REQUEST} per request`,
    );
    assert.equal(
      delta('otelcol_exporter_sent_spans'),
      expected,
      `spans a Zipkin acknowledged vs ${SPANS_PER_REQUEST} per request`,
    );
    assert.equal(delta('otelcol_exporter_send_failed_spans'), 0, 'spans the collector gave up on');
    assert.equal(delta('otelcol_exporter_enqueue_failed_spans'), 0, 'spans the full queue refused');
    assert.ok(
      sentAfterExit.length >= 50,
      `requests sent after the old Zipkin exited: ${sentAfterExit.length}`,
    );
    assert.equal(
      readBackAfterExit.whole.length,
      sentAfterExit.length,
      'their traces, whole in the new Zipkin',
    );
  });

  it('the collector restarted while the store is away: every span it had accepted arrives; the senders’ loss is counted', async () => {
    const traffic = new SteadyTraffic(under, REQUESTS_PER_SECOND);
    await traffic.send(10);
    await allDeliveredThroughCollector(under, traffic.traceIds.at(-1) ?? '');
    await under.mesh.kill(TRACE_STORE_SERVICE, 'SIGKILL');

    // Accepted: in the collector's queue (on disk) before it restarts.
    const acceptedStart = traffic.traceIds.length;
    await traffic.send(100);
    await afterEnvoyFlush();
    const accepted = traffic.traceIds.slice(acceptedStart);
    const queued = await collectorQueueHolds(under, accepted.length * SPANS_PER_REQUEST);
    assert.equal(
      queued,
      accepted.length * SPANS_PER_REQUEST,
      `the collector's queue holds ${SPANS_PER_REQUEST} spans per request`,
    );

    // Restarted under load: what the senders lose while it is away is counted below.
    const droppedBefore = await envoyCounterSum(under.mesh, 'tracing.zipkin.reports_dropped');
    const aroundStart = traffic.traceIds.length;
    await Promise.all([under.mesh.restart(COLLECTOR_SERVICE), traffic.send(30)]);
    await traffic.send(30);
    const around = traffic.traceIds.slice(aroundStart);
    await afterEnvoyFlush();
    const droppedReports =
      (await envoyCounterSum(under.mesh, 'tracing.zipkin.reports_dropped')) - droppedBefore;

    // The store back: the queue drains into it; what follows is delivered as usual.
    await under.mesh.restart(TRACE_STORE_SERVICE);
    const afterStart = traffic.traceIds.length;
    await traffic.send(20);
    const after = traffic.traceIds.slice(afterStart);

    const all = traffic.traceIds.slice(acceptedStart);
    const received = await settledSpanCount(under.storeUrl, all.length * SPANS_PER_REQUEST);
    const before = await readBack(under, accepted);
    const during = await readBack(under, around);
    const later = await readBack(under, after);
    const lost = around.length * SPANS_PER_REQUEST - during.found;
    // Where the spans of an incomplete trace went, for a failure: the collector's counters since it restarted.
    const collector = await collectorMetrics(under.mesh);
    const collectorCounts = ['accepted_spans', 'refused_spans']
      .map((name) => `receiver_${name} ${collector(`otelcol_receiver_${name}`)}`)
      .concat(
        ['sent_spans', 'send_failed_spans', 'enqueue_failed_spans', 'queue_size'].map(
          (name) => `exporter_${name} ${collector(`otelcol_exporter_${name}`)}`,
        ),
      )
      .join(', ');
    console.log(
      `collector restart: ${traffic.sent} requests at ${REQUESTS_PER_SECOND}/s, ${traffic.failures.length} failed; ` +
        `accepted before: ${before.found} of ${accepted.length * SPANS_PER_REQUEST} spans arrived; ` +
        `around the restart: ${lost} of ${around.length * SPANS_PER_REQUEST} spans lost ` +
        `(${describeMissing(during)}), ` +
        `the Envoys dropped ${droppedReports} reports; after: ${later.found} of ${after.length * SPANS_PER_REQUEST}; ` +
        `Zipkin received ${received} spans`,
    );
    assert.deepEqual(traffic.failures, []);
    assert.equal(before.whole.length, accepted.length, 'traces accepted before the restart, whole in Zipkin');
    assert.equal(
      later.whole.length,
      after.length,
      `traces after the store is back, whole in Zipkin (${later.found} of their ${after.length * SPANS_PER_REQUEST} ` +
        `spans read back, missing: ${describeMissing(later)}; Zipkin received ` +
        `${received} spans; the collector since its restart: ${collectorCounts})`,
    );
    // Nothing arrives twice, nothing unexplained: Zipkin's counter is the sum of the spans read back.
    assert.equal(received, before.found + during.found + later.found, 'spans Zipkin received vs read back');
    // What was lost was lost by the Envoys, and their counter says so; the SDK lost nothing.
    const lostByApps = [...during.missingBy].filter(([service]) => !service.endsWith('-envoy'));
    assert.deepEqual(lostByApps, [], "apps' spans lost while the collector restarted (the SDK retries)");
    assert.equal(
      lost > 0,
      droppedReports > 0,
      "Envoy spans lost iff the Envoys' reports_dropped counted some",
    );
  });
});
