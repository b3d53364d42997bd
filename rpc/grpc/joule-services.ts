import type { NodeApi, RpcLogger } from '../node-api.ts';
import { commandService } from './joule-commands.ts';
import { EVENT_STREAM_LIMITS, eventService, type EventStreamLimits, type OnSlowConsumer } from './joule-events.ts';
import { jouleServiceDefinition } from './joule-proto.ts';
import { queryService } from './joule-query.ts';
import type { GrpcService } from './server.ts';
import { TX_STREAM_LIMITS, transactionService, type TxStreamLimits } from './joule-tx.ts';

export interface JouleGrpcDeps {
  readonly api: NodeApi;
  readonly logger?: RpcLogger;
  readonly limits?: Partial<TxStreamLimits & EventStreamLimits>;
  /** Told of each subscriber dropped as a slow consumer (e.g. a metrics counter). */
  readonly onSlowConsumer?: OnSlowConsumer;
}

/**
 * Joule's own gRPC services (package joule.v1, proto/joule/v1/): transaction submission,
 * queries, event and reading-acknowledgement streams, and grid command issuing, all over
 * NodeApi. The node's gRPC server (rpc/grpc/server.ts, started by node/ingress/start.ts) hosts them
 * next to the device stream.
 */
export function jouleGrpcServices(deps: JouleGrpcDeps): GrpcService[] {
  const { api, logger } = deps;
  return [
    { definition: jouleServiceDefinition('TransactionService'), implementation: transactionService(api, { ...TX_STREAM_LIMITS, ...deps.limits }, logger) },
    { definition: jouleServiceDefinition('QueryService'), implementation: queryService(api, logger) },
    {
      definition: jouleServiceDefinition('EventService'),
      implementation: eventService(api, { ...EVENT_STREAM_LIMITS, ...deps.limits }, logger, deps.onSlowConsumer),
    },
    { definition: jouleServiceDefinition('CommandService'), implementation: commandService(api, logger) },
  ];
}
