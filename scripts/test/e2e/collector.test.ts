// The production path (docker-compose.collector.yaml): every span through an OpenTelemetry Collector. The same tree
// arrives as on the direct path, in Zipkin and in Jaeger, and the collector holds what the mesh sends while the
// store is away: Zipkin killed (its in-memory store forgets all it had) and started again, every span of every
// request answered meanwhile arrives, which on the direct path are all lost. Tail sampling in the collector keeps
// every trace with a fault and about a tenth of the rest, whole or not at all. And the third combination: Envoy's
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
import { runningVariant } from '../../mesh/compose-mesh.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import {
  assertWholeOtelTrace,
  meshFor,
  SLOW_REQUEST_HEADERS,
  waitForSpan,
  type MeshUnderTest,
} from './support.ts';
import { REPO_ROOT, TRACE_STORE_SERVICE } from '../../repo.ts';

const SPANS_PER_REQUEST = countSpans([loadExpectedTraces().otel.tree]);
const REQUESTS_WHILE_AWAY = 20;

/** One request through the variant: its trace in the store is the direct path's otel tree, every span of it. */
async function assertDirectPathTree(under: MeshUnderTest): Promise<void> {
  const result = await verifyTrace({ url: `${under.front}/trace/1`, store: under.store });
  assert.ok(result.ok, formatReport(result));
  assert.equal(result.spans.length, SPANS_PER_REQUEST);
}

// The blocks run in the order that changes the mesh least: Jaeger first (backends.test.ts leaves Jaeger running),
// then the Zipkin variants, which keep one Zipkin and change only the collector's config or the Envoys' tracer.
describe('through the OpenTelemetry Collector, Jaeger, otel mode', () => {
  const under = meshFor('jaeger-collector', 'otel');

  it("puts the same tree in Jaeger as the direct path, read back from Jaeger's API", async () => {
    await assertDirectPathTree(under);
  });
});

describe('through the OpenTelemetry Collector, Zipkin, otel mode', () => {
  const under = meshFor('collector', 'otel');

  it('puts the same tree in Zipkin as the direct path', async () => {
    await assertDirectPathTree(under);
    assert.equal(runningVariant(), 'collector', 'the variant `make verify` and the tests see running');
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

/** collector/tail-sampling.yaml's decision_wait ("2s"), in ms: how long after its first span a trace is decided. */
function decisionWaitMs(): number {
  const config = parse(readFileSync(path.join(REPO_ROOT, 'collector', 'tail-sampling.yaml'), 'utf8')) as {
    processors: { tail_sampling: { decision_wait: string } };
  };
  const seconds = /^(\d+)s$/.exec(config.processors.tail_sampling.decision_wait)?.[1];
  assert.ok(seconds, `decision_wait "${config.processors.tail_sampling.decision_wait}" is not whole seconds`);
  return Number(seconds) * 1000;
}

describe('tail sampling in the collector, Zipkin, otel mode', () => {
  const under = meshFor('collector-tail-sampling', 'otel');
  const ORDINARY = 100;

  /** One request; its trace id, after checking the status the caller gets. */
  async function traced(headers: Record<string, string>, status: number): Promise<string> {
    const response = await fetch(`${under.front}/trace/1`, { headers });
    await response.text();
    assert.equal(response.status, status, JSON.stringify(headers));
    return response.headers.get('x-b3-traceid') ?? '';
  }

  it('keeps every trace with a fault and about a tenth of the rest, each whole or not at all', async () => {
    // Same Envoy configs and store as `collector`: told apart by the collector's extra config file.
    assert.equal(
      runningVariant(),
      'collector-tail-sampling',
      'the variant `make verify` and the tests see running',
    );
    const ordinary: string[] = [];
    const aborted: string[] = [];
    // Ten at a time (the decisions are per trace), a fault after every other ten: 5 in all.
    for (let i = 0; i < ORDINARY; i += 10) {
      ordinary.push(...(await Promise.all(Array.from({ length: 10 }, () => traced({}, 200)))));
      if (i % 20 === 10) aborted.push(await traced({ 'x-mesh-fault': 'service3-abort' }, 502));
    }
    // A slow request (500 ms at service2's sidecar): kept, whole, in the expected shape, as the verifier reads it.
    const slow = await verifyTrace({
      url: `${under.front}/trace/1`,
      store: under.store,
      headers: SLOW_REQUEST_HEADERS,
    });
    assert.ok(slow.ok, formatReport(slow));
    // Requests in error: kept, with the span that failed and the front proxy's 502.
    for (const traceId of aborted) {
      const spans = await waitForSpan(under.store, traceId, (s) => s.tags?.response_flags === 'FI');
      const front = spans.find((s) => s.localEndpoint?.serviceName === 'front-envoy');
      assert.equal(front?.tags?.['http.status_code'], '502', `trace ${traceId}: the front proxy's span`);
    }
    // Every ordinary trace decided and exported by now; each is in the store whole, or not at all.
    await new Promise((resolve) => setTimeout(resolve, decisionWaitMs() + 2000));
    const counts = await Promise.all(ordinary.map(async (id) => (await under.store.trace(id)).length));
    const partial = counts.filter((n) => n !== 0 && n !== SPANS_PER_REQUEST);
    assert.deepEqual(partial, [], `span counts of the kept ordinary traces: ${counts.join(' ')}`);
    // About a tenth, by trace id: 0 kept of 100 has a chance of 3 in 100 000, more than 30 far less.
    const kept = counts.filter((n) => n === SPANS_PER_REQUEST).length;
    assert.ok(kept >= 1 && kept <= 30, `${kept} of ${ORDINARY} ordinary traces kept`);
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
