/**
 * Pure formatting of node data into the JSON shapes of docs/json-rpc.md (core/rpc-json.ts). No I/O and no
 * lookups here (methods.ts does those), so every shape is testable from plain values.
 * Conventions: bytes -> 0x lowercase hex, addresses -> bech32, amounts -> decimal strings
 * (they exceed 2^53), heights/nonces/indexes/ms timestamps -> JSON numbers.
 */
import type { CommitCertificate, Receipt } from '../../core/block.ts';
import { toHex } from '../../core/bytes.ts';
import { formatAddress } from '../../core/keys.ts';
import type { AccountJson, BlockJson, CertificateJson, ProofJson, ReceiptJson, StatusJson, TransactionJson } from '../../core/rpc-json.ts';
import type { Tx } from '../../core/tx.ts';
import { indexesFromBitmap } from '../../core/validators.ts';
import type { AccountView, NodeStatus, ProofView, StoredBlock, TxLookup } from '../node-api.ts';

export function hex(b: Uint8Array): string {
  return '0x' + toHex(b);
}

/**
 * Makes any value JSON-safe: bigint -> decimal string, bytes -> 0x hex, nested arrays and
 * plain objects recursively. Used for type-specific tx bodies from the vm registry, whose
 * fields rpc/ cannot know in advance.
 */
export function toJsonValue(v: unknown, depth = 0): unknown {
  if (depth > 32) return null; // bodies are shallow; this only guards against cycles
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return hex(v);
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map((x) => toJsonValue(x, depth + 1));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toJsonValue(x, depth + 1);
    return out;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

export function formatCertificate(c: CommitCertificate): CertificateJson {
  // The bitmap's length is ceil(n/8) for the height's validator set; without the set at
  // hand we list every set bit (a valid certificate has none beyond n).
  const signerIndexes = indexesFromBitmap(c.signers.length * 8, c.signers) ?? [];
  return {
    height: c.height,
    round: c.round,
    blockHash: hex(c.blockHash),
    aggregateSignature: hex(c.aggregateSignature),
    signers: hex(c.signers),
    signerIndexes,
  };
}

export function formatReceipt(r: Receipt): ReceiptJson {
  return {
    success: r.success,
    code: r.code,
    feePaid: r.feePaid.toString(),
    events: r.events.map((e) => {
      // Null-prototype object: attribute keys come from transactions and must not be able
      // to hit Object.prototype (e.g. a key named "__proto__").
      const attributes: Record<string, string> = Object.create(null);
      for (const [k, v] of e.attributes) attributes[k] = v;
      return { type: e.type, attributes };
    }),
  };
}

export type DescribeTx = (tx: Tx) => { typeName: string; body: Record<string, unknown> };

/** Type name and decoded body; a body the registry cannot decode is shown raw, never thrown. */
function describe(tx: Tx, describeTx: DescribeTx): { typeName: string; body: unknown } {
  try {
    const d = describeTx(tx);
    return { typeName: d.typeName, body: toJsonValue(d.body) };
  } catch {
    return { typeName: 'unknown', body: { raw: hex(tx.body) } };
  }
}

export function formatTransaction(l: TxLookup, describeTx: DescribeTx): TransactionJson {
  const { tx } = l;
  const d = describe(tx, describeTx);
  return {
    hash: hex(tx.hash),
    chainId: tx.chainId,
    type: tx.type,
    typeName: d.typeName,
    from: formatAddress(tx.from),
    sender: hex(tx.sender),
    nonce: tx.nonce,
    fee: tx.fee.toString(),
    body: d.body,
    signature: hex(tx.signature),
    blockHeight: l.height,
    blockHash: hex(l.blockHash),
    index: l.index,
    receipt: formatReceipt(l.receipt),
  };
}

/**
 * `transactions` is either the tx hashes (default) or full Transaction objects, which the
 * caller resolves (they need receipts from the index). Hashes are passed in rather than
 * recomputed so the formatter stays free of hashing and decoding.
 */
export function formatBlock(sb: StoredBlock, transactions: string[] | TransactionJson[]): BlockJson {
  const h = sb.block.header;
  return {
    hash: hex(sb.hash),
    height: h.height,
    round: h.round,
    parentHash: hex(h.parentHash),
    timestamp: h.timestamp,
    proposer: formatAddress(h.proposer),
    txRoot: hex(h.txRoot),
    stateRoot: hex(h.stateRoot),
    receiptsRoot: hex(h.receiptsRoot),
    validatorSetHash: hex(h.validatorSetHash),
    txCount: h.txCount,
    parentCertificate: h.parentCertificate === null ? null : formatCertificate(h.parentCertificate),
    certificate: sb.certificate === null ? null : formatCertificate(sb.certificate),
    transactions,
  };
}

export function formatAccount(address: Uint8Array, a: AccountView): AccountJson {
  return {
    address: formatAddress(address),
    nonce: a.nonce,
    pendingNonce: a.pendingNonce ?? a.nonce,
    balance: a.balance.toString(),
    locked: a.locked.toString(),
    roles: [...a.roles],
  };
}

export function formatProof(key: Uint8Array, p: ProofView): ProofJson {
  return {
    key: hex(key),
    height: p.height,
    stateRoot: hex(p.stateRoot),
    value: p.value === undefined ? null : hex(p.value),
    proof: hex(p.proof),
  };
}

export function formatStatus(s: NodeStatus): StatusJson {
  return {
    chainId: s.chainId,
    genesisHash: hex(s.genesisHash),
    nodeName: s.nodeName,
    role: s.role,
    height: s.height,
    latestBlockHash: hex(s.latestBlockHash),
    latestBlockTime: s.latestBlockTime,
    validatorCount: s.validatorCount,
    peerCount: s.peerCount,
    mempoolSize: s.mempoolSize,
    syncing: s.syncing,
    syncTarget: s.syncTarget,
  };
}
