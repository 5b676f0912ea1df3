// The compose mesh without Docker: `make run | start | stop | status | logs`.
//
//   mesh run     [--backend zipkin|jaeger]   foreground; Ctrl-C tears everything down
//   mesh start   [--backend zipkin|jaeger]   background; returns when every service is healthy
//   mesh stop                                idempotent: removes every namespace, link, hosts dir and process
//   mesh status | logs [SERVICE]
//
// TRACING_MODE and the versions come from the environment and .env, exactly as compose reads them.
// MESH_PORT_OFFSET shifts every published host port (tests use it to avoid clashes).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BACKENDS, ComposeError } from './lib/compose.ts';
import { traceApiOf } from './lib/trace-backend.ts';
import { LocalImageError } from './lib/local-images.ts';
import { LOG_DIR, Mesh, MeshError, readState, RUN_DIR, sweepLeftovers, type Backend } from './lib/mesh.ts';
import { leftovers, missingPrerequisite } from './lib/netns.ts';

const SUPERVISOR_LOG = path.join(RUN_DIR, 'mesh.log');

function fail(message: string): never {
  console.error(`mesh: ${message}`);
  process.exit(1);
}

function parseArgs(argv: string[]): { command: string; backend: Backend; rest: string[] } {
  const [command = 'help', ...args] = argv;
  let backend: Backend = 'zipkin';
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--backend') {
      const value = args[++i];
      const known = BACKENDS.find((b) => b === value);
      if (!known) fail(`--backend must be one of ${BACKENDS.join(', ')}, not "${String(value)}"`);
      backend = known;
    } else rest.push(args[i] ?? '');
  }
  return { command, backend, rest };
}

function portOffset(): number {
  const raw = process.env.MESH_PORT_OFFSET ?? '0';
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 50_000)
    fail(`MESH_PORT_OFFSET="${raw}" must be a number from 0 to 50000`);
  return Number(raw);
}

function supervisorAlive(): number | null {
  const pid = readState()?.supervisorPid;
  if (!pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

async function run(backend: Backend): Promise<void> {
  const mesh = new Mesh({
    backend,
    portOffset: portOffset(),
    say: (line) => {
      console.log(line);
    },
  });
  console.log(
    `mesh: starting ${mesh.project.services.size} services (${backend}, TRACING_MODE=${process.env.TRACING_MODE ?? 'from .env'})`,
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`mesh: ${signal}: stopping`);
    await mesh.down();
    console.log('mesh: stopped; no namespace, link or process left');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  await mesh.up();
  const front = mesh.publishedUrl('front-envoy', 8000);
  const api = traceApiOf(backend);
  const ui = `${mesh.publishedUrl('zipkin', api.port)}${api.kind === 'zipkin' ? '/zipkin/' : ''}`;
  console.log(`mesh: ready. Try: curl -i ${front}/trace/1   Traces: ${ui}   Logs: make logs`);
}

async function start(backend: Backend): Promise<void> {
  if (supervisorAlive()) fail('a mesh is already running: make stop first');
  const problem = missingPrerequisite();
  if (problem) fail(problem);
  mkdirSync(RUN_DIR, { recursive: true });
  const out = openSync(SUPERVISOR_LOG, 'w');
  const child = spawn(process.execPath, [...process.execArgv, __filename, 'run', '--backend', backend], {
    detached: true,
    stdio: ['ignore', out, out],
    env: process.env,
  });
  child.unref();
  closeSync(out);
  // Follow the supervisor's log until it says ready, or fails.
  let shown = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const text = readFileSync(SUPERVISOR_LOG, 'utf8');
    process.stdout.write(text.slice(shown));
    shown = text.length;
    if (/^mesh: ready\./m.test(text)) return;
    if (child.exitCode !== null || !supervisorAliveOrStarting(child.pid)) process.exit(1);
  }
}

function supervisorAliveOrStarting(pid: number | undefined): boolean {
  try {
    process.kill(pid ?? -1, 0);
    return true;
  } catch {
    return false;
  }
}

async function stop(): Promise<void> {
  const pid = supervisorAlive();
  if (pid) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (supervisorAliveOrStarting(pid) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
  }
  const { processes, namespaces } = sweepLeftovers();
  const left = leftovers();
  if (left.namespaces.length + left.links.length + left.etcDirs.length > 0)
    fail(`could not remove ${JSON.stringify(left)}`);
  console.log(
    pid || processes || namespaces
      ? `mesh: stopped${processes ? ` (killed ${processes} leftover processes)` : ''}`
      : 'mesh: nothing was running',
  );
}

function status(): void {
  const state = readState();
  const pid = supervisorAlive();
  if (!state || !pid) {
    const left = leftovers();
    console.log(
      left.namespaces.length
        ? `mesh: not running, but leftovers exist (make stop): ${left.namespaces.join(' ')}`
        : 'mesh: not running',
    );
    return;
  }
  console.log(`mesh: ${state.status} (${state.backend}), supervisor pid ${pid}`);
  for (const [name, service] of Object.entries(state.services)) {
    console.log(
      `  ${name.padEnd(16)} ${service.namespace.padEnd(20)} ${service.ip.padEnd(14)} pid ${String(service.pid)}`,
    );
  }
  for (const published of state.published)
    console.log(`  ${published.url} -> ${published.service}:${published.containerPort}`);
}

function logs(service: string | undefined): void {
  if (!existsSync(LOG_DIR)) fail('no logs yet: make run or make start first');
  const files = readdirSync(LOG_DIR)
    .filter((file) => !service || file === `${service}.log`)
    .sort();
  if (files.length === 0) fail(`no log for "${String(service)}"`);
  for (const file of files) {
    const full = path.join(LOG_DIR, file);
    const lines = readFileSync(full, 'utf8').trimEnd().split('\n').slice(-40);
    console.log(`==> .run/logs/${file} (${statSync(full).size} bytes) <==`);
    console.log(lines.join('\n'));
  }
}

async function main(): Promise<void> {
  const { command, backend, rest } = parseArgs(process.argv.slice(2));
  switch (command) {
    case 'run':
      return run(backend);
    case 'start':
      return start(backend);
    case 'stop':
      return stop();
    case 'status':
      status();
      return;
    case 'logs':
      logs(rest[0]);
      return;
    default:
      fail(`unknown command "${command}" (run | start | stop | status | logs [SERVICE])`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof MeshError || error instanceof ComposeError || error instanceof LocalImageError)
    fail(error.message);
  throw error;
});
