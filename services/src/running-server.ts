/** A listening app, HTTP or gRPC, as the shutdown sequence sees it. */
export interface RunningServer {
  readonly address: string;
  /** Stops accepting, lets requests in flight finish, then resolves. */
  close(): Promise<void>;
}
