// The compose project as compose itself reads it: `docker compose config --format json` (interpolation from .env
// and the environment, YAML merge keys, override files merged), mapped to the few facts the checks, tests and
// scripts use. One reader, compose's own: what it refuses, every user of this project would see refused too.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { REPO_ROOT } from '../repo.ts';

export interface Mount {
  /** Absolute path on the host (the repo file itself). */
  source: string;
  target: string;
  readOnly: boolean;
}

export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

export interface ComposeService {
  name: string;
  image: string | null;
  build: { context: string; dockerfile: string } | null;
  environment: Record<string, string>;
  mounts: Mount[];
  ports: PublishedPort[];
  networks: string[];
  /** Other names of this service on its network (networks.NAME.aliases). */
  aliases: string[];
  /** Ports the service listens on for other containers without publishing them (documentation, as in compose). */
  expose: number[];
  /** `network_mode: service:X`: runs in X's network namespace. */
  sharesNetworkOf: string | null;
  user: string | null;
  /** `dns_opt`: options of the container's resolv.conf (e.g. timeout:1). */
  dnsOptions: string[];
  /** `command`: what the container runs instead of its image's default (empty: the default). */
  command: string[];
}

export interface ComposeNetwork {
  name: string;
  subnet: string | null;
  gateway: string | null;
  /** Where containers get their addresses (compose's ipam ip_range), if narrower than the subnet. */
  ipRange: string | null;
}

export interface ComposeProject {
  name: string;
  services: Map<string, ComposeService>;
  networks: Map<string, ComposeNetwork>;
}

export class ComposeError extends Error {
  override name = 'ComposeError';
}

/** The variables compose interpolates with: .env, overridden by the process environment (as compose does). */
export function composeVariables(
  env: NodeJS.ProcessEnv = process.env,
  envFile = path.join(REPO_ROOT, '.env'),
): Record<string, string> {
  const fromFile = parseDotenv(readFileSync(envFile));
  const fromProcess = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
  return { ...fromFile, ...fromProcess };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (!isRecord(value)) throw new ComposeError(`${where}: expected a mapping`);
  return value;
}

/** A scalar of compose's JSON as text ('' for null). */
const text = (value: unknown): string =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.map((item) => String(item)) : typeof value === 'string' ? [value] : [];

/**
 * What `docker compose config` answered, by its inputs: the files and .env as they are now (their modification
 * times) and the environment. Each answer starts the compose CLI, and the tests and scripts ask about the same few
 * variants again and again (`runningVariant` reads all seven at every switch).
 */
const configCache = new Map<string, string>();

function configInputs(files: string[], env: NodeJS.ProcessEnv): string {
  const modified = (file: string) => {
    try {
      return statSync(path.resolve(REPO_ROOT, file)).mtimeMs;
    } catch {
      return null; // compose says what is missing
    }
  };
  return JSON.stringify([files.map((f) => [f, modified(f)]), modified('.env'), env]);
}

/** `docker compose config` of these files, as JSON: the document compose would run (needs the compose CLI only). */
export function composeConfigDocument(
  files: string[],
  env: NodeJS.ProcessEnv = process.env,
): Record<string, unknown> {
  const inputs = configInputs(files, env);
  let json = configCache.get(inputs);
  if (json === undefined) {
    json = composeConfig(files, env);
    configCache.set(inputs, json);
  }
  return asRecord(JSON.parse(json), 'docker compose config');
}

function composeConfig(files: string[], env: NodeJS.ProcessEnv): string {
  try {
    return execFileSync(
      'docker',
      [
        'compose',
        '--project-directory',
        REPO_ROOT,
        ...files.flatMap((file) => ['-f', file]),
        'config',
        '--format',
        'json',
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new ComposeError(
      `docker compose config refused ${files.map((f) => path.basename(f)).join(' + ')}: ${stderr ?? String(error)}`,
    );
  }
}

export function loadCompose(files: string[], env: NodeJS.ProcessEnv = process.env): ComposeProject {
  const document = composeConfigDocument(files, env);
  const services = new Map<string, ComposeService>();
  for (const [name, spec] of Object.entries(asRecord(document.services, 'services'))) {
    services.set(name, readService(name, asRecord(spec, `service ${name}`)));
  }
  const networks = new Map<string, ComposeNetwork>();
  for (const [name, spec] of Object.entries(asRecord(document.networks ?? {}, 'networks'))) {
    const configs: unknown[] =
      isRecord(spec) && isRecord(spec.ipam) && Array.isArray(spec.ipam.config) ? spec.ipam.config : [];
    const config = configs[0];
    networks.set(name, {
      name,
      subnet: isRecord(config) && typeof config.subnet === 'string' ? config.subnet : null,
      gateway: isRecord(config) && typeof config.gateway === 'string' ? config.gateway : null,
      ipRange: isRecord(config) && typeof config.ip_range === 'string' ? config.ip_range : null,
    });
  }
  return { name: typeof document.name === 'string' ? document.name : 'compose', services, networks };
}

function readService(name: string, spec: Record<string, unknown>): ComposeService {
  const networkMode = typeof spec.network_mode === 'string' ? spec.network_mode : null;
  const build = isRecord(spec.build) ? spec.build : null;
  const networks = isRecord(spec.networks) ? spec.networks : {};
  return {
    name,
    image: typeof spec.image === 'string' ? spec.image : null,
    build: build
      ? {
          context: text(build.context),
          dockerfile: typeof build.dockerfile === 'string' ? build.dockerfile : 'Dockerfile',
        }
      : null,
    environment: Object.fromEntries(
      Object.entries(isRecord(spec.environment) ? spec.environment : {}).map(([key, value]) => [
        key,
        text(value),
      ]),
    ),
    // Files of the repository bound into the container; named volumes (the collector's queue) are not files.
    mounts: (Array.isArray(spec.volumes) ? spec.volumes : [])
      .filter(isRecord)
      .filter((volume) => volume.type === 'bind')
      .map((volume) => ({
        source: String(volume.source),
        target: String(volume.target),
        readOnly: volume.read_only === true,
      })),
    ports: (Array.isArray(spec.ports) ? spec.ports : []).filter(isRecord).map((port) => ({
      hostIp: typeof port.host_ip === 'string' ? port.host_ip : '0.0.0.0',
      hostPort: Number(port.published),
      containerPort: Number(port.target),
    })),
    networks: Object.keys(networks),
    aliases: Object.values(networks).flatMap((network) =>
      isRecord(network) ? strings(network.aliases) : [],
    ),
    expose: strings(spec.expose).map(Number),
    sharesNetworkOf: networkMode?.startsWith('service:') ? networkMode.slice('service:'.length) : null,
    user: typeof spec.user === 'string' ? spec.user : null,
    dnsOptions: strings(spec.dns_opt),
    command: strings(spec.command),
  };
}

/** The apps' Dockerfile. The project builds one other image, the collector's (collector/Dockerfile): not an app. */
const APPS_DOCKERFILE = path.join(REPO_ROOT, 'services', 'Dockerfile');
const buildsApps = (service: ComposeService) =>
  service.build !== null && path.resolve(service.build.context, service.build.dockerfile) === APPS_DOCKERFILE;

/** An app: a service that builds the apps' image (service1), or runs it (service2, service3). */
export function isApp(project: ComposeProject, service: ComposeService): boolean {
  const appImages = [...project.services.values()].filter(buildsApps).map((s) => s.image);
  return buildsApps(service) || (service.image !== null && appImages.includes(service.image));
}
