// The trace backend goes away for 30 s under steady traffic: no user request fails, the apps' memory stays
// bounded (the SDK queues at most 2048 spans, Envoy drops what it cannot send), and once the backend is back new
// requests make complete traces again. `make test-reliability`; the figures go to docs/reliability.md.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatReport, verifyTrace } from '../../lib/verifier.ts';
import { meshFor } from '../e2e/support.ts';

const OUTAGE_MS = 30_000;
const REQUESTS_PER_SECOND = 10;

function rssMiB(pid: number | null): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

describe('the trace backend stops for 30 s under steady traffic', () => {
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
    const traffic = async (durationMs: number) => {
      const end = Date.now() + durationMs;
      while (Date.now() < end) {
        const tick = Date.now();
        const response = await fetch(`${under.front}/trace/1`);
        sent += 1;
        if (response.status !== 200) failures.push(`${response.status} ${await response.text()}`);
        else await response.arrayBuffer();
        for (const [app, mib] of Object.entries(rss())) peak[app] = Math.max(peak[app] ?? 0, mib);
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, 1000 / REQUESTS_PER_SECOND - (Date.now() - tick))),
        );
      }
    };

    await traffic(2000);
    await under.mesh.kill('zipkin', 'SIGKILL');
    await traffic(OUTAGE_MS);
    const restartedAt = Date.now();
    await Promise.all([under.mesh.restart('zipkin'), traffic(1000)]);
    const backAfterMs = Date.now() - restartedAt;
    await traffic(2000);

    const result = await verifyTrace({ url: `${under.front}/trace/1`, backend: under.backend });
    const growth = Object.fromEntries(
      APPS.map((app) => [app, Math.round((peak[app] ?? 0) - (before[app] ?? 0))]),
    );
    console.log(
      `backend outage: ${sent} requests at ${REQUESTS_PER_SECOND}/s, ${failures.length} failed; zipkin down ${OUTAGE_MS / 1000} s, ` +
        `healthy again after ${(backAfterMs / 1000).toFixed(1)} s; RSS before ${JSON.stringify(before)} MiB, peak growth ${JSON.stringify(growth)} MiB; ` +
        `first trace after: ${result.ok ? 'complete' : 'INCOMPLETE'}`,
    );
    assert.deepEqual(failures, []);
    assert.ok(sent >= (OUTAGE_MS / 1000) * REQUESTS_PER_SECOND * 0.8, `${sent} requests`);
    for (const app of APPS) assert.ok((growth[app] ?? 0) < 64, `${app} grew ${String(growth[app])} MiB`);
    assert.ok(result.ok, formatReport(result));
  });
});
