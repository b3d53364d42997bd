/**
 * JSON-RPC of grid commands: joule_issueCommand(["0x<signed command-anchor tx>"]) issues the
 * command the dso's tx carries (NodeApi.issueCommand): refused with COMMAND_EXPIRED, the
 * tx's own rejection (TX_UNAUTHORIZED for a target the sender does not operate), or
 * UNAVAILABLE from a node that does not issue commands.
 */
import { COMMAND_TYPES, type IssuedCommand } from '../../core/command.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { formatAddress } from '../../core/keys.ts';
import { hex } from './json-format.ts';
import type { MethodHandler } from './jsonrpc.ts';
import { arity, invalid, parseHexParam } from './params.ts';
import type { NodeApi } from '../node-api.ts';

export interface IssuedCommandJson {
  commandId: string;
  commandHash: string;
  txHash: string;
  type: string;
  deviceIds: string[];
  powerLimitW: number;
  priceMicroPerKwh: string;
  validUntilUs: string;
  issuer: string;
}

export function formatIssuedCommand(c: IssuedCommand, txHash: Uint8Array): IssuedCommandJson {
  return {
    commandId: c.commandId,
    commandHash: hex(c.commandHash),
    txHash: hex(txHash),
    type: COMMAND_TYPES[c.type],
    deviceIds: [...c.deviceIds],
    powerLimitW: c.powerLimitW,
    priceMicroPerKwh: c.priceMicroPerKwh.toString(),
    validUntilUs: c.validUntilUs.toString(),
    issuer: formatAddress(c.issuer),
  };
}

export function addCommandMethods(m: Map<string, MethodHandler>, api: NodeApi): void {
  m.set('joule_issueCommand', async (p): Promise<IssuedCommandJson> => {
    arity(p, 1, 1);
    if (api.issueCommand === undefined) throw new JouleError(ErrorCode.UNAVAILABLE, 'this node does not issue grid commands');
    const bytes = parseHexParam(p[0], 'params[0]');
    if (bytes.length === 0) throw invalid('params[0]', 'must not be empty');
    const { command, txHash } = await api.issueCommand(bytes);
    return formatIssuedCommand(command, txHash);
  });
}
