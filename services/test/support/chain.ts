// The mesh's three apps without Envoy: service1 (http) -> service2 (http) -> service3 (grpc), real processes on
// loopback, exporting to a SpanSink. In the mesh each app calls its own sidecar; here it calls the next app directly.
import type { TracingMode } from '../../src/config.js';
import { SpanSink } from './span-sink.js';
import { freePort, ServiceProcess } from './service-process.js';

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

export async function startChain(mode: TracingMode, extraEnv: Record<string, string> = {}): Promise<Chain> {
  const sink = new SpanSink();
  const zipkin = await sink.start();
  const ports = { service1: await freePort(), service2: await freePort(), service3: await freePort() };
  const common = { TRACING_MODE: mode, ZIPKIN_ENDPOINT: zipkin, DOWNSTREAM_TIMEOUT_MS: '1500', ...extraEnv };
  const service3 = await new ServiceProcess({
    ...common,
    SERVICE_NAME: 'service3',
    ROLE: 'grpc',
    LISTEN: `127.0.0.1:${ports.service3}`,
  }).start();
  const service2 = await new ServiceProcess({
    ...common,
    SERVICE_NAME: 'service2',
    ROLE: 'http',
    LISTEN: `127.0.0.1:${ports.service2}`,
    NEXT_HOP: `grpc://127.0.0.1:${ports.service3}`,
  }).start();
  const service1 = await new ServiceProcess({
    ...common,
    SERVICE_NAME: 'service1',
    ROLE: 'http',
    LISTEN: `127.0.0.1:${ports.service1}`,
    NEXT_HOP: `http://127.0.0.1:${ports.service2}/trace/2`,
  }).start();
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
