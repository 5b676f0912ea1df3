// The two load generators, each a separate process so this one's event loop stays free: autocannon (closed loop,
// from npm) and k6 (an open model at a constant arrival rate, built by make tools).
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../repo.ts';
import { round1 } from './statistics.ts';

const execFileAsync = promisify(execFile);
const AUTOCANNON_RUN = path.join(REPO_ROOT, 'scripts', 'bench', 'autocannon-run.mts');
const K6 = path.join(REPO_ROOT, '.tools', 'bin', 'k6');
const K6_SCRIPT = path.join(REPO_ROOT, 'bench', 'constant-rate.k6.js');

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
}

/**
 * Closed-loop load from a separate process (autocannon-run.mts), so the event loop of this process stays free while
 * the load runs: `connections` requests in flight for `seconds`, or until `amount` requests were answered; every
 * request with `headers`.
 */
export async function load(
  url: string,
  seconds: number,
  connections: number,
  amount?: number,
  headers: Record<string, string> = {},
): Promise<LoadResult> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      AUTOCANNON_RUN,
      // autocannon notices that a run is over (its count answered, its time up) only when it takes a sample:
      // every second by default, so a run of 20 requests took a second. Every 100 ms instead; its samples of
      // requests per second are not used (the rate is the run's own length: autocannon-run.mts).
      JSON.stringify({ url, connections, duration: seconds, amount, headers, sampleInt: 100 }),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const { result: r, seconds: took } = JSON.parse(stdout) as {
    result: {
      latency: { p50: number; p90: number; p99: number };
      errors: number;
      timeouts: number;
      non2xx: number;
      '2xx': number;
    };
    seconds: number;
  };
  return {
    requests: r['2xx'],
    // The run's own length, not autocannon's whole seconds (autocannon-run.mts); 0 when nothing was answered.
    rps: took > 0 ? r['2xx'] / took : 0,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

/**
 * Open-model load: RATE new requests per second for `seconds`, each on whichever of `maxVus` connections is free,
 * whether or not earlier ones have answered. k6 reports requests it could not start (no free connection) as
 * dropped_iterations: those count as errors, so an overloaded run cannot pass for a fast one.
 */
export async function constantRate(
  url: string,
  rate: number,
  seconds: number,
  maxVus: number,
): Promise<LoadResult> {
  const summaryFile = path.join(REPO_ROOT, '.run', 'k6-summary.json');
  mkdirSync(path.dirname(summaryFile), { recursive: true });
  await execFileAsync(
    K6,
    [
      'run',
      '--quiet',
      '--no-usage-report', // k6 would otherwise report usage to its vendor
      '--summary-export',
      summaryFile,
      ...['-e', `URL=${url}`, '-e', `RATE=${rate}`, '-e', `DURATION=${seconds}`, '-e', `MAX_VUS=${maxVus}`],
      K6_SCRIPT,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const metrics = (
    JSON.parse(readFileSync(summaryFile, 'utf8')) as {
      metrics: Record<string, Record<string, number | undefined> | undefined>;
    }
  ).metrics;
  const requests = metrics.http_reqs?.count ?? 0;
  const failed = metrics.http_req_failed?.passes ?? 0; // "passes" of the failed-rate metric: failed requests
  const duration = metrics.http_req_duration ?? {};
  return {
    requests: requests - failed,
    rps: (requests - failed) / seconds,
    p50: round1(duration['p(50)'] ?? NaN),
    p90: round1(duration['p(90)'] ?? NaN),
    p99: round1(duration['p(99)'] ?? NaN),
    errors: failed + (metrics.dropped_iterations?.count ?? 0),
  };
}
