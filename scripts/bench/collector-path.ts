// What the production path costs (docker-compose.collector.yaml: every span through the OpenTelemetry Collector),
// measured as the direct path is: otel at 100 % and 10 %, the same load, warm-ups and CPU accounting (the collector
// a group of its own), span delivery counted by Zipkin, and the time to a complete trace through it. Its own mesh,
// brought up before the direct rounds and taken down after, so only the full benchmark runs it (not the smoke run).
import { traceStore } from '../trace-check/trace-store.ts';
import { measureTimeToTrace, type TimeToTrace } from '../trace-check/time-to-trace.ts';
import { BenchMesh } from './bench-mesh.ts';
import { measureRoundsOf, type RoundsOf } from './rounds.ts';
import {
  COLLECTOR_RUNS,
  SPANS_PER_REQUEST,
  TIME_TO_TRACE_GAP_MS,
  TIME_TO_TRACE_SAMPLES,
  type CollectorRun,
} from './settings.ts';

export type CollectorPath = RoundsOf<CollectorRun> & { timeToTraceIdle: TimeToTrace };

/** Every other round in reverse, so each round starts at the sampling rate the one before ended at. */
const orderOf = (round: number) => (round % 2 === 1 ? COLLECTOR_RUNS : [...COLLECTOR_RUNS].reverse());

export async function measureCollectorPath(): Promise<CollectorPath> {
  const bench = await BenchMesh.start('collector');
  try {
    const rounds = await measureRoundsOf(bench, COLLECTOR_RUNS, orderOf);
    await bench.enter('collector'); // 100 %: every probe request is traced
    const timeToTraceIdle = await measureTimeToTrace({
      url: bench.urlFor('collector'),
      store: traceStore('zipkin', bench.zipkin),
      spansPerTrace: SPANS_PER_REQUEST,
      samples: TIME_TO_TRACE_SAMPLES,
      gapMs: TIME_TO_TRACE_GAP_MS,
    });
    return { ...rounds, timeToTraceIdle };
  } finally {
    await bench.mesh.down();
  }
}
