// `make profile-apps`: where the apps' CPU goes per request in each tracing mode, in the mesh (the requests Envoy
// sends them, not a loopback imitation). For each run, every app is recreated under Node's CPU profiler
// (bench/cpu-profile.compose.yaml), warmed up, loaded, and stopped so that it writes its profile; the profiles are
// read by part (scripts/bench/cpu-profile.ts) and the table of microseconds per request, summed over the three
// apps, goes to .run/profile-apps/report.md beside the raw profiles (open them in Chrome DevTools).
//
// The profiler costs CPU itself: read the table for where the time goes and how the modes differ, not as the
// benchmark's milliseconds per request (docs/benchmarks.md has those).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BenchMesh } from './bench/bench-mesh.ts';
import {
  cpuByPart,
  PROFILE_OVERLAY,
  profiledApps,
  STARTUP_PART,
  type CpuByPart,
} from './bench/cpu-profile.ts';
import { load } from './bench/load-generators.ts';
import { AFTER_RECREATE_REQUESTS, CONNECTIONS, type Run } from './bench/settings.ts';
import { REPO_ROOT } from './repo.ts';

/** The runs compared: no tracing, headers copied by hand, the SDK at 1 % and at 100 % (the benchmark's runs). */
const RUNS: readonly Run[] = ['off', 'forward', 'otel-1', 'otel'];
/** Requests measured per run, after AFTER_RECREATE_REQUESTS of warm-up (both are in the profile). */
const MEASURED_REQUESTS = 3000;
const OUT_DIR = path.join(REPO_ROOT, '.run', 'profile-apps');

async function profileRun(bench: BenchMesh, run: Run): Promise<CpuByPart> {
  const { mesh } = bench;
  await bench.enter(run); // the run's TRACING_MODE and Envoy sampling
  const profileDirs = profiledApps();
  const apps = [...profileDirs.keys()];
  // Fresh containers, so no profile of an earlier run is in them.
  const overlay = ['-f', PROFILE_OVERLAY];
  await mesh.compose([...overlay, 'up', '--detach', '--no-deps', '--force-recreate', '--wait', ...apps], {
    TRACING_MODE: bench.tracingMode,
  });
  const url = bench.urlFor(run);
  await load(url, 60, CONNECTIONS, AFTER_RECREATE_REQUESTS);
  const measured = await load(url, 60, CONNECTIONS, MEASURED_REQUESTS);
  if (measured.errors > 0) throw new Error(`${run}: ${measured.errors} requests failed while profiled`);
  await mesh.compose([...overlay, 'stop', ...apps], { TRACING_MODE: bench.tracingMode });

  const parts: CpuByPart = new Map();
  for (const [app, profileDir] of profileDirs) {
    const dir = path.join(OUT_DIR, run, app);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(path.dirname(dir), { recursive: true });
    execFileSync('docker', ['cp', `${mesh.containerId(app)}:${profileDir}`, dir]);
    for (const [part, ms] of cpuByPart(dir)) parts.set(part, (parts.get(part) ?? 0) + ms);
  }
  // Per request: every request the profiled processes answered, warm-up included (startup is left out).
  const requests = AFTER_RECREATE_REQUESTS + measured.requests;
  return new Map([...parts].map(([part, ms]) => [part, (ms * 1000) / requests]));
}

function report(byRun: Map<Run, CpuByPart>): string {
  const parts = [...new Set([...byRun.values()].flatMap((parts) => [...parts.keys()]))]
    .filter((part) => part !== STARTUP_PART)
    .sort((a, b) => (byRun.get('otel-1')?.get(b) ?? 0) - (byRun.get('otel-1')?.get(a) ?? 0));
  const cell = (run: Run, part: string) => Math.round(byRun.get(run)?.get(part) ?? 0);
  const total = (run: Run) => parts.reduce((sum, part) => sum + cell(run, part), 0);
  return [
    `CPU µs per request, the three apps together, under the profiler (${new Date().toISOString()}):`,
    '',
    `| part | ${RUNS.join(' | ')} |`,
    `| --- | ${RUNS.map(() => '---:').join(' | ')} |`,
    ...parts.map((part) => `| ${part} | ${RUNS.map((run) => cell(run, part)).join(' | ')} |`),
    `| **total** | ${RUNS.map((run) => `**${total(run)}**`).join(' | ')} |`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const bench = await BenchMesh.start();
  const byRun = new Map<Run, CpuByPart>();
  try {
    for (const run of RUNS) {
      console.log(`profile-apps: ${run}`);
      byRun.set(run, await profileRun(bench, run));
    }
  } finally {
    // The README's mesh again: the apps without the profiler, otel at the configs' sampling.
    await bench.mesh.recreate(bench.groups.apps, { TRACING_MODE: 'otel' });
    await bench.enter('otel');
  }
  const text = report(byRun);
  writeFileSync(path.join(OUT_DIR, 'report.md'), text);
  console.log(text);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
