// A request Envoy did not sample is not traced by the app at all.
//
// Envoy makes the sampling decision at the edge and sends it along (x-b3-sampled: 0, or traceparent's flags 00). The
// SDK follows it (ParentBasedSampler), but only after every instrumentation has built the span's name, attributes
// and context for a sampler that then drops it: at 1 % sampling the apps paid most of what they pay at 100 %
// (docs/profiling.md). So the SDK is told up front, with OpenTelemetry's own switch for "record nothing here"
// (suppressTracing): the HTTP server instrumentation skips such a request, the others make no span under it, and
// the app copies the trace headers as received, as in `forward` mode (trace-headers.ts). What is recorded does not
// change: nothing of an unsampled request ever was.
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { isTracingSuppressed, suppressTracing } from '@opentelemetry/core';
import type { IncomingHttpHeaders } from 'node:http';

/** The caller's context says "not sampled": a valid remote span context without the sampled flag. */
function hasUnsampledParent(extracted: Context): boolean {
  const parent = trace.getSpanContext(extracted);
  return parent !== undefined && isSpanContextValid(parent) && (parent.traceFlags & TraceFlags.SAMPLED) === 0;
}

/**
 * The SDK's propagators, plus one rule on extraction: a context whose parent is not sampled also suppresses
 * tracing. Every instrumentation that extracts (HTTP and gRPC servers alike) then starts no span under it.
 */
export function untracedWhenUnsampled(propagator: TextMapPropagator): TextMapPropagator {
  return {
    inject: (context: Context, carrier: unknown, setter: TextMapSetter) => {
      propagator.inject(context, carrier, setter);
    },
    extract: (context: Context, carrier: unknown, getter: TextMapGetter) => {
      const extracted = propagator.extract(context, carrier, getter);
      return hasUnsampledParent(extracted) ? suppressTracing(extracted) : extracted;
    },
    fields: () => propagator.fields(),
  };
}

/**
 * The request being handled now is not traced by the app (unsampled, or a health check): no instrumentation writes
 * its trace context, so the app copies the headers itself (trace-headers.ts).
 */
export function untracedHere(): boolean {
  return isTracingSuppressed(context.active());
}

/** For the HTTP server instrumentation's ignore hook: this request arrived with a "not sampled" decision. */
export function arrivesUnsampled(headers: IncomingHttpHeaders): boolean {
  return isTracingSuppressed(propagation.extract(ROOT_CONTEXT, headers));
}
