// The mesh's DNS server stalls while the trace backend restarts (Podman's aardvark-dns did, in CI, while a container
// was killed and started): no user request fails, and once the DNS answers again every Envoy finds Zipkin's new
// address, so fresh requests trace completely. With Envoy's default resolver (c-ares), an Envoy that met the stall
// kept answering "not found" for Zipkin's name long after the DNS was back, and posted its spans to Zipkin's old
// address for minutes; the configs now resolve with getaddrinfo (docs/reliability.md). Podman only: Docker's DNS
// server lives inside dockerd and cannot be paused on its own. `make test-reliability`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ComposeProject } from '../../mesh/compose.ts';
import { meshFor } from '../e2e/support.ts';
import { assertRecovered, describeRecovery, firstCompleteTrace, SteadyTraffic } from './support.ts';
import { TRACE_STORE_SERVICE } from '../../repo.ts';

/**
 * The host pids of the Podman DNS server (aardvark-dns) that answers for this project's networks: it keeps one
 * file per network it serves in its `--config` directory. None where the engine is Docker, and never another
 * engine's DNS server.
 */
function meshDnsServerPids(project: ComposeProject): number[] {
  const networks = [...project.networks.keys()].map((key) => `${project.name}_${key}`);
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'aardvark-dns') return false;
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        const configDir = argv[argv.indexOf('--config') + 1] ?? '';
        return networks.some((network) => existsSync(path.join(configDir, network)));
      } catch {
        return false; // the process ended while we looked
      }
    })
    .map(Number);
}

describe('the mesh DNS stalls while the trace backend restarts', () => {
  const under = meshFor('zipkin', 'otel');

  it('fails no request, and every Envoy finds the restarted backend', async (t) => {
    const dns = meshDnsServerPids(under.mesh.project);
    if (dns.length === 0) {
      t.skip("no aardvark-dns process serves the mesh's network: the engine is not Podman");
      return;
    }
    // 10 requests a second: every Envoy re-resolves its names every 5 s, so 60 requests (6 s or more) of stall
    // let each of them try at least once.
    const traffic = new SteadyTraffic(under, 10);

    await traffic.send(10);
    await under.mesh.kill(TRACE_STORE_SERVICE, 'SIGKILL');
    await traffic.send(30);
    for (const pid of dns) process.kill(pid, 'SIGSTOP');
    try {
      // Zipkin starts (with a new address) while nobody answers the mesh's names.
      const restarted = under.mesh.restart(TRACE_STORE_SERVICE);
      await traffic.send(60);
      for (const pid of dns) process.kill(pid, 'SIGCONT');
      await restarted;
    } finally {
      for (const pid of dns) process.kill(pid, 'SIGCONT'); // never leave the engine's DNS stopped
    }
    await traffic.send(10);

    // Measured here: every Envoy had Zipkin's new address 0-8 s after the DNS answered again (with c-ares: one
    // never did, 3 minutes on). 10 requests awaited 5 s each leave room for that; a stuck Envoy fails them all.
    const recovery = await firstCompleteTrace(under, { requests: 10, waitMs: 5000 });
    console.log(
      `dns stall: ${traffic.sent} requests, ${traffic.failures.length} failed; trace after: ${describeRecovery(recovery)}; ${traffic.latency()}`,
    );
    assert.deepEqual(traffic.failures, []);
    await assertRecovered(under, recovery);
  });
});
