import { describe, expect, it } from 'vitest';
import { commitSealBytes } from '../core/block.ts';
import { encode } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { blsAggregateSignatures } from '../core/keys.ts';
import { ValidatorSet, bitmapFromIndexes } from '../core/validators.ts';
import { aggregateCertificate, verifyCertificate } from './certificate.ts';
import { decodeEvidence, encodeEvidence, makeEvidence } from '../core/evidence.ts';
import { verifyEvidence } from './evidence.ts';
import { decodeMessage, encodeMessage, messageToWire, type ConsensusMessage } from './messages.ts';
import { messageSigningBytes, type Unsigned } from '../core/signed-core.ts';
import { proposerIndex } from './proposer.ts';
import { CHAIN_ID, testBlock, testValidators } from './testing/fixtures.ts';
import { defaultBlockDigest } from './types.ts';
import { decodeWalRecord, encodeWalRecord } from './wal-record.ts';

const { keys, set } = testValidators(4);
const addr = (i: number) => keys[i]!.validator.address;
const sign = (i: number, m: Unsigned<ConsensusMessage>): ConsensusMessage =>
  ({ ...m, signature: keys[i]!.signer.sign(messageSigningBytes(CHAIN_ID, m)) }) as ConsensusMessage;
const block = testBlock(1, null, addr(0), 0, 0, set.hash);
const digest = defaultBlockDigest(block);
const prepare = (i: number, round = 0, d = digest) => sign(i, { kind: 1, height: 1, round, author: addr(i), digest: d });
const seal = (i: number, d = digest) => keys[i]!.signer.blsSign(commitSealBytes(CHAIN_ID, 1, 0, d));

describe('message encoding', () => {
  const proposal = sign(0, { kind: 0, height: 1, round: 0, author: addr(0), digest, block, justification: null });
  const rc = sign(2, {
    kind: 3,
    height: 1,
    round: 2,
    author: addr(2),
    preparedRound: 1,
    preparedDigest: digest,
    prepared: { block, votes: [prepare(1, 1), prepare(3, 1)] as never },
  });
  const all: ConsensusMessage[] = [
    proposal,
    prepare(1),
    sign(2, { kind: 2, height: 1, round: 0, author: addr(2), digest, seal: seal(2) }),
    rc,
    sign(1, {
      kind: 0,
      height: 1,
      round: 2,
      author: addr(1),
      digest,
      block,
      justification: { roundChanges: [{ ...rc, prepared: null }] as never, votes: [prepare(1, 1)] as never },
    }),
  ];

  it('round-trips every kind canonically', () => {
    for (const m of all) {
      const b = encodeMessage(m);
      expect(encodeMessage(decodeMessage(b))).toEqual(b);
    }
  });

  it('rejects malformed input with typed errors', () => {
    const bad: unknown[][] = [
      [9, 1, 0, addr(0), digest, new Uint8Array(64)], // unknown kind
      [1, 1, 0, addr(0), digest], // missing signature
      [1, 1, 0, addr(0).subarray(1), digest, new Uint8Array(64)], // short author
      [1, 1, 0, addr(0), digest, new Uint8Array(63)], // short signature
      [3, 1, 1, addr(0), 1, digest, new Uint8Array(64), null], // prepared round not below round
      [3, 1, 2, addr(0), 1, null, new Uint8Array(64), null], // half a prepared claim
      [3, 1, 2, addr(0), 1, digest, new Uint8Array(64), null], // prepared claim without certificate
      [0, 1, 0, addr(0), digest, new Uint8Array(64), block, [[prepare(1)].map((m) => messageToWire(m)), []]], // a PREPARE where a ROUND-CHANGE belongs
      [1, -1, 0, addr(0), digest, new Uint8Array(64)], // negative height
    ];
    for (const wire of bad) {
      expect(() => decodeMessage(encode(wire as never))).toThrow(JouleError);
    }
    for (const garbage of [new Uint8Array(0), new Uint8Array([0xc1]), new Uint8Array([0x92, 0x01])]) {
      expect(() => decodeMessage(garbage)).toThrow(JouleError);
    }
    expect(() => decodeMessage(new Uint8Array(100), 50)).toThrow(/exceeds/);
    // Non-canonical: a float where an integer belongs.
    expect(() => decodeMessage(new Uint8Array([0x96, 0x01, 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]))).toThrow(JouleError);
  });

  it('WAL records round-trip, with the validator set they were written under and without it (records of older nodes)', () => {
    for (const r of [
      { type: 'signed', message: all[3]! } as const,
      { type: 'signed', message: all[3]!, validatorSetHash: set.hash } as const,
      { type: 'prepared', height: 1, round: 0, digest, block, votes: [prepare(1), prepare(2)] as never } as const,
      { type: 'prepared', height: 1, round: 0, digest, block, votes: [prepare(1), prepare(2)] as never, validatorSetHash: set.hash } as const,
    ]) {
      const back = decodeWalRecord(encodeWalRecord(r));
      expect(encodeWalRecord(back)).toEqual(encodeWalRecord(r));
      expect(back.validatorSetHash).toEqual(r.validatorSetHash);
    }
    expect(() => decodeWalRecord(encode([7]))).toThrow(JouleError);
    expect(() => decodeWalRecord(encode([0, messageToWire(all[3]!), new Uint8Array(31)]))).toThrow(JouleError);
  });
});

describe('proposer rotation', () => {
  it('is round robin from the previous proposer, and continues after a removed one', () => {
    expect([0, 1, 2, 3, 4].map((r) => proposerIndex(set, null, r))).toEqual([0, 1, 2, 3, 0]);
    expect([0, 1, 2].map((r) => proposerIndex(set, addr(1), r))).toEqual([2, 3, 0]);
    expect(proposerIndex(set, addr(3), 0)).toBe(0);
    // Remove validator 2: after it, rotation continues from the next address (old index 3).
    const smaller = new ValidatorSet([0, 1, 3].map((i) => keys[i]!.validator));
    expect(smaller.at(proposerIndex(smaller, addr(2), 0)).address).toEqual(addr(3));
    expect(smaller.at(proposerIndex(smaller, addr(2), 1)).address).toEqual(addr(0));
  });
});

describe('commit certificates', () => {
  const seals = [0, 1, 2].map((i) => ({ index: i, seal: seal(i) }));

  it('one aggregate signature and a bitmap verify for a quorum', () => {
    const cert = aggregateCertificate(CHAIN_ID, set, 1, 0, digest, seals)!;
    expect(cert).not.toBeNull();
    expect(verifyCertificate(cert, set, CHAIN_ID)).toBe(true);
    expect(verifyCertificate(cert, set, 'other-chain')).toBeInstanceOf(JouleError);
    expect(verifyCertificate({ ...cert, height: 2 }, set, CHAIN_ID)).toBeInstanceOf(JouleError);
    expect(verifyCertificate({ ...cert, blockHash: defaultBlockDigest(testBlock(1, null, addr(1), 5, 0, set.hash)) }, set, CHAIN_ID)).toBeInstanceOf(
      JouleError,
    );
  });

  it('a single bad seal rejects the certificate', () => {
    const other = defaultBlockDigest(testBlock(1, null, addr(1), 5, 0, set.hash));
    const badSeals = [seals[0]!, seals[1]!, { index: 2, seal: seal(2, other) }];
    expect(aggregateCertificate(CHAIN_ID, set, 1, 0, digest, badSeals)).toBeNull();
    const forged = {
      height: 1,
      round: 0,
      blockHash: digest,
      aggregateSignature: blsAggregateSignatures(badSeals.map((s) => s.seal)),
      signers: bitmapFromIndexes(4, [0, 1, 2]),
    };
    const r = verifyCertificate(forged, set, CHAIN_ID);
    expect(r).toBeInstanceOf(JouleError);
    expect((r as JouleError).code).toBe(ErrorCode.CERT_INVALID);
    // A seal attributed to the wrong signer fails too.
    const swapped = { ...forged, aggregateSignature: blsAggregateSignatures([seal(0), seal(1), seal(3)]) };
    expect(verifyCertificate(swapped, set, CHAIN_ID)).toBeInstanceOf(JouleError);
  });

  it('rejects fewer signers than a quorum and malformed bitmaps', () => {
    const cert = aggregateCertificate(CHAIN_ID, set, 1, 0, digest, seals.slice(0, 2));
    expect(cert).toBeNull();
    const good = aggregateCertificate(CHAIN_ID, set, 1, 0, digest, seals)!;
    expect(verifyCertificate({ ...good, signers: new Uint8Array([0b111, 0]) }, set, CHAIN_ID)).toBeInstanceOf(JouleError);
    expect(verifyCertificate({ ...good, signers: new Uint8Array([0b10111]) }, set, CHAIN_ID)).toBeInstanceOf(JouleError);
  });
});

describe('evidence', () => {
  const other = defaultBlockDigest(testBlock(1, null, addr(1), 9, 0, set.hash));
  const e = makeEvidence(prepare(1) as never, prepare(1, 0, other) as never);

  it('verifies, encodes canonically and round-trips', () => {
    expect(verifyEvidence(e, set, CHAIN_ID)).toBe(true);
    expect(encodeEvidence(decodeEvidence(encodeEvidence(e)))).toEqual(encodeEvidence(e));
    expect(encodeEvidence(makeEvidence(e.second, e.first))).toEqual(encodeEvidence(e));
    expect(() => decodeEvidence(encode([messageToWire(e.second as never), messageToWire(e.first as never)]))).toThrow(JouleError);
  });

  it('rejects non-equivocation', () => {
    expect(verifyEvidence({ first: prepare(1) as never, second: prepare(1) as never }, set, CHAIN_ID)).toBeInstanceOf(JouleError);
    expect(verifyEvidence(makeEvidence(prepare(1) as never, prepare(2, 0, other) as never), set, CHAIN_ID)).toBeInstanceOf(JouleError);
    expect(verifyEvidence(makeEvidence(prepare(1) as never, prepare(1, 1, other) as never), set, CHAIN_ID)).toBeInstanceOf(JouleError);
    const forged = { ...e, second: { ...e.second, signature: e.first.signature } };
    expect(verifyEvidence(forged, set, CHAIN_ID)).toBeInstanceOf(JouleError);
    const outsiders = testValidators(4, 'x').set;
    expect((verifyEvidence(e, outsiders, CHAIN_ID) as JouleError).code).toBe(ErrorCode.CONSENSUS_NOT_VALIDATOR);
    expect(verifyEvidence(e, set, 'other-chain')).toBeInstanceOf(JouleError);
  });
});
