// What the rest of the service knows about tracing: which mode runs, and how to flush on shutdown.
// Kept apart from tracing.ts so that `forward` and `off` never load the OpenTelemetry SDK.
import type { TracingMode } from './config.js';

export interface Tracing {
  readonly mode: TracingMode;
  /** Flushes queued spans; resolves when they were handed to the backend (or dropped after a timeout). */
  shutdown(): Promise<void>;
}

/** `forward` and `off`: no SDK, so no spans of the app's own. The @opentelemetry/api calls are no-ops. */
export function withoutSdk(mode: Exclude<TracingMode, 'otel'>): Tracing {
  return { mode, shutdown: () => Promise.resolve() };
}
