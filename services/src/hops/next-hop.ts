// The one downstream call of an HTTP app, whatever its protocol: HTTP (service1 -> service2) or gRPC (service2 -> service3).
import { GrpcHop } from './grpc-hop.js';
import { callHttpHop } from './http-hop.js';
import type { NextHop } from '../config.js';
import type { Logger } from '../process/logger.js';

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
  const grpcHop = new GrpcHop(from, hop.target, timeoutMs, log);
  return {
    target: `grpc://${hop.target}`,
    call: (carried) => grpcHop.listWithHistory(carried),
    close: () => {
      grpcHop.close();
    },
  };
}
