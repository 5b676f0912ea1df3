// Compose's network, without Docker: one Linux network namespace per compose service (with its own network), all
// on one bridge whose address is the compose network's gateway, and /etc/netns/<ns>/hosts naming every service,
// which `ip netns exec` mounts over /etc/hosts. Everything made here carries the PREFIX, so `down` can find it
// again, also after a crash.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const PREFIX = 'tm'; // "traced mesh": short, because interface names have at most 15 characters
export const BRIDGE = `${PREFIX}-br`;
const NETNS_ETC = '/etc/netns';

export interface Host {
  /** The compose service that owns the namespace. */
  service: string;
  namespace: string;
  ip: string;
}

export const namespaceName = (service: string) => `${PREFIX}-${service}`;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quietly(run: () => unknown): void {
  try {
    run();
  } catch {
    // already gone: `down` is idempotent
  }
}

/** One clear line when this machine cannot run the mesh, or null when it can. */
export function missingPrerequisite(): string | null {
  if (process.getuid?.() !== 0)
    return 'the runner needs root to make network namespaces: run it as root (sudo make run)';
  try {
    ip('-V');
  } catch {
    return 'the runner needs the `ip` command: install iproute2 (Debian: apt-get install iproute2)';
  }
  return null;
}

/** Addresses: the gateway on the bridge; the hosts, in order, from the start of ip_range (or .10 of the subnet). */
export function planHosts(
  services: string[],
  subnet: string,
  gateway: string,
  ipRange: string | null,
): Host[] {
  const [base, bits] = subnet.split('/');
  if (bits !== '24' || !base) throw new Error(`the runner supports /24 subnets only, not ${subnet}`);
  const prefix = base.split('.').slice(0, 3).join('.');
  if (!gateway.startsWith(`${prefix}.`)) throw new Error(`gateway ${gateway} is not in ${subnet}`);
  const first = ipRange ? Number(ipRange.split('/')[0]?.split('.')[3]) : 10;
  if (ipRange && !ipRange.startsWith(`${prefix}.`))
    throw new Error(`ip_range ${ipRange} is not in ${subnet}`);
  if (first + services.length > 255) throw new Error(`not enough addresses for ${services.length} services`);
  return services.map((service, index) => ({
    service,
    namespace: namespaceName(service),
    ip: `${prefix}.${first + index}`,
  }));
}

export function createNetwork(hosts: Host[], gateway: string, aliases: Map<string, string[]>): void {
  ip('link', 'add', BRIDGE, 'type', 'bridge');
  ip('addr', 'add', `${gateway}/24`, 'dev', BRIDGE);
  ip('link', 'set', BRIDGE, 'up');
  const hostsFile = [
    '127.0.0.1 localhost',
    '::1 localhost ip6-localhost ip6-loopback',
    ...hosts.map((host) => `${host.ip} ${[host.service, ...(aliases.get(host.service) ?? [])].join(' ')}`),
    '',
  ].join('\n');
  hosts.forEach((host, index) => {
    const outside = `${PREFIX}${index}h`;
    const inside = `${PREFIX}${index}n`;
    ip('netns', 'add', host.namespace);
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', outside, 'master', BRIDGE, 'up');
    ip('link', 'set', inside, 'netns', host.namespace);
    ip('-n', host.namespace, 'addr', 'add', `${host.ip}/24`, 'dev', inside);
    ip('-n', host.namespace, 'link', 'set', inside, 'up');
    ip('-n', host.namespace, 'link', 'set', 'lo', 'up');
    const etc = path.join(NETNS_ETC, host.namespace);
    mkdirSync(etc, { recursive: true });
    writeFileSync(path.join(etc, 'hosts'), hostsFile);
    // No DNS server is reachable from inside: names resolve from the hosts file, as in compose's network.
    writeFileSync(path.join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\n');
  });
}

/** The namespaces, links and hosts dirs of any earlier run (whatever state file survived or not). */
export function leftovers(): { namespaces: string[]; links: string[]; etcDirs: string[] } {
  const namespaces = ip('netns', 'list')
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${PREFIX}-`));
  const links = ip('-o', 'link', 'show')
    .split('\n')
    .map((line) => /^\d+:\s+([^:@]+)/.exec(line)?.[1] ?? '')
    .filter((name) => name === BRIDGE || new RegExp(`^${PREFIX}\\d+[hn]$`).test(name));
  const etcDirs = existsSync(NETNS_ETC)
    ? readdirSync(NETNS_ETC).filter((name) => name.startsWith(`${PREFIX}-`))
    : [];
  return { namespaces, links, etcDirs };
}

/** Pids of every process still running inside our namespaces. */
export function pidsInNamespaces(namespaces: string[]): number[] {
  return namespaces.flatMap((namespace) => {
    try {
      return ip('netns', 'pids', namespace).split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

export function destroyNetwork(): void {
  const { namespaces, links, etcDirs } = leftovers();
  for (const namespace of namespaces) quietly(() => ip('netns', 'delete', namespace));
  for (const link of links) quietly(() => ip('link', 'delete', link));
  for (const dir of etcDirs) rmSync(path.join(NETNS_ETC, dir), { recursive: true, force: true });
}
