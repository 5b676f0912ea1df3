// Loads proto/alerts.proto once, with the same options the typed stubs in src/generated were made with.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../generated/alerts.js';

// services/proto/alerts.proto, from src/alerts-api/ (tests) or dist/alerts-api/ (the image).
const ALERTS_PROTO_PATH = path.join(__dirname, '..', '..', 'proto', 'alerts.proto');

/** The gRPC service's full name, as in the proto: in health status, logs and hop names. */
export const ALERTS_SERVICE = 'alerts.v1.Alerts';

export function loadAlertsProto(): ProtoGrpcType {
  const definition = loadSync(ALERTS_PROTO_PATH, {
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
}
