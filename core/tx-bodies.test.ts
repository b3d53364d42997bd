import { describe, expect, it } from 'vitest';
import { encode } from './codec.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { addressFromPublicKey, ed25519FromSeed } from './keys.ts';
import { buildTransfer, decodeTransferBody, encodeTransferBody, TxType } from './tx-bodies.ts';
import { decodeTx, verifyTxSignature } from './tx.ts';

const to = new Uint8Array(20).fill(7);

function codeOf(f: () => unknown): { code: string; field: string | undefined } {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return { code: e.code, field: e.field };
    throw e;
  }
  throw new Error('did not throw');
}

describe('transfer body', () => {
  it('round-trips', () => {
    for (const amount of [1n, 255n, 2n ** 32n, 2n ** 64n - 1n]) {
      const bytes = encodeTransferBody({ to, amount });
      expect(decodeTransferBody(bytes)).toEqual({ to, amount });
      expect(bytes).toEqual(encode([to, amount]));
    }
  });

  it('rejects zero or negative amounts, naming tx.body.amount', () => {
    expect(codeOf(() => encodeTransferBody({ to, amount: 0n }))).toEqual({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.amount' });
    expect(codeOf(() => decodeTransferBody(encode([to, 0])))).toEqual({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.amount' });
    expect(codeOf(() => decodeTransferBody(encode([to, -5])))).toEqual({ code: ErrorCode.CODEC_WRONG_TYPE, field: 'tx.body.amount' });
  });

  it('rejects malformed shapes, naming the field', () => {
    expect(codeOf(() => decodeTransferBody(encode([new Uint8Array(19), 1])))).toEqual({ code: ErrorCode.CODEC_WRONG_TYPE, field: 'tx.body.to' });
    expect(codeOf(() => decodeTransferBody(encode([to, 1, 2])))).toEqual({ code: ErrorCode.CODEC_WRONG_TYPE, field: 'tx.body' });
    expect(codeOf(() => decodeTransferBody(encode([to, 'x'])))).toEqual({ code: ErrorCode.CODEC_WRONG_TYPE, field: 'tx.body.amount' });
    expect(codeOf(() => decodeTransferBody(new Uint8Array([0xc1])))).toMatchObject({ field: 'tx.body' });
    expect(codeOf(() => encodeTransferBody({ to: new Uint8Array(3), amount: 1n }))).toEqual({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.to' });
  });

  it('buildTransfer signs a decodable, verifiable envelope', () => {
    const seed = new Uint8Array(32).fill(1);
    const tx = buildTransfer({ chainId: 'joule-test', seed, nonce: 3, fee: 10, to, amount: 42 });
    const back = decodeTx(tx.bytes);
    expect(back.type).toBe(TxType.transfer);
    expect(back.nonce).toBe(3);
    expect(back.fee).toBe(10n);
    expect(back.from).toEqual(addressFromPublicKey(ed25519FromSeed(seed).publicKey));
    expect(decodeTransferBody(back.body)).toEqual({ to, amount: 42n });
    expect(verifyTxSignature(back)).toBe(true);
  });
});
