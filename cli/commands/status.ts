import type { Command } from 'commander';
import { resolveRpcUrl, rpcOption, RpcClient } from '../rpc-client.ts';

/** `joule status`: a node's view of the chain, from joule_status. */

import type { StatusJson } from '../../core/rpc-json.ts';

export type { StatusJson };

export function formatAge(ms: number, now = Date.now()): string {
  const s = Math.round((now - ms) / 1000);
  if (s < 0) return `${-s}s in the future`;
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

export function formatStatus(s: StatusJson): string {
  const sync = s.syncing ? `syncing${s.syncTarget !== null ? ` (${s.height}/${s.syncTarget})` : ''}` : 'in sync';
  const time =
    Number.isFinite(s.latestBlockTime) && s.latestBlockTime > 0 ? `${new Date(s.latestBlockTime).toISOString()} (${formatAge(s.latestBlockTime)})` : '-';
  return [
    `chain id      ${s.chainId}`,
    `genesis hash  ${s.genesisHash}`,
    `node          ${s.nodeName} (${s.role})`,
    `height        ${s.height}`,
    `latest block  ${s.latestBlockHash}`,
    `block time    ${time}`,
    `validators    ${s.validatorCount}`,
    `peers         ${s.peerCount}`,
    `mempool       ${s.mempoolSize} tx${s.mempoolSize === 1 ? '' : 's'}`,
    `sync          ${sync}`,
  ].join('\n');
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('height, latest block, chain id, validators, peers, mempool and sync state of a node')
    .addOption(rpcOption())
    .option('--json', 'print one JSON object')
    .action(async (opts: { rpc?: string; json?: boolean }) => {
      const status = await new RpcClient(resolveRpcUrl(opts.rpc)).call<StatusJson>('joule_status');
      process.stdout.write(opts.json === true ? `${JSON.stringify(status)}\n` : `${formatStatus(status)}\n`);
    });
}
