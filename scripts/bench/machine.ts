// What the benchmark reads from the machine: CPU and memory of the mesh's containers, the machine itself, and the
// versions of the load generators.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerCpuSeconds } from '../mesh/container-cgroup.ts';
import { REPO_ROOT } from '../repo.ts';

/** CPU seconds of a service's whole container (0 when it does not run). */
export function cpuSeconds(pid: number | null): number {
  return pid === null ? 0 : containerCpuSeconds(pid);
}

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
