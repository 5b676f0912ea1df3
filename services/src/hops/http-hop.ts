// The outbound HTTP call to the next service, through this service's own sidecar (its egress on 127.0.0.1:9000).
//
// It uses Node's global fetch (undici): maintained with Node itself, pooled keep-alive connections to the sidecar,
// and AbortSignal.timeout for the deadline. In `otel` mode @opentelemetry/instrumentation-undici makes the client
// span and injects the trace headers; the mesh headers the SDK does not own come in `carried`.
import { DownstreamError, innermostFailedHop } from './downstream-error.js';

export async function callHttpHop(
  from: string,
  url: URL,
  carried: Record<string, string>,
  timeoutMs: number,
): Promise<unknown> {
  const hop = `${from} -> ${url.href}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { ...carried, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw transportFailure(hop, error, timeoutMs);
  }

  let body: unknown;
  try {
    const text = await response.text();
    body = response.headers.get('content-type')?.includes('application/json') ? JSON.parse(text) : text;
  } catch (error) {
    throw transportFailure(hop, error, timeoutMs);
  }

  if (!response.ok) {
    // A 503 (a hop is unavailable, e.g. its app is down) and a 504 (a timeout) deeper down keep their meaning all
    // the way to the caller; any other failure of the next hop is a bad gateway from here.
    const status = response.status === 503 || response.status === 504 ? response.status : 502;
    throw new DownstreamError(status, {
      error: `next hop answered ${response.status}`,
      failedHop: innermostFailedHop(body) ?? hop,
      hop,
      cause: body,
    });
  }
  return body;
}

function transportFailure(hop: string, error: unknown, timeoutMs: number): DownstreamError {
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return new DownstreamError(504, { error: `no answer within ${timeoutMs} ms`, failedHop: hop, hop });
  }
  // fetch wraps the socket error: "fetch failed" with cause ECONNREFUSED, ECONNRESET, ...
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  return new DownstreamError(502, { error: `request failed: ${reason}`, failedHop: hop, hop });
}
