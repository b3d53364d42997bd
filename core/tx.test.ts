import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from './bytes.ts';
import { decode, encode, type Encodable } from './codec.ts';
import { Domain, signingBytes } from './domain.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { sha256 } from './hash.ts';
import { addressFromPublicKey, ed25519FromSeed, ed25519Verify } from './keys.ts';
import { decodeTx, encodeTx, MAX_TX_BYTES, signTx, txSigningBytes, verifyTxSignature, type SignedTx, type UnsignedTx } from './tx.ts';
import { errorOf } from './testing/errors.ts';

const seed = new Uint8Array(32).fill(0x42);
const sender = ed25519FromSeed(seed).publicKey;

function unsigned(over: Partial<UnsignedTx> = {}): UnsignedTx {
  return { chainId: 'joule-test', type: 1, sender, nonce: 7, fee: 1_000n, body: encode([utf8('to'), 5]), ...over };
}

/** The envelope's wire form with one field replaced. */
function wireWith(index: number, value: Encodable): Uint8Array {
  const tx = signTx(unsigned(), seed);
  const f = [...(decode(tx.bytes) as Encodable[])];
  f[index] = value;
  return encode(f);
}

describe('tx envelope', () => {
  it('signTx -> decodeTx round-trips every field; hash = sha256(bytes); from = address(sender)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 64 }),
        fc.nat(),
        fc.maxSafeNat(),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.uint8Array({ maxLength: 300 }),
        (chainId, type, nonce, fee, body) => {
          const tx = signTx({ chainId, type, sender, nonce, fee, body }, seed);
          expect(toHex(tx.hash)).toBe(toHex(sha256(tx.bytes)));
          expect(toHex(tx.from)).toBe(toHex(addressFromPublicKey(sender)));
          const d = decodeTx(tx.bytes);
          expect(d.chainId).toBe(chainId);
          expect(d.type).toBe(type);
          expect(d.nonce).toBe(nonce);
          expect(d.fee).toBe(fee);
          expect(toHex(d.sender)).toBe(toHex(sender));
          expect(toHex(d.body)).toBe(toHex(body));
          expect(toHex(d.signature)).toBe(toHex(tx.signature));
          expect(toHex(d.hash)).toBe(toHex(tx.hash));
          expect(toHex(d.from)).toBe(toHex(tx.from));
          expect(toHex(encodeTx(d))).toBe(toHex(tx.bytes));
          expect(verifyTxSignature(d)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('signing bytes are [tx domain tag, chain id, type, sender, nonce, fee, body]', () => {
    const u = unsigned();
    const sb = txSigningBytes(u);
    const f = decode(sb) as Encodable[];
    expect(f[0]).toBe(Domain.tx);
    expect(f[1]).toBe(u.chainId);
    expect(f.length).toBe(7);
    // after the array header come the encoded tag and the encoded chain id, byte for byte
    const prefix = new Uint8Array([...encode(Domain.tx), ...encode(u.chainId)]);
    expect(toHex(sb.subarray(1, 1 + prefix.length))).toBe(toHex(prefix));
    expect(toHex(sb)).toBe(toHex(signingBytes(Domain.tx, u.chainId, [u.type, u.sender, u.nonce, u.fee, u.body])));
  });

  it('a signature for chain A does not verify for chain B', () => {
    const a = signTx(unsigned({ chainId: 'chain-a' }), seed);
    expect(verifyTxSignature(a)).toBe(true);
    expect(verifyTxSignature({ ...a, chainId: 'chain-b' })).toBe(false);
    // and the re-encoded envelope for chain B, decoded like any received tx, fails too
    const b = decodeTx(encodeTx({ ...a, chainId: 'chain-b' }));
    expect(verifyTxSignature(b)).toBe(false);
  });

  it("a tx signature does not verify as another domain's message over the same fields", () => {
    const u = unsigned();
    const tx = signTx(u, seed);
    for (const tag of Object.values(Domain)) {
      const ok = ed25519Verify(sender, signingBytes(tag, u.chainId, [u.type, u.sender, u.nonce, u.fee, u.body]), tx.signature);
      expect(ok, tag).toBe(tag === Domain.tx);
    }
  });

  it('changing any signed field invalidates the signature', () => {
    const tx = signTx(unsigned(), seed);
    const other = ed25519FromSeed(new Uint8Array(32).fill(0x43)).publicKey;
    const variants: Partial<SignedTx>[] = [
      { chainId: 'joule-tesu' },
      { type: 2 },
      { sender: other },
      { nonce: 8 },
      { fee: 1_001n },
      { body: encode([utf8('to'), 6]) },
    ];
    for (const v of variants) expect(verifyTxSignature({ ...tx, ...v }), JSON.stringify(Object.keys(v))).toBe(false);
    expect(verifyTxSignature(tx)).toBe(true);
  });

  it('oversize -> TX_OVERSIZE (default limit and a chain-set lower one)', () => {
    const big = signTx(unsigned({ body: new Uint8Array(MAX_TX_BYTES) }), seed);
    expect(big.bytes.length).toBeGreaterThan(MAX_TX_BYTES);
    const e = errorOf(() => decodeTx(big.bytes));
    expect(e.code).toBe(ErrorCode.TX_OVERSIZE);
    expect(e.field).toBe('tx');
    const small = signTx(unsigned(), seed);
    expect(errorOf(() => decodeTx(small.bytes, small.bytes.length - 1)).code).toBe(ErrorCode.TX_OVERSIZE);
    expect(decodeTx(small.bytes, small.bytes.length).nonce).toBe(7);
  });

  it.each<[string, () => Uint8Array, string, string]>([
    ['too few fields', () => encode(['joule-test', 1, sender, 7, 1000, new Uint8Array(0)]), 'tx', ErrorCode.CODEC_WRONG_TYPE],
    ['too many fields', () => encode(['joule-test', 1, sender, 7, 1000, new Uint8Array(0), new Uint8Array(64), null]), 'tx', ErrorCode.CODEC_WRONG_TYPE],
    ['not an array', () => encode(5), 'tx', ErrorCode.CODEC_WRONG_TYPE],
    ['chainId as number', () => wireWith(0, 1), 'tx.chainId', ErrorCode.CODEC_WRONG_TYPE],
    ['chainId too long', () => wireWith(0, 'c'.repeat(65)), 'tx.chainId', ErrorCode.CODEC_WRONG_TYPE],
    ['type as string', () => wireWith(1, '1'), 'tx.type', ErrorCode.CODEC_WRONG_TYPE],
    ['sender of 31 bytes', () => wireWith(2, new Uint8Array(31)), 'tx.sender', ErrorCode.CODEC_WRONG_TYPE],
    ['sender as string', () => wireWith(2, 'alice'), 'tx.sender', ErrorCode.CODEC_WRONG_TYPE],
    ['nonce as string', () => wireWith(3, '7'), 'tx.nonce', ErrorCode.CODEC_WRONG_TYPE],
    ['nonce negative', () => wireWith(3, -1), 'tx.nonce', ErrorCode.CODEC_WRONG_TYPE],
    ['nonce above 2^53', () => wireWith(3, 2n ** 60n), 'tx.nonce', ErrorCode.CODEC_WRONG_TYPE],
    ['fee negative', () => wireWith(4, -5), 'tx.fee', ErrorCode.CODEC_WRONG_TYPE],
    ['fee as bytes', () => wireWith(4, new Uint8Array(8)), 'tx.fee', ErrorCode.CODEC_WRONG_TYPE],
    ['body as array', () => wireWith(5, [1, 2]), 'tx.body', ErrorCode.CODEC_WRONG_TYPE],
    ['signature of 63 bytes', () => wireWith(6, new Uint8Array(63)), 'tx.signature', ErrorCode.CODEC_WRONG_TYPE],
    ['signature null', () => wireWith(6, null), 'tx.signature', ErrorCode.CODEC_WRONG_TYPE],
    [
      'non-canonical nonce (uint16 for 7)',
      () => {
        const b = signTx(unsigned(), seed).bytes;
        const i = 1 + encode('joule-test').length + 1 + 34; // array header, chainId, type, bin8 sender
        if (b[i] !== 0x07) throw new Error('nonce not where expected');
        return new Uint8Array([...b.subarray(0, i), 0xcd, 0x00, 0x07, ...b.subarray(i + 1)]);
      },
      'tx',
      ErrorCode.CODEC_NON_CANONICAL,
    ],
    ['garbage', () => new Uint8Array([0xc1, 0xff, 0x00]), 'tx', 'codec'],
    ['truncated', () => signTx(unsigned(), seed).bytes.subarray(0, 50), 'tx', ErrorCode.CODEC_MALFORMED],
  ])('decodeTx rejects %s naming %s', (_name, bytes, field, code) => {
    const e = errorOf(() => decodeTx(bytes()));
    if (code === 'codec') expect(e.code.startsWith('CODEC_')).toBe(true);
    else expect(e.code).toBe(code);
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
  });

  it('random and mutated bytes: decodeTx throws only JouleErrors', () => {
    const good = signTx(unsigned(), seed).bytes;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
            const b = new Uint8Array(good);
            b[at % b.length] = byte;
            return b;
          }),
        ),
        (b) => {
          try {
            const tx = decodeTx(b);
            expect(toHex(encodeTx(tx))).toBe(toHex(b));
          } catch (e) {
            expect(e).toBeInstanceOf(JouleError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
