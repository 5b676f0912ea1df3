// The facts the tests and scripts need from an Envoy bootstrap file: who it is, what it listens on, where its
// clusters point, how it traces. Read from the same YAML files Envoy runs.
import { existsSync, globSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../repo.ts';
import type { ComposeProject } from './compose.ts';

/** Where every Envoy container of the compose files finds its config. */
export const ENVOY_CONFIG_TARGET = '/etc/envoy/envoy.yaml';

export interface SocketAddress {
  address: string;
  port: number;
}

export interface EnvoyListener {
  name: string;
  /** null for an Envoy internal listener: no socket, reachable only from the same Envoy through a cluster. */
  address: SocketAddress | null;
  direction: string | null;
  /** Source ranges of every filter chain (empty list = a chain open to any source). */
  sourceRanges: string[][];
  /** Each HCM's tracer config (the typed_config of its tracing provider), if it traces. */
  tracers: Record<string, unknown>[];
  /** The address ranges its HCMs count as internal (internal_address_config), as "a.b.c.d/len". */
  internalRanges: string[];
  routes: { cluster: string; operation: string | null }[];
  /** The JSON fields of every access log its HCMs write (`log_format.json_format`), `{}` for another format. */
  accessLogFields: Record<string, unknown>[];
}

export interface EnvoyCluster {
  name: string;
  endpoints: SocketAddress[];
  /** The internal listeners (of the same Envoy) this cluster's endpoints name. */
  internalListeners: string[];
  http2: boolean;
  /**
   * How often a DNS cluster (LOGICAL_DNS, STRICT_DNS) asks for its name again (`dns_refresh_rate`, Envoy's default
   * 5 s), in ms; null for a cluster that resolves nothing.
   */
  dnsRefreshMs: number | null;
}

/** Envoy's default `dns_refresh_rate`. */
const ENVOY_DEFAULT_DNS_REFRESH_MS = 5000;

/** A protobuf Duration as YAML writes it ("1s", "0.5s"), in ms; Envoy's default when absent. */
function durationMs(value: unknown): number {
  const seconds = typeof value === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(value)?.[1] : undefined;
  return seconds === undefined ? ENVOY_DEFAULT_DNS_REFRESH_MS : Number(seconds) * 1000;
}

export interface EnvoyConfig {
  file: string;
  nodeCluster: string;
  admin: SocketAddress;
  listeners: EnvoyListener[];
  clusters: EnvoyCluster[];
  /**
   * How often the tracer posts what it buffered: the static runtime layer's `tracing.<tracer>.flush_interval_ms`
   * (zipkin or opentelemetry), else Envoy's default of 5000.
   */
  flushIntervalMs: number;
  /** The extension that resolves DNS names (bootstrap `typed_dns_resolver_config`), else Envoy's default c-ares. */
  dnsResolver: string;
}

/** Envoy's default for `tracing.zipkin.flush_interval_ms` and `tracing.opentelemetry.flush_interval_ms`. */
const ENVOY_DEFAULT_FLUSH_INTERVAL_MS = 5000;

function flushIntervalMs(bootstrap: Json): number {
  const values = list(obj(bootstrap.layered_runtime).layers)
    .map((layer) => obj(layer.static_layer))
    .flatMap((layer) =>
      ['tracing.zipkin.flush_interval_ms', 'tracing.opentelemetry.flush_interval_ms'].map(
        (key) => layer[key],
      ),
    )
    .filter((value) => typeof value === 'number');
  return values.at(-1) ?? ENVOY_DEFAULT_FLUSH_INTERVAL_MS; // later layers override earlier ones
}

/** Envoy's DNS resolver when the bootstrap names none. */
const ENVOY_DEFAULT_DNS_RESOLVER = 'envoy.network.dns_resolver.cares';

type Json = Record<string, unknown>;

const obj = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});
const list = (value: unknown): Json[] => (Array.isArray(value) ? value.map(obj) : []);

function dnsResolver(bootstrap: Json): string {
  const name = obj(bootstrap.typed_dns_resolver_config).name;
  return typeof name === 'string' ? name : ENVOY_DEFAULT_DNS_RESOLVER;
}

function socket(value: unknown): SocketAddress {
  const address = obj(obj(value).socket_address);
  return { address: String(address.address), port: Number(address.port_value) };
}

/** Every object in the tree with the given key, depth first (for HCMs nested in filter chains). */
function findAll(value: unknown, key: string): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => findAll(item, key));
  if (typeof value !== 'object' || value === null) return [];
  const here = key in value ? [(value as Json)[key]] : [];
  return [...here, ...Object.values(value).flatMap((item) => findAll(item, key))];
}

function lbEndpoints(cluster: Json): Json[] {
  return list(obj(cluster.load_assignment).endpoints)
    .flatMap((group) => list(group.lb_endpoints))
    .map((endpoint) => obj(obj(endpoint.endpoint).address));
}

export function readEnvoyConfig(file: string): EnvoyConfig {
  return parseEnvoyConfig(readFileSync(file, 'utf8'), file);
}

/** The same facts from a config's text (a Kubernetes ConfigMap holds one, say); `file` names it in messages. */
export function parseEnvoyConfig(text: string, file: string): EnvoyConfig {
  const bootstrap = obj(parse(text, { merge: true }));
  const resources = obj(bootstrap.static_resources);
  return {
    file,
    nodeCluster: String(obj(bootstrap.node).cluster),
    admin: socket(obj(bootstrap.admin).address),
    listeners: list(resources.listeners).map((listener) => ({
      name: String(listener.name),
      address: 'internal_listener' in listener ? null : socket(listener.address),
      direction: typeof listener.traffic_direction === 'string' ? listener.traffic_direction : null,
      sourceRanges: list(listener.filter_chains).map((chain) =>
        list(obj(chain.filter_chain_match).source_prefix_ranges).map(
          (range) => `${String(range.address_prefix)}/${String(range.prefix_len)}`,
        ),
      ),
      tracers: findAll(listener, 'tracing')
        .map((tracing) => obj(tracing).provider) // route-level tracing blocks set sampling only, no provider
        .filter((provider) => provider !== undefined)
        .map((provider) => obj(obj(provider).typed_config)),
      internalRanges: findAll(listener, 'internal_address_config').flatMap((config) =>
        list(obj(config).cidr_ranges).map(
          (range) => `${String(range.address_prefix)}/${String(range.prefix_len)}`,
        ),
      ),
      routes: findAll(listener, 'routes')
        .flatMap((routes) => list(routes))
        .map((route) => ({
          cluster: String(obj(route.route).cluster),
          operation:
            typeof obj(route.decorator).operation === 'string'
              ? String(obj(route.decorator).operation)
              : null,
        })),
      accessLogFields: findAll(listener, 'access_log')
        .flatMap((logs) => list(logs))
        .map((log) => obj(obj(obj(log.typed_config).log_format).json_format)),
    })),
    clusters: list(resources.clusters).map((cluster) => ({
      name: String(cluster.name),
      endpoints: lbEndpoints(cluster)
        .filter((address) => 'socket_address' in address)
        .map(socket),
      internalListeners: lbEndpoints(cluster)
        .map((address) => obj(address.envoy_internal_address).server_listener_name)
        .filter((name) => typeof name === 'string'),
      http2: findAll(cluster, 'http2_protocol_options').length > 0,
      dnsRefreshMs: /_DNS$/.test(String(cluster.type)) ? durationMs(cluster.dns_refresh_rate) : null,
    })),
    flushIntervalMs: flushIntervalMs(bootstrap),
    dnsResolver: dnsResolver(bootstrap),
  };
}

/** The Envoy configs compose mounts, keyed by the compose service that runs each. */
export function mountedEnvoyConfigs(project: ComposeProject): Map<string, EnvoyConfig> {
  const configs = new Map<string, EnvoyConfig>();
  for (const service of project.services.values()) {
    const mount = service.mounts.find((m) => m.target === ENVOY_CONFIG_TARGET);
    if (mount && existsSync(mount.source)) configs.set(service.name, readEnvoyConfig(mount.source));
  }
  return configs;
}

/**
 * The longest flush interval of any Envoy config in the repo (both variants): after that long, every span an Envoy
 * buffered has been posted. The verifier and the tests that prove an absence wait this, so the wait follows the
 * configs instead of restating them.
 */
export function envoyFlushIntervalMs(): number {
  const files = globSync(['envoy/**/*.yaml'], { cwd: REPO_ROOT });
  return Math.max(...files.map((file) => readEnvoyConfig(path.join(REPO_ROOT, file)).flushIntervalMs));
}

/**
 * The longest DNS refresh of any cluster of any Envoy config in the repo: after that long, every Envoy has asked for
 * every name again. A container recreated in place (Podman gives it a new address) is reached by every Envoy then.
 */
export function envoyDnsRefreshMs(): number {
  const files = globSync(['envoy/**/*.yaml'], { cwd: REPO_ROOT });
  return Math.max(
    ...files.flatMap((file) =>
      readEnvoyConfig(path.join(REPO_ROOT, file)).clusters.flatMap((c) => c.dnsRefreshMs ?? []),
    ),
  );
}
