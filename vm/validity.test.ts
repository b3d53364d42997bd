import { describe, expect, it } from 'vitest';
import { encode } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { DEFAULT_PARAMS } from '../core/params.ts';
import { buildTransfer, encodeTransferBody } from '../core/tx/transfer.ts';
import { TxType } from '../core/tx/types.ts';
import { decodeTx, encodeTx, signTx, type Tx, type UnsignedTx } from '../core/tx.ts';
import { checkTx } from './validity.ts';
import { MemoryState, testKey } from './testing/fixtures.ts';
import { txPriority, txTier } from './tiers.ts';
import { describeTx } from './describe.ts';
import { formatAddress } from '../core/keys.ts';

const chainId = 'joule-test';
const ctx = { chainId, params: DEFAULT_PARAMS };
const alice = testKey(1);
const bob = testKey(2);

function fresh(): MemoryState {
  const s = new MemoryState();
  s.setAccount(alice.address, { balance: 1_000n, nonce: 5 });
  return s;
}

function transfer(over: Partial<{ nonce: number; fee: bigint; amount: bigint; chainId: string }> = {}): Tx {
  return buildTransfer({
    chainId: over.chainId ?? chainId,
    seed: alice.seed,
    nonce: over.nonce ?? 5,
    fee: over.fee ?? 10n,
    to: bob.address,
    amount: over.amount ?? 100n,
  });
}

function raw(over: Partial<UnsignedTx>): Tx {
  return signTx(
    { chainId, type: TxType.transfer, sender: alice.publicKey, nonce: 5, fee: 10n, body: encodeTransferBody({ to: bob.address, amount: 1n }), ...over },
    alice.seed,
  );
}

function rejection(state: MemoryState, tx: Tx, opts?: Parameters<typeof checkTx>[3], c = ctx): { code: string; field: string | undefined } {
  try {
    checkTx(state, tx, c, opts);
  } catch (e) {
    if (e instanceof JouleError) return { code: e.code, field: e.field };
    throw e;
  }
  return { code: 'ACCEPTED', field: undefined };
}

describe('checkTx', () => {
  it('accepts a valid transfer', () => {
    expect(() => checkTx(fresh(), transfer(), ctx)).not.toThrow();
  });

  it('rejects an oversize tx', () => {
    const params = { ...DEFAULT_PARAMS, maxTxBytes: 100 };
    expect(rejection(fresh(), transfer(), {}, { chainId, params })).toEqual({ code: ErrorCode.TX_OVERSIZE, field: 'tx' });
  });

  it('rejects a wrong chain id', () => {
    expect(rejection(fresh(), transfer({ chainId: 'other-chain' }))).toEqual({ code: ErrorCode.TX_WRONG_CHAIN, field: 'tx.chainId' });
  });

  it('rejects an unknown type (validator votes and evidence are registered since the Consensus issue)', () => {
    for (const type of [0, 4, 15, 29, 999]) {
      expect(rejection(fresh(), raw({ type }))).toEqual({ code: ErrorCode.TX_UNKNOWN_TYPE, field: 'tx.type' });
    }
  });

  it('rejects a bad signature, unless verification is off', () => {
    const good = transfer();
    const sig = new Uint8Array(good.signature);
    sig[0]! ^= 1;
    const bad = decodeTx(encodeTx({ ...good, signature: sig }));
    expect(rejection(fresh(), bad)).toEqual({ code: ErrorCode.TX_BAD_SIGNATURE, field: 'tx.signature' });
    expect(rejection(fresh(), bad, { verifySignature: false }).code).toBe('ACCEPTED');
    // A signature by another key over the same fields.
    const forged = decodeTx(encodeTx({ ...good, signature: transferBy(bob).signature }));
    expect(rejection(fresh(), forged).code).toBe(ErrorCode.TX_BAD_SIGNATURE);
  });

  it('rejects fees below the chain minimum and below the tier base fee', () => {
    expect(rejection(fresh(), transfer({ fee: 9n }))).toEqual({ code: ErrorCode.TX_FEE_TOO_LOW, field: 'tx.fee' });
    const params = { ...DEFAULT_PARAMS, minFee: 1n, tiers: DEFAULT_PARAMS.tiers.map((t) => (t.name === 'peer_to_peer' ? { ...t, baseFee: 50n } : t)) };
    expect(rejection(fresh(), transfer({ fee: 49n }), {}, { chainId, params })).toEqual({ code: ErrorCode.TX_FEE_TOO_LOW, field: 'tx.fee' });
    expect(rejection(fresh(), transfer({ fee: 50n }), {}, { chainId, params }).code).toBe('ACCEPTED');
  });

  it('rejects stale and future nonces; the mempool may admit future ones', () => {
    expect(rejection(fresh(), transfer({ nonce: 4 }))).toEqual({ code: ErrorCode.TX_NONCE_TOO_LOW, field: 'tx.nonce' });
    expect(rejection(fresh(), transfer({ nonce: 6 }))).toEqual({ code: ErrorCode.TX_NONCE_TOO_HIGH, field: 'tx.nonce' });
    expect(rejection(fresh(), transfer({ nonce: 6 }), { allowFutureNonce: true }).code).toBe('ACCEPTED');
    expect(rejection(fresh(), transfer({ nonce: 4 }), { allowFutureNonce: true }).code).toBe(ErrorCode.TX_NONCE_TOO_LOW);
  });

  it('rejects when the balance cannot cover fee + amount', () => {
    expect(rejection(fresh(), transfer({ amount: 991n }))).toEqual({ code: ErrorCode.TX_INSUFFICIENT_BALANCE, field: 'tx.body.amount' });
    expect(rejection(fresh(), transfer({ amount: 990n })).code).toBe('ACCEPTED');
    const poor = new MemoryState();
    poor.setAccount(alice.address, { balance: 5n, nonce: 5 });
    expect(rejection(poor, transfer())).toEqual({ code: ErrorCode.TX_INSUFFICIENT_BALANCE, field: 'tx.fee' });
    // An account that does not exist has nothing (and nonce 0).
    expect(rejection(new MemoryState(), transfer({ nonce: 0 })).code).toBe(ErrorCode.TX_INSUFFICIENT_BALANCE);
  });

  it('rejects malformed bodies, naming the field', () => {
    expect(rejection(fresh(), raw({ body: encode([bob.address, 0]) }))).toEqual({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.amount' });
    expect(rejection(fresh(), raw({ body: encode([bob.address.subarray(0, 19), 1]) }))).toEqual({ code: ErrorCode.CODEC_WRONG_TYPE, field: 'tx.body.to' });
    expect(rejection(fresh(), raw({ body: new Uint8Array([0x92, 0xc4]) })).code).toMatch(/^CODEC_/);
    expect(rejection(fresh(), raw({ body: new Uint8Array([0x92, 0xc4, 0x01, 0x00, 0xd0, 0x01]) }))).toMatchObject({ field: 'tx.body' });
  });
});

function transferBy(k: typeof alice): Tx {
  return buildTransfer({ chainId, seed: k.seed, nonce: 5, fee: 10n, to: bob.address, amount: 100n });
}

describe('tiers, priority and description', () => {
  it('puts transfers in the peer_to_peer tier; priority = fee x multiplier, rounded down', () => {
    const tx = transfer({ fee: 15n });
    expect(txTier(tx)).toBe('peer_to_peer');
    expect(txPriority(tx, DEFAULT_PARAMS)).toBe(15n);
    const params = { ...DEFAULT_PARAMS, tiers: DEFAULT_PARAMS.tiers.map((t) => ({ ...t, priorityMultiplierBps: 3333 })) };
    expect(txPriority(tx, params)).toBe(4n); // 15 * 3333 / 10000 = 4.9995 -> 4
    expect(() => txTier({ type: 99 })).toThrow(JouleError);
  });

  it('describes a transfer for RPC, and an unknown type raw', () => {
    expect(describeTx(transfer())).toEqual({ typeName: 'transfer', body: { to: formatAddress(bob.address), amount: '100' } });
    expect(describeTx({ type: 77, body: new Uint8Array([1, 2]) })).toEqual({ typeName: 'unknown', body: { raw: '0x0102' } });
    expect(describeTx({ type: TxType.transfer, body: new Uint8Array([1]) })).toMatchObject({ typeName: 'transfer', body: { raw: '0x01' } });
  });
});
