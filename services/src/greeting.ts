// The app's own work: find out who it is, as the original Flask service did with gethostbyname(gethostname()).
// It runs inside a child span, so the trace shows work the sidecar cannot see. The app shares its sidecar's network
// namespace, and the service's name on the network belongs to that namespace: so it resolves the service name
// (what other containers call it) rather than its container's own hostname, which only maps to loopback.
import { hostname } from 'node:os';
import { lookup } from 'node:dns/promises';
import { SpanStatusCode, trace } from '@opentelemetry/api';

export const tracer = trace.getTracer('traced-mesh-services');

export interface HostIdentity {
  hostname: string;
  resolvedHostname: string;
}

/**
 * A lookup that never holds a request for long: DNS that does not answer is reported, not waited for. 1 s: the
 * first lookup in a fresh mesh on a busy 2-vCPU machine took over 500 ms (seen once in CI), and a hop must still
 * answer well within its caller's timeout where the name does not resolve at all (2 s was not: seen in CI too).
 */
const LOOKUP_TIMEOUT_MS = 1000;

/** Resolves the service's name to its address, inside the child span `resolve-hostname`. */
export function describeHost(serviceName: string): Promise<HostIdentity> {
  return tracer.startActiveSpan('resolve-hostname', async (span) => {
    const name = hostname();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(Object.assign(new Error('lookup timed out'), { code: 'ETIMEOUT' }));
        }, LOOKUP_TIMEOUT_MS);
      });
      const { address } = await Promise.race([lookup(serviceName), timeout]);
      span.setAttribute('host.name', name);
      span.setAttribute('host.ip', address);
      return { hostname: name, resolvedHostname: address };
    } catch (error) {
      // A name that does not resolve is odd but harmless here: say so instead of failing the request.
      span.setStatus({ code: SpanStatusCode.ERROR, message: `lookup of ${serviceName} failed` });
      return {
        hostname: name,
        resolvedHostname: `unresolved (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      };
    } finally {
      clearTimeout(timer);
      span.end();
    }
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
