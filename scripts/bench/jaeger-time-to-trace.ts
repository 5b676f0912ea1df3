// Time to a complete trace with Jaeger in Zipkin's place (the `jaeger` variant, otel mode, idle). Brings up that
// variant and takes it down again, so only the full benchmark runs it (not the smoke run).
import { ComposeMesh } from '../mesh/compose-mesh.ts';
import { traceApiOf, traceStore } from '../trace-check/trace-store.ts';
import { measureTimeToTrace, type TimeToTrace } from '../trace-check/time-to-trace.ts';
import { SPANS_PER_REQUEST, TIME_TO_TRACE_GAP_MS, TIME_TO_TRACE_SAMPLES } from './settings.ts';
import { TRACE_STORE_SERVICE } from '../repo.ts';

export async function jaegerTimeToTrace(): Promise<TimeToTrace> {
  const jaeger = new ComposeMesh('jaeger');
  await jaeger.upServing({ TRACING_MODE: 'otel' });
  try {
    return await measureTimeToTrace({
      url: `http://${jaeger.ip('front-envoy')}:8000/trace/1`,
      store: traceStore('jaeger', jaeger.publishedUrl(TRACE_STORE_SERVICE, traceApiOf('jaeger').port)),
      spansPerTrace: SPANS_PER_REQUEST,
      samples: TIME_TO_TRACE_SAMPLES,
      gapMs: TIME_TO_TRACE_GAP_MS,
    });
  } finally {
    await jaeger.down();
  }
}
