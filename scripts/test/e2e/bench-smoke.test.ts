// `make bench` with tiny numbers (BENCH_SMOKE=1): it runs from start to end and writes well-formed results.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../repo.ts';
import { CPU_GROUPS } from '../../bench/cpu-accounting.ts';
import { RUNS } from '../../bench/settings.ts';

describe('make bench, smoke run', () => {
  it('measures every run, the half-load latency and span delivery, and writes both files', async () => {
    const dir = path.join(REPO_ROOT, '.run', 'bench-smoke');
    rmSync(dir, { recursive: true, force: true });
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'bench.ts')],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, BENCH_SMOKE: '1' },
      },
    );
    // One results file, named for the engine it ran on.
    const files = readdirSync(dir).filter((name) => name.endsWith('.json'));
    assert.equal(files.length, 1, `one results file: ${files.join(', ')}`);
    const results = JSON.parse(readFileSync(path.join(dir, files[0] ?? ''), 'utf8')) as {
      machine: string;
      engine: string;
      idle_cpu_seconds_per_second: Record<string, number>;
      runs: Record<
        string,
        {
          rps: number;
          p50_ms: number;
          p99_ms: number;
          errors: number;
          cpu_seconds_per_1000_requests: Record<string, number>;
        }
      >;
      span_delivery: { expected: number; received: number };
      latency_at_half_otel_max: {
        rate_rps: number;
        p50_ms: number;
        p99_ms: number;
        errors: number;
        requests: number;
        tracing_off: { p50_ms: number; errors: number; requests: number };
      };
    };
    // Every assertion below names the whole result, so a failure says what the run measured.
    const all = JSON.stringify({ runs: results.runs, span_delivery: results.span_delivery });
    assert.match(results.machine, /vCPU/);
    assert.match(results.engine, /^(Podman|Docker) Engine \d/);
    assert.equal(files[0], results.engine.startsWith('Podman') ? 'podman.json' : 'docker.json');
    // The whole machine is accounted for: every group, at idle and in every run (net of idle it may dip below 0).
    assert.deepEqual(Object.keys(results.idle_cpu_seconds_per_second), CPU_GROUPS);
    for (const run of RUNS) {
      const summary = results.runs[run];
      assert.ok(summary, `${run} was measured: ${all}`);
      assert.ok(summary.rps > 0, `${run} served requests: ${all}`);
      assert.equal(summary.errors, 0, `${run} had no errors: ${all}`);
      const cpu = summary.cpu_seconds_per_1000_requests;
      assert.deepEqual(Object.keys(cpu), CPU_GROUPS, `${run}: ${JSON.stringify(cpu)}`);
      assert.ok(Object.values(cpu).every(Number.isFinite), `${run}: ${JSON.stringify(cpu)}`);
    }
    // The load generator ran on this machine and used CPU for its requests.
    assert.ok((results.runs.otel?.cpu_seconds_per_1000_requests.load_generator ?? 0) > 0, all);
    const half = results.latency_at_half_otel_max;
    assert.equal(half.errors, 0, 'the constant-rate run: no failed or dropped requests');
    assert.ok(half.requests > 0 && half.p50_ms > 0 && half.p99_ms >= half.p50_ms, JSON.stringify(half));
    assert.equal(half.tracing_off.errors, 0, 'the constant-rate run with tracing off: no failed requests');
    assert.ok(half.tracing_off.requests > 0 && half.tracing_off.p50_ms > 0, JSON.stringify(half.tracing_off));
    assert.ok(results.span_delivery.expected > 0);
    // No span lost: at least every span of every request front-envoy sampled arrived. Not equality: a request the
    // client abandons in flight is traced but never counted by front-envoy's sampling counter (docs/profiling.md);
    // the benchmark bounds its otel runs and their warm-ups by request count so none is abandoned, and prints both
    // counts, but a surplus is not a lost span.
    assert.ok(
      results.span_delivery.received >= results.span_delivery.expected,
      `every span of the otel runs arrived: ${all}`,
    );
    assert.match(readFileSync(path.join(dir, 'benchmarks.md'), 'utf8'), /^\| otel +\|/m);
  });
});
