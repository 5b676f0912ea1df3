// Entry point: validate the environment, start tracing for the mode, then start the app.
import { ConfigError, loadConfig, type ServiceConfig } from './config.js';
import { createLogger } from './process/logger.js';
import { exitGracefullyOnSignals, type RunningServer } from './process/shutdown.js';
import { withoutSdk, type Tracing } from './tracing/tracing.js';

function configOrExit(): ServiceConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) console.error(problem);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = configOrExit();
  const log = createLogger(config.serviceName, config.logLevel);

  // Order matters: OpenTelemetry instruments express, http and grpc by patching them as they are require()d.
  // So the SDK starts first, and the modules that load them are required only afterwards, here, not imported at
  // the top. In `forward` and `off` the SDK is never loaded at all.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const tracing: Tracing =
    config.tracingMode === 'otel'
      ? (require('./tracing/sdk.js') as typeof import('./tracing/sdk.js')).startOpenTelemetry(config, log)
      : withoutSdk(config.tracingMode);
  const server: RunningServer = await (config.role === 'grpc'
    ? (require('./apps/grpc-app.js') as typeof import('./apps/grpc-app.js')).startGrpcApp(config, log)
    : (require('./apps/http-app.js') as typeof import('./apps/http-app.js')).startHttpApp(config, log));
  /* eslint-enable @typescript-eslint/no-require-imports */

  const exportsTo = config.tracesExporter === 'otlp' ? config.otlpEndpoint.href : config.zipkinEndpoint.href;
  log.info({ tracingMode: tracing.mode, exportsTo }, 'ready');

  exitGracefullyOnSignals(
    [
      { name: 'stop accepting and finish requests in flight', run: () => server.close() },
      { name: 'flush spans', run: () => tracing.shutdown() },
    ],
    config.shutdownTimeoutMs,
    log,
  );
}

main().catch((error: unknown) => {
  console.error('service failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
