import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHexOrUndefined, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { addressFromPublicKey, blsGenerate, ed25519Generate, formatAddress } from '../../core/keys.ts';
import { encryptKey, readKeyInfo, type ScryptParams } from '../../core/keystore.ts';
import { VALIDATOR_NAME_PATTERN } from '../../core/validators.ts';
import { genesisHash, loadGenesis, type Genesis } from '../../genesis/index.ts';
import { peerIdFromIdentityKey } from '../../p2p/identity.ts';
import { cardMatches, checkP2pAddress, makeCard, type ValidatorCard } from './card.ts';
import { defaultConfig, loadConfig, parseConfig, resolveIn, type NodeConfig } from './config.ts';
import { loadNodeKeys } from './keys.ts';

/**
 * A validator's home in the genesis ceremony, made on the validator's own machine:
 *   1. createOperatorHome: keys generated here, encrypted, 0600 in a 0700 home; a config
 *      with the node's name and addresses; no genesis yet.
 *   2. exportCard: the public card the coordinator (or, later, the voting validators) need.
 *   3. adoptGenesis: the genesis the coordinator assembled, refused unless its hash is the
 *      one the operator was told over another channel.
 *   4. applyCards: static peers from the other validators' cards, so nobody hand-edits them.
 * No secret ever leaves the home: only the card does.
 */

export interface OperatorHomeOptions {
  readonly home: string;
  readonly name: string;
  /** `/ip4|ip6|dns4|dns6/HOST/tcp/PORT`: where the node listens for and is dialled by the other validators. */
  readonly p2p: string;
  /** Encrypts both keys; required unless `insecure`. */
  readonly passphrase?: string;
  readonly insecure?: boolean;
  readonly scrypt?: ScryptParams;
  readonly rpc?: { readonly host?: string; readonly port?: number };
  readonly metrics?: { readonly host?: string; readonly port?: number };
  readonly grpc?: { readonly host?: string; readonly port?: number };
  /** Called once each key is encrypted and written (progress display). */
  readonly onKey?: (file: string, done: number, total: number) => void;
}

export interface OperatorHome {
  readonly config: NodeConfig;
  readonly peerId: string;
  readonly address: string;
  readonly identityKeyFile: string;
  readonly consensusKeyFile: string;
}

const invalid = (field: string, message: string): JouleError => new JouleError(ErrorCode.CONFIG_INVALID, message, field);

/** Creates a validator home with fresh keys and no genesis; refuses a directory that already holds a home or keys. */
export async function createOperatorHome(opts: OperatorHomeOptions): Promise<OperatorHome> {
  if (!VALIDATOR_NAME_PATTERN.test(opts.name)) throw invalid('name', `must be 1-64 letters, digits, ".", "_" or "-", got ${JSON.stringify(opts.name)}`);
  const p2p = checkP2pAddress(opts.p2p);
  if (p2p.problem !== undefined) throw invalid('p2p', p2p.problem);
  if (p2p.peerId !== undefined) throw invalid('p2p', 'give the address without /p2p/<peerId>: the peer id comes from the identity key made here');
  if (opts.insecure !== true && (opts.passphrase === undefined || opts.passphrase === '')) {
    throw new JouleError(
      ErrorCode.KEYSTORE_BAD_PASSPHRASE,
      'the keys must be encrypted: give a passphrase (or insecure, for a throwaway devnet)',
      'passphrase',
    );
  }
  const keysDir = join(opts.home, 'keys');
  const files = { identity: join(keysDir, 'identity.key'), consensus: join(keysDir, 'consensus.key'), config: join(opts.home, 'config.json') };
  for (const f of Object.values(files)) {
    if (existsSync(f)) throw invalid('home', `${f} already exists: ${opts.home} is already a node home (refusing to overwrite keys a chain may depend on)`);
  }
  const base = defaultConfig(opts.name);
  const config: NodeConfig = {
    ...base,
    role: 'validator',
    p2p: { ...base.p2p, listen: p2p.base! },
    rpc: { ...base.rpc, host: opts.rpc?.host ?? base.rpc.host, port: opts.rpc?.port ?? base.rpc.port },
    metrics: { host: opts.metrics?.host ?? base.metrics.host, port: opts.metrics?.port ?? base.metrics.port },
    grpc: { ...base.grpc, host: opts.grpc?.host ?? base.grpc.host, port: opts.grpc?.port ?? base.grpc.port },
  };
  parseConfig(config); // a bad host or port is refused now, before any key is made
  // 0700 whatever the umask, also for a directory the operator created beforehand.
  await mkdir(keysDir, { recursive: true, mode: 0o700 });
  await chmod(opts.home, 0o700);
  await chmod(keysDir, 0o700);

  const identity = ed25519Generate();
  const consensus = blsGenerate();
  const jobs = [
    { file: files.identity, type: 'ed25519' as const, secret: identity.seed },
    { file: files.consensus, type: 'bls' as const, secret: consensus.secretKey },
  ];
  let done = 0;
  for (const job of jobs) {
    const json = await encryptKey({ type: job.type, secret: job.secret, passphrase: opts.passphrase, insecure: opts.insecure === true, scrypt: opts.scrypt });
    await writeFile(job.file, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    opts.onKey?.(job.file, ++done, jobs.length);
  }

  await writeFile(files.config, `${JSON.stringify(config, null, 2)}\n`, { flag: 'wx' });
  return {
    config,
    peerId: peerIdFromIdentityKey(identity.publicKey),
    address: formatAddress(addressFromPublicKey(identity.publicKey)),
    identityKeyFile: files.identity,
    consensusKeyFile: files.consensus,
  };
}

/** A home whose keys and config exist but which has no genesis yet (made by createOperatorHome). */
export function awaitsGenesis(home: string): boolean {
  if (!existsSync(join(home, 'config.json'))) return false;
  return !existsSync(resolveIn(home, loadConfig(home).genesis));
}

/** The chain id of the home's genesis, when it has one. */
function homeChainId(home: string, config: NodeConfig): string | undefined {
  const file = resolveIn(home, config.genesis);
  return existsSync(file) ? loadGenesis(file).chainId : undefined;
}

/** The card of the validator whose home this is (decrypts both keys to sign the proof of possession). */
export async function exportCard(home: string, opts: { chainId?: string; p2p?: string; passphrase?: string }): Promise<ValidatorCard> {
  const config = loadConfig(home);
  if (config.role !== 'validator') throw invalid('role', `${home} is an observer's home; only validators have a card`);
  const inHome = homeChainId(home, config);
  if (opts.chainId !== undefined && inHome !== undefined && opts.chainId !== inHome) {
    throw invalid('chainId', `this home belongs to chain ${JSON.stringify(inHome)}, not ${JSON.stringify(opts.chainId)}`);
  }
  const chainId = opts.chainId ?? inHome;
  if (chainId === undefined) throw invalid('chainId', 'give the chain id the card is for (its proof of possession is bound to it)');
  const keys = await loadNodeKeys(resolveIn(home, config.identityKey), resolveIn(home, config.consensusKey), opts.passphrase, { validator: false });
  return makeCard({ chainId, name: config.name, identitySeed: keys.identity.seed, blsSecret: keys.consensus.secretKey, p2p: opts.p2p ?? config.p2p.listen });
}

/** Parses `0x` + 64 hex digits (a genesis hash as `joule genesis hash` prints it). */
export function parseGenesisHash(text: string, field = 'expectHash'): Uint8Array {
  const b = /^0x[0-9a-fA-F]{64}$/.test(text) ? fromHexOrUndefined(text) : undefined;
  if (b === undefined)
    throw new JouleError(
      ErrorCode.INVALID_PARAMS,
      `must be 0x followed by 64 hex digits (as \`joule genesis hash\` prints it), got ${JSON.stringify(text)}`,
      field,
    );
  return b;
}

/** Loads the genesis file and refuses it unless its hash is `expected`. */
export function checkedGenesis(file: string, expected: string): { genesis: Genesis; hash: string } {
  const want = toHex(parseGenesisHash(expected));
  const genesis = loadGenesis(file);
  const hash = toHex(genesisHash(genesis));
  if (hash !== want) {
    throw new JouleError(
      ErrorCode.GENESIS_INVALID,
      `${file} has hash 0x${hash}, not the expected 0x${want}: this is not the genesis the other validators agreed on; do not start a node on it`,
      'expectHash',
    );
  }
  return { genesis, hash: `0x${hash}` };
}

/**
 * Gives a home made by createOperatorHome its genesis, refused unless its hash is
 * `expectedHash`, and its static peers from `cards` (applyCards). Everything is checked
 * before anything is written, so a refused genesis or card leaves the home as it was.
 */
export async function adoptGenesis(
  home: string,
  genesisFile: string,
  expectedHash: string,
  cards: readonly ValidatorCard[] = [],
): Promise<CardsApplied & { hash: string }> {
  if (!awaitsGenesis(home))
    throw invalid('home', `${home} is not a home waiting for its genesis (make one with \`joule keys init\`; an initialised home keeps its genesis)`);
  const { genesis, hash } = checkedGenesis(genesisFile, expectedHash);
  const plan = await planCards(home, genesis, cards);
  const target = resolveIn(home, loadConfig(home).genesis);
  await copyFile(genesisFile, `${target}.tmp`);
  await rename(`${target}.tmp`, target);
  await writeConfig(home, plan.config);
  return { ...plan.applied, hash };
}

async function homeIdentity(home: string): Promise<Uint8Array> {
  const file = resolveIn(home, loadConfig(home).identityKey);
  const info = readKeyInfo(JSON.parse(await readFile(file, 'utf8')));
  if (info.type !== 'ed25519') throw new JouleError(ErrorCode.KEYSTORE_INVALID, `${file} holds a ${info.type} key, expected ed25519`, 'identityKey');
  return info.publicKey;
}

export interface CardsApplied {
  /** Whether this node's identity is a genesis validator (else it signs only once voted in). */
  readonly inGenesis: boolean;
  /** Static peers written into config.json (every card's address but this node's own). */
  readonly peers: readonly string[];
  /** Cards of validators not in the genesis (voted in later): their peer ids are allowed too. */
  readonly joinedLater: readonly string[];
  /** Genesis validators (other than this node) that no card was given for: no static peer for them. */
  readonly withoutCard: readonly string[];
}

/**
 * Writes the other validators' addresses from their cards into the home's config as
 * static peers. Every card must be for the home's chain, and a card of a genesis validator
 * must match its entry (name and both keys): a card whose keys were swapped would make the
 * node dial an impostor. A validator added after genesis is not known to a node that has
 * not synced yet, so its peer id goes on the allow-list as well.
 */
export async function applyCards(home: string, cards: readonly ValidatorCard[]): Promise<CardsApplied> {
  const plan = await planCards(home, loadGenesis(resolveIn(home, loadConfig(home).genesis)), cards);
  await writeConfig(home, plan.config);
  return plan.applied;
}

/** The home's config.json with the cards' peers, and what that means; throws on a card that does not belong. */
async function planCards(home: string, genesis: Genesis, cards: readonly ValidatorCard[]): Promise<{ config: Record<string, unknown>; applied: CardsApplied }> {
  const config = loadConfig(home);
  const self = toHex(await homeIdentity(home));
  const peers: string[] = [];
  const joinedLater: ValidatorCard[] = [];
  const seen = new Set<string>();
  for (const card of cards) {
    const id = toHex(card.identityKey);
    if (card.chainId !== genesis.chainId)
      throw new JouleError(
        ErrorCode.CARD_INVALID,
        `the card of ${card.name} is for chain ${JSON.stringify(card.chainId)}, not ${JSON.stringify(genesis.chainId)}`,
        'cards',
      );
    if (seen.has(id)) throw new JouleError(ErrorCode.CARD_INVALID, `two cards for validator ${card.name}`, 'cards');
    seen.add(id);
    const entry = genesis.validators.find((v) => toHex(v.identityKey) === id || toHex(v.blsKey) === toHex(card.blsKey) || v.name === card.name);
    if (entry !== undefined && !cardMatches(card, entry)) {
      throw new JouleError(
        ErrorCode.CARD_INVALID,
        `the card of ${card.name} does not match genesis validator ${entry.name} (name, identity key and BLS key must all be the same)`,
        'cards',
      );
    }
    if (id === self) continue;
    peers.push(card.p2p);
    if (entry === undefined) joinedLater.push(card);
  }
  const raw = JSON.parse(await readFile(join(home, 'config.json'), 'utf8')) as Record<string, unknown> & { p2p?: Record<string, unknown> };
  const allow = new Set([...config.p2p.allowPeers, ...joinedLater.map((c) => c.peerId)]);
  // A card replaces what the config held for the same peer (its operator may have moved it).
  const carded = new Set(cards.map((c) => c.peerId));
  const kept = config.p2p.peers.filter((a) => !carded.has(a.split('/p2p/').at(-1) ?? ''));
  raw.p2p = { ...raw.p2p, peers: [...kept, ...peers], ...(allow.size > 0 ? { allowPeers: [...allow] } : {}) };
  parseConfig(raw);
  const withoutCard = genesis.validators.filter((v) => toHex(v.identityKey) !== self && !seen.has(toHex(v.identityKey))).map((v) => v.name);
  return {
    config: raw,
    applied: { inGenesis: genesis.validators.some((v) => toHex(v.identityKey) === self), peers, joinedLater: joinedLater.map((c) => c.name), withoutCard },
  };
}

async function writeConfig(home: string, config: Record<string, unknown>): Promise<void> {
  const file = join(home, 'config.json');
  await writeFile(`${file}.tmp`, `${JSON.stringify(config, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}
