// OpenTelemetry SDK setup for `otel` mode. main.ts loads this module only in that mode, and before express,
// http or grpc are required: the instrumentations patch those modules when they are first required.
import { NodeSDK } from '@opentelemetry/sdk-node';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, ParentBasedSampler, AlwaysOnSampler } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import type { Propagator, ServiceConfig } from '../config.js';
import type { TextMapPropagator } from '@opentelemetry/api';
import type { Tracing } from './tracing.js';
import type { Logger } from '../process/logger.js';
import { reportSdkTroubleTo } from './sdk-trouble.js';
import { SPAN_BATCHING } from './span-batching.js';
import { arrivesUnsampled, untracedHere, untracedWhenUnsampled } from './unsampled.js';

/**
 * The SDK must speak exactly the trace formats the mesh's proxies speak. With Envoy's Zipkin tracer that is B3
 * MULTI-HEADER (the SDK's default is the single `b3` header, which Envoy reads but never writes back) plus W3C; the
 * default order lets B3, the mesh's own format, win on extraction. With Envoy's OpenTelemetry tracer it is W3C only:
 * Envoy rewrites traceparent but passes x-b3-* through untouched, so an SDK that still reads B3 would parent its
 * span on the calling app's span and skip the sidecar. Mixed formats turn one request into several traces.
 */
function propagatorFor(name: Propagator): TextMapPropagator {
  switch (name) {
    case 'tracecontext':
      return new W3CTraceContextPropagator();
    case 'baggage':
      return new W3CBaggagePropagator();
    case 'b3multi':
      return new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });
  }
}

export function startOpenTelemetry(config: ServiceConfig, log: Logger): Tracing {
  const exporter =
    config.tracesExporter === 'otlp'
      ? new OTLPTraceExporter({
          url: config.otlpEndpoint.href,
          timeoutMillis: SPAN_BATCHING.exportTimeoutMillis,
        })
      : new ZipkinExporter({ url: config.zipkinEndpoint.href });
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
    autoDetectResources: false,
    spanProcessors: [new BatchSpanProcessor({ exporter, ...SPAN_BATCHING })],
    // Envoy decides whether a request is traced (x-b3-sampled); the app follows its parent's decision.
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    // A request Envoy did not sample is not traced here at all (unsampled.ts says why).
    textMapPropagator: untracedWhenUnsampled(
      new CompositePropagator({ propagators: config.propagators.map(propagatorFor) }),
    ),
    instrumentations: [
      // Health checks every few seconds would bury the real traces. An unsampled request is skipped before
      // the instrumentation reads its attributes.
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) =>
          request.url === '/healthz' || arrivesUnsampled(request.headers),
      }),
      // Express names the server span after the route ("GET /trace/:n"); its per-layer spans would only add
      // noise between the server span and the app's own work, so none are made.
      new ExpressInstrumentation({
        ignoreLayersType: [
          ExpressLayerType.MIDDLEWARE,
          ExpressLayerType.ROUTER,
          ExpressLayerType.REQUEST_HANDLER,
        ],
      }),
      // Outbound HTTP uses Node's global fetch, which is undici, not the http module. Under a request the app
      // does not trace it makes no client span; the app copies the headers itself (trace-headers.ts).
      new UndiciInstrumentation({ ignoreRequestHook: untracedHere }),
      new GrpcInstrumentation({ ignoreGrpcMethods: [/^Check$|^Watch$/] }),
    ],
    metricReaders: [],
    logRecordProcessors: [],
  });
  reportSdkTroubleTo(log);
  sdk.start();
  return {
    mode: 'otel',
    // Flushes every span still queued; without it the last batch dies with the process.
    shutdown: () => sdk.shutdown(),
  };
}
