/** rpc/'s public surface for node/ and tests: one import for the servers, metrics and the NodeApi contract. */
export type { AccountView, EvidenceView, HealthCheck, HealthReport, NodeApi, NodeStatus, ProofView, RpcLogger, StoredBlock, TxLookup, ValidatorProposalView } from './node-api.ts';
export { startRpcServer, MAX_BODY_BYTES, type RpcServerOptions, type RunningServer } from './http/http-server.ts';
export { createMetrics, recordBlock, recordRejection, type JouleMetrics, type MetricsOptions } from './metrics.ts';
export { startMetricsServer, type MetricsServerOptions } from './http/metrics-server.ts';
export { Dispatcher, RpcError, RpcErrorCode, type CallContext, type MethodHandler } from './jsonrpc/jsonrpc.ts';
export { createMethods, blockToJson } from './jsonrpc/methods.ts';
export { ACCOUNT_KEY_PREFIX } from './jsonrpc/params.ts';
export { WS_LIMITS, type WsLimits } from './http/ws.ts';
export * from './jsonrpc/json-format.ts';
export * from './jsonrpc/consensus-format.ts';
