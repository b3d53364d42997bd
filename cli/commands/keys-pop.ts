import type { Command } from 'commander';
import { toHex } from '../../core/bytes.ts';
import { signDeviceProofOfPossession } from '../../core/pop.ts';
import type { StatusJson } from '../../core/rpc-json.ts';
import { CliError, resolveRpcUrl, rpcOption, RpcClient } from '../rpc-client.ts';
import { loadKey, passphraseFileOption } from './keys.ts';

/**
 * `joule keys pop <keyfile>`: a device key's public key and its proof of possession for a
 * chain (core/pop.ts devicePopMessage), what `joule device register|rekey --public-key
 * --pop` takes where the device key itself stays with the device maker. Sends nothing.
 */

/** The chain id: --chain-id, or the node's (joule_status over --rpc / JOULE_RPC). */
export async function chainIdFor(opts: { chainId?: string; rpc?: string }): Promise<string> {
  if (opts.chainId !== undefined) {
    if (opts.chainId.length === 0 || opts.chainId.length > 64) throw new CliError('INVALID_PARAMS', '--chain-id must be 1-64 characters', 'chain-id');
    return opts.chainId;
  }
  return (await new RpcClient(resolveRpcUrl(opts.rpc)).call<StatusJson>('joule_status')).chainId;
}

/** Signs the device proof of possession with a BLS key file. */
export async function devicePop(file: string, passphraseFile: string | undefined, chainId: string): Promise<{ publicKey: Uint8Array; proof: Uint8Array }> {
  const key = await loadKey(file, passphraseFile, 'bls');
  return { publicKey: key.publicKey, proof: signDeviceProofOfPossession(chainId, key.secret, key.publicKey) };
}

export function registerKeysPopCommand(keys: Command): void {
  keys
    .command('pop')
    .description("print a BLS device key's public key and proof of possession for a chain (for `joule device register --public-key --pop`)")
    .argument('<keyfile>', "the device's BLS key file (`joule keys generate --type bls`)")
    .addOption(passphraseFileOption())
    .option('--chain-id <id>', 'the chain the proof is for (default: ask the node at --rpc)')
    .addOption(rpcOption())
    .option('--json', 'print one JSON object')
    .action(async (file: string, opts: { passphraseFile?: string; chainId?: string; rpc?: string; json?: boolean }) => {
      const chainId = await chainIdFor(opts);
      const { publicKey, proof } = await devicePop(file, opts.passphraseFile, chainId);
      const out = { chainId, publicKey: `0x${toHex(publicKey)}`, proofOfPossession: `0x${toHex(proof)}` };
      if (opts.json === true) process.stdout.write(`${JSON.stringify(out)}\n`);
      else process.stdout.write(`chain id            ${out.chainId}\npublic key          ${out.publicKey}\nproof of possession ${out.proofOfPossession}\n`);
    });
}
