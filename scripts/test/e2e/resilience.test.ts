// Tracing never breaks the request path, and telemetry is flushed: services die and come back, apps shut down
// with requests in flight. On the real mesh (Zipkin, otel mode), through compose's kill and restart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countSpans, loadExpectedTraces } from '../../trace-check/trace-tree.ts';
import type { ZipkinSpan } from '../../trace-check/trace-tree.ts';
import { meshFor, waitForCount, waitForSpan, type MeshUnderTest } from './support.ts';

const FULL_TRACE = countSpans([loadExpectedTraces().otel.tree]);

async function traceRequest(under: MeshUnderTest, headers: Record<string, string> = {}) {
  const response = await fetch(`${under.front}/trace/1`, {
    headers: { accept: 'application/json', ...headers },
  });
  const body = (await response.json()) as Record<string, unknown>;
  return {
    status: response.status,
    traceId: response.headers.get('x-b3-traceid') ?? '',
    body,
  };
}

/**
 * Polls the front proxy until it answers 200. Not a measurement (tests never time things): the bound only turns a
 * mesh that never serves again into a failure instead of a hang.
 */
async function untilServing(under: MeshUnderTest, giveUpAfterMs = 60_000): Promise<void> {
  const startedAt = Date.now();
  while ((await traceRequest(under)).status !== 200) {
    if (Date.now() - startedAt > giveUpAfterMs) throw new Error(`not serving after ${giveUpAfterMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const spanOf = (spans: ZipkinSpan[], service: string, kind: string) =>
  spans.find((s) => s.localEndpoint?.serviceName === service && s.kind === kind)?.tags ?? {};

/** Kills `victim`, expects the front's 503, and returns the tags of the span that says why. */
async function killAndExplain(
  under: MeshUnderTest,
  victim: string,
  explainer: string,
  kind: 'SERVER' | 'CLIENT',
) {
  await under.mesh.kill(victim);
  const failed = await traceRequest(under);
  // 503 with UF (upstream connection failure, below) rather than a timeout's 504/UT: Envoy gave up on the connect
  // itself, at once, instead of waiting for the request timeout. How fast is docs/reliability.md's figure.
  assert.equal(failed.status, 503);
  const spans = await waitForSpan(
    under.store,
    failed.traceId,
    (s) => s.localEndpoint?.serviceName === explainer && s.kind === kind,
  );
  return spanOf(spans, explainer, kind);
}

describe('a service dies', () => {
  const under = meshFor('zipkin', 'otel');

  it("service2's app: the front answers 503 at once, the span of service2's sidecar shows why, restart serves again", async () => {
    const ingress = await killAndExplain(under, 'service2', 'service2-envoy', 'SERVER');
    assert.equal(ingress.error, 'true');
    assert.equal(ingress['http.status_code'], '503');
    assert.equal(ingress.response_flags, 'UF', 'UF: upstream connection failure');
    await under.mesh.restart('service2');
    await untilServing(under);
  });

  it("service2's sidecar: the front answers 503 at once, service1's egress span shows why, restart serves again", async () => {
    const egress = await killAndExplain(under, 'service2-envoy', 'service1-envoy', 'CLIENT');
    assert.equal(egress.error, 'true');
    // UF, and URX once the retries on a failed connect (every sidecar's egress route) are spent.
    assert.match(egress.response_flags ?? '', /\bUF\b/);
    await under.mesh.restart('service2-envoy');
    await untilServing(under);
  });

  it("service3's app: service2 answers 502 with the gRPC status in its span and its log", async () => {
    await under.mesh.kill('service3');
    const failed = await traceRequest(under);
    assert.equal(failed.status, 502);
    // service1 passes service2's answer on under `cause`; `failedHop` names service2's gRPC call.
    const body = failed.body as { failedHop?: string; cause?: { grpcStatus?: string } };
    assert.equal(body.cause?.grpcStatus, 'UNAVAILABLE');
    assert.match(
      body.failedHop ?? '',
      /^service2 -> grpc:\/\/127\.0\.0\.1:9000 alerts\.v1\.Alerts\/ListMessages$/,
    );
    const spans = await waitForSpan(
      under.store,
      failed.traceId,
      (s) => s.localEndpoint?.serviceName === 'service2' && s.kind === 'SERVER',
    );
    assert.equal(spanOf(spans, 'service2', 'SERVER')['rpc.grpc.status_text'], 'UNAVAILABLE');
    assert.match(spanOf(spans, 'service2', 'CLIENT')['rpc.grpc.status_code'] ?? '', /^14$/);
    assert.match(await under.mesh.logs('service2', 50), /"grpcStatus":"UNAVAILABLE"/);
    await under.mesh.restart('service3');
    await untilServing(under);
  });
});

describe('an app gets SIGTERM with requests in flight', () => {
  const under = meshFor('zipkin', 'otel');

  /** The number of delays a sidecar's fault filter injected so far (its admin API, inside its container). */
  const delaysInjected = async (sidecar: string) => {
    const { body } = await under.mesh.httpFrom(
      sidecar,
      'http://127.0.0.1:9901/stats?filter=fault.delays_injected',
    );
    return Number(/: (\d+)/.exec(body)?.[1] ?? 0);
  };

  /** Holds N requests inside `app` (by a 500 ms fault delay at the next sidecar), then sends `app` SIGTERM. */
  async function sigtermWithRequestsInFlight(app: string, holdAt: string, fault: string) {
    const before = await delaysInjected(holdAt);
    const inFlight = Array.from({ length: 4 }, () => traceRequest(under, { 'x-mesh-fault': fault }));
    while ((await delaysInjected(holdAt)) < before + 4)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const exitCode = await under.mesh.kill(app, 'SIGTERM'); // resolves when the app has exited
    return { exitCode, answers: await Promise.all(inFlight) };
  }

  for (const [app, holdAt, fault] of [
    ['service1', 'service2-envoy', 'service2-delay'],
    ['service2', 'service3-envoy', 'service3-delay'],
  ] as const) {
    it(`${app}: the requests in flight complete, it exits 0, and every span of every request arrives`, async () => {
      const { exitCode, answers } = await sigtermWithRequestsInFlight(app, holdAt, fault);
      assert.equal(exitCode, 0);
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 200],
      );
      for (const answer of answers)
        assert.equal((await waitForCount(under.store, answer.traceId, FULL_TRACE)).length, FULL_TRACE);
      await under.mesh.restart(app);
    });
  }

  it('service3 (a leaf, its calls last microseconds): exits 0, and every request it answered has all its spans', async () => {
    const answered = [await traceRequest(under), await traceRequest(under)];
    assert.equal(await under.mesh.kill('service3', 'SIGTERM'), 0);
    for (const answer of answered) {
      assert.equal(answer.status, 200);
      assert.equal((await waitForCount(under.store, answer.traceId, FULL_TRACE)).length, FULL_TRACE);
    }
    await under.mesh.restart('service3');
  });
});
