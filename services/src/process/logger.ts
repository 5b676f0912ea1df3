// One JSON line per request, carrying the trace id, span id and request id, so a log line leads to its trace.
import pino from 'pino';
import type { IncomingHttpHeaders } from 'node:http';
import { currentTraceIds, requestIdOf } from '../tracing/trace-headers.js';

export type Logger = pino.Logger;

export function createLogger(serviceName: string, level: string): Logger {
  return pino({ level, base: { service: serviceName }, timestamp: pino.stdTimeFunctions.isoTime });
}

export interface RequestLogFields {
  traceId: string | null;
  spanId: string | null;
  requestId: string | null;
}

/** Reads the ids while the request's span is active (later, in an event callback, the context may be gone). */
export function requestLogFields(headers: IncomingHttpHeaders): RequestLogFields {
  return {
    ...currentTraceIds(headers),
    requestId: requestIdOf(headers),
  };
}
