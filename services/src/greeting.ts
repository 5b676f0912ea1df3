// The app's own work: find out who it is, as the original Flask service did with gethostbyname(gethostname()).
// It runs inside a child span, so the trace shows work the sidecar cannot see.
import { hostname } from 'node:os';
import { lookup } from 'node:dns/promises';
import { SpanStatusCode, trace } from '@opentelemetry/api';

export const tracer = trace.getTracer('traced-mesh-services');

export interface HostIdentity {
  hostname: string;
  resolvedHostname: string;
}

/** Resolves this host's name to an address, inside the child span `resolve-hostname`. */
export function describeHost(): Promise<HostIdentity> {
  return tracer.startActiveSpan('resolve-hostname', async (span) => {
    const name = hostname();
    try {
      const { address } = await lookup(name);
      span.setAttribute('host.name', name);
      span.setAttribute('host.ip', address);
      return { hostname: name, resolvedHostname: address };
    } catch (error) {
      // A host that cannot resolve its own name is odd but harmless here: say so instead of failing the request.
      span.setStatus({ code: SpanStatusCode.ERROR, message: `lookup of ${name} failed` });
      return {
        hostname: name,
        resolvedHostname: `unresolved (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      };
    } finally {
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
