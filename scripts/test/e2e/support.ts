// Runs the mesh for a test file with the README's own command, `docker compose up --build --wait`, on the engine
// the docker CLI reaches (make engine). The mesh stays up between files (compose recreates only what a file
// changes, e.g. the apps for another TRACING_MODE); `make test-e2e` takes it down at the end.
import { before } from 'node:test';
import { SDK_LOG_COMPONENT } from '@traced-envoy-mesh/services/sdk-trouble';
import { SPAN_BATCHING } from '@traced-envoy-mesh/services/span-batching';
import assert from 'node:assert/strict';
import { ComposeMesh } from '../../mesh/compose-mesh.ts';
import {
  buildActualTrace,
  countSpans,
  loadExpectedTraces,
  renderTree,
  sameShape,
  type ActualTrace,
  type Mode,
  type ZipkinSpan,
} from '../../trace-check/trace-tree.ts';
import { traceApiOf, traceStore, type TraceStore } from '../../trace-check/trace-store.ts';
import { envoyFlushIntervalMs } from '../../mesh/envoy-config.ts';
import { traceIdOfAnswer } from '../../trace-check/verifier.ts';
import { COLLECTOR_SERVICE, TRACE_STORE_SERVICE, type MeshVariant } from '../../repo.ts';

/**
 * The demo fault that makes a request slow: service2's sidecar holds it 500 ms (envoy/service2-envoy.yaml;
 * controls.test.ts proves the delay). Tail sampling keeps every slow trace.
 */
export const SLOW_REQUEST_HEADERS = { 'x-mesh-fault': 'service2-delay' } as const;

/**
 * Envoy keeps a Zipkin span buffer per worker thread: a later trace arriving complete does not prove an earlier
 * span was flushed (it may sit in the other worker's buffer); one flush interval does.
 */
export function afterEnvoyFlush(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, envoyFlushIntervalMs() + 500));
}

export interface MeshUnderTest {
  mesh: ComposeMesh;
  /** http://127.0.0.1:8000 */
  front: string;
  /** The front proxy's published port on the host (8000). */
  frontPort: number;
  store: TraceStore;
  /** Zipkin's or Jaeger's base URL on the host. */
  storeUrl: string;
}

/** Registers a before hook that brings the mesh up in the given variant and mode for the enclosing describe block. */
export function meshFor(variant: MeshVariant, mode: Mode): MeshUnderTest {
  const handle = {} as MeshUnderTest;
  before(async () => {
    const mesh = new ComposeMesh(variant, (line) => {
      if (process.env.MESH_VERBOSE) console.log(`  compose | ${line}`);
    });
    await mesh.makeWay(); // removes the Envoys (and their apps) another running variant configures otherwise
    // TRACING_MODE from the environment, as in `TRACING_MODE=off docker compose up --build --wait`.
    await mesh.upServing({ TRACING_MODE: mode });
    handle.mesh = mesh;
    handle.front = mesh.publishedUrl('front-envoy', 8000);
    handle.frontPort = Number(new URL(handle.front).port);
    const api = traceApiOf(variant);
    handle.storeUrl = mesh.publishedUrl(TRACE_STORE_SERVICE, api.port);
    handle.store = traceStore(api.kind, handle.storeUrl);
    if (mesh.project.services.has(COLLECTOR_SERVICE)) await untilAppsReachStore(handle);
  });
  return handle;
}

/**
 * Through the collector, an app whose first export met a collector not listening yet retries it with a backoff and
 * holds the spans after it meanwhile, for seconds (once in ten runs a test's trace lacked every app span after
 * 7.5 s, when the switch to the variant was quick because the store kept running). On Podman a just-created app's
 * name lookups can also fail for about 24 s (docs/collector.md). `upServing` waits for the Envoys' reports; this
 * waits until a fresh request's trace holds a span of every app, so that the tests start where a user's mesh is
 * after its first seconds, and says what the apps' SDKs logged if that does not come. The request is a slow one,
 * which tail sampling always keeps.
 */
async function untilAppsReachStore(under: MeshUnderTest): Promise<void> {
  const { apps } = under.mesh;
  const deadline = Date.now() + APPS_REACH_STORE_MS;
  for (;;) {
    const response = await fetch(`${under.front}/trace/1`, { headers: SLOW_REQUEST_HEADERS });
    await response.text();
    const traceId = traceIdOfAnswer(response.headers);
    try {
      await waitForTrace(
        under.store,
        traceId,
        (spans) => apps.every((app) => spans.some((s) => s.localEndpoint?.serviceName === app)),
        `a span of each of ${apps.join(', ')}`,
        5000,
      );
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        const sdkLines = await Promise.all(
          apps.map(async (app) =>
            (await under.mesh.logs(app, 500))
              .split('\n')
              .filter((line) => line.includes(`"component":"${SDK_LOG_COMPONENT}"`))
              .map((line) => `  ${app}: ${line}`),
          ),
        );
        throw new Error(
          `the apps' spans did not all reach the store through the collector in ${APPS_REACH_STORE_MS / 1000} s: ${String(error)}\nwhat their SDKs logged:\n${sdkLines.flat().join('\n') || '  nothing'}`,
          { cause: error },
        );
      }
    }
  }
}

/** Twice the SDK's export timeout: its first batch may take that long, retries included, and still arrive. */
const APPS_REACH_STORE_MS = 2 * SPAN_BATCHING.exportTimeoutMillis;

/** Polls the store every 250 ms until the trace is `done`; returns it as it is then. */
async function waitForTrace(
  store: TraceStore,
  traceId: string,
  done: (spans: ZipkinSpan[]) => boolean,
  what: string,
  timeoutMs: number,
): Promise<ZipkinSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = await store.trace(traceId);
    if (done(spans)) return spans;
    if (Date.now() > deadline)
      throw new Error(`trace ${traceId}: not ${what} after ${timeoutMs} ms (${spans.length} spans)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Polls the store until the trace has a span matching `predicate`; returns the whole trace as it is then. */
export function waitForSpan(
  store: TraceStore,
  traceId: string,
  predicate: (span: ZipkinSpan) => boolean,
  timeoutMs = 20_000,
): Promise<ZipkinSpan[]> {
  return waitForTrace(store, traceId, (spans) => spans.some(predicate), 'a matching span', timeoutMs);
}

/** Polls until the trace has `count` spans. */
export function waitForCount(
  store: TraceStore,
  traceId: string,
  count: number,
  timeoutMs = 20_000,
): Promise<ZipkinSpan[]> {
  return waitForTrace(store, traceId, (spans) => spans.length >= count, `${count} spans`, timeoutMs);
}

/**
 * Waits until the trace has as many spans as expected-traces.yaml's otel tree, then asserts that they are that
 * tree; returns it (for checks of its own, e.g. its orphans).
 */
export async function assertWholeOtelTrace(
  store: TraceStore,
  traceId: string,
  timeoutMs = 20_000,
): Promise<ActualTrace> {
  const expected = loadExpectedTraces().otel.tree;
  const spans = await waitForCount(store, traceId, countSpans([expected]), timeoutMs);
  const trace = buildActualTrace(spans);
  assert.equal(spans.length, countSpans([expected]), `trace ${traceId}: its span count`);
  assert.ok(
    sameShape([expected], trace.roots),
    `trace ${traceId}:\n${renderTree(trace.roots)}\nexpected:\n${renderTree([expected])}`,
  );
  return trace;
}
