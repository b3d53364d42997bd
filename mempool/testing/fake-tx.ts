import { sha256 } from '../../core/hash.ts';
import type { Tx } from '../../core/tx.ts';

/**
 * Unsigned stand-in transactions for tests and benchmarks: the mempool never looks at
 * signatures or bodies, only at hash, from, nonce, fee and the byte length.
 */
export function fakeSender(id: number): Uint8Array {
  const a = new Uint8Array(20);
  new DataView(a.buffer).setUint32(0, id);
  return a;
}

export function fakeTx(sender: number | Uint8Array, nonce: number, fee: bigint, opts: { size?: number; salt?: number } = {}): Tx {
  const from = typeof sender === 'number' ? fakeSender(sender) : sender;
  const size = opts.size ?? 120;
  const bytes = new Uint8Array(size);
  // Distinct content per (sender, nonce, fee, salt) so distinct txs get distinct hashes.
  const id = new Uint8Array(40);
  id.set(from, 0);
  const v = new DataView(id.buffer);
  v.setUint32(20, nonce);
  v.setBigUint64(24, BigInt.asUintN(64, fee));
  v.setUint32(32, opts.salt ?? 0);
  bytes.set(id.subarray(0, Math.min(40, size)));
  return {
    chainId: 'test',
    type: 0,
    sender: new Uint8Array(32),
    nonce,
    fee,
    body: new Uint8Array(0),
    signature: new Uint8Array(64),
    bytes,
    hash: sha256(id),
    from,
  };
}
