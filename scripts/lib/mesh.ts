// The compose mesh, run without Docker: network namespaces for the containers, the real binaries for the images,
// compose's healthchecks and start order, and the published ports forwarded from the host's loopback.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  composeFiles,
  loadCompose,
  REPO_ROOT,
  type Backend,
  type ComposeProject,
  type ComposeService,
} from './compose.ts';
import { localCommand, localHealthcheck, type LocalCommand } from './local-images.ts';
import { ENVOY_CONFIG_TARGET } from './consistency.ts';
import { readEnvoyConfig } from './envoy-config.ts';
import {
  createNetwork,
  destroyNetwork,
  leftovers,
  missingPrerequisite,
  pidsInNamespaces,
  planHosts,
  type Host,
} from './netns.ts';

export const RUN_DIR = path.join(REPO_ROOT, '.run');
export const STATE_FILE = path.join(RUN_DIR, 'state.json');
export const LOG_DIR = path.join(RUN_DIR, 'logs');

/** Every process runs as nobody, as the images' users are unprivileged too. */
const UNPRIVILEGED = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'];

/**
 * A command as it would run in the service's container: in its network namespace, with a hostname of its own
 * (its own UTS namespace; compose's containers have one each, here named after the service), as nobody.
 */
function containerArgv(host: Host, argv: string[]): string[] {
  return [
    'netns',
    'exec',
    host.namespace,
    'unshare',
    '--uts',
    '--',
    'sh',
    '-c',
    'hostname "$0" && exec "$@"',
    host.service,
    ...UNPRIVILEGED,
    ...argv,
  ];
}

export type { Backend };

export interface MeshOptions {
  backend: Backend;
  /** Added to every published host port, so a test mesh does not clash with one a user runs. */
  portOffset: number;
  /** Progress lines ("zipkin: healthy after 6.2 s"). */
  say: (line: string) => void;
}

export interface MeshState {
  supervisorPid: number;
  backend: Backend;
  portOffset: number;
  status: 'starting' | 'healthy' | 'failed' | 'stopping';
  services: Record<string, { namespace: string; ip: string; pid: number | null; log: string }>;
  published: { url: string; service: string; containerPort: number }[];
}

export class MeshError extends Error {
  override name = 'MeshError';
}

interface Running {
  service: ComposeService;
  host: Host;
  child: ChildProcess | null;
  log: WriteStream;
  state: 'waiting' | 'starting' | 'healthy' | 'exited';
}

export class Mesh {
  readonly project: ComposeProject;
  readonly hosts: Host[];
  private readonly running = new Map<string, Running>();
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  private gateway: string;

  constructor(readonly options: MeshOptions) {
    const problem = missingPrerequisite();
    if (problem) throw new MeshError(problem);
    this.project = loadCompose(composeFiles(options.backend));
    const networks = [...this.project.networks.values()];
    const network = networks[0];
    if (networks.length !== 1 || !network?.subnet || !network.gateway) {
      throw new MeshError('the runner needs exactly one compose network with ipam subnet and gateway');
    }
    this.gateway = network.gateway;
    const own = [...this.project.services.values()]
      .filter((s) => s.sharesNetworkOf === null)
      .map((s) => s.name);
    this.hosts = planHosts(own, network.subnet, network.gateway, network.ipRange);
    // Fail before touching the machine when an image has no local binary or a tool is missing.
    for (const service of this.project.services.values()) localCommand(service);
  }

  host(serviceName: string): Host {
    const service = this.project.services.get(serviceName);
    const owner = service?.sharesNetworkOf ?? serviceName;
    const host = this.hosts.find((h) => h.service === owner);
    if (!host) throw new MeshError(`no compose service "${serviceName}"`);
    return host;
  }

  /** http://127.0.0.1:PORT of a published container port, with the port offset applied. */
  publishedUrl(serviceName: string, containerPort: number): string {
    const port = this.project.services.get(serviceName)?.ports.find((p) => p.containerPort === containerPort);
    if (!port) throw new MeshError(`${serviceName} does not publish port ${containerPort}`);
    return `http://127.0.0.1:${port.hostPort + this.options.portOffset}`;
  }

  async up(): Promise<void> {
    if (leftovers().namespaces.length > 0) {
      throw new MeshError(
        'a mesh is already running (or a crashed one left namespaces): run make stop first',
      );
    }
    mkdirSync(LOG_DIR, { recursive: true });
    this.writeState('starting');
    const aliases = new Map(
      [...this.project.services.values()].map((service) => [service.name, service.aliases]),
    );
    createNetwork(this.hosts, this.gateway, aliases);
    try {
      await this.publishPorts();
      await this.startInOrder();
      this.writeState('healthy');
    } catch (error) {
      this.writeState('failed');
      await this.down();
      throw error;
    }
  }

  /** Stops every process (SIGTERM, then SIGKILL after 10 s) and removes every namespace, link and hosts dir. */
  async down(): Promise<void> {
    this.writeState('stopping');
    await Promise.all([...this.running.values()].map((running) => this.stopProcess(running)));
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
    sweepLeftovers();
  }

  /** Stops one service's process the way `docker compose kill` would (for failure tests). */
  async kill(serviceName: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const running = this.running.get(serviceName);
    if (!running?.child) throw new MeshError(`${serviceName} is not running`);
    const exited = new Promise<number | null>((resolve) =>
      running.child?.once('exit', (code) => {
        resolve(code);
      }),
    );
    running.child.kill(signal);
    return exited;
  }

  /** Starts a stopped service again and waits until it is healthy. */
  async restart(serviceName: string, environment: Record<string, string> = {}): Promise<void> {
    const running = this.running.get(serviceName);
    if (!running) throw new MeshError(`no compose service "${serviceName}"`);
    if (running.child && running.child.exitCode === null && running.child.signalCode === null) {
      await this.kill(serviceName, 'SIGTERM');
    }
    // `environment` overrides compose's for this start (the benchmark switches TRACING_MODE this way).
    running.service = { ...running.service, environment: { ...running.service.environment, ...environment } };
    this.spawnService(running);
    await this.waitHealthy(running);
  }

  /** Runs the service's compose healthcheck once, now. */
  async isHealthy(serviceName: string): Promise<boolean> {
    const running = this.running.get(serviceName);
    if (!running) throw new MeshError(`no compose service "${serviceName}"`);
    const check = localHealthcheck(running.service);
    return check ? this.runCheck(running, check, 5000) : running.state === 'healthy';
  }

  /** Runs a command in a service's network namespace, as a process in that container would (for exposure tests). */
  execIn(serviceName: string, argv: string[]): { code: number | null; stdout: string; stderr: string } {
    const result = spawnSync('ip', containerArgv(this.host(serviceName), argv), {
      encoding: 'utf8',
      timeout: 15_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** The apps (services built from services/Dockerfile), as compose lists them. */
  get apps(): string[] {
    return [...this.project.services.values()].filter((s) => s.build).map((s) => s.name);
  }

  /** The Envoys (services that mount an Envoy config), as compose lists them. */
  get envoys(): string[] {
    return [...this.project.services.values()]
      .filter((s) => s.mounts.some((m) => m.target === ENVOY_CONFIG_TARGET))
      .map((s) => s.name);
  }

  /** The admin port of an Envoy service, read from the config compose mounts for it. */
  envoyAdminPort(serviceName: string): number {
    const mount = this.project.services
      .get(serviceName)
      ?.mounts.find((m) => m.target === ENVOY_CONFIG_TARGET);
    if (!mount) throw new MeshError(`${serviceName} mounts no Envoy config`);
    return readEnvoyConfig(mount.source).admin.port;
  }

  pid(serviceName: string): number | null {
    return this.running.get(serviceName)?.child?.pid ?? null;
  }

  private async startInOrder(): Promise<void> {
    for (const service of this.project.services.values()) {
      this.running.set(service.name, {
        service,
        host: this.host(service.name),
        child: null,
        log: createWriteStream(path.join(LOG_DIR, `${service.name}.log`), { flags: 'w' }),
        state: 'waiting',
      });
    }
    const started = new Set<string>();
    const healthy = new Set<string>();
    const pending = new Map<string, Promise<void>>();
    while (healthy.size < this.running.size) {
      for (const running of this.running.values()) {
        const name = running.service.name;
        if (started.has(name)) continue;
        const ready = Object.entries(running.service.dependsOn).every(([dependency, condition]) =>
          condition === 'service_healthy' ? healthy.has(dependency) : started.has(dependency),
        );
        if (!ready) continue;
        started.add(name);
        this.spawnService(running);
        pending.set(
          name,
          this.waitHealthy(running).then(() => {
            healthy.add(name);
            pending.delete(name);
          }),
        );
      }
      if (pending.size === 0) {
        const stuck = [...this.running.keys()].filter((name) => !started.has(name));
        throw new MeshError(`cannot start ${stuck.join(', ')}: depends_on names a service that never starts`);
      }
      await Promise.race(pending.values());
    }
  }

  private spawnService(running: Running): void {
    const command = localCommand(running.service);
    running.log.write(`--- ${new Date().toISOString()} ${command.argv.join(' ')}\n`);
    const child = spawn('ip', containerArgv(running.host, command.argv), {
      cwd: command.cwd,
      env: processEnv(command),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(running.log, { end: false });
    child.stderr.pipe(running.log, { end: false });
    child.once('exit', (code, signal) => {
      running.state = 'exited';
      running.log.write(`--- exited ${signal ?? `with code ${String(code)}`}\n`);
    });
    running.child = child;
    running.state = 'starting';
    this.options.say(
      `  ${running.service.name.padEnd(16)} started (${path.basename(command.argv[0] ?? '')})`,
    );
    this.writeState('starting');
  }

  /** compose's healthcheck rules: checks every start_interval during start_period, then every interval. */
  private async waitHealthy(running: Running): Promise<void> {
    const name = running.service.name;
    const check = localHealthcheck(running.service);
    const startedAt = Date.now();
    const spec = running.service.healthcheck;
    let failures = 0;
    for (;;) {
      if (running.state === 'exited') {
        throw new MeshError(`${name} exited while starting.\n${logTail(name)}`);
      }
      if (!check || (await this.runCheck(running, check, spec?.timeoutMs ?? 30_000))) {
        running.state = 'healthy';
        this.options.say(
          `  ${name.padEnd(16)} healthy after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
        );
        return;
      }
      const inStartPeriod = Date.now() - startedAt < (spec?.startPeriodMs ?? 0);
      if (!inStartPeriod) failures += 1;
      if (failures >= (spec?.retries ?? 3)) {
        throw new MeshError(
          `${name} did not become healthy (healthcheck: ${check.argv.join(' ')}).\n${logTail(name)}`,
        );
      }
      const wait = inStartPeriod ? (spec?.startIntervalMs ?? 5000) : (spec?.intervalMs ?? 30_000);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private runCheck(running: Running, check: LocalCommand, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const child = spawn('ip', containerArgv(running.host, check.argv), {
        cwd: check.cwd,
        env: processEnv(check),
        stdio: 'ignore',
        timeout: timeoutMs,
      });
      child.once('exit', (code) => {
        resolve(code === 0);
      });
      child.once('error', () => {
        resolve(false);
      });
    });
  }

  /** Compose's `ports`: a forwarder on the host's loopback to the service's namespace. */
  private async publishPorts(): Promise<void> {
    for (const service of this.project.services.values()) {
      for (const port of service.ports) {
        const target = { host: this.host(service.name).ip, port: port.containerPort };
        const server = net.createServer((downstream) => {
          const upstream = net.connect(target.port, target.host);
          for (const socket of [downstream, upstream]) {
            this.sockets.add(socket);
            socket.once('close', () => this.sockets.delete(socket));
            socket.on('error', () => {
              downstream.destroy();
              upstream.destroy();
            });
          }
          downstream.pipe(upstream).pipe(downstream);
        });
        const listenIp = port.hostIp === '0.0.0.0' ? '127.0.0.1' : port.hostIp; // never beyond this host
        await new Promise<void>((resolve, reject) => {
          server.once('error', (error) => {
            reject(
              new MeshError(
                `cannot publish ${listenIp}:${port.hostPort + this.options.portOffset}: ${error.message}`,
              ),
            );
          });
          server.listen(port.hostPort + this.options.portOffset, listenIp, resolve);
        });
        this.servers.push(server);
      }
    }
  }

  private async stopProcess(running: Running): Promise<void> {
    const child = running.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      running.log.end();
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    running.log.end();
  }

  private writeState(status: MeshState['status']): void {
    mkdirSync(RUN_DIR, { recursive: true });
    const state: MeshState = {
      supervisorPid: process.pid,
      backend: this.options.backend,
      portOffset: this.options.portOffset,
      status,
      services: Object.fromEntries(
        [...this.project.services.values()].map((service) => {
          const host = this.host(service.name);
          return [
            service.name,
            {
              namespace: host.namespace,
              ip: host.ip,
              pid: this.running.get(service.name)?.child?.pid ?? null,
              log: path.relative(REPO_ROOT, path.join(LOG_DIR, `${service.name}.log`)),
            },
          ];
        }),
      ),
      published: [...this.project.services.values()].flatMap((service) =>
        service.ports.map((port) => ({
          url: `http://127.0.0.1:${port.hostPort + this.options.portOffset}`,
          service: service.name,
          containerPort: port.containerPort,
        })),
      ),
    };
    writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
  }
}

function processEnv(command: LocalCommand): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8', ...command.env };
}

export function logTail(serviceName: string, lines = 15): string {
  try {
    const text = readFileSync(path.join(LOG_DIR, `${serviceName}.log`), 'utf8')
      .trimEnd()
      .split('\n');
    return `last lines of .run/logs/${serviceName}.log:\n${text
      .slice(-lines)
      .map((line) => `  | ${line}`)
      .join('\n')}`;
  } catch {
    return `(no log for ${serviceName})`;
  }
}

/** Kills whatever still runs in our namespaces and removes them: `down` after a crash. Returns what it found. */
export function sweepLeftovers(): { processes: number; namespaces: number } {
  const found = leftovers();
  const pids = pidsInNamespaces(found.namespaces);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (pids.length > 0) spawnSync('sleep', ['0.2']);
  destroyNetwork();
  return { processes: pids.length, namespaces: found.namespaces.length };
}

export function readState(): MeshState | null {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as MeshState;
  } catch {
    return null;
  }
}
