// The app's own work: find out who it is, as the original Flask service did with gethostbyname(gethostname()).
// It runs inside a child span, so the trace shows work the sidecar cannot see.
//
// The original's lookup never left the container: Docker writes the container's hostname and address into
// /etc/hosts. Here the app shares its sidecar's network namespace, and its own hostname maps only to loopback (on
// Podman) or to the sidecar's name (on Docker), so the same question gets a portable answer from the namespace's
// interfaces: the address other containers reach this service at. Not from DNS: a lookup per request put the
// network's DNS server on every request's path, and where it stalled (seen in CI while a container of the network
// was killed and restarted) each hop waited out its lookup timeout.
import { hostname, networkInterfaces } from 'node:os';
import { SpanStatusCode } from '@opentelemetry/api';
import { tracer } from '../tracing/tracing.js';

export interface HostIdentity {
  hostname: string;
  resolvedHostname: string;
}

/** The namespace's own IPv4 addresses (the mesh is IPv4), loopback left out. */
function meshAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((address) => address.family === 'IPv4' && !address.internal)
    .map((address) => address.address);
}

/** Finds the address this service answers on, inside the child span `resolve-hostname`. */
export function describeHost(): HostIdentity {
  return tracer.startActiveSpan('resolve-hostname', (span) => {
    const name = hostname();
    const addresses = meshAddresses();
    span.setAttribute('host.name', name);
    if (addresses.length === 0) {
      // Odd but harmless here (a namespace with loopback only): say so instead of failing the request.
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'no network address besides loopback' });
      span.end();
      return { hostname: name, resolvedHostname: 'unresolved (loopback only)' };
    }
    span.setAttribute('host.ip', addresses);
    span.end();
    return { hostname: name, resolvedHostname: addresses.join(', ') };
  });
}

/** "service1" reads as "service 1", as in the original sandbox's greeting. */
export function serviceLabel(serviceName: string): string {
  return serviceName.replace(/^service(?=\d+$)/, 'service ');
}

export function greetingText(serviceName: string, host: HostIdentity): string {
  return (
    `Hello from behind Envoy (${serviceLabel(serviceName)})! ` +
    `hostname: ${host.hostname} resolved hostname: ${host.resolvedHostname}`
  );
}
