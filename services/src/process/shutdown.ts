// SIGTERM (docker stop) and SIGINT (Ctrl-C): stop accepting, finish what is in flight, flush spans, exit 0.
// Bounded: past the timeout the process exits 1 and says which step hung.
import type { Logger } from './logger.js';

/** A listening app, HTTP or gRPC, as the shutdown sequence sees it. */
export interface RunningServer {
  readonly address: string;
  /** Stops accepting, lets requests in flight finish, then resolves. */
  close(): Promise<void>;
}

export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

export function exitGracefullyOnSignals(steps: ShutdownStep[], timeoutMs: number, log: Logger): void {
  let shuttingDown = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      log.warn({ signal }, 'already shutting down');
      return;
    }
    shuttingDown = true;
    log.info({ signal, timeoutMs }, 'shutting down');
    let current = 'start';
    const deadline = setTimeout(() => {
      log.error({ step: current, timeoutMs }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    for (const step of steps) {
      current = step.name;
      try {
        await step.run();
      } catch (error) {
        log.error({ err: error, step: step.name }, 'shutdown step failed');
      }
    }
    log.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
}
