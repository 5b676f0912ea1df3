// CPU time of a whole container, from its cgroup: every process in it counts (an app's worker threads and
// children too), and nothing outside it does. Found through the container's main process: /proc/PID/cgroup.
import { readFileSync } from 'node:fs';

/** Seconds of CPU the cgroup of `pid` has used so far (cgroup v2 cpu.stat, or v1 cpuacct.usage). */
export function containerCpuSeconds(pid: number): number {
  const lines = readFileSync(`/proc/${String(pid)}/cgroup`, 'utf8')
    .trim()
    .split('\n');
  const v1 = lines.find((line) => /^\d+:([^:]*,)?cpuacct(,[^:]*)?:/.test(line));
  if (v1) {
    const [, controllers = 'cpuacct', group = '/'] = v1.split(':');
    const usageNs = readFileSync(`/sys/fs/cgroup/${controllers}${group}/cpuacct.usage`, 'utf8');
    return Number(usageNs) / 1e9;
  }
  const group = lines.find((line) => line.startsWith('0::'))?.slice(3) ?? '/';
  const usec = /^usage_usec (\d+)$/m.exec(readFileSync(`/sys/fs/cgroup${group}/cpu.stat`, 'utf8'))?.[1];
  if (usec === undefined) throw new Error(`no CPU usage in the cgroup of pid ${String(pid)}`);
  return Number(usec) / 1e6;
}
