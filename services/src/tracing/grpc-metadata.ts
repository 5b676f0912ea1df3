// Where the trace context crosses the gRPC hop: the headers to carry become the outbound call's metadata
// (services/src/hops/grpc-hop.ts), and the inbound call's metadata is read as headers (services/src/apps/grpc-app.ts),
// so the same header list and the same SDK propagators serve HTTP and gRPC.
import * as grpc from '@grpc/grpc-js';

/** gRPC metadata values must be printable ASCII; a hostile inbound header value is dropped, not fatal. */
export function metadataFrom(carried: Record<string, string>): {
  metadata: grpc.Metadata;
  dropped: string[];
} {
  const metadata = new grpc.Metadata();
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(carried)) {
    if (/^[\x20-\x7e]*$/.test(value)) metadata.set(name, value);
    else dropped.push(name);
  }
  return { metadata, dropped };
}

/** The inbound metadata as plain lowercase headers, so logging and header carrying work as for HTTP. */
export function headersFrom(metadata: grpc.Metadata): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata.getMap())) {
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}
