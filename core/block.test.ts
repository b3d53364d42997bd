import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blockHash,
  commitSealBytes,
  decodeBlock,
  decodeCertificate,
  decodeReceipt,
  encodeBlock,
  encodeCertificate,
  encodeHeader,
  encodeReceipt,
  headerFromWire,
  headerToWire,
  type BlockHeader,
  type CommitCertificate,
  type Receipt,
} from './block.ts';
import { concatBytes, toHex, utf8 } from './bytes.ts';
import { decode, encode, type Encodable } from './codec.ts';
import { Domain } from './domain.ts';
import { ErrorCode } from './errors.ts';
import { sha256, ZERO_HASH } from './hash.ts';
import { merkleRoot } from './merkle.ts';
import { errorOf } from './testing/errors.ts';

const h32 = (n: number): Uint8Array => new Uint8Array(32).fill(n);

const cert: CommitCertificate = {
  height: 9,
  round: 1,
  blockHash: h32(9),
  aggregateSignature: new Uint8Array(96).fill(0xaa),
  signers: new Uint8Array([0b1011]),
};

const header: BlockHeader = {
  chainId: 'joule-test',
  height: 10,
  round: 2,
  parentHash: h32(1),
  timestamp: 1_700_000_000_123,
  proposer: new Uint8Array(20).fill(2),
  txRoot: h32(3),
  stateRoot: h32(4),
  receiptsRoot: h32(5),
  validatorSetHash: h32(6),
  txCount: 2,
  parentCertificate: cert,
};

const receipt: Receipt = {
  txHash: h32(7),
  success: false,
  code: 'TX_INSUFFICIENT_BALANCE',
  feePaid: 2n ** 60n,
  events: [
    {
      type: 'transfer',
      attributes: [
        ['from', 'joule1abc'],
        ['amount', '5'],
      ],
    },
    { type: 'empty', attributes: [] },
  ],
};

const bytesArb = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const certArb: fc.Arbitrary<CommitCertificate> = fc.record({
  height: fc.maxSafeNat(),
  round: fc.nat(),
  blockHash: bytesArb(32),
  aggregateSignature: bytesArb(96),
  signers: fc.uint8Array({ maxLength: 16 }),
});
const headerArb: fc.Arbitrary<BlockHeader> = fc.record({
  chainId: fc.string({ maxLength: 64 }),
  height: fc.maxSafeNat(),
  round: fc.nat(),
  parentHash: bytesArb(32),
  timestamp: fc.maxSafeNat(),
  proposer: bytesArb(20),
  txRoot: bytesArb(32),
  stateRoot: bytesArb(32),
  receiptsRoot: bytesArb(32),
  validatorSetHash: bytesArb(32),
  txCount: fc.nat(),
  parentCertificate: fc.option(certArb, { nil: null }),
});
const receiptArb: fc.Arbitrary<Receipt> = fc.record({
  txHash: bytesArb(32),
  success: fc.boolean(),
  code: fc.string({ maxLength: 40 }),
  feePaid: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  events: fc.array(
    fc.record({
      type: fc.string({ maxLength: 30 }),
      attributes: fc.array(fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 100 })), { maxLength: 4 }),
    }),
    { maxLength: 4 },
  ),
});

describe('encode/decode round trips', () => {
  it('certificate', () => {
    fc.assert(
      fc.property(certArb, (c) => {
        const b = encodeCertificate(c);
        const d = decodeCertificate(b);
        expect(d).toEqual(c);
        expect(toHex(encodeCertificate(d))).toBe(toHex(b));
      }),
      { numRuns: 100 },
    );
  });

  it('header (with and without parent certificate) and block', () => {
    fc.assert(
      fc.property(headerArb, fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 5 }), (h, txs) => {
        expect(headerFromWire(decode(encodeHeader(h)))).toEqual(h);
        const b = encodeBlock({ header: h, txs });
        const d = decodeBlock(b);
        expect(d.header).toEqual(h);
        expect(d.txs).toEqual(txs);
        expect(toHex(encodeBlock(d))).toBe(toHex(b));
        expect(toHex(blockHash(d.header))).toBe(toHex(blockHash(h)));
      }),
      { numRuns: 150 },
    );
  });

  it('receipt', () => {
    fc.assert(
      fc.property(receiptArb, (r) => {
        const b = encodeReceipt(r);
        const d = decodeReceipt(b);
        expect(d).toEqual(r);
        expect(toHex(encodeReceipt(d))).toBe(toHex(b));
      }),
      { numRuns: 150 },
    );
    expect(decodeReceipt(encodeReceipt(receipt))).toEqual(receipt);
  });
});

describe('blockHash', () => {
  it('is sha256 of the encoded header, and stable', () => {
    expect(toHex(blockHash(header))).toBe(toHex(sha256(encodeHeader(header))));
    expect(toHex(blockHash({ ...header }))).toBe(toHex(blockHash(header)));
    expect(toHex(blockHash(headerFromWire(decode(encodeHeader(header)))))).toBe(toHex(blockHash(header)));
  });

  it('is sensitive to every header field, including each parent-certificate field', () => {
    const variants: [string, BlockHeader][] = [
      ['chainId', { ...header, chainId: 'joule-tesu' }],
      ['height', { ...header, height: 11 }],
      ['round', { ...header, round: 3 }],
      ['parentHash', { ...header, parentHash: h32(0x11) }],
      ['timestamp', { ...header, timestamp: header.timestamp + 1 }],
      ['proposer', { ...header, proposer: new Uint8Array(20).fill(0x12) }],
      ['txRoot', { ...header, txRoot: h32(0x13) }],
      ['stateRoot', { ...header, stateRoot: h32(0x14) }],
      ['receiptsRoot', { ...header, receiptsRoot: h32(0x15) }],
      ['validatorSetHash', { ...header, validatorSetHash: h32(0x16) }],
      ['txCount', { ...header, txCount: 3 }],
      ['parentCertificate=null', { ...header, parentCertificate: null }],
      ['cert.height', { ...header, parentCertificate: { ...cert, height: 8 } }],
      ['cert.round', { ...header, parentCertificate: { ...cert, round: 0 } }],
      ['cert.blockHash', { ...header, parentCertificate: { ...cert, blockHash: h32(0x17) } }],
      ['cert.aggregateSignature', { ...header, parentCertificate: { ...cert, aggregateSignature: new Uint8Array(96).fill(0xab) } }],
      ['cert.signers', { ...header, parentCertificate: { ...cert, signers: new Uint8Array([0b0111]) } }],
    ];
    const base = toHex(blockHash(header));
    const seen = new Set([base]);
    for (const [name, h] of variants) {
      const x = toHex(blockHash(h));
      expect(x, name).not.toBe(base);
      seen.add(x);
    }
    expect(seen.size).toBe(variants.length + 1);
    // every field is covered by a variant
    expect(headerToWire(header).length).toBe(12);
  });

  it('a single flipped bit in any hashed byte field changes the hash', () => {
    const fields = ['parentHash', 'proposer', 'txRoot', 'stateRoot', 'receiptsRoot', 'validatorSetHash'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.nat(), (f, bit) => {
        const b = new Uint8Array(header[f]);
        b[(bit >> 3) % b.length]! ^= 1 << (bit & 7);
        expect(toHex(blockHash({ ...header, [f]: b }))).not.toBe(toHex(blockHash(header)));
      }),
      { numRuns: 100 },
    );
  });
});

describe('block and receipt decoding names the field it rejects', () => {
  const headerWire = headerToWire(header);
  const withHeaderField = (i: number, v: Encodable): Uint8Array => {
    const hw = [...headerWire];
    hw[i] = v;
    return encode([hw, []]);
  };
  it.each<[string, () => Uint8Array, string]>([
    ['block not a pair', () => encode([headerWire]), 'block'],
    ['header field count', () => encode([headerWire.slice(0, 10), []]), 'block.header'],
    ['header.chainId', () => withHeaderField(0, 5), 'block.header.chainId'],
    ['header.height', () => withHeaderField(1, -1), 'block.header.height'],
    ['header.round', () => withHeaderField(2, 'r'), 'block.header.round'],
    ['header.parentHash', () => withHeaderField(3, new Uint8Array(31)), 'block.header.parentHash'],
    ['header.timestamp', () => withHeaderField(4, '1'), 'block.header.timestamp'],
    ['header.proposer', () => withHeaderField(5, new Uint8Array(32)), 'block.header.proposer'],
    ['header.stateRoot', () => withHeaderField(7, null), 'block.header.stateRoot'],
    ['header.txCount', () => withHeaderField(10, true), 'block.header.txCount'],
    ['header.parentCertificate', () => withHeaderField(11, [1, 2]), 'block.header.parentCertificate'],
    [
      'header.parentCertificate.round',
      () => withHeaderField(11, [9, 'r', h32(9), new Uint8Array(96), new Uint8Array(1)]),
      'block.header.parentCertificate.round',
    ],
    [
      'header.parentCertificate.aggregateSignature',
      () => withHeaderField(11, [9, 0, h32(9), new Uint8Array(48), new Uint8Array(1)]),
      'block.header.parentCertificate.aggregateSignature',
    ],
    ['txs not an array', () => encode([headerWire, new Uint8Array(0)]), 'block.txs'],
    ['tx not bytes', () => encode([headerWire, [new Uint8Array(1), 'tx']]), 'block.txs[1]'],
  ])('%s', (_name, bytes, field) => {
    const e = errorOf(() => decodeBlock(bytes()));
    expect(e.code).toBe(ErrorCode.CODEC_WRONG_TYPE);
    expect(e.field).toBe(field);
  });

  it('oversize block -> BLOCK_INVALID; non-canonical block bytes -> CODEC_NON_CANONICAL', () => {
    const b = encodeBlock({ header, txs: [new Uint8Array(100)] });
    expect(errorOf(() => decodeBlock(b, b.length - 1)).code).toBe(ErrorCode.BLOCK_INVALID);
    expect(decodeBlock(b, b.length).txs.length).toBe(1);
    const longArray = new Uint8Array([0xdc, 0x00, 0x02, ...b.subarray(1)]); // array16 header for 2 elements
    const e = errorOf(() => decodeBlock(longArray));
    expect(e.code).toBe(ErrorCode.CODEC_NON_CANONICAL);
    expect(e.field).toBe('block');
  });

  it('receipt fields are named, down to event attributes', () => {
    const wire = (r: Receipt): Encodable[] => decode(encodeReceipt(r)) as Encodable[];
    const w = wire(receipt);
    expect(errorOf(() => decodeReceipt(encode([w[0]!, 'yes', ...w.slice(2)]))).field).toBe('receipt.success');
    expect(errorOf(() => decodeReceipt(encode([...w.slice(0, 3), -1, w[4]!]))).field).toBe('receipt.feePaid');
    expect(errorOf(() => decodeReceipt(encode([...w.slice(0, 4), [['transfer', [['from']]]]]))).field).toBe('receipt.events[0].attributes[0]');
    const badKey = errorOf(() =>
      decodeReceipt(
        encode([
          ...w.slice(0, 4),
          [
            [
              't',
              [
                ['k', 'v'],
                [1, 'v'],
              ],
            ],
          ],
        ]),
      ),
    );
    expect(badKey.code).toBe(ErrorCode.CODEC_WRONG_TYPE);
    expect(badKey.field).toBe('receipt.events[0].attributes[1].key');
    const badValue = errorOf(() => decodeReceipt(encode([...w.slice(0, 4), [['t', [['k', 5]]]]])));
    expect(badValue.field).toBe('receipt.events[0].attributes[0].value');
  });
});

describe('commit seal bytes', () => {
  it('carry the commit-seal domain tag, chain id, height, ROUND and block hash (a seal of one round is no seal of another)', () => {
    const hash = blockHash(header);
    expect(decode(commitSealBytes('joule-test', 10, 2, hash))).toEqual([Domain.commitSeal, 'joule-test', 10, 2, hash]);
    expect(toHex(commitSealBytes('joule-test', 10, 2, hash))).not.toBe(toHex(commitSealBytes('joule-tesu', 10, 2, hash)));
    expect(toHex(commitSealBytes('joule-test', 10, 2, hash))).not.toBe(toHex(commitSealBytes('joule-test', 11, 2, hash)));
    expect(toHex(commitSealBytes('joule-test', 10, 2, hash))).not.toBe(toHex(commitSealBytes('joule-test', 10, 3, hash)));
  });
});

describe('merkleRoot', () => {
  const items = ['a', 'b', 'c', 'd', 'e'].map(utf8);

  it('of [] is the zero hash; of one item is its domain-separated leaf hash', () => {
    expect(toHex(merkleRoot([]))).toBe(toHex(ZERO_HASH));
    expect(toHex(merkleRoot([items[0]!]))).toBe(toHex(sha256(concatBytes(new Uint8Array([0]), items[0]!))));
    expect(toHex(merkleRoot([items[0]!]))).not.toBe(toHex(sha256(items[0]!)));
  });

  it('matches the RFC 6962-shaped construction for small lists', () => {
    const leaf = (x: Uint8Array) => sha256(concatBytes(new Uint8Array([0]), x));
    const node = (l: Uint8Array, r: Uint8Array) => sha256(concatBytes(new Uint8Array([1]), l, r));
    const [a, b, c] = items.map(leaf);
    expect(toHex(merkleRoot(items.slice(0, 2)))).toBe(toHex(node(a!, b!)));
    expect(toHex(merkleRoot(items.slice(0, 3)))).toBe(toHex(node(node(a!, b!), c!)));
  });

  it('is order-sensitive and sensitive to every item, and deterministic', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.uint8Array({ maxLength: 16 }), { minLength: 2, maxLength: 12, selector: toHex }), fc.nat(), fc.nat(), (xs, i, j) => {
        const root = toHex(merkleRoot(xs));
        expect(toHex(merkleRoot([...xs]))).toBe(root);
        const a = i % xs.length;
        const b = (a + 1 + (j % (xs.length - 1))) % xs.length;
        const swapped = [...xs];
        [swapped[a], swapped[b]] = [swapped[b]!, swapped[a]!];
        expect(toHex(merkleRoot(swapped))).not.toBe(root);
        const changed: Uint8Array[] = [...xs];
        changed[a] = concatBytes(xs[a]!, new Uint8Array([0]));
        expect(toHex(merkleRoot(changed))).not.toBe(root);
        expect(toHex(merkleRoot(xs.slice(0, -1)))).not.toBe(root);
      }),
      { numRuns: 200 },
    );
  });

  it('an inner node cannot pass as a leaf (no second preimage by concatenation)', () => {
    const [a, b] = items;
    const la = sha256(concatBytes(new Uint8Array([0]), a!));
    const lb = sha256(concatBytes(new Uint8Array([0]), b!));
    expect(toHex(merkleRoot([concatBytes(la, lb)]))).not.toBe(toHex(merkleRoot([a!, b!])));
  });
});
