import { status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { NodeApi, RpcLogger } from '../node-api.ts';
import { commandMessage } from './joule-messages.ts';
import { serviceError, toServiceError } from './status.ts';

/** joule.v1.CommandService over NodeApi.issueCommand (node/commands/). */
export function commandService(api: NodeApi, logger?: RpcLogger): UntypedServiceImplementation {
  return {
    IssueCommand(call: ServerUnaryCall<{ tx?: Buffer }, unknown>, callback: sendUnaryData<unknown>): void {
      if (api.issueCommand === undefined)
        return callback(serviceError(status.UNAVAILABLE, 'UNAVAILABLE: this node does not issue grid commands', { code: 'UNAVAILABLE' }));
      const tx = call.request?.tx;
      if (tx === undefined || tx.length === 0)
        return callback(serviceError(status.INVALID_ARGUMENT, 'INVALID_PARAMS: tx: must not be empty', { code: 'INVALID_PARAMS', field: 'tx' }));
      api.issueCommand(tx).then(
        ({ command, txHash }) => callback(null, { command: commandMessage(command), tx_hash: Buffer.from(txHash) }),
        (e: unknown) => callback(toServiceError(e, logger)),
      );
    },
  };
}
