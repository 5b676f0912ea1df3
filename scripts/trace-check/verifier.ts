// One request through the front proxy, its trace read back from the backend, compared with the expected tree of
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
  type Mode,
  type TreeNode,
  type ZipkinSpan,
  TRACING_MODES,
} from './trace-tree.ts';
import type { TraceBackend } from './trace-backend.ts';
import { envoyFlushIntervalMs } from '../mesh/envoy-config.ts';

export interface VerifyOptions {
  /** e.g. http://127.0.0.1:8000/trace/1 */
  url: string;
  backend: TraceBackend;
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
  startedNewTrace: { span: string; traceIds: string[] };
}

export interface VerifyResult {
  ok: boolean;
  status: number;
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

export async function verifyTrace(options: VerifyOptions): Promise<VerifyResult> {
  const expectedTraces = loadExpectedTraces();
  const startedAt = Date.now();
  const response = await fetch(options.url, {
    headers: { accept: 'application/json', ...options.headers },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const body: unknown = response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  // front-envoy answers with x-b3-traceid (Zipkin tracer) or with traceparent (the OpenTelemetry-tracer variant).
  const traceId =
    response.headers.get('x-b3-traceid') ?? response.headers.get('traceparent')?.split('-')[1] ?? '';
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
    problems.push(`trace ${traceId} never arrived at ${options.backend.baseUrl}`);
  for (const orphan of actual.orphans) {
    problems.push(
      `span ${orphan.localEndpoint?.serviceName ?? '?'} "${orphan.name ?? ''}" has parent ${String(orphan.parentId)}, which is not in the trace`,
    );
  }
  if (spans.length > 0 && !sameShape([expected.tree], actual.roots)) {
    problems.push(`the trace does not have the expected ${mode} shape (see the trees above)`);
  }

  // Where did propagation stop? Compare with the proxies' full chain (the forward tree: every hop carried).
  const breakReport =
    spans.length > 0
      ? await findBreak(options.backend, actual, expectedTraces.forward.tree, startedAt)
      : null;
  if (mode === 'off') {
    if (breakReport?.app !== expected.breaksAfter) {
      problems.push(
        `expected the trace to break after ${String(expected.breaksAfter)}, found ${breakReport?.app ?? 'no break'}`,
      );
    } else if (breakReport.startedNewTrace.traceIds.length === 0) {
      problems.push(`no new trace started by ${breakReport.startedNewTrace.span} was found`);
    }
  } else if (breakReport) {
    problems.push(`propagation broke after ${breakReport.app}`);
  }

  return {
    ok: problems.length === 0,
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
    const now = await options.backend.trace(traceId);
    if (now.length !== spans.length) changedAt = Date.now();
    spans = now;
    const quietFor = Date.now() - changedAt;
    if (spans.length >= expectedCount && quietFor >= 1000) return spans;
    if (spans.length > 0 && quietFor >= SETTLE_MS) return spans;
    if (Date.now() > deadline) return spans;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The first proxy span of the full chain missing from the trace: the hop where the context was not carried. */
async function findBreak(
  backend: TraceBackend,
  actual: ActualTrace,
  chain: TreeNode,
  sinceMs: number,
): Promise<BreakReport | null> {
  const present = new Set<string>();
  const walk = (node: TreeNode) => {
    if (isProxy(node.service)) present.add(`${node.service}|${node.name}|${node.kind}`);
    node.children.forEach(walk);
  };
  actual.roots.forEach(walk);
  const queue: { node: TreeNode; parent: TreeNode | null }[] = [{ node: chain, parent: null }];
  while (queue.length > 0) {
    const { node, parent } = queue.shift() ?? { node: chain, parent: null };
    if (!present.has(`${node.service}|${node.name}|${node.kind}`)) {
      if (!parent) return null;
      const roots = await backend.rootSpans(node.service, node.name, sinceMs);
      return {
        endsAfter: `${parent.service} ${parent.name} ${parent.kind}`,
        app: node.service.replace(/-envoy$/, ''),
        startedNewTrace: {
          span: `${node.service} ${node.name} ${node.kind}`,
          traceIds: [...new Set(roots.map((s) => s.traceId))],
        },
      };
    }
    for (const child of node.children) queue.push({ node: child, parent: node });
  }
  return null;
}

/** The report a person reads: the trace as a tree with durations and a waterfall, then the verdict. */
export function formatReport(result: VerifyResult): string {
  const lines: string[] = [];
  lines.push(
    `request  GET -> ${String(result.status)}  trace id: ${result.traceId}  x-request-id: ${String(result.requestId)}`,
  );
  lines.push(`mode     ${result.mode} (as the services report it)`);
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
    `trace (${String(spans.length)} spans, read back from ${result.spans.length ? 'the backend' : 'nowhere'}):`,
  );
  lines.push(alignColumns(tree));
  lines.push('');
  if (!sameShape([result.expected], result.actual.roots)) {
    lines.push(`expected (${result.mode}, from expected-traces.yaml):`);
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
        : '  is not in this trace (no new trace with it was found either)',
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
