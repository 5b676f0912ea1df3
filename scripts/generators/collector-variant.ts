// The production-path variants of every Envoy config, generated from the Zipkin configs so they never drift apart:
//   - `collector` (docker-compose.collector.yaml): the same Zipkin tracer, reporting to the OpenTelemetry
//     Collector's Zipkin receiver instead of Zipkin itself; one thing changes: the `zipkin` cluster becomes an
//     `otel-collector` cluster at otel-collector:9411 (connection options carried over), and every tracer reports
//     to it;
//   - `otel-tracer-collector` (docker-compose.otel-tracer-collector.yaml): the OpenTelemetry tracer's variant,
//     posting OTLP to the collector's OTLP receiver instead of Jaeger's.
import { isMap, visit, type Document } from 'yaml';
import { mapValue as get, scalarValue, variantDir, type EnvoyVariant } from './envoy-variant.ts';
import { toOtelTracer, type OtlpEndpoint } from './otel-tracer-variant.ts';

export const COLLECTOR_ZIPKIN_RECEIVER = {
  host: 'otel-collector',
  port: 9411,
  path: '/api/v2/spans',
} as const;
/** The collector's OTLP/HTTP receiver: the apps' SDK and, with the OpenTelemetry tracer, the Envoys post here. */
export const COLLECTOR_OTLP_RECEIVER: OtlpEndpoint = {
  host: 'otel-collector',
  port: 4318,
  path: '/v1/traces',
};
const CLUSTER = 'otel-collector';

function rewrite(document: Document, source: string): void {
  let tracers = 0;
  let clusters = 0;
  visit(document, {
    Map(_, map) {
      // A tracer's collector service: where it posts, and through which cluster.
      const httpUri = get(map, 'http_uri');
      if (isMap(httpUri) && scalarValue(get(httpUri, 'cluster')) === 'zipkin') {
        const { host, port, path } = COLLECTOR_ZIPKIN_RECEIVER;
        httpUri.set('uri', `http://${host}:${port}${path}`);
        httpUri.set('cluster', CLUSTER);
        tracers += 1;
      }
      // The cluster itself, and its endpoint's address.
      if (scalarValue(get(map, 'name')) === 'zipkin' && isMap(get(map, 'load_assignment'))) {
        map.set('name', CLUSTER);
        const assignment = get(map, 'load_assignment');
        if (isMap(assignment)) assignment.set('cluster_name', CLUSTER);
        clusters += 1;
      }
      const socketAddress = get(map, 'socket_address');
      if (isMap(socketAddress) && scalarValue(get(socketAddress, 'address')) === 'zipkin') {
        socketAddress.set('address', COLLECTOR_ZIPKIN_RECEIVER.host);
        socketAddress.set('port_value', COLLECTOR_ZIPKIN_RECEIVER.port);
      }
      return undefined;
    },
  });
  if (tracers === 0 || clusters !== 1)
    throw new Error(
      `${source}: expected Zipkin tracers and one zipkin cluster (found ${tracers}, ${clusters})`,
    );
}

export const COLLECTOR_VARIANT: EnvoyVariant = {
  dir: variantDir('collector'),
  generator: 'scripts/generators/collector-variant.ts',
  purpose: [
    "The same config, its Zipkin tracer reporting to the OpenTelemetry Collector's Zipkin receiver (the production",
    'path: the collector queues and retries while the trace store is away). Used by docker-compose.collector.yaml.',
  ].join('\n'),
  rewrite,
};

export const OTEL_TRACER_COLLECTOR_VARIANT: EnvoyVariant = {
  dir: variantDir('otel-tracer-collector'),
  generator: 'scripts/generators/collector-variant.ts',
  purpose: [
    "The same config with Envoy's OpenTelemetry tracer (W3C traceparent), posting OTLP/HTTP to the OpenTelemetry",
    "Collector's OTLP receiver. Used by docker-compose.otel-tracer-collector.yaml.",
  ].join('\n'),
  rewrite: toOtelTracer(COLLECTOR_OTLP_RECEIVER),
};
