import { readFileSync } from 'node:fs';
import { multiaddr } from '@multiformats/multiaddr';
import { fromHexOrUndefined, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { addressFromPublicKey, blsFromSecret, ed25519FromSeed, formatAddress, isEd25519PublicKey } from '../../core/keys.ts';
import { signProofOfPossession } from '../../core/pop.ts';
import { checkGenesis, type GenesisProblem, type GenesisValidatorJson } from '../../genesis/index.ts';
import { peerIdFromIdentityKey } from '../../p2p/identity.ts';

/**
 * A validator card: everything the other operators of a chain need to know about one
 * validator, and nothing secret. Its operator makes it on the validator's own machine
 * (`joule card export`); the coordinator assembles the genesis from the cards (`joule
 * genesis assemble`), the current validators vote a newcomer in from its card (`joule tx
 * validator-vote --add --card`), and every node takes its static peers from them (`joule
 * init --cards`).
 *
 *   format                 CARD_FORMAT
 *   chainId                the chain the proof of possession is bound to
 *   name, address, identityKey, blsKey, blsProofOfPossession
 *                          exactly a genesis validator entry (checked by the same rules)
 *   p2p                    where the others dial it: /ip4|ip6|dns|dns4|dns6/HOST/tcp/PORT/p2p/<peerId>,
 *                          the peer id being the one its identity key gives
 */

export const CARD_FORMAT = 'joule-validator-card/1';

export interface CardJson {
  format: typeof CARD_FORMAT;
  chainId: string;
  name: string;
  address: string;
  identityKey: string;
  blsKey: string;
  blsProofOfPossession: string;
  p2p: string;
}

/** A card that verified. */
export interface ValidatorCard {
  readonly chainId: string;
  readonly name: string;
  readonly identityKey: Uint8Array;
  readonly blsKey: Uint8Array;
  readonly blsProofOfPossession: Uint8Array;
  readonly p2p: string;
  readonly peerId: string;
  /** The card's validator entry, as genesis.json holds it (hex lower case). */
  readonly validator: GenesisValidatorJson;
}

const CARD_FIELDS = ['format', 'chainId', 'name', 'address', 'identityKey', 'blsKey', 'blsProofOfPossession', 'p2p'] as const;
const HOST_PROTOCOLS = ['ip4', 'ip6', 'dns', 'dns4', 'dns6'];
const UNSPECIFIED = ['0.0.0.0', '::'];
// Any valid time: the probe genesis below exists only to run the validator checks.
const PROBE_TIME = 1_700_000_000_000;

/** The dialable part of a p2p address (`/ip4/HOST/tcp/PORT`), or a problem with it; `peerId` when it ends in /p2p/<id>. */
export function checkP2pAddress(text: unknown): { problem?: string; base?: string; peerId?: string } {
  if (typeof text !== 'string' || text.length === 0 || text.length > 256) return { problem: 'must be a multiaddr string such as /ip4/203.0.113.7/tcp/26600' };
  let components: { name: string; value?: string }[];
  try {
    components = multiaddr(text).getComponents();
  } catch (e) {
    return { problem: `is not a multiaddr (${(e as Error).message})` };
  }
  const [host, tcp, p2p, ...rest] = components;
  if (host === undefined || !HOST_PROTOCOLS.includes(host.name) || tcp?.name !== 'tcp' || (p2p !== undefined && p2p.name !== 'p2p') || rest.length > 0) {
    return { problem: `must be /ip4|ip6|dns|dns4|dns6/HOST/tcp/PORT, optionally followed by /p2p/<peerId>, got ${JSON.stringify(text)}` };
  }
  if (UNSPECIFIED.includes(host.value ?? '')) return { problem: `${host.value} is "any address": give the address the other validators dial` };
  if (tcp.value === '0') return { problem: 'port 0 is chosen at random on start: give a fixed port' };
  return { base: `/${host.name}/${host.value}/tcp/${tcp.value}`, ...(p2p?.value !== undefined ? { peerId: p2p.value } : {}) };
}

/** The peer id of an identity key given as 0x hex, or undefined when it is not a valid one (reported elsewhere). */
function identityPeerId(v: unknown): string | undefined {
  const key = typeof v === 'string' && v.startsWith('0x') ? fromHexOrUndefined(v) : undefined;
  if (key === undefined || !isEd25519PublicKey(key)) return undefined;
  return peerIdFromIdentityKey(key);
}

/** Every problem of a card (each with its field), and the card when there is none. */
export function checkCard(json: unknown): { problems: GenesisProblem[]; card?: ValidatorCard } {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { problems: [{ path: '$', message: 'must be a JSON object (a validator card)' }] };
  const o = json as Record<string, unknown>;
  const problems: GenesisProblem[] = [];
  for (const k of Object.keys(o))
    if (!(CARD_FIELDS as readonly string[]).includes(k)) problems.push({ path: k, message: `unknown field (allowed: ${CARD_FIELDS.join(', ')})` });
  if (o.format !== CARD_FORMAT) problems.push({ path: 'format', message: `must be ${JSON.stringify(CARD_FORMAT)}, got ${JSON.stringify(o.format)}` });

  // The validator entry is checked by genesis' own rules (keys on their curves, the address
  // derived from the identity key, the proof of possession for this chain): a card that
  // verifies is an entry every node accepts in genesis.json or in a validator vote.
  const entry = { name: o.name, address: o.address, identityKey: o.identityKey, blsKey: o.blsKey, blsProofOfPossession: o.blsProofOfPossession };
  const probe = checkGenesis({ chainId: o.chainId, genesisTime: PROBE_TIME, validators: [entry], accounts: [] });
  for (const p of probe.problems) problems.push({ path: p.path.replace(/^validators\[0\]\.?/, '') || '$', message: p.message });

  const p2p = checkP2pAddress(o.p2p);
  let peerId: string | undefined;
  if (p2p.problem !== undefined) problems.push({ path: 'p2p', message: p2p.problem });
  else if (p2p.peerId === undefined) problems.push({ path: 'p2p', message: 'must end with /p2p/<peerId> (the peer id of identityKey)' });
  else {
    // Checked even when other fields are wrong, so that every problem shows at once.
    peerId = identityPeerId(o.identityKey);
    if (peerId !== undefined && p2p.peerId !== peerId)
      problems.push({ path: 'p2p', message: `ends with peer id ${p2p.peerId}, but identityKey's peer id is ${peerId}` });
  }
  if (problems.length > 0 || probe.genesis === undefined || peerId === undefined) return { problems };
  const v = probe.genesis.validators[0]!;
  const hex = (b: Uint8Array): string => `0x${toHex(b)}`;
  return {
    problems: [],
    card: {
      chainId: probe.genesis.chainId,
      name: v.name,
      identityKey: v.identityKey,
      blsKey: v.blsKey,
      blsProofOfPossession: v.blsProofOfPossession,
      p2p: `${p2p.base}/p2p/${peerId}`,
      peerId,
      validator: {
        name: v.name,
        address: formatAddress(v.address),
        identityKey: hex(v.identityKey),
        blsKey: hex(v.blsKey),
        blsProofOfPossession: hex(v.blsProofOfPossession),
      },
    },
  };
}

/** The verified card, or JouleError CARD_INVALID listing every problem (`source` names the card in the message). */
export function parseCard(json: unknown, source: string): ValidatorCard {
  const { problems, card } = checkCard(json);
  if (card === undefined) {
    const list = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
    // The list names each field; the message starts with the card, as several may be at hand.
    const err = new JouleError(
      ErrorCode.CARD_INVALID,
      `${source} is not a valid validator card (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${list}`,
    );
    throw Object.assign(err, { problems });
  }
  return card;
}

/** Reads a card file as JSON; JouleError CARD_INVALID when it cannot be read or parsed. */
export function readCardJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new JouleError(ErrorCode.CARD_INVALID, `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new JouleError(ErrorCode.CARD_INVALID, `${file} is not valid JSON (${(e as Error).message})`);
  }
}

export function readCardFile(file: string): ValidatorCard {
  return parseCard(readCardJson(file), file);
}

export function cardToJson(card: ValidatorCard): CardJson {
  return { format: CARD_FORMAT, chainId: card.chainId, ...card.validator, p2p: card.p2p };
}

export interface MakeCardOptions {
  readonly chainId: string;
  readonly name: string;
  /** Ed25519 seed of the identity key. */
  readonly identitySeed: Uint8Array;
  /** BLS secret key of the consensus key (signs the proof of possession, then is dropped). */
  readonly blsSecret: Uint8Array;
  /** `/ip4/HOST/tcp/PORT` (a trailing /p2p/<peerId> must be this identity's). */
  readonly p2p: string;
}

/** Makes the card of a validator from its secret keys; the card itself holds public data only. */
export function makeCard(opts: MakeCardOptions): ValidatorCard {
  const identity = ed25519FromSeed(opts.identitySeed);
  const bls = blsFromSecret(opts.blsSecret);
  const addr = checkP2pAddress(opts.p2p);
  if (addr.problem !== undefined) throw new JouleError(ErrorCode.CARD_INVALID, addr.problem, 'p2p');
  const peerId = peerIdFromIdentityKey(identity.publicKey);
  if (addr.peerId !== undefined && addr.peerId !== peerId)
    throw new JouleError(ErrorCode.CARD_INVALID, `ends with peer id ${addr.peerId}, not this node's ${peerId}`, 'p2p');
  const json: CardJson = {
    format: CARD_FORMAT,
    chainId: opts.chainId,
    name: opts.name,
    address: formatAddress(addressFromPublicKey(identity.publicKey)),
    identityKey: `0x${toHex(identity.publicKey)}`,
    blsKey: `0x${toHex(bls.publicKey)}`,
    blsProofOfPossession: `0x${toHex(signProofOfPossession(opts.chainId, bls.secretKey, bls.publicKey, identity.publicKey))}`,
    p2p: `${addr.base}/p2p/${peerId}`,
  };
  // Made by the same rules that will check it: a bad name or chain id fails here, at its source.
  return parseCard(json, 'the card');
}

/** Whether `card` is the same validator as a genesis entry (all of identity, BLS key and name). */
export function cardMatches(card: ValidatorCard, v: { name: string; identityKey: Uint8Array; blsKey: Uint8Array }): boolean {
  return card.name === v.name && toHex(card.identityKey) === toHex(v.identityKey) && toHex(card.blsKey) === toHex(v.blsKey);
}
