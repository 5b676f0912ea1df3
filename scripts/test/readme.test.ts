// The README copies three facts from their sources so that a reader sees them where the lesson is: the otel tree
// (expected-traces.yaml), the header list (the services' TRACE_CONTEXT_HEADERS) and the span counts. Each copy is
// held to its source here, and every file the README links to must exist.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TRACE_CONTEXT_HEADERS } from '@traced-envoy-mesh/services/trace-headers';
import { REPO_ROOT } from '../repo.ts';
import { countSpans, loadExpectedTraces, renderTree } from '../trace-check/trace-tree.ts';

const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const expected = loadExpectedTraces();

/** The text of the first fenced block after `marker`. */
function blockAfter(marker: string): string {
  const from = README.indexOf(marker);
  assert.notEqual(from, -1, `README.md has no "${marker}"`);
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(README.slice(from));
  return match?.[1]?.trimEnd() ?? '';
}

describe('README.md holds the facts it copies', () => {
  it("the otel tree is expected-traces.yaml's", () => {
    assert.equal(blockAfter('**`otel`**'), renderTree([expected.otel.tree]));
  });

  it("the span counts are the expected trees' sizes", () => {
    assert.match(README, new RegExp(`one trace, ${countSpans([expected.otel.tree])} spans`));
    assert.match(
      README,
      new RegExp(`one trace of the\\s+proxies' ${countSpans([expected.forward.tree])} spans`),
    );
  });

  it("the forward mode's header list is the services' TRACE_CONTEXT_HEADERS, in order", () => {
    const bullet = /\*\*`forward`\*\*: no SDK is loaded\.[\s\S]*?— one list/.exec(README)?.[0] ?? '';
    const listed = [...bullet.matchAll(/`([a-z0-9-]+)`/g)].map((match) => match[1]).slice(1); // after `forward`
    assert.deepEqual(listed, [...TRACE_CONTEXT_HEADERS]);
  });

  it('every file it links to exists', () => {
    const links = [...README.matchAll(/\]\(((?!https?:)[^)#]+)(?:#[^)]*)?\)/g)].map(
      (match) => match[1] ?? '',
    );
    assert.ok(links.length > 5, `only ${links.length} local links found`);
    assert.deepEqual(
      links.filter((link) => !existsSync(path.join(REPO_ROOT, link))),
      [],
    );
  });
});
