// The whole compose mesh, started by `docker compose up --build --wait`: what a user sees after
// `curl -i localhost:8000/trace/1`, and the trace Zipkin holds, per mode (the other backends: backends.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  countSpans,
  loadExpectedTraces,
  logLinesPerService,
  renderTree,
} from '../../trace-check/trace-tree.ts';
import { formatReport, verifyTrace, type VerifyResult } from '../../trace-check/verifier.ts';
import { meshFor } from './support.ts';

const expected = loadExpectedTraces();

function assertVerified(result: VerifyResult): void {
  assert.ok(result.ok, formatReport(result));
}

describe("Zipkin, otel mode: one trace, every hop, the apps' spans nested in hop order", () => {
  const under = meshFor('zipkin', 'otel');

  it('answers curl -i /trace/1 as the original sandbox does, with both trace headers', async () => {
    const response = await fetch(`${under.front}/trace/1`);
    assert.equal(response.status, 200);
    assert.match(
      await response.text(),
      /^Hello from behind Envoy \(service 1\)! hostname: [0-9a-f]{12} resolved hostname: 172\.31\.81\.\d+\n$/,
    );
    assert.match(response.headers.get('x-b3-traceid') ?? '', /^[0-9a-f]{32}$/);
    assert.match(
      response.headers.get('x-request-id') ?? '',
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    assert.equal(response.headers.get('server'), 'envoy');
  });

  it('puts exactly the expected tree in Zipkin: one root at the front proxy, no orphans, one 128-bit trace id', async () => {
    const result = await verifyTrace({ url: `${under.front}/trace/1`, store: under.store });
    assertVerified(result);
    assert.equal(result.spans.length, countSpans([expected.otel.tree]));
    assert.equal(result.actual.roots.length, 1);
    assert.equal(result.actual.roots[0]?.service, 'front-envoy');
    assert.equal(result.actual.orphans.length, 0);
    assert.ok(result.spans.every((span) => span.traceId === result.traceId));
    // The tree as rendered equals the data, line for line (same order of siblings: ListMessages first).
    assert.equal(renderTree(result.actual.roots), renderTree([expected.otel.tree]));
  });

  /**
   * The access-log flush interval every Envoy runs with, as its admin API reports it, held to the one compose gives
   * each Envoy on its command line; the README says a second.
   */
  async function accessLogFlushMs(): Promise<number> {
    const running = await Promise.all(
      under.mesh.envoys.map(async (envoy) => {
        const command = under.mesh.project.services.get(envoy)?.command ?? [];
        const flag = command.indexOf('--file-flush-interval-msec');
        assert.ok(flag >= 0, `${envoy}: compose sets no --file-flush-interval-msec: ${command.join(' ')}`);
        const { body } = await under.mesh.httpFrom(
          envoy,
          `http://127.0.0.1:${under.mesh.envoyAdminPort(envoy)}/server_info`,
        );
        const options = (JSON.parse(body) as { command_line_options: { file_flush_interval: string } })
          .command_line_options;
        assert.equal(options.file_flush_interval, `${Number(command[flag + 1]) / 1000}s`, envoy);
        return Number(command[flag + 1]);
      }),
    );
    assert.deepEqual(new Set(running), new Set([1000]), 'every Envoy flushes its access log every second');
    return running[0] ?? 0;
  }

  it("leads from a log line to the trace: every hop's log lines carry the request's trace id", async () => {
    const result = await verifyTrace({ url: `${under.front}/trace/1`, store: under.store });
    assertVerified(result);
    // One line per request each hop handled, counted from the expected tree (logLinesPerService says how).
    const linesPerHop = logLinesPerService(expected.otel.tree);
    const expectedLines = Object.values(linesPerHop).reduce((sum, n) => sum + n, 0);
    const found = async () => {
      const lines: Record<string, Record<string, unknown>[]> = {};
      for (const service of Object.keys(linesPerHop)) {
        lines[service] = (await under.mesh.logs(service, 500))
          .split('\n')
          .filter((line) => line.includes(result.traceId))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      }
      return lines;
    };
    // Envoy writes its access log from a buffer every --file-flush-interval-msec (its default 10 s): every Envoy
    // runs with the interval compose gives it (the README promises a second), so the lines are there soon after.
    const flushMs = await accessLogFlushMs();
    let lines = await found();
    for (
      let tries = 0;
      tries * 250 < 3 * flushMs && Object.values(lines).flat().length < expectedLines;
      tries += 1
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      lines = await found();
    }
    assert.deepEqual(
      Object.fromEntries(Object.entries(lines).map(([service, list]) => [service, list.length])),
      linesPerHop,
    );
    for (const [service, list] of Object.entries(lines)) {
      for (const line of list) {
        assert.equal(line.traceId, result.traceId, `${service}: ${JSON.stringify(line)}`);
        assert.equal(line.requestId, result.requestId, `${service}: ${JSON.stringify(line)}`);
      }
    }
    const front = lines['front-envoy']?.[0] ?? {};
    assert.equal(front.status, 200);
    assert.equal(front.path, '/trace/1');
    assert.equal(front.upstreamCluster, 'service1');
    assert.deepEqual(
      lines['service2-envoy']?.map((line) => `${String(line.path)} ${String(line.grpcStatus)}`).sort(),
      ['/alerts.v1.Alerts/ListMessages OK', '/alerts.v1.Alerts/MessageHistory OK', '/trace/2 null'],
    );
  });

  it('serves the Zipkin UI at /zipkin/', async () => {
    const response = await fetch(`${under.storeUrl}/zipkin/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await response.text(), /<title>Zipkin<\/title>/i);
  });
});

describe("Zipkin, forward mode: the headers copied by hand give one trace of the proxies' spans", () => {
  const under = meshFor('zipkin', 'forward');

  it('matches the expected forward tree', async () => {
    const result = await verifyTrace({ url: `${under.front}/trace/1`, store: under.store });
    assertVerified(result);
    assert.equal(result.mode, 'forward');
    assert.ok(result.spans.every((span) => span.localEndpoint?.serviceName?.endsWith('-envoy')));
  });
});

describe('Zipkin, off mode: the verifier says where the trace broke', () => {
  const under = meshFor('zipkin', 'off');

  it('reports the break after service1, and the new trace its sidecar started', async () => {
    const result = await verifyTrace({ url: `${under.front}/trace/1`, store: under.store });
    assertVerified(result);
    assert.equal(result.breakReport?.app, 'service1');
    assert.equal(result.breakReport.endsAfter, 'service1-envoy service1_ingress SERVER');
    assert.equal(result.breakReport.startedNewTrace.span, 'service1-envoy service1_to_service2 CLIENT');
    assert.equal(result.breakReport.startedNewTrace.traceIds.length, 1);
    assert.notEqual(result.breakReport.startedNewTrace.traceIds[0], result.traceId);
    assert.match(formatReport(result), /service1 did not carry the trace context to its outbound call/);
  });
});
