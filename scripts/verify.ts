// `make verify`: one request through the front proxy, its trace from Zipkin or Jaeger, compared with the expected
// tree. It finds the mesh from compose itself: the published ports from the compose files, the backend from
// --backend (make verify BACKEND=...) or else from what runs.
// `make verify TRACE_FILE=...`: the same comparison for a trace saved to a file (Zipkin v2 JSON, OTLP JSON), offline;
// --mode names the tracing mode it was made in (default otel), --expected another expected-traces file.
// Exit 0: the trace matches. 1: it does not, or the live mesh failed. 2: bad input (an option, the file).
//
//   verify [--backend zipkin|jaeger|otel-tracer] [--url http://127.0.0.1:8000/trace/1] [--backend-url URL]
//   verify --trace-file trace.json [--mode otel|forward|off] [--expected expected-traces.yaml]
import { ComposeMesh, runningVariant } from './mesh/compose-mesh.ts';
import { traceApiOf, traceStore } from './trace-check/trace-store.ts';
import { readSavedTrace, SavedTraceError } from './trace-check/saved-trace.ts';
import {
  EXPECTED_TRACES_FILE,
  loadExpectedTrace,
  TRACING_MODES,
  type TreeNode,
} from './trace-check/trace-tree.ts';
import { formatReport, verifySavedTrace, verifyTrace } from './trace-check/verifier.ts';
import { MESH_VARIANT_NAMES, TRACE_STORE_SERVICE } from './repo.ts';

/** Bad input: one line on stderr, exit 2, nothing else done. */
class UsageError extends Error {}

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((candidate) => candidate === value);
  if (!found) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, not "${value}"`);
  return found;
}

async function verifyLive(): Promise<boolean> {
  if (option('expected') !== undefined)
    throw new UsageError('--expected (EXPECTED=) is for a saved trace: give TRACE_FILE too');
  const asked = option('backend');
  const variant =
    asked === undefined ? (runningVariant() ?? 'zipkin') : oneOf('backend', asked, MESH_VARIANT_NAMES);
  const mesh = new ComposeMesh(variant);
  const api = traceApiOf(variant);
  const storeUrl = option('backend-url') ?? mesh.publishedUrl(TRACE_STORE_SERVICE, api.port);
  const url = option('url') ?? `${mesh.publishedUrl('front-envoy', 8000)}/trace/1`;
  const result = await verifyTrace({ url, store: traceStore(api.kind, storeUrl) });
  console.log(formatReport(result));
  return result.ok;
}

async function verifySaved(file: string): Promise<boolean> {
  const mode = oneOf('mode', option('mode') ?? 'otel', TRACING_MODES);
  const expectedFile = option('expected') ?? EXPECTED_TRACES_FILE;
  let spans;
  try {
    spans = readSavedTrace(file);
  } catch (error) {
    if (error instanceof SavedTraceError) throw new UsageError(`${file} ${error.message}`);
    throw error;
  }
  const expected = (() => {
    try {
      return loadExpectedTrace(mode, expectedFile);
    } catch (error) {
      throw new UsageError(`expected trees: ${error instanceof Error ? error.message : String(error)}`);
    }
  })();
  // The proxies' whole chain names the hop where propagation broke, when the expected file has one.
  let chain: TreeNode | null;
  try {
    chain = loadExpectedTrace('forward', expectedFile).tree;
  } catch {
    chain = null;
  }
  const result = await verifySavedTrace(spans, expected, mode, file, chain);
  console.log(formatReport(result));
  return result.ok;
}

async function main(): Promise<void> {
  const file = option('trace-file');
  const ok = file === undefined ? await verifyLive() : await verifySaved(file);
  process.exit(ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(`verify: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
