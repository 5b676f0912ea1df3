// Cross-file checks: the compose file(s), the Envoy configs they mount, the services' environment contract and
// .env must tell one story. Each problem names the file and the key.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ENVIRONMENT_DEFAULTS } from '@traced-envoy-mesh/services/config';
import { SPAN_BATCHING } from '@traced-envoy-mesh/services/span-batching';
import { isApp, type ComposeProject, type ComposeService } from '../mesh/compose.ts';
import { mountedEnvoyConfigs, type EnvoyConfig } from '../mesh/envoy-config.ts';
import { REPO_ROOT } from '../repo.ts';

const LOOPBACK = '127.0.0.1';
/** Resolves names as the apps do (the C library), asking the network's own DNS server first every time. */
const GETADDRINFO = 'envoy.network.dns_resolver.getaddrinfo';
/** How long a name lookup may wait per nameserver, in every Envoy's container. */
const DNS_TIMEOUT_OPTION = 'timeout:1';

/** The compose service whose network namespace a service runs in (itself, or X for network_mode service:X). */
const namespaceOf = (service: ComposeService) => service.sharesNetworkOf ?? service.name;

function hostPort(value: string): { host: string; port: number } {
  const index = value.lastIndexOf(':');
  return { host: value.slice(0, index), port: Number(value.slice(index + 1)) };
}

/** What the checks share: the project, its mounted Envoy configs, and what listens where. */
interface Mesh {
  project: ComposeProject;
  composeFile: string;
  services: ComposeService[];
  configs: Map<string, EnvoyConfig>;
  /** Per network namespace: Envoy listeners, the apps' LISTEN addresses, published and exposed ports. */
  listening: Map<string, { host: string; port: number; what: string }[]>;
}

/**
 * Every cross-file fact, one check each. `sdkExportDelayMs`: how often the apps' SDK posts its spans (the
 * services' SPAN_BATCHING), a parameter so that a test can hand it a wrong one.
 */
export function checkConsistency(
  project: ComposeProject,
  composeFile = 'docker-compose.yaml',
  sdkExportDelayMs: number = SPAN_BATCHING.scheduledDelayMillis,
): string[] {
  const services = [...project.services.values()];
  const configs = mountedEnvoyConfigs(project);
  const mesh: Mesh = { project, composeFile, services, configs, listening: whatListens(project, configs) };
  return [
    ...checkServices(mesh),
    ...[...configs].flatMap(([serviceName, envoy]) => checkEnvoy(mesh, serviceName, envoy)),
    ...checkNextHops(mesh),
    ...checkFlushIntervals(configs, sdkExportDelayMs),
    ...checkAccessLogs(configs),
  ];
}

/** Mounted files exist, ports are published on the host's loopback only, network_mode names a service. */
function checkServices({ project, composeFile, services }: Mesh): string[] {
  const problems: string[] = [];
  for (const service of services) {
    for (const mount of service.mounts) {
      if (!existsSync(mount.source)) {
        problems.push(
          `${composeFile}: services.${service.name}.volumes: ${path.relative(REPO_ROOT, mount.source)} does not exist`,
        );
      }
    }
    for (const port of service.ports) {
      if (port.hostIp !== LOOPBACK) {
        problems.push(
          `${composeFile}: services.${service.name}.ports: ${port.hostPort} is published on ${port.hostIp}, not the host's ${LOOPBACK}`,
        );
      }
    }
    if (service.sharesNetworkOf && !project.services.has(service.sharesNetworkOf)) {
      problems.push(
        `${composeFile}: services.${service.name}.network_mode: no service "${service.sharesNetworkOf}"`,
      );
    }
  }
  return problems;
}

/** What listens where, per network namespace: Envoy listeners, the apps' LISTEN addresses, published ports. */
function whatListens(project: ComposeProject, configs: Map<string, EnvoyConfig>): Mesh['listening'] {
  const listening: Mesh['listening'] = new Map();
  const listen = (namespace: string, host: string, port: number, what: string) => {
    listening.set(namespace, [...(listening.get(namespace) ?? []), { host, port, what }]);
  };
  const services = [...project.services.values()];
  for (const service of services) {
    for (const listener of configs.get(service.name)?.listeners ?? []) {
      if (!listener.address) continue; // an internal listener has no socket
      listen(
        namespaceOf(service),
        listener.address.address,
        listener.address.port,
        `${service.name} ${listener.name}`,
      );
    }
    if (isApp(project, service)) {
      const { host, port } = hostPort(service.environment.LISTEN ?? ENVIRONMENT_DEFAULTS.LISTEN);
      listen(namespaceOf(service), host, port, `${service.name} app`);
    }
    for (const published of service.ports)
      listen(namespaceOf(service), '0.0.0.0', published.containerPort, service.name);
  }
  for (const service of services) {
    for (const port of service.expose) listen(namespaceOf(service), '0.0.0.0', port, service.name);
  }
  return listening;
}

/** One Envoy: named after its service, resolving with getaddrinfo, admin on loopback; its listeners and clusters. */
function checkEnvoy(mesh: Mesh, serviceName: string, envoy: EnvoyConfig): string[] {
  const service = mesh.project.services.get(serviceName);
  if (!service) return [];
  const problems: string[] = [];
  const file = path.relative(REPO_ROOT, envoy.file);
  if (envoy.nodeCluster !== serviceName) {
    problems.push(
      `${file}: node.cluster is "${envoy.nodeCluster}", expected the compose service name "${serviceName}"`,
    );
  }
  // c-ares (Envoy's default) once stuck with a dead answer for Zipkin's name after Podman's DNS stalled: the
  // Envoy sent its spans to a stale address for minutes (scripts/test/reliability/dns-stall.test.ts).
  if (envoy.dnsResolver !== GETADDRINFO) {
    problems.push(`${file}: typed_dns_resolver_config is ${envoy.dnsResolver}, expected ${GETADDRINFO}`);
  }
  // getaddrinfo runs on a thread Envoy joins when it exits: with glibc's 5 s per nameserver, a lookup that met the
  // engine's DNS server reloading held a stopping Envoy past its grace period (killed, 137; docker-compose.yaml).
  if (!service.dnsOptions.includes(DNS_TIMEOUT_OPTION)) {
    problems.push(
      `${mesh.composeFile}: services.${serviceName}.dns_opt is [${service.dnsOptions.join(', ')}], expected it to hold ${DNS_TIMEOUT_OPTION}`,
    );
  }
  if (envoy.admin.address !== LOOPBACK) {
    problems.push(`${file}: admin.address binds ${envoy.admin.address}, expected ${LOOPBACK}`);
  }
  return [...problems, ...checkListeners(mesh, service, envoy), ...checkClusters(mesh, service, envoy)];
}

/** A sidecar shares its network namespace with an app (here: the app joins the sidecar's). */
function isSidecar({ project, services }: Mesh, service: ComposeService): boolean {
  return services.some((s) => s !== service && namespaceOf(s) === namespaceOf(service) && isApp(project, s));
}

/** Egress on loopback, the admin API never beyond the host, internal ranges = compose's, tracer settings. */
function checkListeners(mesh: Mesh, service: ComposeService, envoy: EnvoyConfig): string[] {
  const problems: string[] = [];
  const file = path.relative(REPO_ROOT, envoy.file);
  const gateways = [...mesh.project.networks.values()].map((network) => network.gateway).filter(Boolean);
  // The containers' addresses come from compose's ip_range: that is what an Envoy may count as internal.
  const ipRanges = [...mesh.project.networks.values()].map((network) => network.ipRange);
  for (const listener of envoy.listeners) {
    const where = `${file}: listener "${listener.name}"`;
    if (!listener.address) continue; // internal: unreachable from any network by construction
    if (
      isSidecar(mesh, service) &&
      listener.direction === 'OUTBOUND' &&
      listener.address.address !== LOOPBACK
    ) {
      problems.push(
        `${where} is an egress listener bound to ${listener.address.address}, expected ${LOOPBACK}`,
      );
    }
    const toAdmin = listener.routes.some((route) =>
      envoy.clusters.some(
        (c) =>
          c.name === route.cluster &&
          c.endpoints.some((e) => e.address === LOOPBACK && e.port === envoy.admin.port),
      ),
    );
    if (toAdmin && listener.address.address !== LOOPBACK) {
      const onlyGateway = listener.sourceRanges.every(
        (ranges) =>
          ranges.length > 0 &&
          ranges.every((range) => gateways.some((gateway) => range === `${String(gateway)}/32`)),
      );
      if (!onlyGateway) {
        problems.push(
          `${where} exposes the admin API beyond loopback without restricting sources to the network gateway`,
        );
      }
    }
    for (const range of listener.internalRanges) {
      if (!ipRanges.includes(range))
        problems.push(
          `${where}: internal_address_config ${range} is not the compose network's ip_range (${ipRanges.join(', ')})`,
        );
    }
    problems.push(...checkTracers(where, envoy, listener.tracers));
  }
  return problems;
}

/** The tracer settings the one-trace lesson depends on (128-bit ids, a span per proxy, the right service name). */
function checkTracers(where: string, envoy: EnvoyConfig, tracers: Record<string, unknown>[]): string[] {
  const problems: string[] = [];
  for (const tracer of tracers) {
    if (tracer['@type'] === 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig') {
      if (tracer.service_name !== envoy.nodeCluster) {
        problems.push(`${where}: tracing service_name must be node.cluster "${envoy.nodeCluster}"`);
      }
      continue;
    }
    if (
      tracer.collector_endpoint_version !== 'HTTP_JSON' &&
      tracer.collector_endpoint_version !== 'HTTP_PROTO'
    ) {
      problems.push(`${where}: tracing collector_endpoint_version must be HTTP_JSON or HTTP_PROTO`);
    }
    if (tracer.trace_id_128bit !== true) problems.push(`${where}: tracing trace_id_128bit must be true`);
    if (tracer.shared_span_context !== false)
      problems.push(`${where}: tracing shared_span_context must be false`);
  }
  return problems;
}

/** Every cluster endpoint is something that listens: an internal listener, a port in the namespace, a peer. */
function checkClusters(mesh: Mesh, service: ComposeService, envoy: EnvoyConfig): string[] {
  const problems: string[] = [];
  const file = path.relative(REPO_ROOT, envoy.file);
  const namespace = namespaceOf(service);
  /** A name on the network: a service's own name, or one of its aliases (a service with its own network). */
  const byName = (name: string) =>
    mesh.services.find((s) => s.sharesNetworkOf === null && (s.name === name || s.aliases.includes(name))) ??
    null;
  const listensOn = (where: string, port: number, fromOthers: boolean) =>
    (mesh.listening.get(where) ?? []).some((l) => l.port === port && (!fromOthers || l.host !== LOOPBACK));
  for (const cluster of envoy.clusters) {
    for (const name of cluster.internalListeners) {
      if (!envoy.listeners.some((l) => l.name === name && l.address === null))
        problems.push(
          `${file}: cluster "${cluster.name}" names "${name}", not an internal listener of this Envoy`,
        );
    }
    for (const endpoint of cluster.endpoints) {
      const where = `${file}: cluster "${cluster.name}" endpoint ${endpoint.address}:${endpoint.port}`;
      if (endpoint.address === LOOPBACK) {
        const ownAdmin = endpoint.port === envoy.admin.port;
        if (!ownAdmin && !isSidecar(mesh, service))
          problems.push(`${where}: 127.0.0.1 outside a shared network namespace`);
        else if (!ownAdmin && !listensOn(namespace, endpoint.port, false)) {
          problems.push(`${where}: nothing in ${namespace}'s namespace listens on port ${endpoint.port}`);
        }
        continue;
      }
      const target = byName(endpoint.address);
      if (!target) {
        problems.push(
          `${where}: "${endpoint.address}" is not a compose service (or alias) with its own network`,
        );
      } else if (!listensOn(target.name, endpoint.port, true)) {
        problems.push(`${where}: nothing in ${target.name} listens on port ${endpoint.port} for other hosts`);
      }
    }
  }
  return problems;
}

/** Each app's NEXT_HOP must be an egress listener of its own sidecar (loopback), or nothing. */
function checkNextHops({ project, composeFile, services, listening }: Mesh): string[] {
  const problems: string[] = [];
  for (const service of services.filter((s) => isApp(project, s))) {
    const nextHop = service.environment.NEXT_HOP;
    if (!nextHop) continue;
    const url = new URL(nextHop);
    const port = Number(url.port);
    const egress = (listening.get(namespaceOf(service)) ?? []).find(
      (l) => l.port === port && l.host === LOOPBACK && l.what.endsWith('egress'),
    );
    if (url.hostname !== LOOPBACK || !egress) {
      problems.push(
        `${composeFile}: services.${service.name}.environment.NEXT_HOP ${nextHop} is not its sidecar's egress listener`,
      );
    }
  }
  return problems;
}

/**
 * A trace is whole only when its slowest Envoy posted: one flush interval for all says how long that takes, and
 * the apps' SDK must post no later than the Envoys, or the waits that assume Envoy is last fall short.
 */
function checkFlushIntervals(configs: Map<string, EnvoyConfig>, sdkExportDelayMs: number): string[] {
  const problems: string[] = [];
  const intervals = [...configs.values()].map((envoy) => `${envoy.file} ${envoy.flushIntervalMs} ms`);
  if (new Set([...configs.values()].map((envoy) => envoy.flushIntervalMs)).size > 1) {
    problems.push(`the Envoys post spans at different flush_interval_ms: ${intervals.join(', ')}`);
  }
  const slowestEnvoyMs = Math.max(...[...configs.values()].map((envoy) => envoy.flushIntervalMs));
  if (sdkExportDelayMs > slowestEnvoyMs) {
    problems.push(
      `services/src/tracing/span-batching.ts: scheduledDelayMillis ${sdkExportDelayMs} ms is later than the Envoys' flush_interval_ms (${intervals.join(', ')})`,
    );
  }
  return problems;
}

/** The access-log field that leads from a proxy's log line to its trace. */
const TRACE_ID_OPERATOR = '%TRACE_ID%';

/**
 * Every traced listener writes one access-log line per request with the trace id, and every Envoy the same fields,
 * so that one grep for a trace id finds every hop (the first traced listener's fields are the reference).
 */
function checkAccessLogs(configs: Map<string, EnvoyConfig>): string[] {
  const problems: string[] = [];
  let reference: { where: string; fields: string } | null = null;
  for (const envoy of configs.values()) {
    for (const listener of envoy.listeners.filter((l) => l.tracers.length > 0)) {
      const where = `${path.relative(REPO_ROOT, envoy.file)}: listener "${listener.name}"`;
      if (listener.accessLogFields.length !== 1) {
        problems.push(
          `${where} traces but writes ${listener.accessLogFields.length} access logs, expected 1`,
        );
        continue;
      }
      const fields = listener.accessLogFields[0] ?? {};
      if (fields.traceId !== TRACE_ID_OPERATOR) {
        problems.push(`${where}: access_log json_format has no traceId: '${TRACE_ID_OPERATOR}'`);
      }
      const text = JSON.stringify(fields);
      reference ??= { where, fields: text };
      if (text !== reference.fields) {
        problems.push(`${where}: access_log json_format differs from ${reference.where}'s`);
      }
    }
  }
  return problems;
}

/** Images: each comes from a *_VERSION variable of .env and is not a floating tag. */
export function checkImages(composeFiles: string[], envFile = path.join(REPO_ROOT, '.env')): string[] {
  const problems: string[] = [];
  const envText = readFileSync(envFile, 'utf8');
  for (const file of composeFiles) {
    const raw = parse(readFileSync(file, 'utf8'), { merge: true }) as {
      services?: Record<string, { image?: string; build?: unknown }>;
    };
    const built = new Set(
      Object.values(raw.services ?? {})
        .filter((service) => service.build)
        .map((service) => service.image),
    );
    for (const [name, service] of Object.entries(raw.services ?? {})) {
      if (!service.image || built.has(service.image)) continue; // the project's own image, built by compose
      const variable = /\$\{(\w+_VERSION)\}/.exec(service.image)?.[1];
      const where = `${path.basename(file)}: services.${name}.image "${service.image}"`;
      if (!variable) problems.push(`${where} does not take its version from .env`);
      else if (!new RegExp(`^${variable}=\\S+`, 'm').test(envText))
        problems.push(`${where}: ${variable} is not in .env`);
      if (/:(latest|dev)\b/.test(service.image)) problems.push(`${where} uses a floating tag`);
    }
  }
  return problems;
}
