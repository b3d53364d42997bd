/**
 * The metrics rpc/ emits, as an interface: node/metrics/ implements it with prom-client
 * (joule_rpc_request_duration_seconds, joule_rpc_requests_total, joule_rpc_connections,
 * joule_rejections_total with source rpc / rpc-ws), tests pass NO_RPC_METRICS or nothing.
 */
export interface RpcMetrics {
  /** A request that reached dispatch: its method (a registered name, else 'unknown'), outcome and duration. */
  request(method: string, outcome: string, seconds: number): void;
  /** A message that was not a valid JSON-RPC request object (counted as method 'invalid'). */
  invalidRequest(): void;
  /** An input refused, by typed code, and the transport it came over. */
  rejected(code: string, source: 'rpc' | 'rpc-ws'): void;
  /** Open connections: every TCP connection to the RPC port ('http'), and the WebSocket sessions among them ('ws'). */
  connections(transport: 'http' | 'ws', count: number): void;
}

export const NO_RPC_METRICS: RpcMetrics = { request() {}, invalidRequest() {}, rejected() {}, connections() {} };

/** What `GET /metrics` serves (node/ passes its prom-client Registry). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}
