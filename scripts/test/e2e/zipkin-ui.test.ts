// What a user does after the quick start: open Zipkin's UI, paste the trace id, read the trace. In a real browser
// (Debian's Chromium), against the mesh `docker compose up --build --wait` started.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countSpans, loadExpectedTraces, serviceNames, type TreeNode } from '../../trace-check/trace-tree.ts';
import { formatReport, verifyTrace } from '../../trace-check/verifier.ts';
import { withZipkinTracePage } from '../../trace-check/zipkin-ui.ts';
import { meshFor } from './support.ts';

/** "service: span name" as Zipkin's span rows show it, for every node of the tree. */
function rows(node: TreeNode): string[] {
  return [`${node.service}: ${node.name}`, ...node.children.flatMap(rows)];
}

describe("Zipkin's UI in Chromium", () => {
  const under = meshFor('zipkin', 'otel');

  it('finds the trace by its id and shows every span of the expected tree', async () => {
    const expected = loadExpectedTraces().otel.tree;
    const result = await verifyTrace({ url: `${under.front}/trace/1`, store: under.store });
    assert.ok(result.ok, formatReport(result));
    const text = await withZipkinTracePage(under.storeUrl, result.traceId, serviceNames(expected), (page) =>
      page.innerText('body'),
    );
    assert.equal(/Total Spans\s+(\d+)/.exec(text)?.[1], String(countSpans([expected])), text.slice(0, 400));
    assert.equal(/Services\s+(\d+)/.exec(text)?.[1], String(serviceNames(expected).size));
    assert.ok(text.includes(result.traceId));
    for (const row of rows(expected)) assert.ok(text.includes(row), `the span row "${row}" is on the page`);
  });
});
