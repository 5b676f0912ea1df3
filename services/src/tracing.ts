// OpenTelemetry SDK setup for `otel` mode. main.ts loads this module only in that mode, and before express,
// http or grpc are required: the instrumentations patch those modules when they are first required.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { BatchSpanProcessor, ParentBasedSampler, AlwaysOnSampler } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import type { ServiceConfig } from './config.js';
import type { Tracing } from './tracing-handle.js';

/**
 * Exporter queue limits (also in the README): at most MAX_QUEUED_SPANS spans wait in memory for the backend; past
 * that the SDK drops new spans instead of growing, so a Zipkin outage costs spans, never the service's memory.
 */
export const SPAN_BATCHING = {
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 10_000,
} as const;

export function startOpenTelemetry(config: ServiceConfig): Tracing {
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    autoDetectResources: false,
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new ZipkinExporter({ url: config.zipkinEndpoint.href }),
        ...SPAN_BATCHING,
      }),
    ],
    // Envoy decides whether a request is traced (x-b3-sampled); the app follows its parent's decision.
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    // Extract: W3C first, then B3, so the mesh's B3 context wins when both are present.
    // Inject: both. B3 must be MULTI_HEADER: Envoy's Zipkin tracer reads x-b3-* (the SDK's default is the single
    // `b3` header). The mesh and the SDK must share a format, or one request becomes three traces.
    textMapPropagator: new CompositePropagator({
      propagators: [
        new W3CTraceContextPropagator(),
        new W3CBaggagePropagator(),
        new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }),
      ],
    }),
    instrumentations: [
      // Health checks every few seconds would bury the real traces.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => request.url === '/healthz' }),
      // Express names the server span after the route ("GET /trace/:n"); its per-layer spans would only add
      // noise between the server span and the app's own work, so none are made.
      new ExpressInstrumentation({
        ignoreLayersType: [
          ExpressLayerType.MIDDLEWARE,
          ExpressLayerType.ROUTER,
          ExpressLayerType.REQUEST_HANDLER,
        ],
      }),
      // Outbound HTTP uses Node's global fetch, which is undici, not the http module.
      new UndiciInstrumentation(),
      new GrpcInstrumentation({ ignoreGrpcMethods: [/^Check$|^Watch$/] }),
    ],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return {
    mode: 'otel',
    // Flushes every span still queued; without it the last batch dies with the process.
    shutdown: () => sdk.shutdown(),
  };
}
