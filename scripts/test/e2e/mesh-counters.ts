// The counters that name where a span went, read from inside the mesh (neither admin API is published): each
// Envoy's tracer stats through its admin port, and the OpenTelemetry Collector's own metrics on otel-collector:8888.
import type { ComposeMesh } from '../../mesh/compose-mesh.ts';
import { COLLECTOR_SERVICE } from '../../repo.ts';

/** The sum over every Envoy of one counter of its admin /stats, e.g. tracing.zipkin.reports_dropped. */
export async function envoyCounterSum(mesh: ComposeMesh, stat: string): Promise<number> {
  let sum = 0;
  for (const envoy of mesh.envoys) sum += await mesh.envoyCounter(envoy, `^${stat.replaceAll('.', '\\.')}$`);
  return sum;
}

/** The collector's metrics port in the mesh (collector/otel-collector.yaml, service.telemetry). */
const COLLECTOR_METRICS = `http://${COLLECTOR_SERVICE}:8888/metrics`;

/**
 * The collector's own metrics, each series summed over its labels (e.g. accepted spans over both receivers), read
 * through front-envoy's shell. 0 for a series the collector has not created yet; throws if it does not answer.
 */
export async function collectorMetrics(mesh: ComposeMesh): Promise<(name: string) => number> {
  // A busy collector (a queue of 50 000 spans on disk, fsync on every write) may miss the 3 s one read gets.
  let { status, body } = await mesh.httpFrom('front-envoy', COLLECTOR_METRICS);
  for (let retry = 0; retry < 5 && status === 0; retry++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    ({ status, body } = await mesh.httpFrom('front-envoy', COLLECTOR_METRICS));
  }
  if (status !== 200) throw new Error(`the collector's metrics (${COLLECTOR_METRICS}) answered ${status}`);
  const sums = new Map<string, number>();
  for (const line of body.split('\n')) {
    const [, name, value] = /^(otelcol_\w+)(?:\{[^}]*\})? (\S+)$/.exec(line) ?? [];
    if (name && value) sums.set(name, (sums.get(name) ?? 0) + Number(value));
  }
  return (name) => sums.get(name) ?? 0;
}
