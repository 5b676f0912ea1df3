// What each compose service's container would run, as a local command: every image maps to the real binary that
// `make tools` installed at the version .env pins, and `build: services/Dockerfile` maps to the built services,
// started the way that Dockerfile's CMD starts them. Files mounted into a container are the repo files themselves.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { composeVariables, REPO_ROOT, type ComposeService } from './compose.ts';

export interface LocalCommand {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

const TOOLS = path.join(REPO_ROOT, '.tools');
const NODE = path.join(REPO_ROOT, 'node_modules', '.bin', 'node');

export class LocalImageError extends Error {
  override name = 'LocalImageError';
}

function requireFile(file: string, hint: string): string {
  if (!existsSync(file)) throw new LocalImageError(`${path.relative(REPO_ROOT, file)} is missing: ${hint}`);
  return file;
}

/** A path inside the container that compose bind-mounts becomes the repo file. */
function hostPath(service: ComposeService, value: string): string {
  return service.mounts.find((mount) => mount.target === value)?.source ?? value;
}

/** The final stage's WORKDIR and CMD of a Dockerfile, with /app (the image's copy of the repo) as the repo. */
function dockerfileEntry(service: ComposeService): { cwd: string; cmd: string[] } {
  if (!service.build) throw new LocalImageError(`service "${service.name}" has no build`);
  const file = path.join(service.build.context, service.build.dockerfile);
  const text = readFileSync(file, 'utf8');
  const finalStage = text.slice(text.lastIndexOf('\nFROM '));
  const workdir = [...finalStage.matchAll(/^WORKDIR\s+(\S+)/gm)].at(-1)?.[1] ?? '/app';
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(finalStage)?.[1];
  if (!cmd) throw new LocalImageError(`${path.relative(REPO_ROOT, file)}: no CMD ["…"] in the final stage`);
  const relative = path.posix.relative('/app', workdir);
  if (relative.startsWith('..')) throw new LocalImageError(`${file}: WORKDIR ${workdir} is outside /app`);
  return { cwd: path.join(service.build.context, relative), cmd: JSON.parse(cmd) as string[] };
}

function imageName(image: string): { repository: string; tag: string } {
  const index = image.lastIndexOf(':');
  return { repository: image.slice(0, index), tag: image.slice(index + 1) };
}

/** The local command for one compose service. */
export function localCommand(service: ComposeService): LocalCommand {
  const versions = composeVariables({});
  const env = { ...service.environment };
  if (service.build) {
    const { cwd, cmd } = dockerfileEntry(service);
    const argv = service.command ?? cmd;
    requireFile(path.join(REPO_ROOT, 'services', 'dist', 'main.js'), 'run make build');
    return { argv: argv.map((arg, index) => (index === 0 && arg === 'node' ? NODE : arg)), cwd, env };
  }
  if (!service.image) throw new LocalImageError(`service "${service.name}" has neither image nor build`);
  const { repository, tag } = imageName(service.image);
  const mismatch = (pinned: string | undefined) =>
    new LocalImageError(`service "${service.name}": image ${service.image} but .env pins ${String(pinned)}`);

  switch (repository) {
    case 'envoyproxy/envoy': {
      if (tag !== `v${String(versions.ENVOY_VERSION)}`) throw mismatch(versions.ENVOY_VERSION);
      const envoy = requireFile(path.join(TOOLS, 'venv', 'bin', 'envoy'), 'run make tools');
      const args = (service.command ?? ['envoy', '-c', '/etc/envoy/envoy.yaml']).slice(1);
      // Containers have a /dev/shm each; processes here share one, so Envoy's hot-restart memory is switched off.
      return {
        argv: [envoy, ...args.map((arg) => hostPath(service, arg)), '--disable-hot-restart'],
        cwd: REPO_ROOT,
        env,
      };
    }
    case 'openzipkin/zipkin': {
      if (tag !== versions.ZIPKIN_VERSION) throw mismatch(versions.ZIPKIN_VERSION);
      const jar = requireFile(path.join(TOOLS, `zipkin-server-${tag}-exec.jar`), 'run make tools');
      return { argv: ['java', '-Xmx512m', '-jar', jar], cwd: REPO_ROOT, env };
    }
    case 'jaegertracing/jaeger': {
      if (tag !== versions.JAEGER_VERSION) throw mismatch(versions.JAEGER_VERSION);
      const jaeger = requireFile(path.join(TOOLS, 'bin', 'jaeger'), 'run make tools');
      return { argv: [jaeger, ...(service.command ?? [])], cwd: REPO_ROOT, env };
    }
    default:
      throw new LocalImageError(`service "${service.name}": no local binary for image ${service.image}`);
  }
}

/** The compose healthcheck as a local command: it runs in the service's namespace, as compose runs it in the container. */
export function localHealthcheck(service: ComposeService): LocalCommand | null {
  const test = service.healthcheck?.test;
  if (!test || test[0] === 'NONE') return null;
  const [kind, ...rest] = test;
  const argv = kind === 'CMD-SHELL' ? ['sh', '-c', rest.join(' ')] : kind === 'CMD' ? rest : test;
  if (service.build && argv[0] === 'node') {
    return { argv: [NODE, ...argv.slice(1)], cwd: dockerfileEntry(service).cwd, env: service.environment };
  }
  return { argv, cwd: REPO_ROOT, env: service.environment };
}
