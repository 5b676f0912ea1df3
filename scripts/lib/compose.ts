// Reads docker-compose.yaml (plus override files, e.g. the Jaeger one) the way `docker compose` does, for the
// parts of the Compose spec this project uses: `.env` interpolation, YAML merge keys, and multi-file merging.
// Any key outside that subset is an error naming the service and the key: the runner must never silently skip
// something compose would do.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseYaml } from 'yaml';

export const REPO_ROOT = path.join(__dirname, '..', '..');

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

export interface Healthcheck {
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
  startIntervalMs: number;
}

export interface ComposeService {
  name: string;
  image: string | null;
  build: { context: string; dockerfile: string } | null;
  command: string[] | null;
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
  healthcheck: Healthcheck | null;
  dependsOn: Record<string, 'service_started' | 'service_healthy'>;
  user: string | null;
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

const SERVICE_KEYS = new Set([
  'image',
  'build',
  'command',
  'environment',
  'volumes',
  'ports',
  'networks',
  'network_mode',
  'expose',
  'healthcheck',
  'depends_on',
  'user',
]);
const TOP_LEVEL_KEYS = new Set(['name', 'services', 'networks']);

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

/** ${VAR}, ${VAR:-default}, ${VAR-default}, and $$ for a literal $. An unset ${VAR} without default is an error. */
export function interpolate(value: string, variables: Record<string, string>, where: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g,
    (match, name: string | undefined, operator: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      const current = variables[name ?? ''];
      if (operator === ':-') return current ? current : (fallback ?? '');
      if (operator === '-') return current ?? fallback ?? '';
      if (current === undefined)
        throw new ComposeError(`${where}: variable \${${String(name)}} is not set (.env?)`);
      return current;
    },
  );
}

function interpolateDeep(value: unknown, variables: Record<string, string>, where: string): unknown {
  if (typeof value === 'string') return interpolate(value, variables, where);
  if (Array.isArray(value)) return value.map((item) => interpolateDeep(item, variables, where));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateDeep(item, variables, `${where}.${key}`)]),
    );
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Compose's merge of an override file: mappings merge; volumes merge by their container path (an override mounts
 * another file at the same place); ports and expose add up; other lists are replaced. A list of networks meets a
 * mapping of networks as compose does: the mapping's details are kept.
 */
function mergeOverride(base: unknown, override: unknown, key = ''): unknown {
  if (key === 'networks' && Array.isArray(base) && isRecord(override)) {
    return mergeOverride(Object.fromEntries(base.map((name) => [String(name), {}])), override, key);
  }
  if (key === 'volumes' && Array.isArray(base) && Array.isArray(override)) {
    const target = (volume: unknown) => String(volume).split(':')[1];
    const replaced = new Set(override.map(target));
    return [
      ...(base as unknown[]).filter((volume) => !replaced.has(target(volume))),
      ...(override as unknown[]),
    ];
  }
  if (isRecord(base) && isRecord(override)) {
    const merged: Record<string, unknown> = { ...base };
    for (const [name, value] of Object.entries(override))
      merged[name] = mergeOverride(base[name], value, name);
    return merged;
  }
  if (Array.isArray(base) && Array.isArray(override) && (key === 'ports' || key === 'expose')) {
    const before = base as unknown[];
    return [...before, ...(override as unknown[]).filter((item) => !before.includes(item))];
  }
  return override ?? base;
}

/** The files merged into one document, interpolated, as `docker compose config` would show it. */
export function loadComposeDocument(
  files: string[],
  variables = composeVariables(),
): Record<string, unknown> {
  let document: unknown = {};
  for (const file of files) {
    const raw: unknown = parseYaml(readFileSync(file, 'utf8'), { merge: true });
    if (!isRecord(raw)) throw new ComposeError(`${file}: not a compose file`);
    document = mergeOverride(document, interpolateDeep(raw, variables, path.basename(file)));
  }
  if (!isRecord(document)) throw new ComposeError('no compose file');
  return document;
}

export function loadCompose(files: string[], variables = composeVariables()): ComposeProject {
  const document = loadComposeDocument(files, variables);
  for (const key of Object.keys(document)) {
    if (!TOP_LEVEL_KEYS.has(key) && !key.startsWith('x-')) {
      throw new ComposeError(`top-level key "${key}" is not supported by this runner`);
    }
  }
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

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (!isRecord(value)) throw new ComposeError(`${where}: expected a mapping`);
  return value;
}

function readService(name: string, spec: Record<string, unknown>): ComposeService {
  for (const key of Object.keys(spec)) {
    if (!SERVICE_KEYS.has(key))
      throw new ComposeError(`service "${name}": key "${key}" is not supported by this runner`);
  }
  const where = `service "${name}"`;
  const networkMode = typeof spec.network_mode === 'string' ? spec.network_mode : null;
  if (networkMode !== null && !networkMode.startsWith('service:')) {
    throw new ComposeError(`${where}: network_mode "${networkMode}" is not supported (only service:NAME)`);
  }
  return {
    name,
    image: typeof spec.image === 'string' ? spec.image : null,
    build: readBuild(spec.build, where),
    command: spec.command === undefined ? null : stringList(spec.command, `${where} command`),
    environment: readEnvironment(spec.environment, where),
    mounts: (spec.volumes === undefined ? [] : stringList(spec.volumes, `${where} volumes`)).map((volume) =>
      readMount(volume, where),
    ),
    ports: (spec.ports === undefined ? [] : stringList(spec.ports, `${where} ports`)).map((port) =>
      readPort(port, where),
    ),
    networks: Array.isArray(spec.networks)
      ? stringList(spec.networks, `${where} networks`)
      : Object.keys(asRecord(spec.networks ?? {}, `${where} networks`)),
    aliases: Array.isArray(spec.networks)
      ? []
      : Object.values(asRecord(spec.networks ?? {}, `${where} networks`)).flatMap((network) =>
          isRecord(network) && network.aliases !== undefined
            ? stringList(network.aliases, `${where} aliases`)
            : [],
        ),
    expose: (spec.expose === undefined ? [] : stringList(spec.expose, `${where} expose`)).map(Number),
    sharesNetworkOf: networkMode?.slice('service:'.length) ?? null,
    healthcheck:
      spec.healthcheck === undefined ? null : readHealthcheck(asRecord(spec.healthcheck, where), where),
    dependsOn: readDependsOn(spec.depends_on, where),
    user: typeof spec.user === 'string' ? spec.user : null,
  };
}

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new ComposeError(`${where}: expected a list of strings (the short syntax)`);
  }
  return value;
}

function readBuild(value: unknown, where: string): ComposeService['build'] {
  if (value === undefined) return null;
  if (typeof value === 'string') return { context: path.resolve(REPO_ROOT, value), dockerfile: 'Dockerfile' };
  const build = asRecord(value, `${where} build`);
  const context = path.resolve(REPO_ROOT, typeof build.context === 'string' ? build.context : '.');
  return { context, dockerfile: typeof build.dockerfile === 'string' ? build.dockerfile : 'Dockerfile' };
}

function readEnvironment(value: unknown, where: string): Record<string, string> {
  if (value === undefined) return {};
  if (Array.isArray(value)) {
    return Object.fromEntries(
      stringList(value, `${where} environment`).map((entry) => {
        const index = entry.indexOf('=');
        return index === -1 ? [entry, ''] : [entry.slice(0, index), entry.slice(index + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(asRecord(value, `${where} environment`)).map(([key, item]) => [
      key,
      typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean' ? String(item) : '',
    ]),
  );
}

function readMount(volume: string, where: string): Mount {
  const [source, target, mode] = volume.split(':');
  if (!source || !target || !(source.startsWith('./') || source.startsWith('/'))) {
    throw new ComposeError(
      `${where}: volume "${volume}" is not a bind mount of a repo file (./PATH:TARGET[:ro])`,
    );
  }
  return { source: path.resolve(REPO_ROOT, source), target, readOnly: mode === 'ro' };
}

function readPort(port: string, where: string): PublishedPort {
  const match = /^(?:(\d+\.\d+\.\d+\.\d+):)?(\d+):(\d+)$/.exec(port);
  if (!match) throw new ComposeError(`${where}: port "${port}" is not [IP:]HOST:CONTAINER`);
  return { hostIp: match[1] ?? '0.0.0.0', hostPort: Number(match[2]), containerPort: Number(match[3]) };
}

/** "5s", "1m30s", "500ms" -> milliseconds. */
export function durationMs(value: unknown, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  if (typeof value !== 'string')
    throw new ComposeError(`duration ${JSON.stringify(value)} is not like 5s or 1m30s`);
  const text = value;
  let total = 0;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.map((part) => part[0]).join('') !== text)
    throw new ComposeError(`duration "${text}" is not like 5s or 1m30s`);
  for (const [, amount, unit] of parts) total += Number(amount) * (units[unit ?? 's'] ?? 1000);
  return total;
}

function readHealthcheck(spec: Record<string, unknown>, where: string): Healthcheck {
  return {
    test: stringList(spec.test, `${where} healthcheck.test`),
    intervalMs: durationMs(spec.interval, 30_000),
    timeoutMs: durationMs(spec.timeout, 30_000),
    retries: typeof spec.retries === 'number' ? spec.retries : 3,
    startPeriodMs: durationMs(spec.start_period, 0),
    startIntervalMs: durationMs(spec.start_interval, 5000),
  };
}

function readDependsOn(value: unknown, where: string): ComposeService['dependsOn'] {
  if (value === undefined) return {};
  if (Array.isArray(value)) {
    return Object.fromEntries(
      stringList(value, `${where} depends_on`).map((name) => [name, 'service_started']),
    );
  }
  return Object.fromEntries(
    Object.entries(asRecord(value, `${where} depends_on`)).map(([name, condition]) => {
      const wanted = isRecord(condition) ? condition.condition : undefined;
      if (wanted !== 'service_healthy' && wanted !== 'service_started') {
        throw new ComposeError(`${where}: depends_on ${name} condition "${String(wanted)}" is not supported`);
      }
      return [name, wanted];
    }),
  );
}

/** The default compose file, and the Jaeger override when asked for. */
/**
 * The compose files of each backend: Zipkin (the default), Jaeger in Zipkin's place, and Jaeger with Envoy's
 * OpenTelemetry tracer (everything over OTLP).
 */
export const BACKENDS = ['zipkin', 'jaeger', 'otel-tracer'] as const;
export type Backend = (typeof BACKENDS)[number];

export function composeFiles(backend: Backend): string[] {
  const file = (name: string) => path.join(REPO_ROOT, name);
  const files = [file('docker-compose.yaml')];
  if (backend !== 'zipkin') files.push(file('docker-compose.jaeger.yaml'));
  if (backend === 'otel-tracer') files.push(file('docker-compose.otel-tracer.yaml'));
  return files;
}
