// Expected trace trees (expected-traces.yaml) and actual ones (spans read back from Zipkin or Jaeger), and the
// comparison between them. Used by the verifier, the end-to-end tests and the services' Envoy-less tests.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { TRACING_MODES, type TracingMode as Mode } from '@traced-envoy-mesh/services/config';
import { REPO_ROOT } from '../repo.ts';

export const SPAN_KINDS = ['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER', 'LOCAL'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];
// The modes are the services' own list (their package's public `config` export): one source.
export { TRACING_MODES, type Mode };

export const EXPECTED_TRACES_FILE = path.join(REPO_ROOT, 'expected-traces.yaml');

/** One span as the comparison sees it. */
export interface TreeNode {
  service: string;
  name: string;
  kind: SpanKind;
  children: TreeNode[];
}

export interface ExpectedTrace {
  tree: TreeNode;
  /** `off` only: the service whose app did not carry the context. */
  breaksAfter: string | null;
}

/** Span as Zipkin's v2 API returns it (Jaeger's spans are converted to this shape by the reader). */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

export const isProxy = (service: string): boolean => service.endsWith('-envoy');

/** Parses the indented text form of a tree (the format of expected-traces.yaml). */
export function parseTreeText(text: string): TreeNode {
  const stack: { depth: number; node: TreeNode }[] = [];
  let root: TreeNode | null = null;
  for (const [index, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const indent = line.length - line.trimStart().length;
    const [service, name, kind, ...rest] = line.trim().split(/\s{2,}/);
    if (indent % 2 !== 0 || !service || !name || !isSpanKind(kind) || rest.length > 0) {
      throw new Error(
        `expected-traces line ${index + 1}: "${line.trim()}" is not "service  name  KIND" at an even indent`,
      );
    }
    const node: TreeNode = { service, name: name.toLowerCase(), kind, children: [] };
    const depth = indent / 2;
    while (stack.length > 0 && (stack.at(-1)?.depth ?? -1) >= depth) stack.pop();
    const parent = stack.at(-1);
    if (parent) {
      if (depth !== parent.depth + 1) throw new Error(`expected-traces line ${index + 1}: indented too far`);
      parent.node.children.push(node);
    } else if (root) {
      throw new Error(`expected-traces line ${index + 1}: a tree has one root`);
    } else {
      root = node;
    }
    stack.push({ depth, node });
  }
  if (!root) throw new Error('expected-traces: empty tree');
  return root;
}

function isSpanKind(value: string | undefined): value is SpanKind {
  return (SPAN_KINDS as readonly string[]).includes(value ?? '');
}

export interface SpanDifference {
  service: string;
  name: string;
  kind: SpanKind;
  becomes: { name?: string; kind?: SpanKind };
}

/** The `otel` tree as Envoy's OpenTelemetry tracer makes it: the Zipkin tree with otel_tracer_differences applied. */
export function loadOtelTracerTree(file = EXPECTED_TRACES_FILE): TreeNode {
  const data = parse(readFileSync(file, 'utf8')) as { otel_tracer_differences?: SpanDifference[] };
  const differences = data.otel_tracer_differences ?? [];
  const apply = (node: TreeNode): TreeNode => {
    const change = differences.find(
      (d) => d.service === node.service && d.name.toLowerCase() === node.name && d.kind === node.kind,
    );
    return {
      service: node.service,
      name: (change?.becomes.name ?? node.name).toLowerCase(),
      kind: change?.becomes.kind ?? node.kind,
      children: node.children.map(apply),
    };
  };
  return apply(loadExpectedTraces(file).otel.tree);
}

export function loadExpectedTraces(file = EXPECTED_TRACES_FILE): Record<Mode, ExpectedTrace> {
  return Object.fromEntries(TRACING_MODES.map((mode) => [mode, loadExpectedTrace(mode, file)])) as Record<
    Mode,
    ExpectedTrace
  >;
}

/** One mode's expected trace; a file of a user's own (`make verify EXPECTED=...`) may hold only the modes it uses. */
export function loadExpectedTrace(mode: Mode, file = EXPECTED_TRACES_FILE): ExpectedTrace {
  const data = parse(readFileSync(file, 'utf8')) as Record<
    string,
    { tree?: string; breaks_after?: string }
  > | null;
  const entry = data?.[mode];
  if (!entry?.tree) throw new Error(`${file}: mode "${mode}" has no tree`);
  return { tree: parseTreeText(entry.tree), breaksAfter: entry.breaks_after ?? null };
}

/** The same trace without the proxies' spans (each app span moves up to its nearest app ancestor). */
export function withoutProxies(node: TreeNode): TreeNode[] {
  const children = node.children.flatMap(withoutProxies);
  return isProxy(node.service) ? children : [{ ...node, children }];
}

export function countSpans(nodes: TreeNode[]): number {
  return nodes.reduce((sum, node) => sum + 1 + countSpans(node.children), 0);
}

/**
 * How many log lines one request of this tree writes per service: an Envoy logs one access-log line per span it
 * makes (every ingress and egress request), an app one line per request it serves (its SERVER spans).
 */
export function logLinesPerService(node: TreeNode): Record<string, number> {
  const lines: Record<string, number> = {};
  const count = (span: TreeNode) => {
    if (isProxy(span.service) || span.kind === 'SERVER') lines[span.service] = (lines[span.service] ?? 0) + 1;
    span.children.forEach(count);
  };
  count(node);
  return lines;
}

/** Every service that has a span in the tree. */
export function serviceNames(node: TreeNode): Set<string> {
  return new Set([node.service, ...node.children.flatMap((child) => [...serviceNames(child)])]);
}

/** What the spans of one trace form: trees from the roots, and the spans whose parent is not in the trace. */
export interface ActualTrace {
  roots: (TreeNode & { span: ZipkinSpan })[];
  /** Spans with a parentId that no span of the trace has: a hop lost or not reported. */
  orphans: ZipkinSpan[];
}

export function buildActualTrace(spans: ZipkinSpan[]): ActualTrace {
  type Node = TreeNode & { span: ZipkinSpan; children: Node[] };
  const byId = new Map<string, Node>();
  for (const span of spans) {
    byId.set(span.id, {
      service: span.localEndpoint?.serviceName ?? 'unknown',
      name: (span.name ?? '').toLowerCase(),
      kind: isSpanKind(span.kind) ? span.kind : 'LOCAL',
      children: [],
      span,
    });
  }
  const roots: Node[] = [];
  const orphans: ZipkinSpan[] = [];
  for (const node of byId.values()) {
    const parentId = node.span.parentId;
    const parent = parentId ? byId.get(parentId) : undefined;
    if (parent) parent.children.push(node);
    else {
      roots.push(node);
      if (parentId) orphans.push(node.span);
    }
  }
  const byStart = (a: Node, b: Node) => (a.span.timestamp ?? 0) - (b.span.timestamp ?? 0);
  const sortDeep = (nodes: Node[]) => {
    nodes.sort(byStart);
    for (const node of nodes) sortDeep(node.children);
  };
  sortDeep(roots);
  return { roots, orphans };
}

/** A canonical form: two trees have the same shape exactly when their canonical forms are equal. */
export function canonical(node: TreeNode): string {
  const children = node.children.map(canonical).sort();
  return `${node.service}|${node.name.toLowerCase()}|${node.kind}(${children.join(',')})`;
}

export function sameShape(expected: TreeNode[], actual: TreeNode[]): boolean {
  const a = expected.map(canonical).sort();
  const b = actual.map(canonical).sort();
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** The tree as indented text, in the format of expected-traces.yaml; `annotate` may append a column per span. */
export function renderTree<T extends TreeNode>(nodes: T[], annotate?: (node: T) => string): string {
  const lines: string[] = [];
  const walk = (node: T, depth: number) => {
    const extra = annotate ? `  ${annotate(node)}` : '';
    lines.push(`${'  '.repeat(depth)}${node.service}  ${node.name}  ${node.kind}${extra}`);
    for (const child of node.children as T[]) walk(child, depth + 1);
  };
  for (const node of nodes) walk(node, 0);
  return lines.join('\n');
}
