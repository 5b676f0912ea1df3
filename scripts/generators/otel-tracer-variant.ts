// The Envoy OpenTelemetry-tracer variant of every Envoy config, generated from the Zipkin one so the two never
// drift apart. Four things change, everything else (listeners, routes, decorators, faults) stays as it is:
//   1. every tracer: envoy.tracers.zipkin -> envoy.tracers.opentelemetry (W3C traceparent), OTLP/HTTP to Jaeger
//      (or, in the collector's variant, to the collector's OTLP receiver), service_name = node.cluster (what Zipkin
//      took from node.cluster by itself);
//   2. the `zipkin` cluster -> an `otlp` cluster at that endpoint (its connection options carried over);
//   3. front-envoy answers with the request's `traceparent` where it answered with `x-b3-traceid`;
//   4. the runtime keys of the Zipkin tracer (tracing.zipkin.*) become the OpenTelemetry tracer's.
import { isMap, isScalar, visit, type Document } from 'yaml';
import { mapValue as get, scalarValue, variantDir, type EnvoyVariant } from './envoy-variant.ts';

/** Where the OpenTelemetry tracer posts OTLP/HTTP. */
export interface OtlpEndpoint {
  host: string;
  port: number;
  path: string;
}

/** Jaeger's OTLP/HTTP receiver (docker-compose.otel-tracer.yaml gives Jaeger the name `jaeger`). */
export const JAEGER_OTLP_RECEIVER: OtlpEndpoint = { host: 'jaeger', port: 4318, path: '/v1/traces' };

/** The rewrite of a Zipkin-tracer config into an OpenTelemetry-tracer one that posts OTLP to `endpoint`. */
export const toOtelTracer =
  (endpoint: OtlpEndpoint) =>
  (document: Document, source: string): void => {
    const nodeCluster = String(document.getIn(['node', 'cluster']));
    let tracers = 0;
    visit(document, {
      Map(_, map) {
        // 1. the tracer provider
        if (scalarValue(get(map, 'name')) === 'envoy.tracers.zipkin' && isMap(get(map, 'typed_config'))) {
          map.set('name', 'envoy.tracers.opentelemetry');
          map.set(
            'typed_config',
            document.createNode({
              '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
              http_service: {
                http_uri: {
                  uri: `http://${endpoint.host}:${endpoint.port}${endpoint.path}`,
                  cluster: 'otlp',
                  timeout: '5s',
                },
              },
              service_name: nodeCluster,
            }),
          );
          tracers += 1;
          return visit.SKIP;
        }
        // 2. the collector cluster
        if (scalarValue(get(map, 'name')) === 'zipkin' && isMap(get(map, 'load_assignment'))) {
          // Everything but the name and the address is the Zipkin cluster's: resolution, timeouts, options.
          const connection = map.toJSON() as Record<string, unknown>;
          delete connection.name;
          delete connection.load_assignment;
          return document.createNode({
            name: 'otlp',
            ...connection,
            load_assignment: {
              cluster_name: 'otlp',
              endpoints: [
                {
                  lb_endpoints: [
                    {
                      endpoint: {
                        address: {
                          socket_address: { address: endpoint.host, port_value: endpoint.port },
                        },
                      },
                    },
                  ],
                },
              ],
            },
          });
        }
        // 3. the trace id in front-envoy's response
        if (
          scalarValue(get(map, 'key')) === 'x-b3-traceid' &&
          scalarValue(get(map, 'value')) === '%REQ(x-b3-traceid)%'
        ) {
          map.set('key', 'traceparent');
          map.set('value', '%REQ(traceparent)%');
        }
        // 4. the tracer's runtime keys (its batching)
        for (const pair of map.items) {
          const key = scalarValue(pair.key);
          if (typeof key === 'string' && key.startsWith('tracing.zipkin.') && isScalar(pair.key))
            pair.key.value = key.replace('tracing.zipkin.', 'tracing.opentelemetry.');
        }
        return undefined;
      },
    });
    if (tracers === 0) throw new Error(`${source}: no Zipkin tracer to replace`);
  };

export const OTEL_TRACER_VARIANT: EnvoyVariant = {
  dir: variantDir('otel-tracer'),
  generator: 'scripts/generators/otel-tracer-variant.ts',
  purpose: [
    "The same config with Envoy's OpenTelemetry tracer (W3C traceparent, OTLP/HTTP to Jaeger) in place of its",
    'Zipkin tracer. Used by docker-compose.otel-tracer.yaml.',
  ].join('\n'),
  rewrite: toOtelTracer(JAEGER_OTLP_RECEIVER),
};
