// Facts about this repository that every script and test shares: where it is, and the mesh's compose variants.
// The bottom of scripts/: it imports nothing of the project.
import path from 'node:path';

export const REPO_ROOT = path.join(__dirname, '..');

/**
 * The compose service that stores the traces, whichever store runs in it (Zipkin, or Jaeger in its place): the
 * name of its role. The Envoys and apps reach it by its alias `zipkin`, the name of the API they post to.
 */
export const TRACE_STORE_SERVICE = 'trace-store';

/** The OpenTelemetry Collector's compose service on the production path (docker-compose.collector.yaml). */
export const COLLECTOR_SERVICE = 'otel-collector';

/** Where a variant's spans end up, and so which API reads them back. */
export type TraceStoreKind = 'zipkin' | 'jaeger';

/**
 * The mesh's compose variants (`make … BACKEND=<variant>`). Three choices hide in them: where spans are stored
 * (Zipkin, or Jaeger in Zipkin's place, both in the service TRACE_STORE_SERVICE), which tracer the Envoys run (Zipkin's, or OpenTelemetry's over OTLP,
 * which needs Jaeger unless a collector translates) and how spans get there (straight from every Envoy and app, or through an OpenTelemetry
 * Collector: the production path). Each variant names its compose files, base first.
 */
export const MESH_VARIANTS = {
  zipkin: { traceStore: 'zipkin', envoyTracer: 'zipkin', files: ['docker-compose.yaml'] },
  collector: {
    traceStore: 'zipkin',
    envoyTracer: 'zipkin',
    files: ['docker-compose.yaml', 'docker-compose.collector.yaml'],
  },
  jaeger: {
    traceStore: 'jaeger',
    envoyTracer: 'zipkin',
    files: ['docker-compose.yaml', 'docker-compose.jaeger.yaml'],
  },
  'jaeger-collector': {
    traceStore: 'jaeger',
    envoyTracer: 'zipkin',
    files: ['docker-compose.yaml', 'docker-compose.jaeger.yaml', 'docker-compose.collector.yaml'],
  },
  'otel-tracer': {
    traceStore: 'jaeger',
    envoyTracer: 'opentelemetry',
    files: ['docker-compose.yaml', 'docker-compose.jaeger.yaml', 'docker-compose.otel-tracer.yaml'],
  },
  'collector-tail-sampling': {
    traceStore: 'zipkin',
    envoyTracer: 'zipkin',
    files: ['docker-compose.yaml', 'docker-compose.collector.yaml', 'docker-compose.tail-sampling.yaml'],
  },
  'otel-tracer-collector': {
    traceStore: 'zipkin',
    envoyTracer: 'opentelemetry',
    files: [
      'docker-compose.yaml',
      'docker-compose.collector.yaml',
      'docker-compose.otel-tracer-collector.yaml',
    ],
  },
} as const satisfies Record<
  string,
  { traceStore: TraceStoreKind; envoyTracer: string; files: readonly string[] }
>;

export type MeshVariant = keyof typeof MESH_VARIANTS;
export const MESH_VARIANT_NAMES = Object.keys(MESH_VARIANTS) as MeshVariant[];

/** The variant's compose files, as absolute paths. */
export function composeFiles(variant: MeshVariant): string[] {
  return MESH_VARIANTS[variant].files.map((file) => path.join(REPO_ROOT, file));
}
