// bench/results/<engine>.json and docs/benchmarks.md: the results as a file for machines, and a page for people
// with every engine's latest run side by side.
import { format } from 'prettier';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { envoyFlushIntervalMs } from '../mesh/envoy-config.ts';
import type { TimeToTrace } from '../trace-check/time-to-trace.ts';
import { REPO_ROOT } from '../repo.ts';
import { CPU_GROUPS, type CpuGroup } from './cpu-accounting.ts';
import { meshCpuMsPerRequest, type BenchResults, type RunSummary } from './results.ts';
import { round3 } from './statistics.ts';
import {
  AFTER_RECREATE_REQUESTS,
  COLLECTOR_RUNS,
  DOC,
  OTEL_REQUESTS_PER_ROUND,
  OUT_DIR,
  RUNS,
  SPANS_PER_REQUEST,
  STARTUP_SAMPLES,
  WARM_UP_REQUESTS,
  type Run,
} from './settings.ts';

/** The results file of an engine: one per engine, so both engines' latest runs stand side by side. */
const resultsFileOf = (engine: string) =>
  path.join(OUT_DIR, `${engine.startsWith('Podman') ? 'podman' : 'docker'}.json`);

/** Every engine's latest results in OUT_DIR (Podman first). */
function allResults(): BenchResults[] {
  return (
    readdirSync(OUT_DIR)
      .filter((name) => name.endsWith('.json'))
      .map((name) => JSON.parse(readFileSync(path.join(OUT_DIR, name), 'utf8')) as Partial<BenchResults>)
      // A file from before the collector rows has none: read as not measured.
      .map((r) => ({ ...r, collector_path: r.collector_path ?? null }))
      .filter((r): r is BenchResults => typeof r.engine === 'string')
      .sort((a, b) => b.engine.localeCompare(a.engine))
  );
}

/**
 * Writes this run's results file, then the page from every engine's latest results; the page formatted as the
 * repo formats Markdown, so `make lint` accepts it as it is.
 */
export async function writeReport(results: BenchResults): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = resultsFileOf(results.engine);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  mkdirSync(path.dirname(DOC), { recursive: true });
  const prettierOptions = JSON.parse(
    readFileSync(path.join(REPO_ROOT, '.prettierrc.json'), 'utf8'),
  ) as Record<string, unknown>;
  writeFileSync(DOC, await format(page(allResults()), { parser: 'markdown', ...prettierOptions }));
  console.log(`bench: wrote ${path.relative(REPO_ROOT, file)} and ${path.relative(REPO_ROOT, DOC)}`);
}

/** A group's CPU per 1000 requests; undefined in a results file from before the group existed. */
const cpuOf = (x: RunSummary, group: CpuGroup): number | undefined =>
  (x.cpu_seconds_per_1000_requests as Partial<Record<CpuGroup, number>>)[group];

/** Milliseconds of the whole machine's CPU per request in a run, every group together. */
const machineMsPerRequest = (r: BenchResults, run: Run) =>
  round3(CPU_GROUPS.reduce((sum, g) => sum + (cpuOf(r.runs[run], g) ?? 0), 0));

/** One row of a runs table: load, latency, errors, CPU per 1000 requests by group, the apps' peak memory. */
const runRow = (run: string, x: RunSummary) =>
  `| ${run} | ${x.rps} | ${x.p50_ms} | ${x.p90_ms} | ${x.p99_ms} | ${x.errors} of ${x.requests} | ${CPU_GROUPS.map((g) => cpuOf(x, g) ?? '-').join(' | ')} | ${run === 'limit' ? '-' : x.apps_peak_rss_mib} |`;

const RUNS_TABLE_HEADER = `| run | req/s | p50 ms | p90 ms | p99 ms | errors | CPU s / 1000 req, Envoys | apps | collector | Zipkin | engine | load generator | rest of machine | apps' peak RSS MiB |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`;

/** The collector's throughput against the direct path's, 100 % / 10 %; '-' for a results file from before it. */
const collectorVsDirect = (r: BenchResults) =>
  r.collector_path
    ? COLLECTOR_RUNS.map((run) => r.collector_path?.throughput_vs_direct[run]).join(' / ')
    : '-';

function page(all: BenchResults[]): string {
  const side = all.map(
    (r) =>
      `| ${r.engine} | ${r.date.slice(0, 10)} | ${r.runs.off.rps} | ${r.throughput_vs_off['otel-1']} | ${r.throughput_vs_off['otel-10']} | ${r.throughput_vs_off.otel} | ${(['off', 'otel-1', 'otel-10', 'otel'] as const).map((run) => meshCpuMsPerRequest(r.runs[run])).join(' / ')} | ${(['off', 'otel-10', 'otel'] as const).map((run) => machineMsPerRequest(r, run)).join(' / ')} | ${collectorVsDirect(r)} | ${r.targets.filter((t) => t.holds).length} of ${r.targets.length} |`,
  );
  return `# Benchmarks

Written by \`make bench\` ([scripts/bench.ts](../scripts/bench.ts)) on the engine it runs on; the numbers are in
[bench/results/](../bench/results/), one file per engine (its latest run). Each run is on one shared machine: compare
the rows of one engine with each other (ratios), not with other machines. Why the engines differ, and where the cost
goes: [profiling.md](profiling.md).

| engine | date | off req/s | throughput ÷ off: otel-1 | otel-10 | otel | CPU ms / req without store and load generator: off / otel-1 / otel-10 / otel | the whole machine: off / otel-10 / otel | through the collector ÷ direct: 100 % / 10 % | targets held |
|---|---|---|---|---|---|---|---|---|---|
${side.join('\n')}

The ratios are medians of the rounds' ratios; the CPU is per request, net of what each part uses at idle. What sampling buys: the otel-1 and otel-10 columns against otel's.

${all.map(markdown).join('\n\n')}
`;
}

function markdown(r: BenchResults): string {
  const rows = RUNS.map((run) => runRow(run, r.runs[run]));
  const h = r.latency_at_half_otel_max;
  const t = r.time_to_trace;
  const ttt = (x: TimeToTrace | null) =>
    x === null
      ? 'not measured in this run'
      : `p50 ${x.p50_ms} ms, p95 ${x.p95_ms} ms, max ${x.max_ms} ms${x.incomplete ? `, ${x.incomplete} of ${x.samples} incomplete after ${x.give_up_after_ms / 1000} s` : ''}`;
  const yes = (ok: boolean) => (ok ? 'holds' : 'missed');
  const idle = r.idle_cpu_seconds_per_second;
  return `## ${r.engine}

- Machine: ${r.machine}; engine: ${r.engine}
- Date: ${r.date}
- Load: ${r.settings.load_generators.closed_loop} in its own process, ${r.settings.connections} connections, closed loop; ${r.settings.rounds} rounds of
  ${r.settings.seconds_per_run} s per run (the otel runs: ${OTEL_REQUESTS_PER_ROUND} requests each, so that their spans can be counted; req/s from each run's start to its last response, not autocannon's whole seconds: [autocannon-run.mts](../scripts/bench/autocannon-run.mts) says why), the runs interleaved in every round (the otel runs together, every other round in reverse order; medians below); each run after a warm-up (1 s; ${WARM_UP_REQUESTS} requests in the otel runs), and ${AFTER_RECREATE_REQUESTS} requests after every start or recreate of the apps (fresh Node processes are slow until warm: [profiling.md](profiling.md)).
  The mesh runs in containers (\`docker compose up\`), all of it on this machine: the load generator competes with it for the CPUs.
- CPU, the whole machine's, by group: each container from its cgroup; the engine's processes outside the containers (daemons, shims, port proxies, the healthcheck scheduler); the load generator; the rest of the machine (the kernel's network work, anything else). At idle, per second: ${CPU_GROUPS.map((g) => `${g.replaceAll('_', ' ')} ${idle[g]}`).join(', ')} CPU-seconds (healthchecks, timers, the engine's loops), taken off every run's figures below.

${RUNS_TABLE_HEADER}
${rows.join('\n')}

- **limit**: front-envoy alone, answering \`/healthz\` itself. **off**: the whole chain, sampling 0 % in every Envoy and
  the apps in \`off\` mode. **forward** and **otel**: the whole chain at 100 % sampling in those modes. **otel-10**
  and **otel-1**: otel with front-envoy sampling 10 % and 1 % of requests (the sidecars and the SDK follow its B3
  decision), as production meshes run.
- Latency at 50 % of otel's maximum: ${h.rate_rps} new requests per second for ${r.settings.half_load_seconds} s, at a constant
  arrival rate (${r.settings.load_generators.constant_rate}, [bench/constant-rate.k6.js](../bench/constant-rate.k6.js)):
  p50 ${h.p50_ms} ms, p90 ${h.p90_ms} ms, p99 ${h.p99_ms} ms, ${h.errors} errors. The same rate with tracing off (as in
  **off**): p50 ${h.tracing_off.p50_ms} ms, p90 ${h.tracing_off.p90_ms} ms, p99 ${h.tracing_off.p99_ms} ms, ${h.tracing_off.errors} errors.
- Span delivery in the otel runs: ${r.span_delivery.received} spans received by Zipkin of ${r.span_delivery.expected} expected
  (${SPANS_PER_REQUEST} per request front-envoy sampled, in the otel, otel-10 and otel-1 runs), counted by Zipkin's own \`zipkin_collector_spans_total\`
  after every Envoy and SDK flushed${
    r.span_delivery.received > r.span_delivery.expected
      ? `; ${r.span_delivery.received - r.span_delivery.expected} more than front-envoy's sampling counter accounts for ([profiling.md](profiling.md))`
      : ''
  }.

- Time to a complete trace, from the response to all ${SPANS_PER_REQUEST} spans readable in the store's API (what its UI
  reads), ${t.zipkin_idle.samples} requests one at a time: Zipkin idle ${ttt(t.zipkin_idle)}; Zipkin during the 50 % load run
  (${t.zipkin_at_half_load.samples} requests) ${ttt(t.zipkin_at_half_load)}; Jaeger idle ${ttt(t.jaeger_idle)}. Envoy posts its
  spans every ${envoyFlushIntervalMs()} ms (\`tracing.zipkin.flush_interval_ms\`, 5 s by default), the SDK on its own
  \`scheduledDelayMillis\` (services/src/tracing/span-batching.ts, held to no later than Envoy's by the consistency check).

- Startup of the README's \`docker compose up --build --wait\` until every container is healthy: ${
    r.startup === null
      ? 'not measured in this run'
      : `${r.startup.up_from_images_s} s from built images (after \`down\`), ${r.startup.up_running_s} s on the running mesh (medians of ${STARTUP_SAMPLES}: ${r.startup.samples.up_from_images_s.join(', ')} s and ${r.startup.samples.up_running_s.join(', ')} s); building the services image without layer cache takes ${r.startup.build_no_cache_s} s more`
  }. Most of it is Zipkin's start (its JVM): front-envoy waits for Zipkin to be healthy, the rest of the mesh starts beside it. ${r.engine.startsWith('Podman') ? "On this project's Podman the healthcheck scheduler probes a starting container every second ([engine.md](engine.md))." : "On Docker each container's first probe comes one healthcheck interval (docker-compose.yaml) after it starts, so Zipkin and then front-envoy each wait at least that long."}


${collectorSection(r)}

| target | result |
|---|---|
${r.targets.map((t) => `| ${t.target} | ${t.measured}: ${yes(t.holds)} |`).join('\n')}
`;
}

/** The production path's rows: the same runs through the OpenTelemetry Collector, on a mesh of its own. */
function collectorSection(r: BenchResults): string {
  const c = r.collector_path;
  if (c === null) return '- Through the OpenTelemetry Collector: not measured in this run.';
  const idle = c.idle_cpu_seconds_per_second;
  const t = c.time_to_trace_idle;
  return `### Through the OpenTelemetry Collector

The production path ([collector.md](collector.md)): the same otel runs at 100 % (**collector**) and 10 %
(**collector-10**), every span through the collector to Zipkin, on its own mesh (\`docker-compose.collector.yaml\`)
measured before the direct rounds, in the same way (its own idle CPU per second taken off: ${CPU_GROUPS.map((g) => `${g.replaceAll('_', ' ')} ${idle[g]}`).join(', ')}).
Throughput against the direct path's otel and otel-10: ${COLLECTOR_RUNS.map((run) => `${c.throughput_vs_direct[run]} ×`).join(' and ')} (medians of rounds minutes apart, not paired).

${RUNS_TABLE_HEADER}
${COLLECTOR_RUNS.map((run) => runRow(run, c.runs[run])).join('\n')}

Span delivery: ${c.span_delivery.received} spans received by Zipkin of ${c.span_delivery.expected} expected. Time to a complete trace
through the collector, idle: p50 ${t.p50_ms} ms, p95 ${t.p95_ms} ms, max ${t.max_ms} ms${t.incomplete ? `, ${t.incomplete} of ${t.samples} incomplete` : ''} (${t.samples} requests).`;
}
