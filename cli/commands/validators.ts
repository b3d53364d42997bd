import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { toHex } from '../../core/bytes.ts';
import { blsFromSecret, ed25519FromSeed } from '../../core/keys.ts';
import { decryptKeySync } from '../../core/keystore.ts';
import { loadGenesis } from '../../genesis/index.ts';
import { loadConfig, resolveIn } from '../../node/home/config.ts';
import { readHomeHeight } from '../../node/home/home.ts';
import { readPassphrase } from '../../node/home/keys.ts';
import { createTransition, parseTransition, transitionToJson, type TransitionJson, type TransitionMember } from '../../node/chain/transitions.ts';
import { CliError } from '../rpc-client.ts';

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

/**
 * `joule validators transition`: the last resort for a cluster that lost more than a third
 * of its validators for good (votes need a quorum it no longer has). With the remaining
 * nodes STOPPED, it makes them the validator set from the next height on: every remaining
 * validator signs the transition with its identity key and proves possession of its BLS
 * consensus key, and the transition is written into every remaining node's config.json.
 * Restart them afterwards.
 */
export function registerValidatorsCommands(program: Command): void {
  const validators = program.command('validators').description('validator-set administration');
  validators
    .command('transition')
    .description('EMERGENCY: make the given (stopped) nodes the validator set from the next height on')
    .requiredOption('--home <dir...>', 'home of every remaining validator (each node must be stopped)')
    .option('--height <n>', 'height the new set starts at (default: the highest head + 1)')
    .option('--passphrase-file <file>', 'passphrase of the identity and consensus keys (else JOULE_PASSPHRASE)')
    .option('--yes', 'confirm without the interactive prompt')
    .action(async (o: { home: string[]; height?: string; passphraseFile?: string; yes?: boolean }) => {
      const homes = o.home;
      const configs = homes.map((h) => loadConfig(h));
      const genesis = loadGenesis(resolveIn(homes[0]!, configs[0]!.genesis));
      const heights = [];
      for (const h of homes) {
        try {
          heights.push(await readHomeHeight(h));
        } catch (e) {
          throw new CliError('NODE_RUNNING', `cannot read ${h} (${(e as Error).message}): stop its node first`);
        }
      }
      const next = Math.max(...heights) + 1;
      const height = o.height === undefined ? next : Number(o.height);
      if (!Number.isSafeInteger(height) || height < next)
        throw new CliError('INVALID_PARAMS', `--height must be at least ${next} (the highest head is ${next - 1})`);
      const passphrase = readPassphrase(o.passphraseFile);
      // The consensus key is decrypted too: only its holder can prove possession of it,
      // and the node refuses a transition whose BLS keys come without that proof.
      const members: TransitionMember[] = homes.map((h, i) => {
        const identity = decryptKeySync(readJson(resolveIn(h, configs[i]!.identityKey)), passphrase);
        const bls = decryptKeySync(readJson(resolveIn(h, configs[i]!.consensusKey)), passphrase);
        if (identity.type !== 'ed25519' || bls.type !== 'bls')
          throw new CliError('KEY_WRONG_TYPE', `${h}: identityKey must be an ed25519 key and consensusKey a bls key`, 'home');
        return { name: configs[i]!.name, identity: ed25519FromSeed(identity.secret), bls: blsFromSecret(bls.secret) };
      });
      if (new Set(members.map((m) => toHex(m.identity.publicKey))).size !== members.length)
        throw new CliError('INVALID_PARAMS', 'the same validator was given twice');
      const created = createTransition(genesis.chainId, height, members);
      const set = created.validators;
      // What the nodes will check when they load it (keys, uniqueness, proofs, signatures): refused here, not at their restart.
      const transition = transitionToJson(created);
      parseTransition(transition, genesis.chainId, 'transitions[0]');
      const names = set.validators.map((v) => v.name).join(', ');
      console.log(`chain ${genesis.chainId}: from height ${height} the validator set becomes [${names}] (${set.size} validators, quorum ${set.quorum}).`);
      console.log('Every other validator is removed. This bypasses voting; use it only if the cluster can never reach a quorum again.');
      if (o.yes !== true) {
        if (!process.stdin.isTTY) throw new CliError('CONFIRMATION_REQUIRED', 'refusing without confirmation: re-run with --yes, or in a terminal');
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = await rl.question(`Type the chain id (${genesis.chainId}) to confirm: `);
        rl.close();
        if (answer.trim() !== genesis.chainId) throw new CliError('CONFIRMATION_REQUIRED', 'not confirmed; nothing was written');
      }
      for (const h of homes) {
        const file = join(h, 'config.json');
        const config = readJson(file) as { transitions?: TransitionJson[] };
        config.transitions = [...(config.transitions ?? []).filter((t) => t.height !== height), transition].sort((a, b) => a.height - b.height);
        writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
        console.log(`wrote the transition into ${file}`);
      }
      console.log('Now start these nodes again (joule start --home DIR).');
    });
}
