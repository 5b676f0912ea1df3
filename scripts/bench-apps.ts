// `make bench-apps`: what the apps themselves cost per request in each tracing mode, on loopback, without Envoy or
// an engine. The three apps run as processes (scripts/loopback/, as the services' tests run them), one chain per
// case, all started before the first round; the rounds load each chain in turn with the requests Envoy would send,
// so that the machine's drift lands on every case alike. In the mesh (`make bench`) the same image drifts by about
// 0.4 ms per request between runs, more than a change to the apps' code moves them: this is the instrument for that.
// Compare the deltas over `off` of two commits, not their absolute figures. Writes .run/bench-apps.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sidecarHeaders, startChain, type Chain } from './loopback/chain.ts';
import { ownCpuSeconds } from './bench/cpu-accounting.ts';
import { load } from './bench/load-generators.ts';
import { machine } from './bench/machine.ts';
import { median, round3 } from './bench/statistics.ts';
import { REPO_ROOT } from './repo.ts';

const ROUNDS = 8;
const REQUESTS_PER_RUN = 4000;
/** Before each run, and (times ten) once per chain before the first round, while V8 compiles the request path. */
const WARM_UP_REQUESTS = 500;
const CONNECTIONS = 16;

/**
 * The cases, each a chain of its own: `off` is the baseline. Not sampled is what nearly every request is at 1 or
 * 10 %; `otel, sampled` is every request at 100 % (its spans go to the chain's span sink, in this process).
 */
const CASES = [
  { name: 'off', mode: 'off', headers: sidecarHeaders('0') },
  { name: 'forward', mode: 'forward', headers: sidecarHeaders('0') },
  { name: 'otel, not sampled', mode: 'otel', headers: sidecarHeaders('0') },
  { name: 'otel, sampled', mode: 'otel', headers: sidecarHeaders('1') },
] as const;
type CaseName = (typeof CASES)[number]['name'];

interface Run {
  /** The three apps' CPU per request, in ms. */
  appsCpuMs: number;
  rps: number;
}

const appPids = (chain: Chain) =>
  [chain.service1, chain.service2, chain.service3].map((app) => {
    if (app.pid === undefined) throw new Error(`${String(app.env.SERVICE_NAME)} does not run`);
    return app.pid;
  });
const appsCpuSeconds = (pids: number[]) => pids.reduce((sum, pid) => sum + ownCpuSeconds(pid), 0);

async function measure(chain: Chain, headers: Record<string, string>): Promise<Run> {
  const url = `${chain.entry}/trace/1`;
  await load(url, 60, CONNECTIONS, WARM_UP_REQUESTS, headers);
  const pids = appPids(chain);
  const before = appsCpuSeconds(pids);
  const result = await load(url, 60, CONNECTIONS, REQUESTS_PER_RUN, headers);
  const run = { appsCpuMs: ((appsCpuSeconds(pids) - before) * 1000) / result.requests, rps: result.rps };
  if (result.errors > 0)
    throw new Error(`${String(result.errors)} requests failed: ${JSON.stringify(result)}`);
  // The case is what it says: spans exported for sampled requests only.
  const exported = chain.sink.spans.length;
  if ((headers['x-b3-sampled'] === '1') !== exported > 0)
    throw new Error(
      `${String(exported)} spans exported with x-b3-sampled: ${String(headers['x-b3-sampled'])}`,
    );
  // The harness keeps every span and log line for the tests to read; here they would only grow this process.
  chain.sink.spans.splice(0);
  for (const app of [chain.service1, chain.service2, chain.service3]) app.logs.splice(0);
  return run;
}

async function main(): Promise<void> {
  const chains = new Map<CaseName, Chain>();
  try {
    for (const c of CASES) {
      const chain = await startChain(c.mode);
      chains.set(c.name, chain);
      await load(`${chain.entry}/trace/1`, 60, CONNECTIONS, WARM_UP_REQUESTS * 10, c.headers);
    }
    const runs = new Map<CaseName, Run[]>(CASES.map((c) => [c.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      // Every other round in reverse, so no case always follows the same one.
      for (const c of round % 2 ? CASES : [...CASES].reverse()) {
        const chain = chains.get(c.name);
        if (!chain) throw new Error(`no chain for ${c.name}`);
        const run = await measure(chain, c.headers);
        runs.get(c.name)?.push(run);
        console.log(
          `round ${String(round)} ${c.name.padEnd(18)} apps ${run.appsCpuMs.toFixed(3)} ms/request, ${run.rps.toFixed(0)} req/s`,
        );
      }
    }
    // Each case's extra CPU over off, paired by round (so the drift between rounds cancels), then the median.
    const off = runs.get('off') ?? [];
    const summary = Object.fromEntries(
      CASES.map((c) => {
        const own = runs.get(c.name) ?? [];
        return [
          c.name,
          {
            apps_cpu_ms_per_request: round3(median(own.map((r) => r.appsCpuMs))),
            over_off_ms: round3(median(own.map((r, i) => r.appsCpuMs - (off[i]?.appsCpuMs ?? NaN)))),
            rps: Math.round(median(own.map((r) => r.rps))),
          },
        ];
      }),
    );
    console.table(summary);
    const out = path.join(REPO_ROOT, '.run', 'bench-apps.json');
    mkdirSync(path.dirname(out), { recursive: true });
    const settings = { rounds: ROUNDS, requests_per_run: REQUESTS_PER_RUN, connections: CONNECTIONS };
    writeFileSync(out, `${JSON.stringify({ machine: machine(), settings, cases: summary }, null, 2)}\n`);
    console.log(`bench-apps: wrote ${path.relative(REPO_ROOT, out)}`);
  } finally {
    await Promise.all([...chains.values()].map((chain) => chain.stop()));
  }
}

main().catch((error: unknown) => {
  console.error(`bench-apps: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
