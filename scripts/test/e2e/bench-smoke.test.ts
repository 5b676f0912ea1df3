// `make bench` with tiny numbers (BENCH_SMOKE=1): it runs from start to end and writes well-formed results.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../repo.ts';

describe('make bench, smoke run', () => {
  it('measures all four runs, the half-load latency and span delivery, and writes both files', async () => {
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'bench.ts')],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, BENCH_SMOKE: '1' },
      },
    );
    const dir = path.join(REPO_ROOT, '.run', 'bench-smoke');
    const results = JSON.parse(readFileSync(path.join(dir, 'latest.json'), 'utf8')) as {
      machine: string;
      runs: Record<string, { rps: number; p50_ms: number; p99_ms: number; errors: number }>;
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
    for (const run of ['limit', 'off', 'forward', 'otel']) {
      assert.ok((results.runs[run]?.rps ?? 0) > 0, `${run} served requests: ${all}`);
      assert.equal(results.runs[run]?.errors, 0, `${run} had no errors: ${all}`);
    }
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
