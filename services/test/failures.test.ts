// What a user gets when a request is wrong or a hop fails: the status, and a JSON error naming the failed hop.
// Hops fail for real: the next process is stopped (SIGSTOP, a hang) or killed.
import { after, before, describe, it } from 'node:test';
import { createServer } from 'node:http';
import assert from 'node:assert/strict';
import { sidecarHeaders, startChain, type Chain } from '../../scripts/loopback/chain.ts';
import { freePort } from '../../scripts/loopback/service-process.ts';
import { SDK_ERROR_MESSAGE, SDK_LOG_COMPONENT } from '../src/tracing/sdk-trouble.ts';

interface ErrorBody {
  error: string;
  example?: string;
  failedHop?: string;
  hop?: string;
  grpcStatus?: string;
}

async function get(url: string): Promise<{ status: number; body: ErrorBody }> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  return { status: response.status, body: (await response.json()) as ErrorBody };
}

describe('request errors and downstream failures', () => {
  let chain: Chain;
  let service2: string;
  before(async () => {
    chain = await startChain('otel');
    service2 = `http://127.0.0.1:${chain.ports.service2}`;
  });
  after(() => chain.stop());

  it('/trace/abc is a 400 that says what is wrong', async () => {
    const { status, body } = await get(`${chain.entry}/trace/abc`);
    assert.equal(status, 400);
    assert.equal(body.error, 'service number must be a positive integer, got "abc"');
  });

  it('/trace/2 at service1 is a 404 that says which service answered', async () => {
    const { status, body } = await get(`${chain.entry}/trace/2`);
    assert.equal(status, 404);
    assert.equal(body.error, 'this is service 1: /trace/2 is for service 2');
    assert.equal(body.example, '/trace/1');
  });

  it('an unknown path is a 404 that lists the routes', async () => {
    const { status, body } = await get(`${chain.entry}/nope`);
    assert.equal(status, 404);
    assert.equal(body.error, 'no route for GET /nope');
  });

  it('a malformed escape in the path is a 400, not a 500', async () => {
    const response = await fetch(`${chain.entry}/trace/%E0%A4%A`);
    assert.equal(response.status, 400);
  });

  it('a hanging gRPC hop is a 504 DEADLINE_EXCEEDED after the downstream timeout, never a hang', async () => {
    chain.service3.signal('SIGSTOP');
    try {
      const { status, body } = await get(`${service2}/trace/2`);
      assert.equal(status, 504);
      assert.equal(body.grpcStatus, 'DEADLINE_EXCEEDED');
      assert.match(
        body.failedHop ?? '',
        /^service2 -> grpc:\/\/127\.0\.0\.1:\d+ alerts\.v1\.Alerts\/ListMessages$/,
      );
    } finally {
      chain.service3.signal('SIGCONT');
    }
  });

  it("a hanging HTTP hop is a 504 from service1 naming service1's hop", async () => {
    chain.service2.signal('SIGSTOP');
    try {
      const { status, body } = await get(`${chain.entry}/trace/1`);
      assert.equal(status, 504);
      assert.equal(body.error, 'no answer within 1500 ms');
      assert.equal(body.failedHop, `service1 -> ${service2}/trace/2`);
    } finally {
      chain.service2.signal('SIGCONT');
    }
  });

  it('a dead gRPC hop is a 502 UNAVAILABLE, passed through service1 with the innermost failed hop', async () => {
    await chain.service3.stop('SIGKILL');
    const direct = await get(`${service2}/trace/2`);
    assert.equal(direct.status, 502);
    assert.equal(direct.body.grpcStatus, 'UNAVAILABLE');

    const viaService1 = await get(`${chain.entry}/trace/1`);
    assert.equal(viaService1.status, 502);
    assert.equal(viaService1.body.failedHop, direct.body.failedHop);
    assert.equal(viaService1.body.hop, `service1 -> ${service2}/trace/2`);
    assert.equal(viaService1.body.error, 'next hop answered 502');
  });

  it("records the gRPC failure on service2's spans", async () => {
    const failed = await chain.sink.waitForSpan(
      (span) =>
        span.localEndpoint?.serviceName === 'service2' &&
        span.kind === 'SERVER' &&
        /UNAVAILABLE/.test(span.tags?.error ?? ''),
    );
    const tags = failed.tags ?? {};
    assert.equal(tags['otel.status_code'], 'ERROR');
    assert.equal(tags['http.response.status_code'], '502');
    assert.match(tags['mesh.failed_hop'] ?? '', /alerts\.v1\.Alerts\/ListMessages$/);
    const client = await chain.sink.waitForSpan(
      (span) =>
        span.traceId === failed.traceId &&
        span.kind === 'CLIENT' &&
        (span.name ?? '').endsWith('/ListMessages'),
    );
    assert.equal(client.tags?.['rpc.grpc.status_code'], '14');
  });

  it('a dead HTTP hop is a 502 naming the connection failure', async () => {
    await chain.service2.stop('SIGKILL');
    const { status, body } = await get(`${chain.entry}/trace/1`);
    assert.equal(status, 502);
    assert.equal(body.error, 'request failed: ECONNREFUSED');
    assert.equal(body.failedHop, `service1 -> ${service2}/trace/2`);
  });
});

describe('the trace store unreachable', () => {
  it('answers the request, and each app says in its log that it lost the spans it could not export', async () => {
    // Nothing listens there: every export is refused, as when Zipkin is down or the name does not resolve.
    const unreachable = `http://127.0.0.1:${await freePort()}/api/v2/spans`;
    const chain = await startChain('otel', { ZIPKIN_ENDPOINT: unreachable });
    try {
      const response = await fetch(`${chain.entry}/trace/1`, { headers: sidecarHeaders() });
      assert.equal(response.status, 200);
      for (const app of [chain.service1, chain.service2, chain.service3]) {
        const line = await app.waitForLog((l) => l.msg === SDK_ERROR_MESSAGE);
        assert.ok(
          line,
          `${String(app.env.SERVICE_NAME)} logged no lost export: ${JSON.stringify(app.logs.slice(-3))}`,
        );
        assert.equal(line.level, 50, 'an error line');
        assert.equal(line.component, SDK_LOG_COMPONENT);
      }
    } finally {
      await chain.stop();
    }
  });

  it('drops spans past its queue bound when the store is slow, answers every request, and says how many it dropped', async () => {
    // A store that takes every post and answers each only after seconds, with an error: one export at a time is in
    // flight, so spans pile up in the queue (span-batching.ts bounds it) faster than they leave.
    const slowStore = createServer((request, response) => {
      request.resume();
      setTimeout(() => response.writeHead(503).end(), 5000);
    });
    await new Promise<void>((resolve) => slowStore.listen(0, '127.0.0.1', resolve));
    const { port } = slowStore.address() as { port: number };
    const chain = await startChain('otel', { ZIPKIN_ENDPOINT: `http://127.0.0.1:${port}/api/v2/spans` });
    try {
      const apps = [chain.service1, chain.service2, chain.service3];
      const dropped = () =>
        apps.flatMap((app) =>
          app.logs.filter((l) => l.component === SDK_LOG_COMPONENT && /^Dropped \d+ spans/.test(l.msg ?? '')),
        );
      const deadline = Date.now() + 30_000;
      let answered = 0;
      while (dropped().length === 0 && Date.now() < deadline) {
        const statuses = await Promise.all(
          Array.from({ length: 16 }, async () => {
            const response = await fetch(`${chain.entry}/trace/1`, { headers: sidecarHeaders() });
            await response.text();
            return response.status;
          }),
        );
        assert.deepEqual(
          new Set(statuses),
          new Set([200]),
          'every request is answered while spans are dropped',
        );
        answered += statuses.length;
      }
      const lines = dropped();
      assert.ok(lines.length > 0, `no app said it dropped spans after ${answered} requests`);
      for (const line of lines) assert.equal(line.level, 40, `a warning: ${JSON.stringify(line)}`);
    } finally {
      await chain.stop();
      slowStore.closeAllConnections();
      await new Promise((resolve) => slowStore.close(resolve));
    }
  });
});
