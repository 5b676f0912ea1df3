// The one downstream call of an HTTP app, whatever its protocol: HTTP (service1 -> service2) or gRPC (service2 -> service3).
import { AlertsHop } from './alerts-client.js';
import { callHttpHop } from './next-hop-http.js';
import type { NextHop } from './config.js';
import type { Logger } from './logger.js';

export interface NextHopClient {
  /** Where the call goes, for logs and the README: e.g. http://127.0.0.1:9000/trace/2. */
  readonly target: string;
  /** Makes the call with the carried headers; resolves to what the next hop answered, or throws DownstreamError. */
  call(carried: Record<string, string>): Promise<unknown>;
  close(): void;
}

export function createNextHopClient(
  from: string,
  hop: NextHop,
  timeoutMs: number,
  log: Logger,
): NextHopClient {
  if (hop.protocol === 'http') {
    return {
      target: hop.url.href,
      call: (carried) => callHttpHop(from, hop.url, carried, timeoutMs),
      close: () => undefined,
    };
  }
  const alerts = new AlertsHop(from, hop.target, timeoutMs, log);
  return {
    target: `grpc://${hop.target}`,
    call: (carried) => alerts.listWithHistory(carried),
    close: () => {
      alerts.close();
    },
  };
}
