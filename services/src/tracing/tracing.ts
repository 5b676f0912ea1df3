// What the rest of the service knows about tracing: which mode runs, how to flush on shutdown, and the tracer the
// apps make their own spans with. Kept apart from sdk.ts so that `forward` and `off` never load the OpenTelemetry
// SDK: there the @opentelemetry/api calls are no-ops.
import { trace } from '@opentelemetry/api';
import type { TracingMode } from '../config.js';

export interface Tracing {
  readonly mode: TracingMode;
  /** Flushes queued spans; resolves when they were handed to the backend (or dropped after a timeout). */
  shutdown(): Promise<void>;
}

/** `forward` and `off`: no SDK, so no spans of the app's own. The @opentelemetry/api calls are no-ops. */
export function withoutSdk(mode: Exclude<TracingMode, 'otel'>): Tracing {
  return { mode, shutdown: () => Promise.resolve() };
}

/** The apps' own spans (resolve-hostname, query-alert-store): children of the span the instrumentation opened. */
export const tracer = trace.getTracer('traced-mesh-services');
