// The production path (docker-compose.collector.yaml) when the trace store stays away for longer than the
// collector's queue holds: the queue fills to its stated size and no further; what does not fit is refused and
// counted (otelcol_exporter_enqueue_failed_spans, otelcol_receiver_refused_spans), never held in memory; the
// collector stays up within its memory limit; and once Zipkin is back it receives every span the collector
// accepted: what the queue held, and what the apps' SDKs still held and could then hand over.
// The load is counted in requests (autocannon, 8 connections), enough to overfill the queue. `make test-reliability`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { load } from '../../bench/load-generators.ts';
import { settledSpanCount } from '../../bench/span-counts.ts';
import { REPO_ROOT, TRACE_STORE_SERVICE } from '../../repo.ts';
import { countSpans, loadExpectedTraces } from '../../trace-check/trace-tree.ts';
import { collectorMetrics } from '../e2e/mesh-counters.ts';
import { afterEnvoyFlush, meshFor } from '../e2e/support.ts';
import { allDeliveredThroughCollector, collectorQueueHolds, SteadyTraffic } from './support.ts';

const SPANS_PER_REQUEST = countSpans([loadExpectedTraces().otel.tree]);
const MiB = 1024 * 1024;

/** The collector's stated bounds, from the config it runs. */
const config = parse(readFileSync(path.join(REPO_ROOT, 'collector', 'otel-collector.yaml'), 'utf8')) as {
  processors: { memory_limiter: { limit_mib: number } };
  exporters: { zipkin: { sending_queue: { queue_size: number } } };
};
const QUEUE_SPANS = config.exporters.zipkin.sending_queue.queue_size;
const MEMORY_LIMIT_MIB = config.processors.memory_limiter.limit_mib;
/** Requests enough to fill the queue, and a fifth more that cannot fit. */
const REQUESTS = Math.ceil((QUEUE_SPANS / SPANS_PER_REQUEST) * 1.2);

describe('through the collector, the store gone for longer than the queue holds', () => {
  const under = meshFor('collector', 'otel');

  it('fills the queue to its size, refuses and counts the rest, stays up within its memory; Zipkin then gets all the queue held', async () => {
    const warmUp = new SteadyTraffic(under, 10);
    await warmUp.send(5);
    await allDeliveredThroughCollector(under, warmUp.traceIds.at(-1) ?? '');
    await under.mesh.kill(TRACE_STORE_SERVICE, 'SIGKILL');
    const before = await collectorMetrics(under.mesh);

    let peakRss = before('otelcol_process_memory_rss');
    const sampling = setInterval(() => {
      collectorMetrics(under.mesh)
        .then((now) => (peakRss = Math.max(peakRss, now('otelcol_process_memory_rss'))))
        .catch(() => undefined); // a missed sample; the uptime below shows whether the collector stayed up
    }, 1000);
    const result = await load(`${under.front}/trace/1`, 0, 8, REQUESTS).finally(() => {
      clearInterval(sampling);
    });
    await afterEnvoyFlush();
    const full = await collectorMetrics(under.mesh);
    const delta = (name: string) => full(name) - before(name);
    const queued = full('otelcol_exporter_queue_size');

    // Zipkin back: the queue drains into it, and as it drains the apps' SDKs, which kept what they could not
    // export in their own bounded buffers, get spans accepted again. Everything accepted must arrive.
    // Counted once the queue is empty: Zipkin may go quiet between two exports while the collector backs off.
    await under.mesh.restart(TRACE_STORE_SERVICE);
    assert.equal(await collectorQueueHolds(under, 0, 120_000), 0, "the collector's queue, drained");
    // Six of the SDKs' export intervals more, for what they still held, and that delivered too.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(await collectorQueueHolds(under, 0, 60_000), 0, "the collector's queue, drained again");
    const drained = await collectorMetrics(under.mesh);
    const acceptedInAll =
      drained('otelcol_receiver_accepted_spans') - before('otelcol_receiver_accepted_spans');
    const received = await settledSpanCount(under.storeUrl, acceptedInAll);
    console.log(
      `collector overflow: ${result.requests} requests answered (${result.errors} errors, ${result.rps.toFixed(0)}/s) ` +
        `with Zipkin away: ${result.requests * SPANS_PER_REQUEST} spans made; the collector accepted ` +
        `${delta('otelcol_receiver_accepted_spans')}, queued ${queued} of ${QUEUE_SPANS}, refused ` +
        `${delta('otelcol_receiver_refused_spans')} (+${delta('otelcol_receiver_failed_spans')} failed) ` +
        `in ${delta('otelcol_exporter_enqueue_failed_spans')} failed enqueues (retries included); peak RSS ` +
        `${(peakRss / MiB).toFixed(0)} MiB; uptime ${full('otelcol_process_uptime').toFixed(0)} s; ` +
        `Zipkin back, the collector accepted ${acceptedInAll - delta('otelcol_receiver_accepted_spans')} more from the SDKs' buffers ` +
        `and Zipkin received ${received}`,
    );
    assert.equal(result.errors, 0, 'requests answered with an error while the queue overflowed');
    assert.ok(queued <= QUEUE_SPANS, `the queue holds ${queued} spans, more than its size ${QUEUE_SPANS}`);
    assert.ok(delta('otelcol_exporter_enqueue_failed_spans') > 0, 'spans the full queue refused, counted');
    // Nothing accepted and lost: everything the collector accepted while Zipkin was away is in the queue.
    assert.equal(delta('otelcol_receiver_accepted_spans'), queued, 'spans accepted vs spans queued');
    assert.ok(
      full('otelcol_process_uptime') > before('otelcol_process_uptime'),
      'the collector kept running (its uptime went on)',
    );
    assert.ok(peakRss < MEMORY_LIMIT_MIB * MiB, `peak RSS ${(peakRss / MiB).toFixed(0)} MiB vs its limit`);
    assert.equal(received, acceptedInAll, 'spans Zipkin received vs every span the collector accepted');
  });
});
