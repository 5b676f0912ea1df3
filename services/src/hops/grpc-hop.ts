// service2's gRPC hop: both Alerts RPCs, through its sidecar's egress (HTTP/2) to service3.
import * as grpc from '@grpc/grpc-js';
import { ALERTS_SERVICE, loadAlertsProto } from '../alerts-api/alerts-proto.js';
import { metadataFrom } from '../tracing/grpc-metadata.js';
import { DownstreamError } from './downstream-error.js';
import type { AlertsClient } from '../generated/alerts/v1/Alerts.js';
import type { ListMessagesResponse__Output } from '../generated/alerts/v1/ListMessagesResponse.js';
import type { MessageHistoryResponse__Output } from '../generated/alerts/v1/MessageHistoryResponse.js';
import type { Logger } from '../process/logger.js';

export interface GrpcHopResult {
  listMessages: ListMessagesResponse__Output;
  messageHistory: MessageHistoryResponse__Output | null;
}

export class GrpcHop {
  private readonly client: AlertsClient;

  constructor(
    private readonly from: string,
    private readonly target: string,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {
    const { alerts } = loadAlertsProto();
    this.client = new alerts.v1.Alerts(target, grpc.credentials.createInsecure());
  }

  /** Lists the newest alerts, then reads the history of the first one: two RPCs, two spans in the trace. */
  async listWithHistory(carried: Record<string, string>): Promise<GrpcHopResult> {
    const { metadata, dropped } = metadataFrom(carried);
    if (dropped.length > 0)
      this.log.warn({ dropped }, 'headers not valid as gRPC metadata were not forwarded');

    const listMessages = await this.unary<ListMessagesResponse__Output>('ListMessages', (deadline, done) =>
      this.client.listMessages({ severity: '', limit: 3 }, metadata, { deadline }, done),
    );
    const first = listMessages.messages[0];
    const messageHistory = first
      ? await this.unary<MessageHistoryResponse__Output>('MessageHistory', (deadline, done) =>
          this.client.messageHistory({ messageId: first.id }, metadata, { deadline }, done),
        )
      : null;
    return { listMessages, messageHistory };
  }

  close(): void {
    this.client.close();
  }

  /** One call with its own deadline; a gRPC failure becomes a DownstreamError (UNAVAILABLE 502, DEADLINE 504). */
  private unary<T>(
    method: string,
    start: (deadline: Date, done: (error: grpc.ServiceError | null, value?: T) => void) => void,
  ): Promise<T> {
    const hop = `${this.from} -> grpc://${this.target} ${ALERTS_SERVICE}/${method}`;
    return new Promise((resolve, reject) => {
      start(new Date(Date.now() + this.timeoutMs), (error, value) => {
        if (error) reject(grpcFailure(hop, error, this.timeoutMs));
        else if (value === undefined)
          reject(new DownstreamError(502, { error: 'empty gRPC response', failedHop: hop, hop }));
        else resolve(value);
      });
    });
  }
}

function grpcFailure(hop: string, error: grpc.ServiceError, timeoutMs: number): DownstreamError {
  const grpcStatus = grpc.status[error.code];
  const timedOut = error.code === grpc.status.DEADLINE_EXCEEDED;
  return new DownstreamError(timedOut ? 504 : 502, {
    error: timedOut
      ? `no answer within ${timeoutMs} ms (${grpcStatus})`
      : `gRPC call failed: ${grpcStatus}: ${error.details}`,
    failedHop: hop,
    hop,
    grpcStatus,
  });
}
