// Where the machine's CPU goes while a run loads the mesh, so the per-request figures add up to the whole machine:
// each container (its cgroup: every process in it, healthcheck probes included), the engine's own processes outside
// every container (daemons, shims, port proxies, Podman's healthcheck scheduler), this benchmark with its load
// generators (its child processes), and the rest: the kernel's share of the network work and anything else running.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { containerCpuSeconds } from '../mesh/container-cgroup.ts';

/**
 * The containers by group: the Envoys, the apps, the OpenTelemetry Collector (the production path's; none on the
 * direct path) and the trace store.
 */
export const CONTAINER_GROUPS = ['envoys', 'apps', 'collector', 'store'] as const;
export type ContainerGroup = (typeof CONTAINER_GROUPS)[number];

/** The groups of a reading, in the order the report lists them. */
export const CPU_GROUPS = [...CONTAINER_GROUPS, 'engine', 'load_generator', 'rest_of_machine'] as const;
export type CpuGroup = (typeof CPU_GROUPS)[number];
export type CpuSeconds = Record<CpuGroup, number>;

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * The engine's processes, by their command name (/proc/PID/comm, at most 15 characters). Docker Engine: the daemon,
 * its containerd, one shim per container, one port proxy per published port. Podman: its API service, one conmon
 * per container, its DNS server and network tool, and this project's healthcheck scheduler and network-id adapter.
 */
const ENGINE_COMMANDS = new Set([
  'dockerd',
  'containerd',
  'containerd-shim',
  'docker-proxy',
  'podman',
  'conmon',
  'aardvark-dns',
  'netavark',
  'healthchecks.sh',
]);
const ENGINE_SCRIPTS = /network-id-adapter\.ts/;

/**
 * The processes whose children are the containers' own (a container's first process, every healthcheck exec): the
 * CPU of those children is in the container's cgroup already, so only the process's own time counts here.
 */
const CONTAINER_PARENTS = new Set(['containerd-shim', 'conmon']);

/**
 * CPU seconds from /proc/PID/stat: utime + stime, plus (unless `ownOnly`) the CPU of the children it has waited for,
 * such as the curl probes of the healthcheck scheduler or the load generators of this benchmark.
 */
function processCpuSeconds(stat: string, ownOnly = false): number {
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = (ownOnly ? [11, 12] : [11, 12, 13, 14]).reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  return ticks / TICKS_PER_SECOND;
}

function readProc(pid: string, file: string): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null; // the process ended between the listing and the read
  }
}

/** CPU seconds of each engine process now running, by pid. */
function engineCpuSeconds(): Map<string, number> {
  const byPid = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const command = readProc(pid, 'comm')?.trim() ?? '';
    const isEngine =
      ENGINE_COMMANDS.has(command) ||
      (command === 'node' && ENGINE_SCRIPTS.test(readProc(pid, 'cmdline')?.replaceAll('\0', ' ') ?? ''));
    if (!isEngine) continue;
    const stat = readProc(pid, 'stat');
    if (stat !== null) byPid.set(pid, processCpuSeconds(stat, CONTAINER_PARENTS.has(command)));
  }
  return byPid;
}

/** CPU seconds one process has used itself, to now (an app on loopback: `make bench-apps`). */
export function ownCpuSeconds(pid: number): number {
  return processCpuSeconds(readFileSync(`/proc/${String(pid)}/stat`, 'utf8'), true);
}

/** Busy CPU seconds of the whole machine since boot: every CPU's time but idle and iowait (/proc/stat). */
function machineBusySeconds(): number {
  const [, ...fields] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
    TICKS_PER_SECOND
  );
}

/** This process and the children it has waited for: the load generators (and the few docker CLI calls). */
function benchmarkCpuSeconds(): number {
  return processCpuSeconds(readFileSync('/proc/self/stat', 'utf8'));
}

export interface CpuReading {
  at: number;
  machine: number;
  containers: Record<ContainerGroup, number>;
  engine: Map<string, number>;
  benchmark: number;
}

/** One reading of every counter; `pids` are the containers' main processes by group (resolved beforehand). */
export function readCpu(pids: GroupPids): CpuReading {
  const container = (group: (number | null)[]) =>
    group.reduce<number>((sum, pid) => sum + (pid === null ? 0 : containerCpuSeconds(pid)), 0);
  return {
    at: performance.now() / 1000,
    machine: machineBusySeconds(),
    containers: Object.fromEntries(CONTAINER_GROUPS.map((g) => [g, container(pids[g])])) as Record<
      ContainerGroup,
      number
    >,
    engine: engineCpuSeconds(),
    benchmark: benchmarkCpuSeconds(),
  };
}

/** CPU seconds each group used between two readings; the rest of the machine is what no group accounts for. */
export function cpuBetween(before: CpuReading, after: CpuReading): CpuSeconds & { seconds: number } {
  const containers = Object.fromEntries(
    CONTAINER_GROUPS.map((g) => [g, after.containers[g] - before.containers[g]]),
  ) as Record<ContainerGroup, number>;
  const used = {
    ...containers,
    // A process that started in between counts whole; one that ended took its CPU with it (rest of machine).
    engine: [...after.engine].reduce(
      (sum, [pid, seconds]) => sum + seconds - (before.engine.get(pid) ?? 0),
      0,
    ),
    load_generator: after.benchmark - before.benchmark,
  };
  const accounted = Object.values(used).reduce((sum, value) => sum + value, 0);
  return {
    ...used,
    rest_of_machine: Math.max(0, after.machine - before.machine - accounted),
    seconds: after.at - before.at,
  };
}

export type GroupPids = Record<ContainerGroup, (number | null)[]>;

/**
 * What each group uses per second while the mesh serves nothing: healthchecks, the exporters' and Envoy's flush
 * timers, the engine's own loops. Subtracted from every run, so a run's per-request figures hold only per-request work.
 */
export async function idleCpuPerSecond(pids: GroupPids, seconds: number): Promise<CpuSeconds> {
  const before = readCpu(pids);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const used = cpuBetween(before, readCpu(pids));
  return Object.fromEntries(CPU_GROUPS.map((group) => [group, used[group] / used.seconds])) as CpuSeconds;
}

/** CPU seconds per 1000 requests of each group in a run, the group's idle use over the run's duration taken off. */
export function cpuPer1000Requests(
  used: CpuSeconds & { seconds: number },
  idlePerSecond: CpuSeconds,
  requests: number,
): CpuSeconds {
  return Object.fromEntries(
    CPU_GROUPS.map((group) => [
      group,
      ((used[group] - idlePerSecond[group] * used.seconds) / Math.max(requests, 1)) * 1000,
    ]),
  ) as CpuSeconds;
}
