// The container healthcheck (`node dist/healthcheck.js`): asks the app on its LISTEN address whether it serves.
// HTTP role: GET /healthz. gRPC role: the standard grpc.health.v1 Check. Exit 0 when healthy, 1 otherwise.
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { ConfigError, loadConfig, type ServiceConfig } from './config.js';

const TIMEOUT_MS = 2000;

async function checkHttp(config: ServiceConfig): Promise<void> {
  const response = await fetch(`http://${config.listen.host}:${config.listen.port}/healthz`, {
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`/healthz answered ${response.status}`);
}

interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
  ): void;
}

function checkGrpc(config: ServiceConfig): Promise<void> {
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  const address = `${config.listen.host}:${config.listen.port}`;
  const client = new Health(address, grpc.credentials.createInsecure()) as unknown as HealthClient;
  return new Promise((resolve, reject) => {
    client.Check({ service: '' }, { deadline: new Date(Date.now() + TIMEOUT_MS) }, (error, response) => {
      client.close();
      if (error) reject(error);
      else if (response?.status !== 'SERVING') reject(new Error(`health status ${String(response?.status)}`));
      else resolve();
    });
  });
}

async function main(): Promise<void> {
  let config: ServiceConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) console.error(error.message);
    process.exit(1);
  }
  await (config.role === 'grpc' ? checkGrpc(config) : checkHttp(config));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`unhealthy: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
