// `make verify`: one request through the front proxy, its trace from Zipkin or Jaeger, compared with the expected
// tree. It finds the mesh from compose itself: the published ports from the compose files, the backend from
// --backend (make verify BACKEND=...) or else from what runs. Exit 0 only on a match.
//
//   verify [--backend zipkin|jaeger|otel-tracer] [--url http://127.0.0.1:8000/trace/1] [--backend-url URL]
import { ComposeMesh, runningVariant } from './mesh/compose-mesh.ts';
import { traceApiOf, traceBackend } from './trace-check/trace-backend.ts';
import { formatReport, verifyTrace } from './trace-check/verifier.ts';
import { MESH_VARIANT_NAMES } from './repo.ts';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

async function main(): Promise<void> {
  const asked = option('backend');
  const backend =
    asked === undefined ? (runningVariant() ?? 'zipkin') : MESH_VARIANT_NAMES.find((b) => b === asked);
  if (!backend) {
    console.error(
      `verify: --backend must be one of ${MESH_VARIANT_NAMES.join(', ')}, not "${String(asked)}"`,
    );
    process.exit(2);
  }
  const mesh = new ComposeMesh(backend);
  const api = traceApiOf(backend);
  const backendUrl = option('backend-url') ?? mesh.publishedUrl('zipkin', api.port);
  const url = option('url') ?? `${mesh.publishedUrl('front-envoy', 8000)}/trace/1`;
  const result = await verifyTrace({ url, backend: traceBackend(api.kind, backendUrl) });
  console.log(formatReport(result));
  process.exit(result.ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(`verify: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
