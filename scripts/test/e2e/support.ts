// Brings the compose mesh up on the runner for a test, with shifted host ports, and always takes it down again.
import { after, before } from 'node:test';
import { Mesh, type Backend } from '../../lib/mesh.ts';
import type { Mode } from '../../lib/trace-tree.ts';
import { traceBackend, type TraceBackend } from '../../lib/trace-backend.ts';

export const PORT_OFFSET = 20_000;

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
    handle.backendUrl = mesh.publishedUrl('zipkin', backend === 'jaeger' ? 16686 : 9411);
    handle.backend = traceBackend(backend, handle.backendUrl);
  });
  after(async () => {
    await handle.mesh.down();
    delete process.env.TRACING_MODE;
  });
  return handle;
}
