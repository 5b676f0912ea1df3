// `make screenshot`: the picture in the README. Brings the mesh up (otel, Zipkin), sends one request, opens
// Zipkin's UI on that trace in headless Chromium (Debian's), waits until every service name is on the page, and
// saves docs/zipkin-trace.png. Not part of `make test`: a picture is regenerated on purpose, not on every run.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { REPO_ROOT } from './lib/compose.ts';
import { Mesh } from './lib/mesh.ts';
import { loadExpectedTraces, type TreeNode } from './lib/trace-tree.ts';
import { traceApiOf, traceBackend } from './lib/trace-backend.ts';
import { verifyTrace } from './lib/verifier.ts';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = path.join(REPO_ROOT, 'docs', 'zipkin-trace.png');

function serviceNames(node: TreeNode): Set<string> {
  return new Set([node.service, ...node.children.flatMap((child) => [...serviceNames(child)])]);
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  process.env.TRACING_MODE = 'otel';
  const mesh = new Mesh({
    backend: 'zipkin',
    portOffset: 0,
    say: (line) => {
      console.log(line);
    },
  });
  await mesh.up();
  try {
    const zipkin = mesh.publishedUrl('zipkin', traceApiOf('zipkin').port);
    const result = await verifyTrace({
      url: `${mesh.publishedUrl('front-envoy', 8000)}/trace/1`,
      backend: traceBackend('zipkin', zipkin),
    });
    if (!result.ok) throw new Error(`the trace did not verify: ${result.problems.join('; ')}`);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${zipkin}/zipkin/traces/${result.traceId}`);
      for (const name of serviceNames(loadExpectedTraces().otel.tree)) {
        await page.getByText(name, { exact: false }).first().waitFor({ timeout: 20_000 });
      }
      await page.screenshot({ path: OUTPUT, fullPage: true });
      console.log(`screenshot: ${path.relative(REPO_ROOT, OUTPUT)} (trace ${result.traceId})`);
    } finally {
      await browser.close();
    }
  } finally {
    await mesh.down();
  }
}

main().catch((error: unknown) => {
  console.error(`screenshot: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
