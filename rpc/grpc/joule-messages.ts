/**
 * Core values as joule.v1 messages (proto/joule/v1/types.proto), in the shape
 * @grpc/proto-loader serializes with JOULE_PROTO_OPTIONS: snake_case fields, 64-bit integers
 * as decimal strings, bytes as Buffers.
 */
import { encodeHeader, type CommitCertificate, type Receipt } from '../../core/block.ts';
import { sha256 } from '../../core/hash.ts';
import type { IssuedCommand } from '../../core/command.ts';
import type { DeviceRecord } from '../../core/device.ts';
import type { Certificate, EnergyProvenance, EnergyUtxo } from '../../core/energy.ts';
import { formatAddress } from '../../core/keys.ts';
import type { AccountView, ReadingAck, StoredBlock, TxLookup } from '../node-api.ts';

const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const u64 = (n: number | bigint): string => n.toString();

export const READING_OUTCOMES = { accepted: 'ACCEPTED', rejected: 'REJECTED', batched: 'BATCHED', final: 'FINAL' } as const;

function certificateMessage(c: CommitCertificate) {
  return { height: u64(c.height), round: c.round, block_hash: buf(c.blockHash), aggregate_signature: buf(c.aggregateSignature), signers: buf(c.signers) };
}

export function blockMessage(sb: StoredBlock) {
  const h = sb.block.header;
  return {
    height: u64(h.height),
    hash: buf(sb.hash),
    parent_hash: buf(h.parentHash),
    timestamp_ms: u64(h.timestamp),
    proposer: buf(h.proposer),
    tx_root: buf(h.txRoot),
    state_root: buf(h.stateRoot),
    receipts_root: buf(h.receiptsRoot),
    validator_set_hash: buf(h.validatorSetHash),
    round: h.round,
    tx_hashes: sb.block.txs.map((t) => buf(sha256(t))),
    certificate: sb.certificate === null ? null : certificateMessage(sb.certificate),
    encoded_header: buf(encodeHeader(h)),
  };
}

function receiptMessage(r: Receipt) {
  return {
    success: r.success,
    code: r.code,
    fee_paid: u64(r.feePaid),
    events: r.events.map((e) => ({ type: e.type, attributes: e.attributes.map(([key, value]) => ({ key, value })) })),
  };
}

const jsonSafe = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

export function transactionMessage(t: TxLookup, describe: (tx: TxLookup['tx']) => { typeName: string; body: Record<string, unknown> }) {
  let typeName = '';
  let body = '{}';
  try {
    const d = describe(t.tx);
    typeName = d.typeName;
    body = JSON.stringify(d.body, jsonSafe);
  } catch {
    // A type this node no longer describes: the raw bytes are still served.
  }
  return {
    hash: buf(t.tx.hash),
    raw: buf(t.tx.bytes),
    type: t.tx.type,
    type_name: typeName,
    from: buf(t.tx.from),
    nonce: u64(t.tx.nonce),
    fee: u64(t.tx.fee),
    body_json: body,
    height: u64(t.height),
    index: t.index,
    block_hash: buf(t.blockHash),
    receipt: receiptMessage(t.receipt),
  };
}

export function accountMessage(address: Uint8Array, a: AccountView) {
  return {
    address: formatAddress(address),
    nonce: u64(a.nonce),
    balance: u64(a.balance),
    locked: u64(a.locked),
    roles: [...a.roles],
    pending_nonce: u64(a.pendingNonce ?? a.nonce),
  };
}

export function deviceMessage(d: DeviceRecord) {
  return {
    id: d.id,
    public_key: buf(d.publicKey),
    owner: buf(d.owner),
    operator: buf(d.operator),
    kind: d.kind,
    zone: d.zone,
    max_import_w: u64(d.maxImportW),
    max_export_w: u64(d.maxExportW),
    carbon_intensity: d.carbonIntensity,
    check_meter: d.checkMeter ?? '',
    status: d.status,
  };
}

function provenanceMessage(p: EnergyProvenance) {
  return {
    device_id: p.deviceId,
    kind: p.kind,
    zone: p.zone,
    interval_start_ms: u64(p.intervalStartMs),
    interval_end_ms: u64(p.intervalEndMs),
    carbon_intensity: p.carbonIntensity,
  };
}

export function utxoMessage(u: EnergyUtxo) {
  return { id: buf(u.id), owner: buf(u.owner), wh: u64(u.wh), provenance: provenanceMessage(u.provenance), frozen: u.frozen, height: u64(u.height) };
}

export function certificateRecordMessage(c: Certificate, indexKey?: Uint8Array) {
  return {
    id: buf(c.id),
    beneficiary: buf(c.beneficiary),
    purpose: c.purpose,
    wh: u64(c.wh),
    provenance: provenanceMessage(c.provenance),
    height: u64(c.height),
    time_ms: u64(c.time),
    index_key: buf(indexKey ?? new Uint8Array(0)),
  };
}

export function commandMessage(c: IssuedCommand) {
  return {
    command_id: c.commandId,
    type: c.type,
    power_limit_w: u64(c.powerLimitW),
    price_micro_per_kwh: u64(c.priceMicroPerKwh),
    valid_until_us: u64(c.validUntilUs),
    command_hash: buf(c.commandHash),
    device_ids: [...c.deviceIds],
    issuer: buf(c.issuer),
  };
}

export function readingAckMessage(a: ReadingAck) {
  return {
    device_id: a.deviceId,
    timestamp_us: u64(a.timestampUs),
    outcome: READING_OUTCOMES[a.outcome],
    reason: a.reason ?? '',
    tx_hash: buf(a.txHash ?? new Uint8Array(0)),
    height: u64(a.height ?? 0),
  };
}
