// `make verify TRACE_FILE=...` on traces saved from this mesh (scripts/test/data/saved-traces/, recorded from the
// running mesh: see its README) and on broken copies of them: the verdict, the exit code and the one line a user
// gets. Offline: no engine, no store.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../repo.ts';
import { countSpans, loadExpectedTrace } from '../trace-check/trace-tree.ts';

const SAVED = path.join(REPO_ROOT, 'scripts', 'test', 'data', 'saved-traces');
const ZIPKIN_FILE = path.join(SAVED, 'zipkin-v2.json');
const OTLP_FILE = path.join(SAVED, 'otlp.json');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'saved-trace-'));

/** `make verify` as a user runs it, with make's own variables. */
function makeVerify(variables: Record<string, string>) {
  const args = [
    '--no-print-directory',
    '-s',
    'verify',
    ...Object.entries(variables).map(([k, v]) => `${k}=${v}`),
  ];
  const result = spawnSync('make', args, { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The verifier itself (what make runs), to see its stderr without make's own error line. */
function verify(...args: string[]) {
  const node = path.join(REPO_ROOT, 'node_modules', '.bin', 'node');
  const result = spawnSync(node, ['--import', 'tsx', 'scripts/verify.ts', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A copy of a saved trace, changed. */
function brokenCopy(source: string, name: string, edit: (trace: unknown) => unknown): string {
  const file = path.join(scratch, name);
  writeFileSync(file, JSON.stringify(edit(JSON.parse(readFileSync(source, 'utf8')))));
  return file;
}

type Span = Record<string, unknown>;
const zipkinSpans = () => JSON.parse(readFileSync(ZIPKIN_FILE, 'utf8')) as Span[];

describe('make verify TRACE_FILE: traces saved from the mesh', () => {
  it('the saved fixtures are whole otel traces of this mesh', () => {
    assert.equal(zipkinSpans().length, countSpans([loadExpectedTrace('otel').tree]));
  });

  for (const file of [ZIPKIN_FILE, OTLP_FILE]) {
    it(`${path.basename(file)} matches the expected otel tree`, () => {
      const run = makeVerify({ TRACE_FILE: file });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /OK: the trace matches the expected otel tree/);
      assert.match(run.stdout, new RegExp(`from +file ${file}`));
    });
  }

  it('the same trace held to another mode fails, with the expected tree beside it', () => {
    const run = verify('--trace-file', ZIPKIN_FILE, '--mode', 'forward');
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.notEqual(makeVerify({ TRACE_FILE: ZIPKIN_FILE, TRACING_MODE: 'forward' }).status, 0);
    assert.match(run.stdout, /the trace does not have the expected forward shape/);
    assert.match(run.stdout, /expected \(forward\):/);
  });

  it('a trace that lost an app span names the orphans and where propagation broke', () => {
    const file = brokenCopy(ZIPKIN_FILE, 'lost-service2.json', (trace) =>
      (trace as Span[]).filter(
        (span) =>
          !((span.localEndpoint as Span | undefined)?.serviceName === 'service2' && span.kind === 'SERVER'),
      ),
    );
    const run = verify('--trace-file', file);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /span service2 "resolve-hostname" has parent [0-9a-f]{16}, which is not in the trace/,
    );
    assert.match(run.stdout, /FAILED:/);
  });

  it('EXPECTED holds a trace to a tree file of your own, which may name one mode only', () => {
    const own = path.join(scratch, 'own-expected.yaml');
    const tree =
      readFileSync(path.join(REPO_ROOT, 'expected-traces.yaml'), 'utf8').split('\nforward:')[0] ?? '';
    writeFileSync(own, tree);
    const run = makeVerify({ TRACE_FILE: OTLP_FILE, EXPECTED: own });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const forward = verify('--trace-file', OTLP_FILE, '--expected', own, '--mode', 'forward');
    assert.equal(forward.status, 2);
    assert.equal(forward.stderr, `verify: expected trees: ${own}: mode "forward" has no tree\n`);
  });
});

describe('make verify TRACE_FILE: bad files get one line and exit 2', () => {
  const cases: { name: string; file: () => string; line: RegExp }[] = [
    {
      name: 'not JSON',
      file: () => {
        const file = path.join(scratch, 'not-json.json');
        writeFileSync(file, '<html>Zipkin</html>');
        return file;
      },
      line: /^verify: \S+not-json\.json not JSON \(.+\)$/,
    },
    {
      name: 'JSON that is no trace',
      file: () => brokenCopy(ZIPKIN_FILE, 'object.json', () => ({ traces: [] })),
      line: /^verify: \S+ not a trace: expected Zipkin v2 JSON \(an array of spans\), OTLP JSON \(resourceSpans\) or Jaeger UI JSON \(data\)$/,
    },
    {
      name: 'no span',
      file: () => brokenCopy(ZIPKIN_FILE, 'empty.json', () => []),
      line: /^verify: \S+ holds no span$/,
    },
    {
      name: 'two trace ids',
      file: () =>
        brokenCopy(ZIPKIN_FILE, 'two-traces.json', (trace) =>
          (trace as Span[]).map((span, index) => (index === 0 ? { ...span, traceId: 'a'.repeat(32) } : span)),
        ),
      line: /^verify: \S+ holds 2 trace ids \([0-9a-f]{32}, [0-9a-f]{32}\): save one trace per file$/,
    },
    {
      name: 'a Zipkin span without an id',
      file: () =>
        brokenCopy(ZIPKIN_FILE, 'no-id.json', (trace) =>
          (trace as Span[]).map((span, index) => (index === 3 ? { ...span, id: undefined } : span)),
        ),
      line: /^verify: \S+ not a Zipkin v2 trace: 3\.id: .+$/,
    },
    {
      name: 'an OTLP span without a span id',
      file: () =>
        brokenCopy(OTLP_FILE, 'otlp-no-id.json', (trace) => {
          const copy = structuredClone(trace) as { result?: unknown; resourceSpans?: unknown };
          const body = (copy.result ?? copy) as { resourceSpans: { scopeSpans: { spans: Span[] }[] }[] };
          const first = body.resourceSpans[0]?.scopeSpans[0]?.spans[0];
          if (first) delete first.spanId;
          return copy;
        }),
      line: /^verify: \S+ not an OTLP JSON trace: resourceSpans\.0\.scopeSpans\.0\.spans\.0\.spanId: .+$/,
    },
    {
      name: 'a file that is not there',
      file: () => path.join(scratch, 'missing.json'),
      line: /^verify: \S+missing\.json cannot be read \(ENOENT\)$/,
    },
  ];
  for (const { name, file, line } of cases) {
    it(name, () => {
      const run = verify('--trace-file', file());
      assert.equal(run.status, 2, run.stdout + run.stderr);
      assert.equal(run.stdout, '');
      assert.match(run.stderr.trimEnd(), line);
      assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
    });
  }

  it('an unknown tracing mode', () => {
    const run = verify('--trace-file', ZIPKIN_FILE, '--mode', 'everything');
    assert.equal(run.status, 2);
    assert.equal(run.stderr, 'verify: --mode must be one of otel, forward, off, not "everything"\n');
  });
});
