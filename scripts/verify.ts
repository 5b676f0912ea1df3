// `make verify`: one request through the front proxy, its trace from Zipkin or Jaeger, compared with the expected
// tree. Works against the runner's mesh and against `docker compose up` alike (same URLs). Exit 0 only on a match.
//
//   verify [--url http://127.0.0.1:8000/trace/1] [--backend zipkin|jaeger|otel-tracer] [--backend-url URL]
import { readState } from './lib/mesh.ts';
import { traceBackend, type BackendKind } from './lib/trace-backend.ts';
import { formatReport, verifyTrace } from './lib/verifier.ts';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

async function main(): Promise<void> {
  const offset = Number(process.env.MESH_PORT_OFFSET ?? readState()?.portOffset ?? 0);
  // The otel-tracer variant keeps its traces in Jaeger too.
  const backendOption = option('backend') ?? readState()?.backend ?? 'zipkin';
  if (!['zipkin', 'jaeger', 'otel-tracer'].includes(backendOption)) {
    console.error(`verify: --backend must be zipkin, jaeger or otel-tracer, not "${backendOption}"`);
    process.exit(2);
  }
  const kind: BackendKind = backendOption === 'zipkin' ? 'zipkin' : 'jaeger';
  const backendUrl =
    option('backend-url') ?? `http://127.0.0.1:${(kind === 'jaeger' ? 16686 : 9411) + offset}`;
  const url = option('url') ?? `http://127.0.0.1:${8000 + offset}/trace/1`;
  const result = await verifyTrace({ url, backend: traceBackend(kind, backendUrl) });
  console.log(formatReport(result));
  process.exit(result.ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(`verify: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
