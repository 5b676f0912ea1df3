// The SDK's own trouble, in the app's log. The OpenTelemetry SDK says nothing unless told where to: a batch of spans
// whose export failed or timed out (the store or collector unreachable for longer than the exporter retries) is
// dropped without a word, and so are spans that no longer fit the queue (span-batching.ts). Routed here, each loss
// is a line in `docker compose logs`, with the app's name on it: no span is lost silently.
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import type { Logger } from '../process/logger.js';

/** The `component` field of every line the SDK's trouble writes: what to grep the apps' logs for. */
export const SDK_LOG_COMPONENT = 'opentelemetry-sdk';

/** The message of the line a failed export (or any other error the SDK raises) writes. */
export const SDK_ERROR_MESSAGE =
  'tracing: the OpenTelemetry SDK failed; a failed export loses its batch of spans';

/**
 * Call after the SDK is constructed: NodeSDK installs a console logger of its own when OTEL_LOG_LEVEL is set, an
 * input this project does not offer; this replaces it, so the app's log is the one place to look.
 */
export function reportSdkTroubleTo(log: Logger): void {
  const sdkLog = log.child({ component: SDK_LOG_COMPONENT });
  const at =
    (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') =>
    (message: string, ...args: unknown[]) => {
      sdkLog[level]({ details: args }, message);
    };
  const logger: DiagLogger = {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    verbose: at('trace'),
  };
  // Warnings and errors only: "Dropped N spans because maxQueueSize reached" is a warning.
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  // A failed or timed-out export reaches the global error handler, not diag's warn (BatchSpanProcessor).
  setGlobalErrorHandler((error) => {
    sdkLog.error({ err: error }, SDK_ERROR_MESSAGE);
  });
}
