// The HTTP role (service1, service2): the routes of the original Envoy sandbox's Flask service, in express.
import http from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { describeHost, greetingText, serviceLabel, type HostIdentity } from './greeting.js';
import { DownstreamError, recordOnActiveSpan } from '../hops/downstream-error.js';
import { createNextHopClient, type NextHopClient } from '../hops/next-hop.js';
import {
  contextWriterFor,
  currentTraceIds,
  headersToCarry,
  receivedTraceHeaders,
  requestIdOf,
} from '../tracing/trace-headers.js';
import { requestLogFields, type Logger } from '../process/logger.js';
import type { ServiceConfig } from '../config.js';
import type { RunningServer } from '../process/shutdown.js';

export const ROUTES = ['GET /trace/:n', 'GET /service/:n', 'GET /healthz'] as const;

// Longer than the sidecar's idle timeout for its upstream connections (60 s in envoy/), so Envoy, not the
// app, closes idle keep-alive connections; otherwise Envoy can reuse a socket the app is closing and answer 503.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export async function startHttpApp(config: ServiceConfig, log: Logger): Promise<RunningServer> {
  const nextHop = config.nextHop
    ? createNextHopClient(config.serviceName, config.nextHop, config.downstreamTimeoutMs, log)
    : null;
  const app = createHttpApp(config, nextHop, log);

  const server = http.createServer(app);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = `${config.listen.host}:${config.listen.port}`;
  log.info({ listen: address, role: 'http', nextHop: nextHop?.target ?? null }, 'listening');

  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        // close() stops accepting and waits for requests in flight; idle keep-alive sockets would hold it open
        // until they time out, so they are closed as soon as they become idle.
        const closeIdle = setInterval(() => {
          server.closeIdleConnections();
        }, 50);
        server.close(() => {
          clearInterval(closeIdle);
          nextHop?.close();
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

export function createHttpApp(
  config: ServiceConfig,
  nextHop: NextHopClient | null,
  log: Logger,
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    const startedAt = performance.now();
    const ids = requestLogFields(req.headers);
    res.on('finish', () => {
      const level = req.path === '/healthz' ? 'debug' : 'info';
      log[level](
        {
          ...ids,
          method: req.method,
          route: (req.route as { path?: string } | undefined)?.path ?? req.path,
          status: res.statusCode,
          durationMs: Math.round((performance.now() - startedAt) * 100) / 100,
        },
        'request',
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: config.serviceName });
  });

  app.get('/service/:n', (req, res) => {
    if (!addressesThisService(req, res, config.serviceName)) return;
    const host = describeHost();
    respond(req, res, config, host, null);
  });

  app.get('/trace/:n', async (req, res) => {
    if (!addressesThisService(req, res, config.serviceName)) return;
    const host = describeHost();
    let downstream: unknown = null;
    if (nextHop) {
      try {
        downstream = await nextHop.call(headersToCarry(req.headers, contextWriterFor(config.tracingMode)));
      } catch (error) {
        if (!(error instanceof DownstreamError)) throw error;
        recordOnActiveSpan(error);
        log.warn({ ...requestLogFields(req.headers), failure: error.body }, 'downstream call failed');
        res.status(error.httpStatus).json(error.body);
        return;
      }
    }
    respond(req, res, config, host, downstream);
  });

  app.use((req, res) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.path}`, routes: ROUTES });
  });

  // Errors express raises itself (a malformed URL escape is a 400) keep their 4xx status; anything else is a bug.
  // Express recognises an error handler by its four parameters, so `next` stays although it is unused.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: (error as Error).message });
      return;
    }
    log.error({ err: error, ...requestLogFields(req.headers) }, 'unexpected error');
    res.status(500).json({ error: 'internal error', service: config.serviceName });
  });

  return app;
}

/**
 * `n` in /trace/:n and /service/:n is the number of the service the caller means, as in the original sandbox: the
 * front proxy asks service1 for /trace/1, service1 asks service2 for /trace/2. A number that is not one is a 400; a
 * number of another service is a 404 that says which service answered, rather than a greeting from the wrong one.
 * A service whose name carries no number (not `serviceN`) accepts any number.
 */
function addressesThisService(req: Request, res: Response, serviceName: string): boolean {
  const n = String(req.params.n);
  if (!/^[1-9]\d{0,5}$/.test(n)) {
    res
      .status(400)
      .json({ error: `service number must be a positive integer, got "${n}"`, example: '/trace/1' });
    return false;
  }
  const own = /^service(\d+)$/.exec(serviceName)?.[1];
  if (own !== undefined && own !== n) {
    res.status(404).json({
      error: `this is ${serviceLabel(serviceName)}: ${req.path} is for service ${n}`,
      example: req.path.replace(/\d+$/, own),
    });
    return false;
  }
  return true;
}

function respond(
  req: Request,
  res: Response,
  config: ServiceConfig,
  host: HostIdentity,
  downstream: unknown,
): void {
  const greeting = greetingText(config.serviceName, host);
  if (req.accepts(['text/plain', 'application/json']) === 'application/json') {
    res.json({
      service: config.serviceName,
      greeting,
      hostname: host.hostname,
      resolvedHostname: host.resolvedHostname,
      traceId: currentTraceIds(req.headers).traceId,
      requestId: requestIdOf(req.headers),
      tracingMode: config.tracingMode,
      receivedTraceHeaders: receivedTraceHeaders(req.headers),
      downstream,
    });
    return;
  }
  res.type('text/plain').send(`${greeting}\n`);
}
