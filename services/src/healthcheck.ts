// The container healthcheck (`node dist/healthcheck.js`): asks the app on its LISTEN address whether it serves.
// HTTP role: GET /healthz. gRPC role: the standard grpc.health.v1 Check. Exit 0 when healthy, 1 otherwise.
// It runs every few seconds in every app container for as long as the mesh runs, so it loads only what its role
// needs: node:http for HTTP (not fetch), the gRPC libraries only for gRPC: loading everything up front cost more CPU
// per check (docs/profiling.md has the figures).
import { get } from 'node:http';
import type * as grpc from '@grpc/grpc-js';
import { ConfigError, loadConfig, type ServiceConfig } from './config.js';

const TIMEOUT_MS = 2000;

function checkHttp(config: ServiceConfig): Promise<void> {
  const url = `http://${config.listen.host}:${config.listen.port}/healthz`;
  return new Promise((resolve, reject) => {
    const request = get(url, { timeout: TIMEOUT_MS }, (response) => {
      response.resume();
      if (response.statusCode === 200) resolve();
      else reject(new Error(`/healthz answered ${String(response.statusCode)}`));
    });
    request.on('timeout', () => request.destroy(new Error(`/healthz did not answer in ${TIMEOUT_MS} ms`)));
    request.on('error', reject);
  });
}

interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
  ): void;
}

async function checkGrpc(config: ServiceConfig): Promise<void> {
  const [grpc, { service: healthService }] = await Promise.all([
    import('@grpc/grpc-js'),
    import('grpc-health-check'),
  ]);
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
