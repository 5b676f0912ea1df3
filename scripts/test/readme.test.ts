// The README copies three facts from their sources so that a reader sees them where the lesson is: the otel tree
// (expected-traces.yaml), the header list (the services' TRACE_CONTEXT_HEADERS) and the span counts. Each copy is
// held to its source here, and every file the README links to must exist.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TRACE_CONTEXT_HEADERS } from '@traced-envoy-mesh/services/trace-headers';
import { REPO_ROOT } from '../repo.ts';
import { countSpans, loadExpectedTraces, logLinesPerService, renderTree } from '../trace-check/trace-tree.ts';

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

  it("the log lines of one request are the expected tree's hops", () => {
    const perService = logLinesPerService(expected.otel.tree);
    const total = Object.values(perService).reduce((sum, n) => sum + n, 0);
    const sentence = /That is (\d+) lines for one `\/trace\/1`: ([\s\S]*?)\./.exec(README);
    assert.equal(Number(sentence?.[1]), total);
    const envoys = [...(sentence?.[2] ?? '').matchAll(/([a-z0-9-]+-envoy) (\d+)/g)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    const apps =
      /the apps ([\d, and]+)/
        .exec(sentence?.[2] ?? '')?.[1]
        ?.match(/\d+/g)
        ?.map(Number) ?? [];
    assert.deepEqual(
      Object.fromEntries(envoys),
      Object.fromEntries(Object.entries(perService).filter(([s]) => s.endsWith('-envoy'))),
    );
    assert.deepEqual(
      apps,
      Object.entries(perService)
        .filter(([s]) => !s.endsWith('-envoy'))
        .map(([, n]) => n),
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
