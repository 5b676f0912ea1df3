// The mesh's three apps without Envoy: service1 (http) -> service2 (http) -> service3 (grpc), real processes on
// loopback, exporting to a SpanSink. In the mesh each app calls its own sidecar; here it calls the next app directly.
import { randomBytes, randomUUID } from 'node:crypto';
import type { TracingMode } from '../../services/src/config.ts';
import { SpanSink } from './span-sink.ts';
import { freePort, ServiceProcess } from './service-process.ts';

export interface Chain {
  sink: SpanSink;
  service1: ServiceProcess;
  service2: ServiceProcess;
  service3: ServiceProcess;
  /** http://127.0.0.1:PORT of service1 */
  entry: string;
  ports: { service1: number; service2: number; service3: number };
  stop(): Promise<void>;
}

/**
 * The trace headers a sidecar hands its app, which the chain's entry gets in Envoy's place: a fresh 128-bit B3
 * context with Envoy's sampling decision, and an Envoy request id.
 */
export function sidecarHeaders(sampled: '0' | '1' = '1') {
  return {
    'x-request-id': randomUUID(),
    'x-b3-traceid': randomBytes(16).toString('hex'),
    'x-b3-spanid': randomBytes(8).toString('hex'),
    'x-b3-sampled': sampled,
  };
}

export async function startChain(mode: TracingMode, extraEnv: Record<string, string> = {}): Promise<Chain> {
  const sink = new SpanSink();
  const zipkin = await sink.start();
  const ports = { service1: await freePort(), service2: await freePort(), service3: await freePort() };
  const common = { TRACING_MODE: mode, ZIPKIN_ENDPOINT: zipkin, DOWNSTREAM_TIMEOUT_MS: '1500', ...extraEnv };
  const started: ServiceProcess[] = [];
  const app = async (name: string, role: 'http' | 'grpc', port: number, nextHop: string) => {
    const service = new ServiceProcess({
      ...common,
      SERVICE_NAME: name,
      ROLE: role,
      LISTEN: `127.0.0.1:${port}`,
      NEXT_HOP: nextHop,
    });
    started.push(service);
    return service.start();
  };
  let service1, service2, service3;
  try {
    // Leaf first, so each app's next hop is listening when the app starts.
    service3 = await app('service3', 'grpc', ports.service3, '');
    service2 = await app('service2', 'http', ports.service2, `grpc://127.0.0.1:${ports.service3}`);
    service1 = await app('service1', 'http', ports.service1, `http://127.0.0.1:${ports.service2}/trace/2`);
  } catch (error) {
    // An app that does not start must fail the test, not hang it: the sink and the apps already up would keep
    // the test process alive.
    await Promise.all(started.map((service) => service.stop()));
    await sink.stop();
    throw error;
  }
  return {
    sink,
    service1,
    service2,
    service3,
    ports,
    entry: `http://127.0.0.1:${ports.service1}`,
    async stop() {
      await Promise.all([service1.stop(), service2.stop(), service3.stop()]);
      await sink.stop();
    },
  };
}
