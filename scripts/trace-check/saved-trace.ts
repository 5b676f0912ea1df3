// A trace saved to a file, read as the Zipkin v2 spans the verifier compares: what Zipkin's API and UI give (a JSON
// array of spans), an OTLP JSON export (Jaeger v2's /api/v3/traces, a collector's file exporter) or the JSON that
// Jaeger's UI downloads. Anything else is refused with one line that says what is wrong with the file.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ZipkinSpan } from './trace-tree.ts';
import { fromJaeger } from './trace-store.ts';

/** Why a file is not one trace: one line, for the person who saved it. */
export class SavedTraceError extends Error {}

const hexId = z.string().regex(/^[0-9a-fA-F]{16}$|^[0-9a-fA-F]{32}$/, 'not a 16- or 32-digit hex id');

const zipkinSpan = z.looseObject({
  traceId: hexId,
  id: hexId,
  parentId: hexId.optional(),
  name: z.string().optional(),
  kind: z.enum(['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER']).optional(),
  timestamp: z.number().optional(),
  duration: z.number().optional(),
  localEndpoint: z.looseObject({ serviceName: z.string().optional() }).optional(),
  tags: z.record(z.string(), z.string()).optional(),
});
/** Zipkin's /api/v2/trace/{id} and the UI's download: the spans. (Its /api/v2/traces answers a list of such lists.) */
const zipkinTrace = z.array(zipkinSpan);

const otlpValue = z.looseObject({ stringValue: z.string().optional() });
const otlpAttributes = z.array(z.looseObject({ key: z.string(), value: otlpValue })).optional();
/** OTLP/JSON's SpanKind: the enum's number, or its name (both are valid OTLP/JSON). */
const OTLP_KINDS: Record<string, ZipkinSpan['kind']> = {
  2: 'SERVER',
  3: 'CLIENT',
  4: 'PRODUCER',
  5: 'CONSUMER',
  SPAN_KIND_SERVER: 'SERVER',
  SPAN_KIND_CLIENT: 'CLIENT',
  SPAN_KIND_PRODUCER: 'PRODUCER',
  SPAN_KIND_CONSUMER: 'CONSUMER',
};
const nanos = z.union([z.string().regex(/^\d+$/), z.number()]);
const otlpSpan = z.looseObject({
  traceId: hexId,
  spanId: hexId,
  parentSpanId: z.union([hexId, z.literal('')]).optional(),
  name: z.string(),
  kind: z.union([z.number(), z.string()]).optional(),
  startTimeUnixNano: nanos,
  endTimeUnixNano: nanos,
  attributes: otlpAttributes,
});
const otlpTrace = z.looseObject({
  resourceSpans: z.array(
    z.looseObject({
      resource: z.looseObject({ attributes: otlpAttributes }).optional(),
      scopeSpans: z.array(z.looseObject({ spans: z.array(otlpSpan) })),
    }),
  ),
});

const jaegerUiTrace = z.looseObject({
  data: z.array(
    z.looseObject({
      spans: z.array(
        z.looseObject({
          traceID: hexId,
          spanID: hexId,
          operationName: z.string(),
          references: z.array(z.looseObject({ refType: z.string(), spanID: hexId })).optional(),
          startTime: z.number(),
          duration: z.number(),
          processID: z.string(),
          tags: z.array(z.looseObject({ key: z.string(), value: z.unknown() })).optional(),
        }),
      ),
      processes: z.record(z.string(), z.looseObject({ serviceName: z.string() })),
    }),
  ),
});

/** Only the fields the comparison reads, ids in lowercase (Zipkin's own form). */
function fromZipkin(span: z.infer<typeof zipkinSpan>): ZipkinSpan {
  return {
    traceId: span.traceId.toLowerCase(),
    id: span.id.toLowerCase(),
    ...(span.parentId ? { parentId: span.parentId.toLowerCase() } : {}),
    ...(span.name === undefined ? {} : { name: span.name }),
    ...(span.kind ? { kind: span.kind } : {}),
    ...(span.timestamp === undefined ? {} : { timestamp: span.timestamp }),
    ...(span.duration === undefined ? {} : { duration: span.duration }),
    localEndpoint: { serviceName: span.localEndpoint?.serviceName ?? 'unknown' },
    tags: span.tags ?? {},
  };
}

const microsFromNanos = (value: string | number): number => Number(BigInt(value) / 1000n);

function fromOtlp(trace: z.infer<typeof otlpTrace>): ZipkinSpan[] {
  return trace.resourceSpans.flatMap((resource) => {
    const serviceName =
      resource.resource?.attributes?.find((attribute) => attribute.key === 'service.name')?.value
        .stringValue ?? 'unknown';
    return resource.scopeSpans.flatMap((scope) =>
      scope.spans.map((span) => {
        const kind = span.kind === undefined ? undefined : OTLP_KINDS[String(span.kind)];
        const start = microsFromNanos(span.startTimeUnixNano);
        return {
          traceId: span.traceId.toLowerCase(),
          id: span.spanId.toLowerCase(),
          ...(span.parentSpanId ? { parentId: span.parentSpanId.toLowerCase() } : {}),
          name: span.name,
          ...(kind ? { kind } : {}),
          timestamp: start,
          duration: microsFromNanos(span.endTimeUnixNano) - start,
          localEndpoint: { serviceName },
          tags: Object.fromEntries(
            (span.attributes ?? []).map((attribute) => [attribute.key, String(attribute.value.stringValue)]),
          ),
        };
      }),
    );
  });
}

/** The first thing wrong, as "where: what" (zod's path into the file, e.g. `3.id` for the fourth span's id). */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const where = issue.path.length > 0 ? issue.path.join('.') : 'the top level';
  return `${where}: ${issue.message}`;
}

function parseAs<T>(schema: z.ZodType<T>, value: unknown, format: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new SavedTraceError(`not ${format}: ${firstIssue(result.error)}`);
  return result.data;
}

/** The spans of the one trace the JSON text holds, in Zipkin's v2 shape. */
export function parseSavedTrace(text: string): ZipkinSpan[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SavedTraceError(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const object = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
  let spans: ZipkinSpan[];
  if (Array.isArray(value)) {
    const oneSearchResult = value.length === 1 && Array.isArray(value[0]);
    spans = parseAs(zipkinTrace, oneSearchResult ? value[0] : value, 'a Zipkin v2 trace').map(fromZipkin);
  } else if (object && ('resourceSpans' in object || 'result' in object)) {
    const body = 'result' in object ? object.result : object;
    spans = fromOtlp(parseAs(otlpTrace, body, 'an OTLP JSON trace'));
  } else if (object && 'data' in object) {
    spans = parseAs(jaegerUiTrace, object, 'a Jaeger UI trace').data.flatMap(fromJaeger);
  } else {
    throw new SavedTraceError(
      'not a trace: expected Zipkin v2 JSON (an array of spans), OTLP JSON (resourceSpans) or Jaeger UI JSON (data)',
    );
  }
  if (spans.length === 0) throw new SavedTraceError('holds no span');
  const traceIds = [...new Set(spans.map((span) => span.traceId))];
  if (traceIds.length > 1) {
    throw new SavedTraceError(
      `holds ${traceIds.length} trace ids (${traceIds.join(', ')}): save one trace per file`,
    );
  }
  const ids = spans.map((span) => span.id);
  const twice = ids.find((id, index) => ids.indexOf(id) !== index);
  if (twice) throw new SavedTraceError(`holds span id ${twice} twice: the verifier needs one span per id`);
  return spans;
}

export function readSavedTrace(file: string): ZipkinSpan[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SavedTraceError(`cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseSavedTrace(text);
}
