// The production path (docker-compose.collector.yaml): every span through an OpenTelemetry Collector. The same tree
// arrives as on the direct path, in Zipkin and in Jaeger, and the collector holds what the mesh sends while the
// store is away: Zipkin killed (its in-memory store forgets all it had) and started again, every span of every
// request answered meanwhile arrives, which on the direct path are all lost. And the third combination: Envoy's
// OpenTelemetry tracer posting OTLP to the collector, which hands Zipkin the OpenTelemetry tracer's tree.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  countSpans,
  loadExpectedTraces,
  loadOtelTracerTree,
  renderTree,
  sameShape,
} from '../../trace-check/trace-tree.ts';
import { formatReport, verifyTrace } from '../../trace-check/verifier.ts';
import { assertWholeOtelTrace, meshFor } from './support.ts';
import { TRACE_STORE_SERVICE } from '../../repo.ts';

const SPANS_PER_REQUEST = countSpans([loadExpectedTraces().otel.tree]);
const REQUESTS_WHILE_AWAY = 20;

describe('through the OpenTelemetry Collector, Zipkin, otel mode', () => {
  const under = meshFor('collector', 'otel');

  it('puts the same tree in Zipkin as the direct path', async () => {
    const result = await verifyTrace({ url: `${under.front}/trace/1`, store: under.store });
    assert.ok(result.ok, formatReport(result));
    assert.equal(result.spans.length, SPANS_PER_REQUEST);
  });

  it('loses no span while Zipkin is away: every request answered meanwhile arrives whole once it is back', async () => {
    await under.mesh.kill(TRACE_STORE_SERVICE, 'SIGKILL');
    const traceIds: string[] = [];
    for (let i = 0; i < REQUESTS_WHILE_AWAY; i++) {
      const response = await fetch(`${under.front}/trace/1`);
      await response.text();
      assert.equal(response.status, 200, 'the mesh answers while the store is away');
      traceIds.push(response.headers.get('x-b3-traceid') ?? '');
    }
    // A new Zipkin, empty: what it gets of these traces can only come from the collector's queue.
    await under.mesh.restart(TRACE_STORE_SERVICE);
    for (const traceId of traceIds) await assertWholeOtelTrace(under.store, traceId, 30_000);
  });
});

describe('through the OpenTelemetry Collector, Jaeger, otel mode', () => {
  const under = meshFor('jaeger-collector', 'otel');

  it("puts the same tree in Jaeger as the direct path, read back from Jaeger's API", async () => {
    const result = await verifyTrace({ url: `${under.front}/trace/1`, store: under.store });
    assert.ok(result.ok, formatReport(result));
    assert.equal(result.spans.length, SPANS_PER_REQUEST);
  });
});

describe("through the OpenTelemetry Collector with Envoy's OpenTelemetry tracer, Zipkin, otel mode", () => {
  const under = meshFor('otel-tracer-collector', 'otel');

  it('puts the OpenTelemetry tracer’s tree in Zipkin: every Envoy posts OTLP to the collector, which translates', async () => {
    const expected = loadOtelTracerTree();
    const result = await verifyTrace({ url: `${under.front}/trace/1`, store: under.store });
    assert.ok(result.ok, formatReport(result));
    assert.ok(
      sameShape([expected], result.actual.roots),
      `${formatReport(result)}\nexpected:\n${renderTree([expected])}`,
    );
    assert.equal(result.spans.length, countSpans([expected]));
    // W3C between the proxies: front-envoy answers with the request's traceparent, and no B3 id.
    const response = await fetch(`${under.front}/trace/1`);
    await response.text();
    assert.match(response.headers.get('traceparent') ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(response.headers.get('x-b3-traceid'), null);
  });
});
