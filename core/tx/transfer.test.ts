import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../codec.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { addressFromPublicKey, ed25519FromSeed } from '../keys.ts';
import { buildTransfer, decodeTransferBody, encodeTransferBody } from './transfer.ts';
import { TxType } from './types.ts';
import { decodeTx, verifyTxSignature } from '../tx.ts';

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

describe('transfer body fast path', () => {
  // The generic decoder is the reference: encode(decode(b)) === b, then the schema.
  function generic(b: Uint8Array): unknown {
    try {
      const f = decode(b, 'tx.body');
      if (!Array.isArray(f) || f.length !== 2) return 'ERR';
      const [t, a] = f as [unknown, unknown];
      if (!(t instanceof Uint8Array) || t.length !== 20) return 'ERR';
      if (typeof a !== 'number' && typeof a !== 'bigint') return 'ERR';
      if (BigInt(a) <= 0n) return 'ERR';
      return { to: t, amount: BigInt(a) };
    } catch {
      return 'ERR';
    }
  }
  function ours(b: Uint8Array): unknown {
    try {
      return decodeTransferBody(b);
    } catch {
      return 'ERR';
    }
  }

  it('agrees with the generic decoder at every integer width boundary', () => {
    for (const v of [1n, 0x7fn, 0x80n, 0xffn, 0x100n, 0xffffn, 0x10000n, 0xffffffffn, 0x100000000n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      const b = encode([to, v]);
      expect(ours(b)).toEqual({ to, amount: v });
      expect(generic(b)).toEqual({ to, amount: v });
    }
  });

  it('agrees with the generic decoder on mutated and hand-made non-canonical bodies', () => {
    fc.assert(
      fc.property(
        fc.oneof(...[300n, 70_000n, 2n ** 33n, 2n ** 64n - 1n].map((max) => fc.bigInt({ min: 0n, max }))),
        fc.array(fc.tuple(fc.nat(40), fc.nat(255)), { maxLength: 3 }),
        fc.nat(3),
        (v, edits, trim) => {
          const b = new Uint8Array(33);
          const enc = encode([to, v]);
          b.set(enc);
          const body = b.slice(0, Math.max(0, enc.length - (trim === 3 ? 1 : 0)) + (trim === 2 ? 1 : 0));
          for (const [i, x] of edits) if (i < body.length) body[i] = x;
          expect(ours(body)).toEqual(generic(body));
        },
      ),
      { numRuns: 20000 },
    );
    // Wider-than-needed integer forms are non-canonical.
    const head = encode([to, 1]).subarray(0, 23);
    for (const tail of [
      [0xcc, 0x05],
      [0xcd, 0x00, 0x05],
      [0xce, 0, 0, 0, 5],
      [0xcf, 0, 0, 0, 0, 0, 0, 0, 5],
      [0xd3, 0, 0, 0, 0, 0, 0, 0, 5],
      [0xcf, 0, 0, 0, 1, 0, 0, 0, 0],
      [0xd0, 0x05],
    ]) {
      const body = new Uint8Array([...head, ...tail]);
      expect(ours(body)).toBe('ERR');
      expect(generic(body)).toBe('ERR');
    }
  });
});
