// The three apps as real processes without Envoy, in each tracing mode: the trace they export and the headers
// each hop actually receives. The test stands in for Envoy at the entry: it sends what service1's sidecar would.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  buildActualTrace,
  countSpans,
  loadExpectedTraces,
  renderTree,
  sameShape,
  withoutProxies,
} from '../../scripts/trace-check/trace-tree.ts';
import { sidecarHeaders, startChain, type Chain } from '../../scripts/loopback/chain.ts';

const expected = loadExpectedTraces();

/** Every header of the list, as a mesh with several tracers might send them. */
function allTraceHeaders() {
  const b3 = sidecarHeaders();
  return {
    ...b3,
    'x-b3-parentspanid': randomBytes(8).toString('hex'),
    'x-b3-flags': '1',
    b3: `${b3['x-b3-traceid']}-${b3['x-b3-spanid']}-1`,
    traceparent: `00-${b3['x-b3-traceid']}-${b3['x-b3-spanid']}-01`,
    tracestate: 'vendor=opaque-value',
    'x-ot-span-context': `${b3['x-b3-traceid']};${b3['x-b3-spanid']};0000000000000000;cs`,
    'uber-trace-id': `${b3['x-b3-traceid']}:${b3['x-b3-spanid']}:0:1`,
    sw8: '1-MQ==-NQ==-1-bWVzaA==-aW5zdGFuY2U=-L3RyYWNl-c2VydmljZTE6ODA4MA==',
  };
}

interface HopAnswer {
  traceId: string | null;
  requestId: string | null;
  receivedTraceHeaders: Record<string, string>;
  downstream: HopAnswer & {
    listMessages: { receivedTraceHeaders: Record<string, string> };
    messageHistory: { receivedTraceHeaders: Record<string, string> };
  };
}

async function traceRequest(chain: Chain, headers: Record<string, string>): Promise<HopAnswer> {
  const response = await fetch(`${chain.entry}/trace/1`, {
    headers: { ...headers, accept: 'application/json' },
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as HopAnswer;
}

describe("otel mode: one trace, the apps' own spans nested in hop order", () => {
  let chain: Chain;
  before(async () => (chain = await startChain('otel')));
  after(() => chain.stop());

  it('exports exactly the expected tree under the trace id and parent span the sidecar sent', async () => {
    const sent = sidecarHeaders();
    const answer = await traceRequest(chain, sent);
    assert.equal(answer.traceId, sent['x-b3-traceid']);

    const want = withoutProxies(expected.otel.tree);
    const spans = await chain.sink.waitForTrace(sent['x-b3-traceid'], countSpans(want));
    const actual = buildActualTrace(spans);
    assert.ok(
      sameShape(want, actual.roots),
      `expected:\n${renderTree(want)}\nactual:\n${renderTree(actual.roots)}`,
    );
    assert.equal(spans.length, countSpans(want));
    assert.ok(
      spans.every((span) => /^[0-9a-f]{32}$/.test(span.traceId)),
      '128-bit trace ids',
    );
    // The only root is service1's server span, whose parent is the span the sidecar sent.
    assert.equal(actual.roots.length, 1);
    assert.equal(actual.roots[0]?.span.parentId, sent['x-b3-spanid']);
    assert.ok(spans.some((s) => s.name === 'grpc.alerts.v1.Alerts/ListMessages' && s.kind === 'CLIENT'));
    assert.ok(spans.some((s) => s.name === 'grpc.alerts.v1.Alerts/MessageHistory' && s.kind === 'CLIENT'));
  });

  it('carries x-request-id to service3 as gRPC metadata, and B3 multi-header plus traceparent, not b3', async () => {
    const sent = sidecarHeaders();
    const answer = await traceRequest(chain, sent);
    const atService2 = answer.downstream.receivedTraceHeaders;
    const atService3 = answer.downstream.downstream.listMessages.receivedTraceHeaders;
    for (const received of [atService2, atService3]) {
      assert.equal(received['x-request-id'], sent['x-request-id']);
      assert.equal(received['x-b3-traceid'], sent['x-b3-traceid']);
      assert.match(received['x-b3-spanid'] ?? '', /^[0-9a-f]{16}$/);
      assert.notEqual(
        received['x-b3-spanid'],
        sent['x-b3-spanid'],
        "the app's own client span is the parent",
      );
      assert.equal(received['x-b3-sampled'], '1');
      assert.match(received.traceparent ?? '', new RegExp(`^00-${sent['x-b3-traceid']}-[0-9a-f]{16}-01$`));
      assert.equal(received.b3, undefined, 'Envoy reads x-b3-*; the single b3 header is not injected');
    }
    const logged = await chain.service3.waitForLog(
      (line) => line.route === 'alerts.v1.Alerts/ListMessages' && line.requestId === sent['x-request-id'],
    );
    assert.ok(logged, 'service3 logs the request id it received in metadata');
    assert.equal(logged.traceId, sent['x-b3-traceid']);
  });
});

describe('otel mode, a request Envoy did not sample: nothing recorded, the decision carried on', () => {
  let chain: Chain;
  before(async () => (chain = await startChain('otel')));

  // B3 as Envoy's Zipkin tracer sends it, and W3C alone as its OpenTelemetry tracer does; with the trace id sent.
  const unsampledB3 = () => {
    const sent = sidecarHeaders('0');
    return { traceId: sent['x-b3-traceid'], sent };
  };
  const unsampledW3c = () => {
    const { 'x-request-id': requestId, 'x-b3-traceid': traceId, 'x-b3-spanid': spanId } = sidecarHeaders();
    return { traceId, sent: { 'x-request-id': requestId, traceparent: `00-${traceId}-${spanId}-00` } };
  };
  const sentTraceIds: string[] = [];

  for (const [format, unsampled] of [
    ['B3', unsampledB3],
    ['W3C', unsampledW3c],
  ] as const) {
    it(`${format}: every hop receives the headers as sent (no span of the app in between)`, async () => {
      const { traceId, sent } = unsampled();
      const answer = await traceRequest(chain, sent);
      sentTraceIds.push(traceId);
      assert.deepEqual(answer.downstream.receivedTraceHeaders, sent);
      assert.deepEqual(answer.downstream.downstream.listMessages.receivedTraceHeaders, sent);
      assert.deepEqual(answer.downstream.downstream.messageHistory.receivedTraceHeaders, sent);
      assert.equal(answer.traceId, traceId, 'the answer still names the trace');
      const logged = await chain.service3.waitForLog(
        (line) => line.route === 'alerts.v1.Alerts/ListMessages' && line.requestId === sent['x-request-id'],
      );
      assert.equal(logged?.traceId, traceId, 'the log line still leads to the trace id');
    });
  }

  it('exports no span of those requests, not even when it flushes at shutdown', async () => {
    await chain.stop();
    assert.equal(sentTraceIds.length, 2);
    assert.deepEqual(chain.sink.spans, [], 'this chain received only the unsampled requests above');
  });
});

describe('forward mode: the headers copied by hand, byte for byte, and no SDK', () => {
  let chain: Chain;
  before(async () => (chain = await startChain('forward')));

  it('delivers every listed header unchanged to service2 (HTTP) and to service3 (gRPC metadata)', async () => {
    const sent = allTraceHeaders();
    const answer = await traceRequest(chain, sent);
    assert.deepEqual(answer.downstream.receivedTraceHeaders, sent);
    assert.deepEqual(answer.downstream.downstream.listMessages.receivedTraceHeaders, sent);
    assert.deepEqual(answer.downstream.downstream.messageHistory.receivedTraceHeaders, sent);
    assert.equal(answer.traceId, sent['x-b3-traceid'], 'the trace id shown is the one Envoy sent');
  });

  it('exports no span of its own, not even when it flushes at shutdown', async () => {
    await traceRequest(chain, allTraceHeaders());
    await chain.stop();
    assert.equal(chain.sink.spans.length, 0);
  });
});

describe('off mode: nothing is carried, on purpose', () => {
  let chain: Chain;
  before(async () => (chain = await startChain('off')));

  it('sends no trace header to the next hop', async () => {
    const answer = await traceRequest(chain, allTraceHeaders());
    assert.deepEqual(answer.downstream.receivedTraceHeaders, {});
    assert.deepEqual(answer.downstream.downstream.listMessages.receivedTraceHeaders, {});
  });

  it('exports no span', async () => {
    await chain.stop();
    assert.equal(chain.sink.spans.length, 0);
  });
});
