// `make screenshot`: the picture in the README. Brings the mesh up (otel, Zipkin) with compose, sends one request,
// opens Zipkin's UI on that trace in headless Chromium (Debian's), waits until every service name is on the page,
// and saves docs/zipkin-trace.png. The UI test (scripts/test/e2e/zipkin-ui.test.ts) checks the same page.
import path from 'node:path';
import { ComposeMesh } from './mesh/compose-mesh.ts';
import { loadExpectedTraces, serviceNames } from './trace-check/trace-tree.ts';
import { traceApiOf, traceStore } from './trace-check/trace-store.ts';
import { verifyTrace } from './trace-check/verifier.ts';
import { withZipkinTracePage } from './trace-check/zipkin-ui.ts';
import { REPO_ROOT, TRACE_STORE_SERVICE } from './repo.ts';

const OUTPUT = path.join(REPO_ROOT, 'docs', 'zipkin-trace.png');

async function main(): Promise<void> {
  const mesh = new ComposeMesh('zipkin', (line) => {
    console.log(line);
  });
  await mesh.up({ TRACING_MODE: 'otel' });
  const zipkin = mesh.publishedUrl(TRACE_STORE_SERVICE, traceApiOf('zipkin').port);
  const result = await verifyTrace({
    url: `${mesh.publishedUrl('front-envoy', 8000)}/trace/1`,
    store: traceStore('zipkin', zipkin),
  });
  if (!result.ok) throw new Error(`the trace did not verify: ${result.problems.join('; ')}`);
  await withZipkinTracePage(zipkin, result.traceId, serviceNames(loadExpectedTraces().otel.tree), (page) =>
    page.screenshot({ path: OUTPUT, fullPage: true }),
  );
  console.log(
    `screenshot: ${path.relative(REPO_ROOT, OUTPUT)} (trace ${result.traceId}); the mesh keeps running`,
  );
}

main().catch((error: unknown) => {
  console.error(`screenshot: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
