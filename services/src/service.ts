// Starts the role this process was configured for. main.ts requires this module only after tracing started.
import { startGrpcApp } from './grpc-app.js';
import { startHttpApp } from './http-app.js';
import type { ServiceConfig } from './config.js';
import type { Logger } from './logger.js';
import type { RunningServer } from './running-server.js';

export function startService(config: ServiceConfig, log: Logger): Promise<RunningServer> {
  return config.role === 'grpc' ? startGrpcApp(config, log) : startHttpApp(config, log);
}
