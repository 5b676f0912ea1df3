// The trace backend goes away for 300 requests of steady traffic (at most 10 a second, so 30 s or more): no user
// request fails, the apps' memory stays bounded (the SDK queues at most 2048 spans, Envoy drops what it cannot
// send), and once the backend is back new requests make complete traces again. The outage is counted in requests,
// not timed: a slow machine makes it longer, never red. The latency it prints is a figure for docs/reliability.md,
// not an assertion. `make test-reliability`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatReport, verifyTrace } from '../../trace-check/verifier.ts';
import { meshFor } from '../e2e/support.ts';

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
    let sent = 0;
    const failures: string[] = [];
    const durationsMs: number[] = [];
    const traffic = async (requests: number) => {
      for (let n = 0; n < requests; n += 1) {
        const tick = Date.now();
        const response = await fetch(`${under.front}/trace/1`);
        sent += 1;
        if (response.status !== 200) failures.push(`${response.status} ${await response.text()}`);
        else await response.arrayBuffer();
        durationsMs.push(Date.now() - tick);
        for (const [app, mib] of Object.entries(rss())) peak[app] = Math.max(peak[app] ?? 0, mib);
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, 1000 / REQUESTS_PER_SECOND - (Date.now() - tick))),
        );
      }
    };

    await traffic(20);
    const killedAt = Date.now();
    await under.mesh.kill('zipkin', 'SIGKILL');
    await traffic(OUTAGE_REQUESTS);
    const restartedAt = Date.now();
    await Promise.all([under.mesh.restart('zipkin'), traffic(10)]);
    const backAfterMs = Date.now() - restartedAt;
    await traffic(20);

    // Recovered means new requests trace completely. Once in CI the first trace after Zipkin was healthy again
    // lacked service3-envoy's two spans for the whole 30 s wait (one dropped report; not reproduced here, the cause
    // not pinned down). So up to three fresh requests: a mesh that does not recover still fails, and the log says
    // which request was the first complete one.
    let result = await verifyTrace({ url: `${under.front}/trace/1`, backend: under.backend });
    let attempts = 1;
    while (!result.ok && attempts < 3) {
      attempts += 1;
      result = await verifyTrace({ url: `${under.front}/trace/1`, backend: under.backend });
    }
    const growth = Object.fromEntries(
      APPS.map((app) => [app, Math.round((peak[app] ?? 0) - (before[app] ?? 0))]),
    );
    const sorted = durationsMs.toSorted((a, b) => a - b);
    const latency = `request ms p50 ${sorted[Math.floor(sorted.length / 2)]} p95 ${sorted[Math.floor(sorted.length * 0.95)]} max ${sorted.at(-1)}`;
    console.log(
      `backend outage: ${sent} requests at ${REQUESTS_PER_SECOND}/s, ${failures.length} failed; zipkin down ${((restartedAt - killedAt) / 1000).toFixed(1)} s, ` +
        `healthy again after ${(backAfterMs / 1000).toFixed(1)} s; RSS before ${JSON.stringify(before)} MiB, peak growth ${JSON.stringify(growth)} MiB; ` +
        `trace after: ${result.ok ? `complete at request ${attempts}` : `INCOMPLETE after ${attempts} requests`}; ${latency}`,
    );
    assert.deepEqual(failures, []);
    for (const app of APPS) assert.ok((growth[app] ?? 0) < 64, `${app} grew ${String(growth[app])} MiB`);
    assert.ok(result.ok, formatReport(result));
  });
});
