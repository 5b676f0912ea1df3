// The mesh as the README runs it: `docker compose up --build --wait` with the project's compose files, on whatever
// engine the docker CLI reaches (scripts/engine/engine.sh). Tests, the verifier and the benchmark use this handle;
// everything it does is a compose command or `docker inspect`, so a test sees exactly what a user's engine does.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import {
  composeFiles,
  MESH_VARIANT_NAMES,
  COLLECTOR_SERVICE,
  REPO_ROOT,
  TRACE_STORE_SERVICE,
  type MeshVariant,
} from '../repo.ts';
import { isApp, loadCompose, type ComposeProject } from './compose.ts';
import {
  ENVOY_CONFIG_TARGET,
  envoyDnsRefreshMs,
  envoyFlushIntervalMs,
  readEnvoyConfig,
} from './envoy-config.ts';

const run = promisify(execFile);

export class MeshError extends Error {
  override name = 'MeshError';
}

/** The arguments that make `docker compose` act on this project with a variant's files, from any directory. */
export function composeArgs(variant: MeshVariant): string[] {
  return [
    'compose',
    '--project-directory',
    REPO_ROOT,
    ...composeFiles(variant).flatMap((file) => ['-f', file]),
  ];
}

interface ContainerState {
  id: string;
  running: boolean;
  pid: number;
  health: string | null;
}

export class ComposeMesh {
  /**
   * The images this process has built with `up --build`. Sources do not change while the tests or the benchmark
   * run, so a later `upServing` of a variant whose images are all in here leaves out `--build`: compose's check of
   * a cached build costs seconds per `up` (docs/testing.md), paid again at every switch of mode or variant. The
   * first `up` of a process still builds, as the README's command does: `make test-e2e` runs every file in one
   * process (scripts/test/in-order.ts), and a file run alone builds at its first `up`.
   */
  private static readonly builtInThisProcess = new Set<string>();

  readonly project: ComposeProject;

  constructor(
    readonly variant: MeshVariant,
    /** Progress and compose's own output lines; silent by default. */
    private readonly say: (line: string) => void = () => undefined,
  ) {
    this.project = loadCompose(composeFiles(variant));
  }

  /**
   * Makes way for this variant when a mesh of another variant runs: removes (stop, rm) every Envoy that mounts
   * another config here, the apps that share their network namespaces, and the services this variant does not have
   * (the collector), so that `up` creates what is needed beside the store, which keeps running. Podman refuses to
   * remove a sidecar whose network namespace its app shares, so `up` alone cannot recreate it there (Docker
   * recreates both in place); removing the apps first works on both engines and spares the store's
   * restart (a JVM) that a whole `down` would cost. A variant with the same Envoy configs and services (only the
   * store differs: Zipkin or Jaeger) needs nothing removed: `up` recreates what differs.
   */
  async makeWay(): Promise<void> {
    const running = runningVariant();
    if (running === null || running === this.variant) return;
    const before = new ComposeMesh(running, this.say);
    const envoyConfig = (project: ComposeProject, name: string) =>
      project.services.get(name)?.mounts.find((m) => m.target === ENVOY_CONFIG_TARGET)?.source ?? null;
    const gone = [...before.project.services.keys()].filter(
      (name) =>
        !this.project.services.has(name) ||
        envoyConfig(this.project, name) !== envoyConfig(before.project, name),
    );
    const sharing = [...before.project.services.values()]
      .filter((s) => s.sharesNetworkOf !== null && gone.includes(s.sharesNetworkOf))
      .map((s) => s.name);
    if (gone.length === 0) return;
    // compose removes the containers it is given side by side: the apps first, in a command of their own.
    if (sharing.length > 0) await before.compose(['rm', '--stop', '--force', ...sharing]);
    await before.compose(['rm', '--stop', '--force', ...gone]);
  }

  /** Runs `docker compose ARGS` for this variant; rejects with compose's own words when it fails. */
  async compose(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    const argv = [...composeArgs(this.variant), ...args];
    return new Promise((resolve, reject) => {
      const child = spawn('docker', argv, {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      for (const stream of [child.stdout, child.stderr]) {
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          output += chunk;
          for (const line of chunk.split('\n')) if (line.trim()) this.say(line);
        });
      }
      child.once('error', reject);
      child.once('exit', (code) => {
        if (code === 0) resolve(output);
        else
          reject(
            new MeshError(
              `docker compose ${args.join(' ')} failed (exit ${String(code)}):\n${output.trim()}`,
            ),
          );
      });
    });
  }

  /** The README's command: build, (re)create what changed, and return when every healthcheck passes. */
  async up(env: NodeJS.ProcessEnv = {}): Promise<void> {
    await this.compose(['up', '--build', '--wait', '--detach'], env);
    for (const image of this.builtImages()) ComposeMesh.builtInThisProcess.add(image);
  }

  /** What compose builds for this variant: each service's build, named by its image, context and Dockerfile. */
  private builtImages(): string[] {
    return [...this.project.services.values()].flatMap((s) =>
      s.build ? [`${s.image ?? s.name} ${s.build.context} ${s.build.dockerfile}`] : [],
    );
  }

  /**
   * `up` (without `--build` when this process built the variant's images already), then one request through every
   * hop. Seen on Podman 4.3 (docs/engine.md): now and then a fresh `up` left a
   * sidecar unreachable from the others until the next `down` (one cause found: a killed engine's DNS records). Then this prints what the
   * engine shows (addresses, DNS answers, which ingress answers), takes the mesh down and up once more, and fails
   * with that report when it happens twice in a row.
   */
  async upServing(env: NodeJS.ProcessEnv = {}): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.builtImages().every((image) => ComposeMesh.builtInThisProcess.has(image)))
        await this.compose(['up', '--wait', '--detach'], env);
      else await this.up(env);
      const problem = await this.firstRequestProblem();
      if (problem === null) return this.untilEnvoysReachCollector();
      const report = `the mesh is up but /trace/1 does not answer 200 (${problem});
${await this.networkReport()}`;
      if (attempt === 2) throw new MeshError(report);
      console.warn(`compose-mesh: ${report}
compose-mesh: taking the mesh down and up again`);
      await this.down();
    }
  }

  /**
   * The request path answered, but the Envoys' spans go to a collector this `up` may have recreated: it has no
   * healthcheck (`--wait` does not wait for it), on Podman it comes back at a new address, and an Envoy that still
   * connects to the old one waits out its connect timeout and drops that report (seen: a trace with none of the
   * Envoys' spans right after switching variants in place). So where a collector runs, requests go through until
   * every Envoy has had a report accepted since (the Zipkin tracer's `reports_sent`, counted on a 2xx answer; the
   * OpenTelemetry tracer counts only `spans_sent`, spans handed to its exporter: there, at least a flush has passed).
   */
  private async untilEnvoysReachCollector(): Promise<void> {
    if (!this.project.services.has(COLLECTOR_SERVICE)) return;
    const reportsSent = (envoy: string) =>
      this.envoyCounter(envoy, '^tracing\\.(zipkin\\.reports_sent|opentelemetry\\.spans_sent)$');
    const before = await Promise.all(this.envoys.map(reportsSent));
    const url = `${this.publishedUrl('front-envoy', 8000)}/trace/1`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(envoyFlushIntervalMs(), envoyDnsRefreshMs()) + 250),
      );
      const now = await Promise.all(this.envoys.map(reportsSent));
      const waiting = this.envoys.filter((_, i) => (now[i] ?? 0) <= (before[i] ?? 0));
      if (waiting.length === 0) return;
      if (Date.now() > deadline)
        throw new MeshError(`no span report of ${waiting.join(', ')} accepted by the collector in 30 s`);
    }
  }

  /** The sum of an Envoy's counters whose names match `filter` (a regex, as its admin /stats?filter= takes it). */
  async envoyCounter(envoy: string, filter: string): Promise<number> {
    const url = `http://127.0.0.1:${this.envoyAdminPort(envoy)}/stats?filter=${filter}`;
    const { body } = await this.httpFrom(envoy, url);
    return [...body.matchAll(/: (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  }

  /** null when /trace/1 answers 200 within 10 s, else the last answer. */
  private async firstRequestProblem(): Promise<string | null> {
    const url = `${this.publishedUrl('front-envoy', 8000)}/trace/1`;
    const deadline = Date.now() + 10_000;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
        const body = await response.text();
        if (response.status === 200) return null;
        last = `${response.status} ${body.slice(0, 200)}`;
      } catch (error) {
        last = String(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return last;
  }

  /** Each network-namespace owner: its address, what the mesh's DNS answers for its names, whether :8000 answers. */
  async networkReport(): Promise<string> {
    const lines: string[] = [];
    for (const service of this.project.services.values()) {
      if (service.sharesNetworkOf !== null || service.networks.length === 0) continue;
      const ip = (() => {
        try {
          return this.ip(service.name);
        } catch (error) {
          return `? (${String(error)})`;
        }
      })();
      const names = [service.name, ...service.aliases];
      const dns = await this.exec('front-envoy', ['getent', 'hosts', ...names]);
      const ingress = await this.httpFrom('front-envoy', `http://${ip}:8000/`);
      lines.push(
        `  ${service.name.padEnd(16)} ${ip.padEnd(15)} dns: ${dns.stdout.trim().replace(/\s+/g, ' ') || '(none)'}; ${ip}:8000 from front-envoy: ${ingress.status === 0 ? 'no answer' : String(ingress.status)}`,
      );
    }
    return lines.join('\n');
  }

  /** Removes every container and the network; safe to repeat. */
  async down(): Promise<void> {
    await this.compose(['down', '--remove-orphans', '--timeout', '10']);
  }

  /** `docker compose kill -s SIGNAL`, then waits for the container to exit; resolves with its exit code. */
  async kill(service: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<number> {
    const id = this.containerId(service);
    await this.compose(['kill', '--signal', signal, service]);
    const { stdout } = await run('docker', ['wait', id], { timeout: 20_000 });
    return Number(stdout.trim());
  }

  /** When the service's container last exited (its previous run, once restarted), in ms since the epoch. */
  async lastExitedAt(service: string): Promise<number> {
    const { stdout } = await run('docker', [
      'inspect',
      '--format',
      '{{.State.FinishedAt}}',
      this.containerId(service),
    ]);
    const at = Date.parse(stdout.trim());
    if (Number.isNaN(at)) throw new MeshError(`${service} has not exited yet (FinishedAt: ${stdout.trim()})`);
    return at;
  }

  /** Recreates these services with other variables for compose (e.g. TRACING_MODE), together, and waits for them. */
  async recreate(services: string[], environment: NodeJS.ProcessEnv): Promise<void> {
    await this.compose(['up', '--detach', '--no-deps', '--wait', ...services], environment);
  }

  /**
   * `docker compose restart SERVICE` (which also restarts the apps that share its network namespace), then waits
   * until it and they are healthy.
   */
  async restart(service: string): Promise<void> {
    await this.compose(['restart', service]);
    const sharing = [...this.project.services.values()].filter((s) => s.sharesNetworkOf === service);
    await Promise.all([service, ...sharing.map((s) => s.name)].map((name) => this.waitHealthy(name)));
  }

  /** Polls the engine until the service's container reports healthy (or runs, when it has no healthcheck). */
  async waitHealthy(service: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.isHealthy(service)) return;
      if (Date.now() > deadline) {
        throw new MeshError(
          `${service} is not healthy after ${timeoutMs} ms:\n${await this.logs(service, 15)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  isHealthy(service: string): boolean {
    const state = this.state(service);
    if (!state?.running) return false;
    return state.health === null || state.health === 'healthy';
  }

  /** The last lines of a service's log, as `docker compose logs` shows them. */
  async logs(service: string, tail = 200): Promise<string> {
    return this.compose(['logs', '--no-color', '--no-log-prefix', '--tail', String(tail), service]);
  }

  /** Runs a command in the service's container (`docker compose exec -T`). */
  async exec(service: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(
        'docker',
        [...composeArgs(this.variant), 'exec', '-T', service, ...argv],
        {
          cwd: REPO_ROOT,
          timeout: 20_000,
          // `docker compose exec` passes SIGTERM on to the process in the container and keeps waiting.
          killSignal: 'SIGKILL',
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof failed.code === 'number' ? failed.code : -1,
        stdout: failed.stdout ?? '',
        stderr: failed.stderr ?? '',
      };
    }
  }

  /**
   * An HTTP request made from inside a service's container with bash alone (the Envoy image has no curl or wget):
   * status 0 when nothing accepted the connection within 3 s. Header names come back lower-cased.
   */
  async httpFrom(
    service: string,
    url: string,
    { method = 'GET', headers = {} }: { method?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const { hostname, port, pathname, search } = new URL(url);
    const head = [`${method} ${pathname}${search} HTTP/1.1`, `Host: ${hostname}`, 'Connection: close']
      .concat(Object.entries(headers).map(([name, value]) => `${name}: ${value}`))
      .join('\r\n');
    const script = [
      `exec 3<>/dev/tcp/${hostname}/${port || '80'} || exit 7`,
      // The request goes in as an argument, not into printf's format: a % in a header value stays a %.
      `printf '%b\\r\\n\\r\\n' "$0" >&3`,
      'cat <&3',
    ].join('; ');
    const { code, stdout } = await this.exec(service, ['timeout', '3', 'bash', '-c', script, head]);
    const status = code === 0 ? Number(/^HTTP\/1\.[01] (\d{3})/.exec(stdout)?.[1] ?? 0) : 0;
    const split = stdout.indexOf('\r\n\r\n');
    const responseHeaders = Object.fromEntries(
      stdout
        .slice(0, split)
        .split('\r\n')
        .slice(1)
        .map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
    );
    const body = split === -1 ? '' : stdout.slice(split + 4);
    return {
      status,
      headers: responseHeaders,
      body: responseHeaders['transfer-encoding'] === 'chunked' ? dechunk(body) : body,
    };
  }

  /** http://127.0.0.1:PORT where compose publishes a container port. */
  publishedUrl(service: string, containerPort: number): string {
    const declared = this.project.services.get(service)?.ports.find((p) => p.containerPort === containerPort);
    if (!declared) throw new MeshError(`${service} does not publish port ${containerPort}`);
    return `http://${declared.hostIp === '0.0.0.0' ? '127.0.0.1' : declared.hostIp}:${declared.hostPort}`;
  }

  /** The apps (services that run the image services/Dockerfile builds). */
  get apps(): string[] {
    return [...this.project.services.values()].filter((s) => isApp(this.project, s)).map((s) => s.name);
  }

  /** The Envoys (services that mount an Envoy config). */
  get envoys(): string[] {
    return [...this.project.services.values()]
      .filter((s) => s.mounts.some((m) => m.target === ENVOY_CONFIG_TARGET))
      .map((s) => s.name);
  }

  /** The admin port of an Envoy service, from the config compose mounts for it. */
  envoyAdminPort(service: string): number {
    const mount = this.project.services.get(service)?.mounts.find((m) => m.target === ENVOY_CONFIG_TARGET);
    if (!mount) throw new MeshError(`${service} mounts no Envoy config`);
    return readEnvoyConfig(mount.source).admin.port;
  }

  /** The service's container id (the first replica), or an error naming the service when none exists. */
  containerId(service: string): string {
    const id = dockerSync([
      'ps',
      '--all',
      '--quiet',
      '--filter',
      `label=com.docker.compose.project=${this.project.name}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
    ]).split('\n')[0];
    if (!id) throw new MeshError(`no container for ${service}: is the mesh up?`);
    return id;
  }

  /** The host pid of the service's main process (null when it does not run). */
  pid(service: string): number | null {
    const state = this.state(service);
    return state?.running ? state.pid : null;
  }

  /** The service's address on the mesh network (its network-namespace owner's). */
  ip(service: string): string {
    const owner = this.project.services.get(service)?.sharesNetworkOf ?? service;
    return dockerSync([
      'inspect',
      '--format',
      '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
      this.containerId(owner),
    ]);
  }

  private state(service: string): ContainerState | null {
    let id: string;
    try {
      id = this.containerId(service);
    } catch {
      return null;
    }
    const format =
      '{{.State.Running}} {{.State.Pid}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}';
    const [running, pid, health] = dockerSync(['inspect', '--format', format, id]).split(' ');
    return {
      id,
      running: running === 'true',
      pid: Number(pid),
      health: health === 'none' ? null : (health ?? null),
    };
  }
}

function dockerSync(args: string[]): string {
  const result = spawnSync('docker', args, { encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0) throw new MeshError(`docker ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** The files bound into the service's container, sorted; none where the project has no such container. */
function boundFiles(probe: ComposeMesh, service: string): string[] {
  let id: string;
  try {
    id = probe.containerId(service);
  } catch {
    return []; // e.g. no collector: the direct path's variants
  }
  const format = '{{range .Mounts}}{{if eq .Type "bind"}}{{.Source}}{{"\\n"}}{{end}}{{end}}';
  return dockerSync(['inspect', '--format', format, id]).split('\n').filter(Boolean).sort();
}

/**
 * The variant of the mesh that runs now, or null: the one whose compose files give the running containers what they
 * have (the trace store's image, front-envoy's config file, the files bound into the collector: tail sampling adds
 * one), each variant as scripts/repo.ts names its files.
 */
export function runningVariant(): MeshVariant | null {
  const probe = new ComposeMesh('zipkin');
  let running: { image: string; frontConfig: string; collectorFiles: string[] };
  try {
    running = {
      image: dockerSync(['inspect', '--format', '{{.Config.Image}}', probe.containerId(TRACE_STORE_SERVICE)]),
      frontConfig: dockerSync([
        'inspect',
        '--format',
        `{{range .Mounts}}{{if eq .Destination "${ENVOY_CONFIG_TARGET}"}}{{.Source}}{{end}}{{end}}`,
        probe.containerId('front-envoy'),
      ]),
      collectorFiles: boundFiles(probe, COLLECTOR_SERVICE),
    };
  } catch {
    return null; // no mesh, or a mesh in pieces: no variant to name
  }
  return (
    MESH_VARIANT_NAMES.find((variant) => {
      const services = loadCompose(composeFiles(variant)).services;
      const frontConfig = services.get('front-envoy')?.mounts.find((m) => m.target === ENVOY_CONFIG_TARGET);
      // Podman names an image it built or tagged without a registry localhost/NAME.
      const image = services.get(TRACE_STORE_SERVICE)?.image ?? '';
      const collectorFiles = (services.get(COLLECTOR_SERVICE)?.mounts ?? []).map((m) => m.source).sort();
      return (
        frontConfig?.source === running.frontConfig &&
        running.image.endsWith(image) &&
        JSON.stringify(collectorFiles) === JSON.stringify(running.collectorFiles)
      );
    }) ?? null
  );
}

/**
 * The payload of a chunked HTTP/1.1 body (a Go server, e.g. the collector's metrics, chunks what it streams):
 * without this, a chunk's size line lands in the middle of a line of the payload.
 */
function dechunk(body: string): string {
  const bytes = Buffer.from(body, 'utf8');
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    const size = lineEnd === -1 ? 0 : parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (!size) break; // the last chunk, or a body cut short
    chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(chunks).toString('utf8');
}
