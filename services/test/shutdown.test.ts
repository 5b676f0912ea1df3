// SIGTERM while a request is in flight: the request completes, the apps exit 0, and every span of that request
// reaches the backend (the SDK flushes on shutdown).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { countSpans, loadExpectedTraces, withoutProxies } from '../../scripts/trace-check/trace-tree.ts';
import net from 'node:net';
import { startChain } from '../../scripts/loopback/chain.ts';

/** Polls a raw TCP connect (not the HTTP client's pool, whose reuse would muddle it) until it is refused. */
async function untilConnectionRefused(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => {
        resolve(true);
      });
    });
    if (refused) return;
    if (Date.now() > deadline)
      throw new Error(`port ${port} still accepts connections after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('graceful shutdown', () => {
  it('finishes the request in flight, exits 0 and flushes all its spans', async () => {
    const chain = await startChain('otel', { DOWNSTREAM_TIMEOUT_MS: '20000' });
    try {
      const traceId = randomBytes(16).toString('hex');
      // Hold the request inside service2's gRPC call: service3 is stopped until the apps got their SIGTERM.
      chain.service3.signal('SIGSTOP');
      const inFlight = fetch(`${chain.entry}/trace/1`, {
        headers: {
          'x-b3-traceid': traceId,
          'x-b3-spanid': randomBytes(8).toString('hex'),
          'x-b3-sampled': '1',
        },
      });
      // service2 ends its resolve-hostname span just before it calls service3: once exported, the call is open.
      await chain.sink.waitForSpan(
        (span) =>
          span.traceId === traceId &&
          span.localEndpoint?.serviceName === 'service2' &&
          span.name === 'resolve-hostname',
      );
      const exits = Promise.all([chain.service1.stop('SIGTERM'), chain.service2.stop('SIGTERM')]);
      await untilConnectionRefused(chain.ports.service1); // it stops accepting, with the request still open
      chain.service3.signal('SIGCONT');

      const response = await inFlight;
      assert.equal(response.status, 200);
      assert.match(await response.text(), /^Hello from behind Envoy \(service 1\)!/);
      assert.deepEqual(await exits, [0, 0]);
      assert.equal(await chain.service3.stop('SIGTERM'), 0);

      const expected = countSpans(withoutProxies(loadExpectedTraces().otel.tree));
      assert.equal((await chain.sink.waitForTrace(traceId, expected, 2000)).length, expected);
    } finally {
      chain.service3.signal('SIGCONT');
      await chain.stop();
    }
  });
});
