// What the benchmark reads from the machine: the apps' peak memory, the machine itself, the container engine, and
// the versions of the load generators. (CPU: cpu-accounting.ts.)
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from '../repo.ts';

export function peakRssMiB(pid: number | null): number {
  return (
    Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1] ?? 0) / 1024
  );
}

export function packageVersion(name: string): string {
  const manifest = path.join(REPO_ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

export function machine(): string {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return `${os.cpus().length} vCPU ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}`;
}

/** The engine the docker CLI reaches, as its API names itself (scripts/engine/engine.sh name). */
export function containerEngine(): string {
  const name = execFileSync(path.join(REPO_ROOT, 'scripts', 'engine', 'engine.sh'), ['name'], {
    encoding: 'utf8',
  });
  return name.trim() || 'unknown engine';
}
