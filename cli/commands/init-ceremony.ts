import { toHex } from '../../core/bytes.ts';
import { isJouleError } from '../../core/errors.ts';
import { genesisHash, loadGenesis } from '../../genesis/index.ts';
import { readCardFile } from '../../node/home/card.ts';
import { resolveIn, loadConfig } from '../../node/home/config.ts';
import { adoptGenesis, applyCards, checkedGenesis, type CardsApplied } from '../../node/home/operator-home.ts';
import { CliError } from '../rpc-client.ts';

/**
 * `joule init`'s part in the genesis ceremony: the genesis hash checked against the one
 * the operator was given (`--expect-hash`), and static peers taken from the other
 * validators' cards (`--cards`). A home made by `joule keys init` (keys, no genesis) gets
 * its genesis this way, and only with the hash check.
 */

export interface CeremonyInitOptions {
  home: string;
  genesis: string;
  expectHash?: string;
  cards?: string[];
  json?: boolean;
}

const FLAGS: Record<string, string> = { expectHash: '--expect-hash', cards: '--cards', home: '--home', p2p: '--cards' };

function asCli(e: unknown): unknown {
  if (!isJouleError(e)) return e;
  const flag = e.field !== undefined ? FLAGS[e.field] : undefined;
  return new CliError(e.code, flag === undefined ? e.message : `${flag}: ${e.message.replace(`${e.field}: `, '')}`, e.field);
}

/** Refuses the genesis file unless its hash is the expected one (before anything is written). */
export function checkExpectedHash(genesisFile: string, expectHash: string | undefined): void {
  if (expectHash === undefined) return;
  try {
    checkedGenesis(genesisFile, expectHash);
  } catch (e) {
    throw asCli(e);
  }
}

/** Completes a home made by `joule keys init`: the checked genesis, then the peers from the cards. */
export async function adoptCeremonyGenesis(o: CeremonyInitOptions): Promise<void> {
  if (o.expectHash === undefined) {
    throw new CliError(
      'INVALID_PARAMS',
      '--expect-hash is required for a home made by `joule keys init`: compare the genesis hash with the one the coordinator announced over another channel',
      'expect-hash',
    );
  }
  const cards = readCards(o.cards);
  let applied: CardsApplied;
  try {
    applied = await adoptGenesis(o.home, o.genesis, o.expectHash, cards);
  } catch (e) {
    throw asCli(e);
  }
  report(o, applied);
}

/** Static peers from the cards for a home that has its genesis (after initHome, or after adoptCeremonyGenesis). */
export async function applyCeremonyCards(o: CeremonyInitOptions): Promise<void> {
  await applyAndReport(o, readCards(o.cards));
}

function readCards(files: string[] | undefined) {
  try {
    return (files ?? []).map((f) => readCardFile(f));
  } catch (e) {
    throw asCli(e);
  }
}

async function applyAndReport(o: CeremonyInitOptions, cards: ReturnType<typeof readCards>): Promise<void> {
  let applied: CardsApplied;
  try {
    applied = await applyCards(o.home, cards);
  } catch (e) {
    throw asCli(e);
  }
  report(o, applied);
}

function report(o: CeremonyInitOptions, applied: CardsApplied): void {
  const config = loadConfig(o.home);
  const hash = `0x${toHex(genesisHash(loadGenesis(resolveIn(o.home, config.genesis))))}`;
  if (o.json === true) {
    process.stdout.write(
      `${JSON.stringify({ home: o.home, name: config.name, genesisHash: hash, inGenesis: applied.inGenesis, peers: applied.peers, joinedLater: applied.joinedLater, withoutCard: applied.withoutCard })}\n`,
    );
  } else {
    process.stdout.write(`initialised ${o.home} ("${config.name}", genesis ${hash}${o.expectHash !== undefined ? ', hash as expected' : ''})\n`);
    process.stdout.write(`static peers: ${applied.peers.length}${applied.peers.length > 0 ? `\n  ${applied.peers.join('\n  ')}` : ''}\n`);
  }
  if (!applied.inGenesis && config.role === 'validator')
    process.stderr.write(
      'note: this validator is not in the genesis: it follows the chain, and signs once the validators voted it in (joule tx validator-vote --add --card)\n',
    );
  if (applied.withoutCard.length > 0)
    process.stderr.write(`warning: no card for ${applied.withoutCard.join(', ')}: no static peer for them (give their cards with --cards)\n`);
  if (applied.joinedLater.length > 0)
    process.stderr.write(`note: ${applied.joinedLater.join(', ')} joined after genesis: allowed as peers (config p2p.allowPeers)\n`);
  if (o.json !== true) process.stdout.write(`start it with: joule start --home ${o.home}\n`);
}
