import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { isJouleError } from '../../core/errors.ts';
import { cardToJson, checkCard, readCardJson, type ValidatorCard } from '../../node/home/card.ts';
import { exportCard } from '../../node/home/operator-home.ts';
import { startProgress } from '../progress.ts';
import { CliError } from '../rpc-client.ts';
import { passphraseFileOption, readPassphrase } from './keys.ts';

/**
 * `joule card export|verify`: a validator's public card (node/home/card.ts) for the
 * genesis ceremony and for votes that add a validator. Export signs the proof of
 * possession with the home's consensus key; the card holds public keys, that proof, the
 * p2p address and the name, and nothing secret.
 */

interface ExportOptions {
  home: string;
  chainId?: string;
  p2p?: string;
  out?: string;
  passphraseFile?: string;
  json?: boolean;
}

function cliError(e: unknown, flags: Record<string, string>): unknown {
  if (!isJouleError(e)) return e;
  const flag = e.field !== undefined ? flags[e.field] : undefined;
  return new CliError(e.code, flag === undefined ? e.message : `${flag}: ${e.message.replace(`${e.field}: `, '')}`, e.field);
}

async function exportAction(opts: ExportOptions): Promise<void> {
  const passphrase = readPassphrase(opts.passphraseFile);
  const progress = startProgress('decrypting keys to sign the proof of possession (scrypt)');
  let card: ValidatorCard;
  try {
    card = await exportCard(opts.home, {
      ...(opts.chainId !== undefined ? { chainId: opts.chainId } : {}),
      ...(opts.p2p !== undefined ? { p2p: opts.p2p } : {}),
      ...(passphrase !== undefined ? { passphrase } : {}),
    });
  } catch (e) {
    progress.fail();
    throw cliError(e, { chainId: '--chain-id', p2p: '--p2p', home: '--home' });
  }
  progress.succeed('card signed');
  const text = `${JSON.stringify(cardToJson(card), null, 2)}\n`;
  if (opts.out === undefined) {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(opts.out, text, { mode: 0o644 });
  } catch (e) {
    throw new CliError('FILE_WRITE', `cannot write ${opts.out} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'out');
  }
  if (opts.json === true) {
    process.stdout.write(
      `${JSON.stringify({ card: opts.out, chainId: card.chainId, name: card.name, address: card.validator.address, peerId: card.peerId, p2p: card.p2p })}\n`,
    );
    return;
  }
  const lines = [
    `card        ${opts.out}`,
    `chain id    ${card.chainId}`,
    `name        ${card.name}`,
    `address     ${card.validator.address}`,
    `p2p         ${card.p2p}`,
    'send it to the coordinator; it holds public keys and a proof of possession, no secret',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function verifyAction(files: string[], opts: { chainId?: string; json?: boolean }): void {
  const results = files.map((file) => {
    let json: unknown;
    try {
      json = readCardJson(file);
    } catch (e) {
      return { file, ok: false, problems: [{ path: '$', message: (e as Error).message }] };
    }
    const { problems, card } = checkCard(json);
    if (card !== undefined && opts.chainId !== undefined && card.chainId !== opts.chainId) {
      problems.push({ path: 'chainId', message: `is ${JSON.stringify(card.chainId)}, not ${JSON.stringify(opts.chainId)}` });
    }
    return problems.length === 0 && card !== undefined
      ? { file, ok: true, chainId: card.chainId, name: card.name, address: card.validator.address, peerId: card.peerId, p2p: card.p2p, problems }
      : { file, ok: false, problems };
  });
  if (opts.json === true) process.stdout.write(`${JSON.stringify({ ok: results.every((r) => r.ok), cards: results })}\n`);
  else {
    for (const r of results) {
      if (r.ok) process.stdout.write(`${r.file}: ok (${'name' in r ? `${r.name}, ${r.address}, chain ${r.chainId}, ${r.p2p}` : ''})\n`);
      else for (const p of r.problems) process.stdout.write(`${r.file}: ${p.path}: ${p.message}\n`);
    }
  }
  const bad = results.filter((r) => !r.ok).length;
  if (bad > 0) {
    process.stderr.write(`${bad} of ${results.length} card${results.length === 1 ? '' : 's'} did not verify\n`);
    process.exitCode = 1;
  }
}

export function registerCardCommands(program: Command): void {
  const card = program.command('card').description("a validator's public card (genesis ceremony, adding a validator)");

  card
    .command('export')
    .description("write the home's validator card: public keys, proof of possession, p2p address, name (no secret)")
    .requiredOption('--home <dir>', 'the node home (made by `joule keys init`)')
    .option('--chain-id <id>', 'the chain the card is for (default: the chain of the home, once it has a genesis)')
    .option('--p2p <multiaddr>', 'the address the other validators dial, if not the listen address of the config (NAT)')
    .option('--out <file>', 'write the card here (default: print it)')
    .addOption(passphraseFileOption())
    .option('--json', 'with --out: print a summary as one JSON object')
    .action(exportAction);

  card
    .command('verify')
    .description('check cards: format, keys, address, proof of possession, p2p address and peer id')
    .argument('<files...>', 'card files')
    .option('--chain-id <id>', 'also require this chain id')
    .option('--json', 'print { ok, cards } as JSON')
    .action(verifyAction);
}
