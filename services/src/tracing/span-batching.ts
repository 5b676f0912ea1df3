// How the OpenTelemetry SDK batches the apps' spans (sdk.ts). Its own module, without the SDK, because the repo's
// consistency check (scripts/config-checks/) holds the export delay to the Envoys' flush interval: a trace is whole
// only once its slowest reporter posted, and the verifier's and the benchmark's waits assume that is Envoy.

/**
 * Exporter queue limits (docs/reliability.md): at most maxQueueSize spans wait in memory for the backend; past that
 * the SDK drops new spans instead of growing, so a Zipkin outage costs spans, never the service's memory. Batches
 * leave every scheduledDelayMillis, no later than Envoy's flush interval. A batch may take exportTimeoutMillis,
 * retries included (sdk.ts gives the OTLP exporter the same bound), before it is dropped and logged
 * (sdk-trouble.ts): long enough to outlast the name lookups that fail for many seconds in a just-created container on
 * Podman (docs/collector.md has the measurement) and retry once. It is the SDK's own default for the batch; its OTLP
 * exporter's default is shorter.
 */
export const SPAN_BATCHING = {
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 500,
  exportTimeoutMillis: 30_000,
} as const;
