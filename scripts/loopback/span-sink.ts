// A small Zipkin v2 JSON receiver (POST /api/v2/spans) for the Envoy-less tests and `make bench-apps`: the services
// export to it exactly as they export to Zipkin, and the tests read back what arrived.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ZipkinSpan } from '../trace-check/trace-tree.ts';

export class SpanSink {
  readonly spans: ZipkinSpan[] = [];
  private server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/api/v2/spans') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.spans.push(...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ZipkinSpan[]));
      res.writeHead(202).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/v2/spans`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }

  ofTrace(traceId: string): ZipkinSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  /** Polls until a span matching `predicate` arrived; fails after the timeout. */
  async waitForSpan(predicate: (span: ZipkinSpan) => boolean, timeoutMs = 10_000): Promise<ZipkinSpan> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.spans.find(predicate);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`no matching span after ${timeoutMs} ms (${this.spans.length} spans)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Polls until `count` spans of the trace arrived (or the timeout passes), then returns what is there. */
  async waitForTrace(traceId: string, count: number, timeoutMs = 10_000): Promise<ZipkinSpan[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.ofTrace(traceId).length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.ofTrace(traceId);
  }
}
