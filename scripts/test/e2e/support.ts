// Brings the compose mesh up on the runner for a test, with shifted host ports, and always takes it down again.
import { after, before } from 'node:test';
import { Mesh, type Backend } from '../../lib/mesh.ts';
import type { Mode, ZipkinSpan } from '../../lib/trace-tree.ts';
import {
  ENVOY_FLUSH_INTERVAL_MS,
  traceApiOf,
  traceBackend,
  type TraceBackend,
} from '../../lib/trace-backend.ts';

export const PORT_OFFSET = 20_000;

/**
 * Envoy keeps a Zipkin span buffer per worker thread: a later trace arriving complete does not prove an earlier
 * span was flushed (it may sit in the other worker's buffer); one flush interval does.
 */

export function afterEnvoyFlush(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ENVOY_FLUSH_INTERVAL_MS + 500));
}

export interface MeshUnderTest {
  mesh: Mesh;
  /** http://127.0.0.1:28000 */
  front: string;
  backend: TraceBackend;
  /** Zipkin's or Jaeger's base URL on the host. */
  backendUrl: string;
}

/** Registers before/after hooks that run the mesh in the given mode for the enclosing describe block. */
export function meshFor(backend: Backend, mode: Mode): MeshUnderTest {
  const handle = {} as MeshUnderTest;
  before(async () => {
    process.env.TRACING_MODE = mode; // read by the compose interpolation, as `TRACING_MODE=off docker compose up`
    const mesh = new Mesh({ backend, portOffset: PORT_OFFSET, say: () => undefined });
    await mesh.up();
    handle.mesh = mesh;
    handle.front = mesh.publishedUrl('front-envoy', 8000);
    const api = traceApiOf(backend);
    handle.backendUrl = mesh.publishedUrl('zipkin', api.port);
    handle.backend = traceBackend(api.kind, handle.backendUrl);
  });
  after(async () => {
    await handle.mesh.down();
    delete process.env.TRACING_MODE;
  });
  return handle;
}

/** Polls the backend until the trace has a span matching `predicate`; returns the whole trace as it is then. */
export async function waitForSpan(
  backend: TraceBackend,
  traceId: string,
  predicate: (span: ZipkinSpan) => boolean,
  timeoutMs = 20_000,
): Promise<ZipkinSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = await backend.trace(traceId);
    if (spans.some(predicate)) return spans;
    if (Date.now() > deadline)
      throw new Error(`trace ${traceId}: no matching span after ${timeoutMs} ms (${spans.length} spans)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Polls until the trace has `count` spans. */
export async function waitForCount(
  backend: TraceBackend,
  traceId: string,
  count: number,
  timeoutMs = 20_000,
): Promise<ZipkinSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = await backend.trace(traceId);
    if (spans.length >= count) return spans;
    if (Date.now() > deadline)
      throw new Error(`trace ${traceId}: ${spans.length} of ${count} spans after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
