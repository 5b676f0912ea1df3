// `make verify`: one request through the front proxy, its trace from Zipkin or Jaeger, compared with the expected
// tree. Works against the runner's mesh and against `docker compose up` alike (same URLs). Exit 0 only on a match.
//
//   verify [--url http://127.0.0.1:8000/trace/1] [--backend zipkin|jaeger|otel-tracer] [--backend-url URL]
import { readState } from './lib/mesh.ts';
import { BACKENDS } from './lib/compose.ts';
import { traceApiOf, traceBackend } from './lib/trace-backend.ts';
import { formatReport, verifyTrace } from './lib/verifier.ts';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

async function main(): Promise<void> {
  const offset = Number(process.env.MESH_PORT_OFFSET ?? readState()?.portOffset ?? 0);
  const backend = BACKENDS.find((b) => b === (option('backend') ?? readState()?.backend ?? 'zipkin'));
  if (!backend) {
    console.error(`verify: --backend must be one of ${BACKENDS.join(', ')}`);
    process.exit(2);
  }
  const api = traceApiOf(backend);
  const backendUrl = option('backend-url') ?? `http://127.0.0.1:${api.port + offset}`;
  const url = option('url') ?? `http://127.0.0.1:${8000 + offset}/trace/1`;
  const result = await verifyTrace({ url, backend: traceBackend(api.kind, backendUrl) });
  console.log(formatReport(result));
  process.exit(result.ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(`verify: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
