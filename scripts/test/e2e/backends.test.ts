// The mesh with the other backends: Jaeger in Zipkin's place (same Envoy configs, same tree), and the variant with
// Envoy's OpenTelemetry tracer (W3C between the proxies, OTLP to Jaeger, and the same tree with recorded differences).
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
import { meshFor } from './support.ts';
import { TRACE_STORE_SERVICE } from '../../repo.ts';

/**
 * Jaeger exports its own spans (when it traces itself) through the Go SDK's batch processor, which sends every 5 s
 * (OTEL_BSP_SCHEDULE_DELAY's default): a span of a query made that long ago has been stored, if it was made at all.
 */
const JAEGER_SELF_EXPORT_MS = 5000 + 1000;

/** What the Jaeger block leaves for the next: which Jaeger it queried, when, and the services of its trace. */
const jaegerQueried = { container: '', at: 0, services: [] as string[] };

describe("Jaeger in Zipkin's place, otel mode", () => {
  const under = meshFor('jaeger', 'otel');

  it("holds the same trace shape, read back from Jaeger's API", async () => {
    const result = await verifyTrace({ url: `${under.front}/trace/1`, store: under.store });
    assert.ok(result.ok, formatReport(result));
    assert.equal(result.spans.length, countSpans([loadExpectedTraces().otel.tree]));
    jaegerQueried.container = under.mesh.containerId(TRACE_STORE_SERVICE);
    jaegerQueried.at = Date.now();
    jaegerQueried.services = [...new Set(result.spans.map((s) => s.localEndpoint?.serviceName ?? ''))].sort();
  });
});

describe("Envoy's OpenTelemetry tracer, otel mode, Jaeger", () => {
  const under = meshFor('otel-tracer', 'otel');

  it("keeps the same Jaeger running through the switch, holding the mesh's services only, not its own", async () => {
    assert.ok(jaegerQueried.container, 'runs after the Jaeger block above, in the same file');
    // The OpenTelemetry tracer's file changes only the Envoys and the apps: Jaeger is not recreated (its data stays).
    assert.equal(under.mesh.containerId(TRACE_STORE_SERVICE), jaegerQueried.container);
    // Jaeger traces its own API by default (docker-compose.jaeger.yaml turns it off): the queries of the block above
    // would be there as a service `jaeger` by now.
    await new Promise((resolve) =>
      setTimeout(resolve, jaegerQueried.at + JAEGER_SELF_EXPORT_MS - Date.now()),
    );
    const response = await fetch(`${under.storeUrl}/api/services`);
    const { data } = (await response.json()) as { data: string[] };
    assert.deepEqual([...data].sort(), jaegerQueried.services);
  });

  it('holds the expected tree (the Zipkin one with the recorded differences), read from Jaeger', async () => {
    const expected = loadOtelTracerTree();
    const result = await verifyTrace({ url: `${under.front}/trace/1`, store: under.store });
    assert.ok(
      sameShape([expected], result.actual.roots),
      `${formatReport(result)}\nexpected:\n${renderTree([expected])}`,
    );
    assert.equal(result.spans.length, countSpans([expected]));
    assert.equal(result.actual.orphans.length, 0);
  });

  it('speaks W3C only on the wire: traceparent in the answer and at every hop, no B3', async () => {
    const response = await fetch(`${under.front}/trace/1`, { headers: { accept: 'application/json' } });
    assert.match(response.headers.get('traceparent') ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(response.headers.get('x-b3-traceid'), null);
    const body = (await response.json()) as {
      receivedTraceHeaders: Record<string, string>;
      downstream: { receivedTraceHeaders: Record<string, string> };
    };
    for (const received of [body.receivedTraceHeaders, body.downstream.receivedTraceHeaders]) {
      assert.ok(received.traceparent, 'traceparent arrives');
      assert.deepEqual(
        Object.keys(received).filter((name) => name.startsWith('x-b3-') || name === 'b3'),
        [],
      );
    }
  });
});
