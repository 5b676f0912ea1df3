// Which headers carry a trace from a service's inbound request to its outbound call, per tracing mode.
//
// This is the lesson of the whole mesh: Envoy makes the spans, but Envoy cannot know that the request the app
// sends out belongs to the request that came in. Only the app can carry these headers across.
import type { IncomingHttpHeaders } from 'node:http';
import { isSpanContextValid, propagation, ROOT_CONTEXT, trace, type SpanContext } from '@opentelemetry/api';
import { untracedHere } from './unsampled.js';
import type { TracingMode } from '../config.js';

/**
 * Every header that carries trace context or the request id through the mesh: the one list.
 * The same list the original Envoy sandbox's Flask service forwarded, plus the W3C and single-header B3 forms.
 */
export const TRACE_CONTEXT_HEADERS = [
  'x-request-id', // Envoy's request id; also carries Envoy's sampling decision
  'x-b3-traceid', // Zipkin B3, one header per field
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3', // Zipkin B3, single header
  'traceparent', // W3C Trace Context
  'tracestate',
  'x-ot-span-context', // OpenTracing (LightStep)
  'uber-trace-id', // Jaeger native clients
  'sw8', // SkyWalking
] as const;

export type TraceContextHeader = (typeof TRACE_CONTEXT_HEADERS)[number];

/**
 * In `otel` mode the trace context belongs to the SDK: its propagators (PROPAGATORS: W3C, B3 multi-header) write it
 * from the active span, with the app's own client span as the parent. The inbound values of these are never copied,
 * whichever propagators run: a stale copy would make the next hop a sibling, not a child (or, with the single `b3`
 * header, override the fresh multi-header context at the next Envoy).
 */
export const WRITTEN_BY_OTEL_PROPAGATORS: ReadonlySet<TraceContextHeader> = new Set([
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3',
  'traceparent',
  'tracestate',
]);

/**
 * Not trace context, but carried the same way: the demo's per-request fault switch (see envoy/), which
 * must reach the sidecar of the service it names. Carried in `otel` and `forward`, like the mesh headers.
 */
export const MESH_CONTROL_HEADERS = ['x-mesh-fault'] as const;

/**
 * Who writes the trace context onto the outbound call: the SDK's propagators (`otel`, for a request the app traces),
 * the app copying it as received (`forward`, and an `otel` request Envoy did not sample: unsampled.ts), or nobody
 * (`off`).
 */
export type ContextWriter = 'sdk' | 'copy' | 'none';

/** The writer for the request being handled now: in `otel` mode it depends on whether the app traces it. */
export function contextWriterFor(mode: TracingMode): ContextWriter {
  if (mode === 'off') return 'none';
  if (mode === 'forward') return 'copy';
  return untracedHere() ? 'copy' : 'sdk';
}

/** The headers this service copies onto its outbound call, as received (names lowercase). */
export function headersToCarry(inbound: IncomingHttpHeaders, writer: ContextWriter): Record<string, string> {
  if (writer === 'none') return {}; // on purpose: the trace breaks at this service
  const control: Record<string, string> = {};
  for (const name of MESH_CONTROL_HEADERS) {
    const value = inbound[name];
    if (typeof value === 'string') control[name] = value;
  }
  const received = receivedTraceHeaders(inbound);
  if (writer === 'copy') return { ...received, ...control };
  const notWrittenBySdk = Object.entries(received).filter(
    ([name]) => !WRITTEN_BY_OTEL_PROPAGATORS.has(name as TraceContextHeader),
  );
  return { ...Object.fromEntries(notWrittenBySdk), ...control };
}

/** The trace headers this hop received, in list order: the JSON answers show them, so every hop's input is visible. */
export function receivedTraceHeaders(inbound: IncomingHttpHeaders): Record<string, string> {
  const received: Record<string, string> = {};
  for (const name of TRACE_CONTEXT_HEADERS) {
    const value = inbound[name];
    // Node joins repeated headers with ", " (a string); only set-cookie arrives as an array.
    if (typeof value === 'string') received[name] = value;
  }
  return received;
}

/**
 * The context this request runs in: the active OTel span's, else the one the inbound headers carry (read by the
 * SDK's propagators in `otel` mode, where an unsampled request has no span of its own), else none.
 */
function requestSpanContext(inbound: IncomingHttpHeaders): SpanContext | undefined {
  const active = trace.getActiveSpan()?.spanContext();
  if (active && isSpanContextValid(active)) return active;
  const carried = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, inbound));
  return carried && isSpanContextValid(carried) ? carried : undefined;
}

/**
 * The trace id and span id this request runs under: its span context's (above); else the B3 ids Envoy sent
 * (`forward` and `off` load no propagators to read them with); else null. The span id is the app's server span's,
 * or, for a request it does not trace, its caller's.
 */
export function currentTraceIds(inbound: IncomingHttpHeaders): {
  traceId: string | null;
  spanId: string | null;
} {
  const spanContext = requestSpanContext(inbound);
  if (spanContext) return { traceId: spanContext.traceId, spanId: spanContext.spanId };
  const traceId = inbound['x-b3-traceid'];
  const spanId = inbound['x-b3-spanid'];
  return {
    traceId: typeof traceId === 'string' ? traceId : null,
    spanId: typeof spanId === 'string' ? spanId : null,
  };
}

export function requestIdOf(inbound: IncomingHttpHeaders): string | null {
  const header = inbound['x-request-id'];
  return typeof header === 'string' ? header : null;
}
