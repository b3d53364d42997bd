/** rpc/'s public surface for node/ and tests: one import for the servers, metrics and the NodeApi contract. */
export type { AccountView, EvidenceView, HealthCheck, HealthReport, NodeApi, NodeStatus, ProofView, RpcLogger, StoredBlock, TxLookup, ValidatorProposalView } from './node-api.ts';
export { startRpcServer, MAX_BODY_BYTES, type RpcServerOptions, type RunningServer } from './http-server.ts';
export { createMetrics, recordBlock, recordRejection, startMetricsServer, type JouleMetrics, type MetricsOptions, type MetricsServerOptions } from './metrics.ts';
export { Dispatcher, RpcError, RpcErrorCode, type CallContext, type MethodHandler } from './jsonrpc.ts';
export { createMethods, blockToJson, ACCOUNT_KEY_PREFIX } from './methods.ts';
export { WS_LIMITS, type WsLimits } from './ws.ts';
export * from './json-format.ts';
export * from './consensus-format.ts';
