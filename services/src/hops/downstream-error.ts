// A failed downstream call, as the user sees it: an HTTP status (502, 503 or 504) and a JSON body naming the hop.
import { SpanStatusCode, trace } from '@opentelemetry/api';

export interface DownstreamErrorBody {
  error: string;
  /** The innermost hop that failed, e.g. "service2 -> grpc://127.0.0.1:9000 alerts.v1.Alerts/ListMessages". */
  failedHop: string;
  /** This service's own hop, when it only passes a deeper failure on. */
  hop: string;
  grpcStatus?: string;
  /** What the next hop answered, when it answered with an error of its own. */
  cause?: unknown;
}

export class DownstreamError extends Error {
  constructor(
    readonly httpStatus: 502 | 503 | 504,
    readonly body: DownstreamErrorBody,
  ) {
    super(body.error);
    this.name = 'DownstreamError';
  }
}

/** The deepest failedHop in a downstream error body, if the next hop was one of ours. */
export function innermostFailedHop(cause: unknown): string | undefined {
  if (
    typeof cause === 'object' &&
    cause !== null &&
    'failedHop' in cause &&
    typeof cause.failedHop === 'string'
  ) {
    return cause.failedHop;
  }
  return undefined;
}

/** Marks the active span (the app's server span) with the failure, so the trace shows where it broke. */
export function recordOnActiveSpan(error: DownstreamError): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  // Zipkin's UI marks a span red by its `error` tag; the OTel status alone becomes `otel.status_code` there.
  span.setAttribute('error', error.message);
  span.setAttribute('mesh.failed_hop', error.body.failedHop);
  if (error.body.grpcStatus) span.setAttribute('rpc.grpc.status_text', error.body.grpcStatus);
}
