// The trace backend goes away for 300 requests of steady traffic (at most 10 a second, so 30 s or more): no user
// request fails, the apps' memory stays bounded (the SDK queues at most 2048 spans, Envoy drops what it cannot
// send), and once the backend is back new requests make complete traces again. The outage is counted in requests,
// not timed: a slow machine makes it longer, never red. The latency it prints is a figure for docs/reliability.md,
// not an assertion. `make test-reliability`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { meshFor } from '../e2e/support.ts';
import { assertRecovered, describeRecovery, firstCompleteTrace, SteadyTraffic } from './support.ts';
import { TRACE_STORE_SERVICE } from '../../repo.ts';

const OUTAGE_REQUESTS = 300;
const REQUESTS_PER_SECOND = 10;

function rssMiB(pid: number | null): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

describe('the trace backend stops for 300 requests of steady traffic', () => {
  const under = meshFor('zipkin', 'otel');

  it('fails no request, keeps memory bounded, and traces completely again afterwards', async () => {
    const APPS = under.mesh.apps;
    // The apps' host pids, asked of the engine once: only Zipkin is stopped and started here.
    const pids = Object.fromEntries(APPS.map((app) => [app, under.mesh.pid(app)]));
    const rss = () => Object.fromEntries(APPS.map((app) => [app, rssMiB(pids[app] ?? null)]));
    const before = rss();
    const peak: Record<string, number> = { ...before };
    const traffic = new SteadyTraffic(under, REQUESTS_PER_SECOND, () => {
      for (const [app, mib] of Object.entries(rss())) peak[app] = Math.max(peak[app] ?? 0, mib);
    });

    await traffic.send(20);
    const killedAt = Date.now();
    await under.mesh.kill(TRACE_STORE_SERVICE, 'SIGKILL');
    await traffic.send(OUTAGE_REQUESTS);
    const restartedAt = Date.now();
    await Promise.all([under.mesh.restart(TRACE_STORE_SERVICE), traffic.send(10)]);
    const backAfterMs = Date.now() - restartedAt;
    await traffic.send(20);

    // Recovered means new requests trace completely. Twice in CI the first traces after Zipkin was back lacked one
    // or two Envoys' spans: those Envoys still sent to Zipkin's old address (their DNS had turned to the host's
    // resolver, see dns-stall.test.ts). A few fresh requests, not one: the log says which was the first complete.
    const recovery = await firstCompleteTrace(under, { requests: 5, waitMs: 5000 });
    const growth = Object.fromEntries(
      APPS.map((app) => [app, Math.round((peak[app] ?? 0) - (before[app] ?? 0))]),
    );
    console.log(
      `backend outage: ${traffic.sent} requests at ${REQUESTS_PER_SECOND}/s, ${traffic.failures.length} failed; zipkin down ${((restartedAt - killedAt) / 1000).toFixed(1)} s, ` +
        `healthy again after ${(backAfterMs / 1000).toFixed(1)} s; RSS before ${JSON.stringify(before)} MiB, peak growth ${JSON.stringify(growth)} MiB; ` +
        `trace after: ${describeRecovery(recovery)}; ${traffic.latency()}`,
    );
    assert.deepEqual(traffic.failures, []);
    for (const app of APPS) assert.ok((growth[app] ?? 0) < 64, `${app} grew ${String(growth[app])} MiB`);
    await assertRecovered(under, recovery);
  });
});
