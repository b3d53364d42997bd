import type { Command } from 'commander';
import { marketProofKey } from './market.ts';
import { agreementProofKey } from './agreement-reads.ts';
import { flexProofKey } from './flex.ts';
import { reversalProofKey } from './reversal.ts';
import { blockHash, type BlockHeader, type CommitCertificate } from '../../core/block.ts';
import { fromHexOrUndefined, toHex } from '../../core/bytes.ts';
import { isJouleError } from '../../core/errors.ts';
import { parseAddress } from '../../core/keys.ts';
import { verifyProof } from '../../core/proof.ts';
import { isDeviceId } from '../../core/device.ts';
import { accountKey, certificateKey, deviceHealthKey, deviceKey, energyUtxoKey, intervalTotalsKey } from '../../core/state-keys.ts';
import { describeValue } from './describe-value.ts';
import { CliError, rpcOption } from '../rpc-client.ts';
import { registerDeviceQueries } from './query-devices.ts';
import { registerTelemetryQueries } from './query-telemetry.ts';
import type { StatusJson } from './status.ts';

/** `joule query account|block|tx|proof|validators|evidence|validator-votes`: read-only lookups, proofs verified locally. */

import type { BlockJson, CertificateJson, ProofJson } from '../../core/rpc-json.ts';
import { printJson, printLines as print, readClient as client, type ReadOptions as QueryOptions } from './read-output.ts';

function hexArg(v: string, what: string, length?: number): Uint8Array {
  const b = v.startsWith('0x') ? fromHexOrUndefined(v) : undefined;
  if (b === undefined || (length !== undefined && b.length !== length)) {
    throw new CliError('INVALID_PARAMS', `${what} must be 0x-prefixed hex${length !== undefined ? ` of ${length} bytes` : ''}, got ${JSON.stringify(v)}`, what);
  }
  return b;
}

function addressArg(v: string): Uint8Array {
  try {
    return parseAddress(v);
  } catch (e) {
    if (isJouleError(e)) throw new CliError(e.code, e.message, e.field);
    throw e;
  }
}

/** A height, "latest", or a 0x block hash, as joule_getBlock takes it. */
function blockRef(v: string): number | string {
  if (v === 'latest') return v;
  if (/^[0-9]+$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  if (v.startsWith('0x')) return `0x${toHex(hexArg(v, 'block hash', 32))}`;
  throw new CliError('INVALID_PARAMS', `expected a block height, "latest" or a 0x block hash, got ${JSON.stringify(v)}`, 'block');
}

function certificateFromJson(c: CertificateJson): CommitCertificate {
  return {
    height: c.height,
    round: c.round,
    blockHash: hexArg(c.blockHash, 'blockHash'),
    aggregateSignature: hexArg(c.aggregateSignature, 'aggregateSignature'),
    signers: hexArg(c.signers, 'signers'),
  };
}

/** Rebuilds the header from its JSON so its hash can be checked against the claimed block hash. */
function headerFromJson(b: BlockJson, chainId: string): BlockHeader {
  return {
    chainId,
    height: b.height,
    round: b.round,
    parentHash: hexArg(b.parentHash, 'parentHash'),
    timestamp: b.timestamp,
    proposer: addressArg(b.proposer),
    txRoot: hexArg(b.txRoot, 'txRoot'),
    stateRoot: hexArg(b.stateRoot, 'stateRoot'),
    receiptsRoot: hexArg(b.receiptsRoot, 'receiptsRoot'),
    validatorSetHash: hexArg(b.validatorSetHash, 'validatorSetHash'),
    txCount: b.txCount,
    parentCertificate: b.parentCertificate === null ? null : certificateFromJson(b.parentCertificate),
  };
}

function notFound(what: string): never {
  throw new CliError('NOT_FOUND', what);
}

async function queryAccount(address: string, opts: QueryOptions): Promise<void> {
  addressArg(address); // a typo is caught here by the bech32 checksum, not by the node
  const a = await client(opts).call<{ address: string; nonce: number; balance: string; locked: string; roles: string[] }>('joule_getAccount', [address]);
  if (opts.json === true) return printJson(a);
  print([
    `address  ${a.address}`,
    `balance  ${a.balance}`,
    `locked   ${a.locked}`,
    `nonce    ${a.nonce}`,
    `roles    ${a.roles.length > 0 ? a.roles.join(', ') : '-'}`,
  ]);
}

async function queryBlock(ref: string, opts: QueryOptions & { txs?: boolean }): Promise<void> {
  const b = await client(opts).call<BlockJson | null>('joule_getBlock', [blockRef(ref), opts.txs === true]);
  if (b === null) notFound(`no block ${ref}`);
  if (opts.json === true) return printJson(b);
  const cert = b.certificate;
  print([
    `height        ${b.height}`,
    `hash          ${b.hash}`,
    `parent        ${b.parentHash}`,
    `time          ${new Date(b.timestamp).toISOString()} (${b.timestamp})`,
    `proposer      ${b.proposer}`,
    `txs           ${b.txCount}`,
    `state root    ${b.stateRoot}`,
    `tx root       ${b.txRoot}`,
    `receipts root ${b.receiptsRoot}`,
    `validator set ${b.validatorSetHash}`,
    `certificate   ${cert === null ? 'none yet' : `round ${cert.round}, signers ${cert.signerIndexes.join(',')}`}`,
    ...b.transactions.map((t) => `  tx ${typeof t === 'string' ? t : (t as { hash: string }).hash}`),
  ]);
}

async function queryTx(hash: string, opts: QueryOptions): Promise<void> {
  const h = `0x${toHex(hexArg(hash, 'tx hash', 32))}`;
  const t = await client(opts).call<{
    hash: string;
    typeName: string;
    from: string;
    nonce: number;
    fee: string;
    body: unknown;
    blockHeight: number;
    blockHash: string;
    index: number;
    receipt: { success: boolean; code: string; feePaid: string };
  } | null>('joule_getTransaction', [h]);
  if (t === null) notFound(`no final transaction ${h} (a transaction is found only once it is in a final block)`);
  if (opts.json === true) return printJson(t);
  print([
    `hash      ${t.hash}`,
    `type      ${t.typeName}`,
    `from      ${t.from}`,
    `nonce     ${t.nonce}`,
    `fee       ${t.fee}`,
    `body      ${JSON.stringify(t.body)}`,
    `block     ${t.blockHeight} ${t.blockHash} (index ${t.index})`,
    `status    ${t.receipt.success ? 'success' : `FAILED (${t.receipt.code})`}`,
    `fee paid  ${t.receipt.feePaid}`,
  ]);
}

function deviceIdIn(id: string, form: string): string {
  if (!isDeviceId(id))
    throw new CliError('INVALID_PARAMS', `${form} needs a device id (1-64 of letters, digits, ".", "_", ":", "-"), got ${JSON.stringify(id)}`, 'key');
  return id;
}

/**
 * What KEY names: an address means its account record, `device:ID` a device's record,
 * `interval:ID@START` a device's totals for the interval starting at START (ms),
 * `health:ID` its missing-data health, `utxo:0xID` / `certificate:0xID` an energy UTXO /
 * certificate, `market:ZONE@START` / `trade:ZONE@START#SEQ` / `settlement:ZONE@START#SEQ`
 * a market's record, a trade, its settlement (cli/commands/market.ts), `agreement:0xID` /
 * `agreement:0xID#SLOT` / `dispute:0xID` an agreement, a slot's settlement, its dispute
 * (cli/commands/agreement-reads.ts), `flexbid:0xID` / `activation:0xID` /
 * `activation:0xID@START` a flexibility bid, an activation, how its interval settled
 * (cli/commands/flex.ts), `reversal:ZONE@START#SEQ` / `governors` the reversal of a
 * settlement, the governor set (cli/commands/reversal.ts).
 */
function stateKeyArg(key: string): Uint8Array {
  if (key.startsWith('0x')) return hexArg(key, 'key');
  const market = marketProofKey(key);
  if (market !== undefined) return market;
  const agreement = agreementProofKey(key);
  if (agreement !== undefined) return agreement;
  const flex = flexProofKey(key);
  if (flex !== undefined) return flex;
  const reversal = reversalProofKey(key);
  if (reversal !== undefined) return reversal;
  if (key.startsWith('utxo:')) return energyUtxoKey(hexArg(key.slice('utxo:'.length), 'utxo id', 32));
  if (key.startsWith('certificate:')) return certificateKey(hexArg(key.slice('certificate:'.length), 'certificate id', 32));
  if (key.startsWith('interval:')) {
    const m = /^interval:(.+)@([0-9]{1,16})$/.exec(key);
    if (m === null) throw new CliError('INVALID_PARAMS', `interval:ID@START needs a device id and an interval start in ms, got ${JSON.stringify(key)}`, 'key');
    return intervalTotalsKey(deviceIdIn(m[1]!, 'interval:ID@START'), Number(m[2]));
  }
  if (key.startsWith('health:')) return deviceHealthKey(deviceIdIn(key.slice('health:'.length), 'health:ID'));
  if (key.startsWith('device:')) return deviceKey(deviceIdIn(key.slice('device:'.length), 'device:ID'));
  return accountKey(addressArg(key));
}

async function queryProof(key: string, opts: QueryOptions & { height?: string }): Promise<void> {
  const wanted = stateKeyArg(key);
  const c = client(opts);
  const params: unknown[] = [
    /^(0x|device:|interval:|health:|utxo:|certificate:|market:|trade:|settlement:|agreement:|dispute:|flexbid:|activation:|reversal:|governors$)/.test(key)
      ? `0x${toHex(wanted)}`
      : key,
  ];
  if (opts.height !== undefined) params.push(blockRef(opts.height));
  const p = await c.call<ProofJson>('joule_getProof', params);
  const [status, block] = await Promise.all([c.call<StatusJson>('joule_status'), c.call<BlockJson | null>('joule_getBlock', [p.height])]);
  if (block === null) notFound(`the node returned a proof at height ${p.height} but has no block there`);

  // The chain of trust: value -> proof -> state root -> header -> block hash (which a
  // light client checks against the block's commit certificate).
  const keyBytes = hexArg(p.key, 'proof.key');
  const value = p.value === null ? undefined : hexArg(p.value, 'proof.value');
  const headerRoot = hexArg(block.stateRoot, 'stateRoot');
  const checks: [string, boolean][] = [
    ['proof is for the requested key', toHex(keyBytes) === toHex(wanted)],
    ['header hashes to the block hash', toHex(blockHash(headerFromJson(block, status.chainId))) === toHex(hexArg(block.hash, 'hash'))],
    ['proof state root equals the header state root', p.stateRoot.toLowerCase() === block.stateRoot.toLowerCase()],
    ['Merkle proof verifies against the header state root', verifyProof(headerRoot, keyBytes, value, hexArg(p.proof, 'proof.proof'))],
  ];
  const verified = checks.every(([, ok]) => ok);
  if (opts.json === true) printJson({ ...p, blockHash: block.hash, verified, checks: Object.fromEntries(checks) });
  else {
    print([
      `key         ${p.key}`,
      `height      ${p.height} (block ${block.hash})`,
      `state root  ${block.stateRoot}`,
      `value       ${describeValue(keyBytes, value)}`,
      ...checks.map(([what, ok]) => `${ok ? 'ok  ' : 'FAIL'}        ${what}`),
      `verified    ${verified ? (value === undefined ? 'yes (key is absent: exclusion proof)' : 'yes (inclusion proof)') : 'NO'}`,
    ]);
  }
  if (!verified) throw new CliError('PROOF_INVALID', `the proof for ${p.key} at height ${p.height} does NOT verify; do not trust this node's answer`);
}

interface ValidatorsJson {
  height: number;
  hash: string;
  quorum: number;
  validators: { index: number; name: string; address: string; identityKey: string; blsKey: string }[];
}
interface EvidenceListJson {
  total: number;
  offset: number;
  evidence: { id: string; author: string; height: number; round: number; kind: string; includedAt: number }[];
}
interface VotesJson {
  proposals: { id: string; action: string; name: string; address: string; voters: string[]; votes: number | null; needed: number | null }[];
}

function countArg(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new CliError('INVALID_PARAMS', `--${what} must be a non-negative integer, got ${JSON.stringify(v)}`, what);
  return Number(v);
}

async function queryValidators(opts: QueryOptions & { height?: string }): Promise<void> {
  const h = countArg(opts.height, 'height');
  const v = await client(opts).call<ValidatorsJson | null>('joule_getValidators', h === undefined ? [] : [h]);
  if (v === null) notFound(`no validator set for height ${h}`);
  if (opts.json === true) return printJson(v);
  print([
    `height     ${v.height}${opts.height === undefined ? ' (current set: certifies the next block)' : ''}`,
    `set hash   ${v.hash}`,
    `size       ${v.validators.length} (quorum ${v.quorum}, a change needs ${Math.floor(v.validators.length / 2) + 1} votes)`,
    ...v.validators.map((x) => `  ${String(x.index).padStart(3)}  ${x.name.padEnd(20)} ${x.address}  bls ${x.blsKey.slice(0, 18)}…`),
  ]);
}

async function queryEvidence(opts: QueryOptions & { offset?: string; limit?: string }): Promise<void> {
  const params = [countArg(opts.offset, 'offset') ?? 0, ...(opts.limit !== undefined ? [countArg(opts.limit, 'limit')] : [])];
  const e = await client(opts).call<EvidenceListJson>('joule_getEvidence', params);
  if (opts.json === true) return printJson(e);
  print([
    `evidence   ${e.total} included${e.total > 0 ? ` (showing ${e.evidence.length} from #${e.offset})` : ''}`,
    ...e.evidence.map((x) => `  ${x.author}  ${x.kind} at height ${x.height} round ${x.round}, included in block ${x.includedAt}  id ${x.id}`),
  ]);
}

async function queryVotes(opts: QueryOptions): Promise<void> {
  const v = await client(opts).call<VotesJson>('joule_getValidatorVotes', []);
  if (opts.json === true) return printJson(v);
  print([
    `pending    ${v.proposals.length} proposal(s)`,
    ...v.proposals.map((p) => `  ${p.action.padEnd(6)} ${p.name} ${p.address}  votes ${p.votes ?? '?'}/${p.needed ?? '?'}  by ${p.voters.join(', ')}`),
  ]);
}

export function registerQueryCommands(program: Command): void {
  const query = program.command('query').description('read accounts, blocks, transactions and verified state proofs');
  const common = (cmd: Command): Command => cmd.addOption(rpcOption()).option('--json', 'print one JSON object');

  common(query.command('account').description('balance, nonce and roles of an account').argument('<address>', 'joule1... address')).action(queryAccount);
  common(
    query
      .command('block')
      .description('a block by height, "latest" or hash')
      .argument('<heightOrHash>', 'height, "latest" or 0x block hash')
      .option('--txs', 'include full transactions'),
  ).action(queryBlock);
  common(query.command('tx').description('a final transaction with its receipt').argument('<hash>', '0x transaction hash')).action(queryTx);
  common(
    query
      .command('proof')
      .description(
        'a state proof for KEY (an address, device:ID, interval:ID@START, health:ID, utxo:0xID, certificate:0xID, market:ZONE@START, trade:ZONE@START#SEQ, settlement:ZONE@START#SEQ, agreement:0xID[#SLOT], dispute:0xID, flexbid:0xID, activation:0xID[@START], reversal:ZONE@START#SEQ, governors or a 0x state key), verified locally against the block header',
      )
      .argument('<key>', 'joule1... address, one of the forms above (START in ms), or 0x state key')
      .option('--height <h>', 'height to prove at (default: latest)'),
  ).action(queryProof);
  common(
    query
      .command('validators')
      .description('the validator set (default: the current one, which certifies the next block)')
      .option('--height <h>', 'the set that certified block H'),
  ).action(queryValidators);
  common(
    query
      .command('evidence')
      .description('equivocation evidence included in the chain, oldest first')
      .option('--offset <n>', 'skip the first n', '0')
      .option('--limit <n>', 'at most n (1..100, default 100)'),
  ).action(queryEvidence);
  common(query.command('validator-votes').description('pending votes to add or remove validators')).action(queryVotes);
  registerDeviceQueries(query, common);
  registerTelemetryQueries(query, common);
}
