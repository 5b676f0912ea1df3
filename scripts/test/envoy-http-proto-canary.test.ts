// A canary for an Envoy defect that keeps this mesh on the 4x costlier JSON span encoding (docs/profiling.md):
// with `collector_endpoint_version: HTTP_PROTO`, Envoy 1.40's ProtobufSerializer writes the trace id big-endian but
// the span id and parent id as a raw copy of the uint64 (little-endian on x86-64 and arm64). The ids in Zipkin then
// no longer match the x-b3-spanid Envoy propagates, and every app span loses its parent.
//
// One traced request through the real, pinned Envoy (`make tools`) on loopback, reporting to a span sink here; the
// test asserts what Envoy writes today. When a future Envoy fixes it, this test fails and says what to change.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import protobuf from 'protobufjs';
import { REPO_ROOT } from '../repo.ts';

const ENVOY = path.join(REPO_ROOT, '.tools', 'venv', 'bin', 'envoy');

/** The fields of zipkin.proto3's Span this test reads (github.com/openzipkin/zipkin-api, zipkin.proto). */
const ZIPKIN_PROTO = `
syntax = "proto3";
package zipkin.proto3;
message Span { bytes trace_id = 1; bytes parent_id = 2; bytes id = 3; string name = 5; }
message ListOfSpans { repeated Span spans = 1; }
`;
const ListOfSpans = protobuf.parse(ZIPKIN_PROTO).root.lookupType('zipkin.proto3.ListOfSpans');

interface ProtoSpan {
  traceId: Uint8Array;
  parentId: Uint8Array;
  id: Uint8Array;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const reversed = (bytes: Uint8Array) => Buffer.from(bytes).reverse().toString('hex');

/** An Envoy that proxies to `upstreamPort` and reports spans as HTTP_PROTO to `sinkPort`, flushing every span. */
function envoyConfig(listenPort: number, sinkPort: number): object {
  const cluster = (name: string) => ({
    name,
    type: 'STATIC',
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: sinkPort } } } },
          ],
        },
      ],
    },
  });
  return {
    node: { id: 'canary', cluster: 'canary' },
    layered_runtime: { layers: [{ name: 'static', static_layer: { 'tracing.zipkin.min_flush_spans': 1 } }] },
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: '127.0.0.1', port_value: listenPort } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'canary',
                    tracing: {
                      provider: {
                        name: 'envoy.tracers.zipkin',
                        typed_config: {
                          '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig',
                          collector_service: {
                            http_uri: { uri: 'http://sink/api/v2/spans', cluster: 'sink', timeout: '5s' },
                          },
                          collector_endpoint_version: 'HTTP_PROTO',
                          trace_id_128bit: true,
                          shared_span_context: false,
                        },
                      },
                    },
                    route_config: {
                      virtual_hosts: [
                        {
                          name: 'all',
                          domains: ['*'],
                          routes: [{ match: { prefix: '/' }, route: { cluster: 'upstream' } }],
                        },
                      ],
                    },
                    http_filters: [
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: {
                          '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                        },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [cluster('sink'), cluster('upstream')],
    },
  };
}

describe('canary: the Envoy defect that keeps the mesh on HTTP_JSON span reports', () => {
  let envoy: ChildProcess | undefined;
  let sink: http.Server | undefined;
  const reports: Buffer[] = [];
  const upstreamHeaders: http.IncomingHttpHeaders[] = [];
  let listenPort = 0;

  before(async () => {
    // One local server is both the upstream (records the propagated headers) and the span sink (keeps the reports).
    sink = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.url === '/api/v2/spans') reports.push(Buffer.concat(chunks));
        else upstreamHeaders.push(request.headers);
        response.writeHead(request.url === '/api/v2/spans' ? 202 : 200).end();
      });
    });
    await new Promise<void>((resolve) => sink?.listen(0, '127.0.0.1', resolve));
    const sinkPort = (sink.address() as AddressInfo).port;
    // A free port for Envoy's listener: ask the kernel for one, then hand it to Envoy.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    listenPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'envoy-canary-')), 'envoy.json');
    writeFileSync(file, JSON.stringify(envoyConfig(listenPort, sinkPort)));
    envoy = spawn(ENVOY, ['-c', file, '--disable-hot-restart', '--log-level', 'warn'], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    for (;;) {
      // Not sampled: the probes make no spans.
      const ready = await fetch(`http://127.0.0.1:${listenPort}/ping`, {
        headers: { 'x-b3-sampled': '0' },
      }).then(
        () => true,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error('the canary Envoy did not start');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  after(() => {
    envoy?.kill('SIGKILL');
    sink?.close();
  });

  it("writes span and parent ids byte-reversed against the x-b3 ids it propagates (when this fails: switch every config's collector_endpoint_version to HTTP_PROTO)", async () => {
    const traceId = '463ac35c9f6413ad48485a3953bb6124';
    const callerSpanId = '0020000000000001';
    reports.length = 0;
    upstreamHeaders.length = 0;
    const response = await fetch(`http://127.0.0.1:${listenPort}/traced`, {
      headers: { 'x-b3-traceid': traceId, 'x-b3-spanid': callerSpanId, 'x-b3-sampled': '1' },
    });
    assert.equal(response.status, 200);
    // Reports come in Envoy's own time (and the readiness probes' spans may come too): wait for this trace's span.
    const spansOfTrace = () =>
      reports
        .flatMap(
          (report) => (ListOfSpans.toObject(ListOfSpans.decode(report)) as { spans: ProtoSpan[] }).spans,
        )
        .filter((s) => hex(s.traceId) === traceId);
    const deadline = Date.now() + 10_000;
    while (spansOfTrace().length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const [span] = spansOfTrace();
    assert.ok(span, `a span of trace ${traceId} was reported (${reports.length} reports in all)`);
    const propagated = String(upstreamHeaders.at(-1)?.['x-b3-spanid'] ?? '');
    assert.match(propagated, /^[0-9a-f]{16}$/);
    // The trace id is written in network byte order, as Zipkin's proto defines it.
    assert.equal(hex(span.traceId), traceId);
    // The defect: the span id and parent id are each the uint64's bytes in host (little-endian) order.
    const message =
      'Envoy now writes span ids in network byte order: HTTP_PROTO span reports are usable; switch ' +
      'collector_endpoint_version to HTTP_PROTO in every config (about 4x cheaper per span, docs/profiling.md) ' +
      'and retire this canary.';
    assert.notEqual(hex(span.id), propagated, message);
    assert.equal(reversed(span.id), propagated, 'the span id is the propagated x-b3-spanid, byte-reversed');
    assert.equal(
      reversed(span.parentId),
      callerSpanId,
      "the parent id is the caller's x-b3-spanid, byte-reversed",
    );
  });
});
