// Reads traces back from the trace store the user runs: Zipkin's v2 API, or Jaeger's query API. Jaeger's spans
// are converted to Zipkin's v2 shape, so the rest of the tooling sees one format.
import type { ZipkinSpan } from './trace-tree.ts';
import { MESH_VARIANTS, type MeshVariant, type TraceStoreKind } from '../repo.ts';

/**
 * Where a mesh variant keeps its traces: the store's API to read them with, and the container port of that API and
 * UI on the trace store's service (TRACE_STORE_SERVICE: Zipkin, or Jaeger in its place).
 */
export function traceApiOf(variant: MeshVariant): { kind: TraceStoreKind; port: number } {
  const kind = MESH_VARIANTS[variant].traceStore;
  return { kind, port: kind === 'zipkin' ? 9411 : 16686 };
}

export interface TraceStore {
  readonly kind: TraceStoreKind;
  readonly baseUrl: string;
  /** The spans of one trace; [] while the store has none of it yet. */
  trace(traceId: string): Promise<ZipkinSpan[]>;
  /** Spans named `spanName` of `service` that started a trace of their own (no parent) since `sinceMs`. */
  rootSpans(service: string, spanName: string, sinceMs: number): Promise<ZipkinSpan[]>;
  /** The ids of every trace with a span that started since `sinceMs` (Zipkin only: a test's check for strays). */
  traceIdsSince(sinceMs: number): Promise<string[]>;
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: text };
  }
}

export function zipkinBackend(baseUrl: string): TraceStore {
  return {
    kind: 'zipkin',
    baseUrl,
    async trace(traceId) {
      const { status, body } = await getJson(`${baseUrl}/api/v2/trace/${traceId}`);
      if (status === 404) return [];
      if (status !== 200) throw new Error(`Zipkin answered ${status} for trace ${traceId}`);
      return body as ZipkinSpan[];
    },
    async rootSpans(service, spanName, sinceMs) {
      const query = new URLSearchParams({
        serviceName: service,
        spanName: spanName.toLowerCase(),
        endTs: String(Date.now() + 1000),
        lookback: String(Date.now() - sinceMs + 60_000),
        limit: '100',
      });
      const { status, body } = await getJson(`${baseUrl}/api/v2/traces?${query.toString()}`);
      if (status !== 200) throw new Error(`Zipkin answered ${status} to a trace search`);
      return (body as ZipkinSpan[][])
        .flat()
        .filter(
          (span) =>
            !span.parentId &&
            span.localEndpoint?.serviceName === service &&
            span.name?.toLowerCase() === spanName.toLowerCase() &&
            (span.timestamp ?? 0) / 1000 >= sinceMs,
        );
    },
    async traceIdsSince(sinceMs) {
      const query = new URLSearchParams({
        endTs: String(Date.now() + 1000),
        lookback: String(Date.now() - sinceMs + 60_000),
        limit: '1000',
      });
      const { status, body } = await getJson(`${baseUrl}/api/v2/traces?${query.toString()}`);
      if (status !== 200) throw new Error(`Zipkin answered ${status} to a trace search`);
      const recent = (body as ZipkinSpan[][]).filter((trace) =>
        trace.some((s) => (s.timestamp ?? 0) / 1000 >= sinceMs),
      );
      return recent.map((trace) => trace[0]?.traceId ?? '');
    },
  };
}

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: { refType: string; spanID: string }[] | undefined;
  startTime: number;
  duration: number;
  processID: string;
  tags?: { key: string; value: unknown }[] | undefined;
}
export interface JaegerTrace {
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

/** Jaeger's JSON (its /api/traces API) as Zipkin v2 spans: ids, parent, kind from the span.kind tag. */
export function fromJaeger(trace: JaegerTrace): ZipkinSpan[] {
  return trace.spans.map((span) => {
    const tags = Object.fromEntries((span.tags ?? []).map((tag) => [tag.key, String(tag.value)]));
    const parent = span.references?.find((reference) => reference.refType === 'CHILD_OF')?.spanID;
    const kind = tags['span.kind']?.toUpperCase();
    return {
      traceId: span.traceID,
      id: span.spanID,
      ...(parent ? { parentId: parent } : {}),
      name: span.operationName,
      ...(kind && kind !== 'INTERNAL' ? { kind } : {}),
      timestamp: span.startTime,
      duration: span.duration,
      localEndpoint: { serviceName: trace.processes[span.processID]?.serviceName ?? 'unknown' },
      tags,
    };
  });
}

export function jaegerBackend(baseUrl: string): TraceStore {
  return {
    kind: 'jaeger',
    baseUrl,
    async trace(traceId) {
      const { status, body } = await getJson(`${baseUrl}/api/traces/${traceId}`);
      if (status === 404) return [];
      if (status !== 200) throw new Error(`Jaeger answered ${status} for trace ${traceId}`);
      return ((body as { data: JaegerTrace[] | null }).data ?? []).flatMap(fromJaeger);
    },
    async rootSpans(service, spanName, sinceMs) {
      const query = new URLSearchParams({
        service,
        operation: spanName,
        start: String(sinceMs * 1000),
        end: String((Date.now() + 1000) * 1000),
        limit: '100',
      });
      const { status, body } = await getJson(`${baseUrl}/api/traces?${query.toString()}`);
      if (status !== 200) throw new Error(`Jaeger answered ${status} to a trace search`);
      return ((body as { data: JaegerTrace[] | null }).data ?? [])
        .flatMap(fromJaeger)
        .filter(
          (span) => !span.parentId && span.localEndpoint?.serviceName === service && span.name === spanName,
        );
    },
    traceIdsSince() {
      return Promise.reject(new Error('traceIdsSince is implemented for Zipkin only'));
    },
  };
}

export function traceStore(kind: TraceStoreKind, baseUrl: string): TraceStore {
  return kind === 'jaeger' ? jaegerBackend(baseUrl) : zipkinBackend(baseUrl);
}
