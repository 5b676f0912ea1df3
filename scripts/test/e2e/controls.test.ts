// The tracing controls users reach for, on the real mesh: sampling at the edge (config and admin API),
// x-client-trace-id, x-envoy-force-trace from outside and from inside, W3C callers, a caller's "not sampled", and
// the demo fault switch.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { buildActualTrace, countSpans, loadExpectedTraces } from '../../trace-check/trace-tree.ts';
import { formatReport, verifyTrace } from '../../trace-check/verifier.ts';
import { afterEnvoyFlush, meshFor, SLOW_REQUEST_HEADERS, waitForCount, waitForSpan } from './support.ts';

const FULL_TRACE = countSpans([loadExpectedTraces().otel.tree]);

/** Envoy writes its trace decision into x-request-id: the first character of the third group. */
const traceReason = (requestId: string | null) => requestId?.split('-')[2]?.[0];

describe('tracing controls (Zipkin, otel mode)', () => {
  const under = meshFor('zipkin', 'otel');
  const admin = () => under.mesh.publishedUrl('front-envoy', 9901);
  const get = (headers: Record<string, string> = {}) => fetch(`${under.front}/trace/1`, { headers });
  const setSampling = async (value: string) => {
    const response = await fetch(`${admin()}/runtime_modify?tracing.random_sampling=${value}`, {
      method: 'POST',
    });
    assert.equal(response.status, 200, await response.text());
  };

  it('samples every request by default, and says so in x-request-id', async () => {
    const response = await get();
    assert.equal(traceReason(response.headers.get('x-request-id')), '9'); // 9 = sampled
  });

  it('at 0 % random sampling: no trace for a plain request or an outside x-envoy-force-trace; x-client-trace-id is traced', async () => {
    await setSampling('0');
    try {
      const since = Date.now();
      const plain = await get();
      const forcedFromOutside = await get({ 'x-envoy-force-trace': 'true' });
      assert.equal(plain.status, 200);
      assert.equal(traceReason(plain.headers.get('x-request-id')), '4'); // 4 = not traced
      assert.notEqual(traceReason(forcedFromOutside.headers.get('x-request-id')), 'a'); // a = forced

      const client = await get({ 'x-client-trace-id': 'my-debug-session-42' });
      assert.equal(traceReason(client.headers.get('x-request-id')), 'b'); // b = client
      const clientTraceId = client.headers.get('x-b3-traceid') ?? '';
      // Once this later trace is complete and one Envoy flush interval has passed, every span of the two earlier
      // requests, had there been any, would be in the backend: the flush window is Envoy's, not a guess.
      await waitForCount(under.store, clientTraceId, FULL_TRACE);
      await afterEnvoyFlush();
      assert.deepEqual(await under.store.traceIdsSince(since), [clientTraceId]);
    } finally {
      await setSampling(''); // an empty value removes the override: back to the config's 100 %
    }
    assert.equal(traceReason((await get()).headers.get('x-request-id')), '9');
  });

  it("replaces an outside caller's x-request-id (its reason character forces nothing), keeps one from inside", async () => {
    // A UUID whose reason character says "forced" (a): kept, it would make the request traced at 0 %.
    const forged = '0f0f0f0f-0f0f-af0f-8f0f-0f0f0f0f0f0f';
    await setSampling('0');
    try {
      const outside = await get({ 'x-request-id': forged });
      assert.notEqual(outside.headers.get('x-request-id'), forged);
      assert.equal(traceReason(outside.headers.get('x-request-id')), '4'); // not traced
    } finally {
      await setSampling('');
    }
    // From service1's container: a container address, which front-envoy counts as internal.
    const inside = await under.mesh.httpFrom('service1', 'http://front-envoy:8000/trace/1', {
      headers: { 'x-request-id': forged },
    });
    // Kept as it came: inside the mesh its reason character counts, as x-envoy-force-trace does.
    assert.equal(inside.headers['x-request-id'], forged);
  });

  it('honours x-envoy-force-trace from inside the mesh at 0 % sampling', async () => {
    await setSampling('0');
    try {
      // A request from service1's container: a container address, which front-envoy counts as internal.
      const { headers } = await under.mesh.httpFrom('service1', 'http://front-envoy:8000/trace/1', {
        headers: { 'x-envoy-force-trace': 'true' },
      });
      const requestId = headers['x-request-id'] ?? null;
      const traceId = headers['x-b3-traceid'] ?? '';
      assert.equal(traceReason(requestId), 'a');
      assert.equal((await waitForCount(under.store, traceId, FULL_TRACE)).length, FULL_TRACE);
    } finally {
      await setSampling('');
    }
  });

  it("puts a W3C-only caller's spans in the caller's own trace", async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const response = await get({ traceparent: `00-${traceId}-${parentId}-01` });
    assert.equal(response.headers.get('x-b3-traceid'), traceId);
    const trace = buildActualTrace(await waitForCount(under.store, traceId, FULL_TRACE));
    assert.equal(trace.roots.length, 1);
    const [root] = trace.roots;
    assert.equal(root?.service, 'front-envoy');
    assert.equal(root.span.parentId, parentId, 'the front proxy span is a child of the caller span');
  });

  it("follows a caller's 'not sampled' (B3 x-b3-sampled: 0, W3C flags 00): served and logged under its trace id, no span stored", async () => {
    const b3TraceId = randomBytes(16).toString('hex');
    const w3cTraceId = randomBytes(16).toString('hex');
    const unsampled: [string, Record<string, string>][] = [
      [
        b3TraceId,
        { 'x-b3-traceid': b3TraceId, 'x-b3-spanid': randomBytes(8).toString('hex'), 'x-b3-sampled': '0' },
      ],
      [w3cTraceId, { traceparent: `00-${w3cTraceId}-${randomBytes(8).toString('hex')}-00` }],
    ];
    const since = Date.now();
    for (const [traceId, headers] of unsampled) {
      const response = await get(headers);
      assert.equal(response.status, 200, await response.text());
      assert.equal(response.headers.get('x-b3-traceid'), traceId);
    }
    // A hop that lost the decision on the way would decide for itself (100 % here) and store spans, in this trace
    // or in one of its own. Once a later traced request is complete and an Envoy flush has passed, they would be in.
    const traced = (await get()).headers.get('x-b3-traceid') ?? '';
    await waitForCount(under.store, traced, FULL_TRACE);
    await afterEnvoyFlush();
    assert.deepEqual(await under.store.traceIdsSince(since), [traced]);
    // The last hop still logged each request under the caller's trace id: a log line leads to the caller's trace.
    const lastHopLog = await under.mesh.logs('service3', 200);
    for (const [traceId] of unsampled) assert.match(lastHopLog, new RegExp(`"traceId":"${traceId}"`));
  });

  it("still continues a B3 caller's trace", async () => {
    const traceId = randomBytes(16).toString('hex');
    const response = await get({
      'x-b3-traceid': traceId,
      'x-b3-spanid': randomBytes(8).toString('hex'),
      'x-b3-sampled': '1',
    });
    assert.equal(response.headers.get('x-b3-traceid'), traceId);
    assert.equal((await waitForCount(under.store, traceId, FULL_TRACE)).length, FULL_TRACE);
  });

  it("x-mesh-fault: service2-delay makes service2's sidecar span >= 500 ms, and its parent longer", async () => {
    const result = await verifyTrace({
      url: `${under.front}/trace/1`,
      store: under.store,
      headers: SLOW_REQUEST_HEADERS,
    });
    assert.ok(result.ok, formatReport(result));
    const ingress = result.spans.find(
      (s) => s.localEndpoint?.serviceName === 'service2-envoy' && s.kind === 'SERVER',
    );
    const parent = result.spans.find((s) => s.id === ingress?.parentId);
    assert.ok(ingress && parent, 'both spans are in the trace');
    assert.ok((ingress.duration ?? 0) >= 500_000, `service2 ingress lasted ${String(ingress.duration)} µs`);
    assert.ok((parent.duration ?? 0) > (ingress.duration ?? 0));
    assert.equal(parent.localEndpoint?.serviceName, 'service1-envoy');
  });

  it("x-mesh-fault: service3-abort: the front answers 502 and service3's sidecar span carries the error", async () => {
    const response = await get({ 'x-mesh-fault': 'service3-abort', accept: 'application/json' });
    assert.equal(response.status, 502);
    const body = (await response.json()) as { failedHop: string; grpcStatus?: string };
    assert.match(body.failedHop, /^service2 -> grpc:\/\/127\.0\.0\.1:9000 alerts\.v1\.Alerts\/ListMessages$/);
    const traceId = response.headers.get('x-b3-traceid') ?? '';
    const spans = await waitForSpan(
      under.store,
      traceId,
      (s) => s.localEndpoint?.serviceName === 'service3-envoy',
    );
    const aborted = spans.find((s) => s.localEndpoint?.serviceName === 'service3-envoy')?.tags ?? {};
    // For a gRPC call Envoy answers a 503 abort as gRPC does: HTTP 200 with grpc-status 14 (UNAVAILABLE).
    assert.equal(aborted.error, 'true');
    assert.equal(aborted['grpc.status_code'], '14');
    assert.equal(aborted.response_flags, 'FI', 'FI: fault injected');
    assert.ok(
      !spans.some((s) => s.localEndpoint?.serviceName === 'service3'),
      'the gRPC app never saw the call',
    );
    const withFront = await waitForSpan(
      under.store,
      traceId,
      (s) => s.localEndpoint?.serviceName === 'front-envoy',
    );
    const front = withFront.find((s) => s.localEndpoint?.serviceName === 'front-envoy')?.tags ?? {};
    assert.equal(front['http.status_code'], '502', 'the front proxy span agrees with what the caller got');
    assert.equal(front.error, 'true');
  });
});
