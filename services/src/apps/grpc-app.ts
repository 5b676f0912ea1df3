// The gRPC role (service3): the Alerts service, plus the standard gRPC health service for healthchecks.
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ALERTS_SERVICE, loadAlertsProto } from '../alerts-api/alerts-proto.js';
import { headersFrom } from '../tracing/grpc-metadata.js';
import { alertHistory, listAlerts } from './alert-store.js';
import { requestLogFields, type Logger } from '../process/logger.js';
import { receivedTraceHeaders } from '../tracing/trace-headers.js';
import type { ServiceConfig } from '../config.js';
import type { AlertsHandlers } from '../generated/alerts/v1/Alerts.js';
import type { RunningServer } from '../process/shutdown.js';

export async function startGrpcApp(config: ServiceConfig, log: Logger): Promise<RunningServer> {
  const { alerts } = loadAlertsProto();
  const health = new HealthImplementation({ '': 'SERVING', [ALERTS_SERVICE]: 'SERVING' });

  /** Runs one unary handler with a JSON log line carrying the trace and request ids. */
  const logged =
    <Req, Res>(method: string, handler: grpc.handleUnaryCall<Req, Res>): grpc.handleUnaryCall<Req, Res> =>
    (call, callback) => {
      const startedAt = performance.now();
      const ids = requestLogFields(headersFrom(call.metadata));
      handler(call, (error, value) => {
        const code = error?.code ?? grpc.status.OK;
        log.info(
          {
            ...ids,
            route: `${ALERTS_SERVICE}/${method}`,
            status: grpc.status[code],
            durationMs: performance.now() - startedAt,
          },
          'grpc call',
        );
        callback(error, value);
      });
    };

  const handlers: AlertsHandlers = {
    ListMessages: logged('ListMessages', (call, callback) => {
      callback(null, {
        messages: listAlerts(call.request.severity, call.request.limit),
        servedBy: config.serviceName,
        receivedTraceHeaders: receivedTraceHeaders(headersFrom(call.metadata)),
      });
    }),
    MessageHistory: logged('MessageHistory', (call, callback) => {
      const entries = alertHistory(call.request.messageId);
      if (!entries) {
        callback({ code: grpc.status.NOT_FOUND, details: `no alert with id "${call.request.messageId}"` });
        return;
      }
      callback(null, {
        messageId: call.request.messageId,
        entries,
        servedBy: config.serviceName,
        receivedTraceHeaders: receivedTraceHeaders(headersFrom(call.metadata)),
      });
    }),
  };

  const server = new grpc.Server();
  server.addService(alerts.v1.Alerts.service, handlers);
  health.addToServer(server);

  const address = `${config.listen.host}:${config.listen.port}`;
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error) => {
      if (error) reject(error);
      else resolve();
    });
  });
  log.info({ listen: address, role: 'grpc' }, 'listening');

  return {
    address,
    // tryShutdown stops new calls and waits for the ones in flight.
    close: () =>
      new Promise<void>((resolve) => {
        health.setStatus('', 'NOT_SERVING');
        health.setStatus(ALERTS_SERVICE, 'NOT_SERVING');
        server.tryShutdown(() => {
          resolve();
        });
      }),
  };
}
