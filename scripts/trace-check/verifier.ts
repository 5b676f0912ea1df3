// One request through the front proxy, its trace read back from the trace store, compared with the expected tree of
// the mode the services run in, and, when propagation broke, where it broke.
import {
  buildActualTrace,
  countSpans,
  isProxy,
  loadExpectedTraces,
  loadOtelTracerTree,
  renderTree,
  sameShape,
  type ActualTrace,
  type ExpectedTrace,
  type Mode,
  type TreeNode,
  type ZipkinSpan,
  TRACING_MODES,
} from './trace-tree.ts';
import type { TraceStore } from './trace-store.ts';
import { envoyFlushIntervalMs } from '../mesh/envoy-config.ts';

export interface VerifyOptions {
  /** e.g. http://127.0.0.1:8000/trace/1 */
  url: string;
  store: TraceStore;
  /** Extra request headers (e.g. a W3C traceparent). */
  headers?: Record<string, string>;
  /** How long to wait for the trace to arrive and stop growing. */
  timeoutMs?: number;
}

export interface BreakReport {
  /** The last span of the request's trace before the break. */
  endsAfter: string;
  /** The app that did not carry the context. */
  app: string;
  /** The first proxy span that should have been in the trace, and the trace it started instead (if found). */
  startedNewTrace: { span: string; traceIds: string[]; searched: boolean };
}

export interface VerifyResult {
  ok: boolean;
  /** Where the trace came from: the request that made it, or the file it was saved in. */
  source: string;
  /** The front proxy's answer; null for a saved trace. */
  status: number | null;
  mode: Mode;
  traceId: string;
  requestId: string | null;
  body: unknown;
  spans: ZipkinSpan[];
  actual: ActualTrace;
  expected: TreeNode;
  problems: string[];
  breakReport: BreakReport | null;
}

/**
 * Nothing new for this long while spans are missing: every Envoy has posted, and every SDK too (its
 * scheduledDelayMillis, services/src/tracing/span-batching.ts, is no longer than Envoy's flush interval) - plus 5 s,
 * because right after a fresh `up` an app's first reports were seen arriving seconds late (2 of 5 fresh starts here:
 * service1's and service2's spans after the rest; cause not found, see docs/reliability.md). A trace that is
 * whole sooner returns sooner.
 */
const SETTLE_MS = envoyFlushIntervalMs() + 1000 + 5000;

/**
 * The trace id front-envoy answers with: x-b3-traceid (Zipkin tracer) or traceparent's (the OpenTelemetry-tracer
 * variant); '' when neither is there.
 */
export function traceIdOfAnswer(headers: Headers): string {
  return headers.get('x-b3-traceid') ?? headers.get('traceparent')?.split('-')[1] ?? '';
}

export async function verifyTrace(options: VerifyOptions): Promise<VerifyResult> {
  const expectedTraces = loadExpectedTraces();
  const startedAt = Date.now();
  const response = await fetch(options.url, {
    headers: { accept: 'application/json', ...options.headers },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const body: unknown = response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  const traceId = traceIdOfAnswer(response.headers);
  const requestId = response.headers.get('x-request-id');
  const reported = (body as { tracingMode?: unknown } | null)?.tracingMode;
  const mode: Mode = TRACING_MODES.find((m) => m === reported) ?? 'otel';
  // The OpenTelemetry-tracer variant answers with traceparent, not x-b3-traceid: its `otel` tree is the Zipkin one
  // with the differences recorded in expected-traces.yaml.
  const otelTracer = !response.headers.has('x-b3-traceid') && response.headers.has('traceparent');
  const expected =
    mode === 'otel' && otelTracer
      ? { ...expectedTraces.otel, tree: loadOtelTracerTree() }
      : expectedTraces[mode];
  const problems: string[] = [];

  if (response.status !== 200)
    problems.push(`the front proxy answered ${response.status}: ${text.slice(0, 300)}`);
  if (!/^[0-9a-f]{32}$/.test(traceId))
    problems.push(`the trace id "${traceId}" (x-b3-traceid or traceparent) is not 128-bit`);
  if (!requestId) problems.push('the response has no x-request-id');

  const spans = problems.length ? [] : await waitForTrace(options, traceId, countSpans([expected.tree]));
  const actual = buildActualTrace(spans);
  if (spans.length === 0 && problems.length === 0)
    problems.push(`trace ${traceId} never arrived at ${options.store.baseUrl}`);
  problems.push(...treeProblems(actual, spans.length > 0 ? expected.tree : null, mode));

  // Where did propagation stop? Compare with the proxies' full chain (the forward tree: every hop carried).
  const breakReport =
    spans.length > 0
      ? await findBreak(actual, expectedTraces.forward.tree, { store: options.store, sinceMs: startedAt })
      : null;
  problems.push(...breakProblems(breakReport, expected, mode));

  return {
    ok: problems.length === 0,
    source: `GET ${options.url} -> ${String(response.status)}  x-request-id: ${String(requestId)}`,
    status: response.status,
    mode,
    traceId,
    requestId,
    body,
    spans,
    actual,
    expected: expected.tree,
    problems,
    breakReport,
  };
}

/** What is wrong with the trace's tree: spans whose parent is missing, and a shape other than `expected`'s. */
function treeProblems(actual: ActualTrace, expected: TreeNode | null, mode: Mode): string[] {
  const problems = actual.orphans.map(
    (orphan) =>
      `span ${orphan.localEndpoint?.serviceName ?? '?'} "${orphan.name ?? ''}" has parent ${String(orphan.parentId)}, which is not in the trace`,
  );
  if (expected && !sameShape([expected], actual.roots)) {
    problems.push(`the trace does not have the expected ${mode} shape (see the trees above)`);
  }
  return problems;
}

/** `off` must break after the app it names (and, live, the next hop must have started its own trace). */
function breakProblems(breakReport: BreakReport | null, expected: ExpectedTrace, mode: Mode): string[] {
  if (mode !== 'off') return breakReport ? [`propagation broke after ${breakReport.app}`] : [];
  if (breakReport?.app !== expected.breaksAfter) {
    return [
      `expected the trace to break after ${String(expected.breaksAfter)}, found ${breakReport?.app ?? 'no break'}`,
    ];
  }
  const started = breakReport.startedNewTrace;
  return started.searched && started.traceIds.length === 0
    ? [`no new trace started by ${started.span} was found`]
    : [];
}

/**
 * A trace saved to a file (scripts/trace-check/saved-trace.ts reads it), compared with an expected tree exactly as
 * a live one is, offline: there is no store to search for the trace a broken hop started instead.
 */
export async function verifySavedTrace(
  spans: ZipkinSpan[],
  expected: ExpectedTrace,
  mode: Mode,
  file: string,
  /** The proxies' full chain (the `forward` tree), to name the hop where propagation broke; null: not named. */
  chain: TreeNode | null,
): Promise<VerifyResult> {
  const actual = buildActualTrace(spans);
  const problems = treeProblems(actual, expected.tree, mode);
  const breakReport = chain ? await findBreak(actual, chain, null) : null;
  problems.push(...breakProblems(breakReport, expected, mode));
  return {
    ok: problems.length === 0,
    source: `file ${file}`,
    status: null,
    mode,
    traceId: spans[0]?.traceId ?? '',
    requestId: null,
    body: null,
    spans,
    actual,
    expected: expected.tree,
    problems,
    breakReport,
  };
}

/** Polls until the expected number of spans arrived and nothing more came for a second, or nothing new for SETTLE_MS. */
async function waitForTrace(
  options: VerifyOptions,
  traceId: string,
  expectedCount: number,
): Promise<ZipkinSpan[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let spans: ZipkinSpan[] = [];
  let changedAt = Date.now();
  for (;;) {
    const now = await options.store.trace(traceId);
    if (now.length !== spans.length) changedAt = Date.now();
    spans = now;
    const quietFor = Date.now() - changedAt;
    if (spans.length >= expectedCount && quietFor >= 1000) return spans;
    if (spans.length > 0 && quietFor >= SETTLE_MS) return spans;
    if (Date.now() > deadline) return spans;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The first proxy span of the full chain missing from the trace, and its parent: the hop that did not carry. */
function firstMissingHop(actual: ActualTrace, chain: TreeNode): { node: TreeNode; parent: TreeNode } | null {
  const present = new Set<string>();
  const walk = (node: TreeNode) => {
    if (isProxy(node.service)) present.add(`${node.service}|${node.name}|${node.kind}`);
    node.children.forEach(walk);
  };
  actual.roots.forEach(walk);
  const queue: { node: TreeNode; parent: TreeNode | null }[] = [{ node: chain, parent: null }];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const { node, parent } = next;
    if (!present.has(`${node.service}|${node.name}|${node.kind}`)) return parent ? { node, parent } : null;
    for (const child of node.children) queue.push({ node: child, parent: node });
  }
  return null;
}

/**
 * Where propagation stopped, and, when a store is there to ask (`store`), the trace the missing hop started
 * instead.
 */
async function findBreak(
  actual: ActualTrace,
  chain: TreeNode,
  search: { store: TraceStore; sinceMs: number } | null,
): Promise<BreakReport | null> {
  const missing = firstMissingHop(actual, chain);
  if (!missing) return null;
  const { node, parent } = missing;
  const roots = search ? await search.store.rootSpans(node.service, node.name, search.sinceMs) : [];
  return {
    endsAfter: `${parent.service} ${parent.name} ${parent.kind}`,
    app: node.service.replace(/-envoy$/, ''),
    startedNewTrace: {
      span: `${node.service} ${node.name} ${node.kind}`,
      traceIds: [...new Set(roots.map((s) => s.traceId))],
      searched: search !== null,
    },
  };
}

/** The report a person reads: the trace as a tree with durations and a waterfall, then the verdict. */
export function formatReport(result: VerifyResult): string {
  const lines: string[] = [];
  lines.push(`from     ${result.source}`);
  lines.push(`trace id ${result.traceId}`);
  lines.push(
    `mode     ${result.mode} (${result.status === null ? 'as asked for' : 'as the services report it'})`,
  );
  lines.push('');
  const spans = result.spans;
  const start = Math.min(...spans.map((s) => s.timestamp ?? 0));
  const end = Math.max(...spans.map((s) => (s.timestamp ?? 0) + (s.duration ?? 0)));
  const width = 30;
  const bar = (span: ZipkinSpan) => {
    const total = Math.max(end - start, 1);
    const from = Math.floor((((span.timestamp ?? start) - start) / total) * width);
    const length = Math.max(1, Math.round(((span.duration ?? 0) / total) * width));
    return `|${' '.repeat(from)}${'#'.repeat(Math.min(length, width - from))}${' '.repeat(Math.max(0, width - from - length))}|`;
  };
  const tree = renderTree(result.actual.roots, (node) => {
    const span = node.span;
    return `${((span.duration ?? 0) / 1000).toFixed(1).padStart(7)} ms  ${bar(span)}`;
  });
  lines.push(
    `trace (${String(spans.length)} spans${result.status === null ? '' : `, read back from ${result.spans.length ? 'the store' : 'nowhere'}`}):`,
  );
  lines.push(alignColumns(tree));
  lines.push('');
  if (!sameShape([result.expected], result.actual.roots)) {
    lines.push(`expected (${result.mode}):`);
    lines.push(renderTree([result.expected]));
    lines.push('');
  }
  if (result.breakReport) {
    const b = result.breakReport;
    lines.push(`propagation stops after: ${b.endsAfter}`);
    lines.push(
      `  ${b.app} did not carry the trace context to its outbound call, so ${b.startedNewTrace.span}`,
    );
    lines.push(
      b.startedNewTrace.traceIds.length
        ? `  started a new trace: ${b.startedNewTrace.traceIds.join(', ')}`
        : b.startedNewTrace.searched
          ? '  is not in this trace (no new trace with it was found either)'
          : '  is not in this trace',
    );
    lines.push('');
  }
  lines.push(
    result.ok
      ? `OK: the trace matches the expected ${result.mode} tree`
      : `FAILED:\n${result.problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  return lines.join('\n');
}

/** Pads the "service  name  KIND" part of each rendered line so the duration columns line up. */
function alignColumns(text: string): string {
  const rows = text.split('\n').map((line) => {
    const match = /^(.*?(?:CLIENT|SERVER|PRODUCER|CONSUMER|LOCAL))(.*)$/.exec(line);
    return match ? [match[1] ?? '', match[2] ?? ''] : [line, ''];
  });
  const widest = Math.max(...rows.map(([head]) => (head ?? '').length));
  return rows.map(([head, tail]) => `${(head ?? '').padEnd(widest)}${tail ?? ''}`).join('\n');
}
