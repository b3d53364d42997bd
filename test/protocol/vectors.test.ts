import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certificateFromWire, commitSealBytes, headerFromWire } from '../../core/block.ts';
import { decode, encode, type Encodable } from '../../core/codec.ts';
import { decodeEvidence, encodeEvidence } from '../../core/evidence.ts';
import { sha256 } from '../../core/hash.ts';
import { addressFromPublicKey, blsFastAggregateVerify, blsVerify, ed25519Verify, formatAddress } from '../../core/keys.ts';
import { merkleRoot } from '../../core/merkle.ts';
import { verifyProofOfPossession } from '../../core/pop.ts';
import { coreFromWire, messageSigningBytes } from '../../core/signed-core.ts';
import { errorOf } from '../../core/testing/errors.ts';
import { decodeTransferBody, encodeTransferBody } from '../../core/tx/transfer.ts';
import { decodeValidatorVoteBody, encodeValidatorVoteBody } from '../../core/tx/validator-vote.ts';
import { decodeTx, encodeTx, txSigningBytes, verifyTxSignature } from '../../core/tx.ts';
import { indexesFromBitmap, ValidatorSet } from '../../core/validators.ts';
import { registeredTxTypes, txHandler } from '../../vm/registry.ts';
import { validateTx } from '../../vm/validity.ts';
import { fromNotation, hex, type Notation, toNotation, unhex, type Plain } from './notation.ts';
import { certificateFields, headerFields } from './signing-vectors.ts';
import { coreFields } from './valid-txs.ts';
import { DEVICE_BODY_CODECS } from './device-vectors.ts';
import { TELEMETRY_BODY_CODECS } from './telemetry-vectors.ts';
import { COMMAND_BODY_CODECS } from './command-vectors.ts';
import { ENERGY_BODY_CODECS } from './energy-vectors.ts';
import { MARKET_BODY_CODECS } from './market-vectors.ts';
import { AGREEMENT_BODY_CODECS } from './agreement-vectors.ts';
import { FLEX_BODY_CODECS } from './flex-vectors.ts';
import { REVERSAL_BODY_CODECS } from './reversal-vectors.ts';
import { vectorChain } from './vector-chain.ts';
import type { KeyVector } from './vector-keys.ts';
import { buildProtocolVectors, type ProtocolVectors, VECTORS_FILE, vectorsText } from './vectors.ts';

const text = readFileSync(join(import.meta.dirname, '..', '..', VECTORS_FILE), 'utf8');
const file = JSON.parse(text) as ProtocolVectors;
const keyNamed = (name: string): KeyVector => file.keys.find((k) => k.name === name)!;
const { state, chain } = vectorChain(file.context, file.keys, file.deviceKeys);
const decodedValue = (b: Uint8Array): Plain => decode(b) as Plain;

/**
 * Each tx type's body codec in core/, seen through the vector file's JSON fields: decode
 * the body into those fields, and encode them back. A registered type missing here fails
 * the coverage test below, so a new type cannot go without vectors.
 */
const BODY_CODECS: Record<string, { fields(body: Uint8Array): Record<string, unknown>; encode(body: Uint8Array): Uint8Array }> = {
  transfer: {
    fields: (b) => {
      const t = decodeTransferBody(b);
      return { to: hex(t.to), amount: t.amount.toString() };
    },
    encode: (b) => encodeTransferBody(decodeTransferBody(b)),
  },
  'validator-vote': {
    fields: (b) => {
      const v = decodeValidatorVoteBody(b);
      return { action: v.action, name: v.name, identityKey: hex(v.identityKey), blsKey: hex(v.blsKey), blsProofOfPossession: hex(v.blsProofOfPossession) };
    },
    encode: (b) => encodeValidatorVoteBody(decodeValidatorVoteBody(b)),
  },
  evidence: {
    fields: (b) => {
      const e = decodeEvidence(b);
      return { first: coreFields(e.first), second: coreFields(e.second) };
    },
    encode: (b) => encodeEvidence(decodeEvidence(b)),
  },
  ...DEVICE_BODY_CODECS,
  ...TELEMETRY_BODY_CODECS,
  ...COMMAND_BODY_CODECS,
  ...ENERGY_BODY_CODECS,
  ...MARKET_BODY_CODECS,
  ...AGREEMENT_BODY_CODECS,
  ...FLEX_BODY_CODECS,
  ...REVERSAL_BODY_CODECS,
};

describe(`${VECTORS_FILE}`, () => {
  it('is exactly what `npm run vectors` writes from the code today', () => {
    // A difference means the wire format or a rule changed: run `npm run vectors`, review the diff, update docs/protocol.md.
    expect(text).toBe(vectorsText(buildProtocolVectors()));
  });

  it('has a valid vector and a body codec for every registered tx type, and invalid vectors of every type', () => {
    const invalidTypes = file.transactions.invalid.filter((v) => v.rejectedBy === 'validateTx').map((v) => decodeTx(unhex(v.encodedTx)).type);
    for (const h of registeredTxTypes()) {
      expect(
        file.transactions.valid.some((v) => v.fields.type === h.type && v.typeName === h.name),
        h.name,
      ).toBe(true);
      expect(BODY_CODECS[h.name], h.name).toBeDefined();
      expect(invalidTypes, h.name).toContain(h.type);
    }
  });
});

describe('valid transactions: decoded, re-encoded, verified and admissible', () => {
  for (const v of file.transactions.valid) {
    it(v.name, () => {
      const bytes = unhex(v.encodedTx);
      const tx = decodeTx(bytes, chain.params.maxTxBytes);
      const signer = keyNamed(v.signer);
      expect({ chainId: tx.chainId, type: tx.type, sender: hex(tx.sender), nonce: tx.nonce, fee: tx.fee.toString() }).toEqual({ ...v.fields, body: undefined });
      expect(hex(tx.sender)).toBe(signer.ed25519PublicKey);
      expect(hex(tx.body)).toBe(v.encodedBody);
      expect(hex(tx.signature)).toBe(v.signature);
      expect(txHandler(tx.type)!.name).toBe(v.typeName);
      const codec = BODY_CODECS[v.typeName]!;
      expect(codec.fields(tx.body)).toEqual(v.fields.body);
      expect(hex(codec.encode(tx.body))).toBe(v.encodedBody);
      expect(hex(encodeTx(tx))).toBe(v.encodedTx);
      expect(hex(txSigningBytes(tx))).toBe(v.signingPayload);
      expect(verifyTxSignature(tx)).toBe(true);
      expect(hex(tx.hash)).toBe(v.txHash);
      expect(hex(sha256(bytes))).toBe(v.txHash);
      expect(formatAddress(tx.from)).toBe(v.from);
      expect(v.from).toBe(signer.addressBech32);
      expect(() => validateTx(state, tx, chain, { allowFutureNonce: true })).not.toThrow();
    });
  }
});

describe('invalid transactions: refused with the typed error the vector names', () => {
  for (const v of file.transactions.invalid) {
    it(`${v.name}: ${v.error.code} at ${v.error.field}`, () => {
      const bytes = unhex(v.encodedTx);
      if (v.rejectedBy === 'decodeTx') {
        const e = errorOf(() => decodeTx(bytes, chain.params.maxTxBytes));
        expect({ code: e.code, field: e.field }).toEqual(v.error);
        return;
      }
      const tx = decodeTx(bytes, chain.params.maxTxBytes);
      const e = errorOf(() => validateTx(state, tx, chain, { allowFutureNonce: true }));
      expect({ code: e.code, field: e.field }).toEqual(v.error);
    });
  }
});

describe('encodings', () => {
  it('every valid encoding decodes to its value and the value encodes to it', () => {
    for (const v of file.encoding.valid) {
      expect(toNotation(decodedValue(unhex(v.encoded))), v.name).toEqual(v.value);
      expect(hex(encode(fromNotation(v.value) as Encodable)), v.name).toBe(v.encoded);
    }
  });

  it('every rejected encoding is refused with its error code', () => {
    for (const v of file.encoding.rejected) expect(errorOf(() => decode(unhex(v.encoded))).code, v.name).toBe(v.error);
  });
});

describe('signed payloads', () => {
  for (const v of file.signing) {
    it(`${v.name} (${v.domain})`, () => {
      const payload = unhex(v.payload);
      const signer = keyNamed(v.signer);
      expect(hex(encode(fromNotation(v.value) as Encodable))).toBe(v.payload);
      expect(toNotation(decodedValue(payload))).toEqual(v.value);
      expect((v.value as { array: Notation[] }).array.slice(0, 2)).toEqual([{ str: v.domain }, { str: file.context.chainId }]);
      if (v.scheme === 'ed25519') expect(ed25519Verify(unhex(signer.ed25519PublicKey), payload, unhex(v.signature))).toBe(true);
      else expect(blsVerify(unhex(signer.blsPublicKey!), payload, unhex(v.signature))).toBe(true);
      if (v.encoded === undefined) return;
      const core = coreFromWire(decode(unhex(v.encoded)), 'message', [0, 1, 2, 3]);
      expect(coreFields(core)).toEqual(v.fields);
      expect(hex(messageSigningBytes(file.context.chainId, core))).toBe(v.payload);
      expect(hex(core.signature)).toBe(v.signature);
      if (core.kind === 2) {
        const seal = commitSealBytes(file.context.chainId, core.height, core.round, core.digest);
        expect(blsVerify(unhex(signer.blsPublicKey!), seal, core.seal)).toBe(true);
      }
    });
  }

  it('every key carries a proof of possession that verifies, and its address is SHA-256 of its public key', () => {
    for (const k of file.keys) {
      const publicKey = unhex(k.ed25519PublicKey);
      expect(hex(addressFromPublicKey(publicKey))).toBe(k.address);
      expect(formatAddress(unhex(k.address))).toBe(k.addressBech32);
      if (k.blsPublicKey === undefined) continue;
      expect(verifyProofOfPossession(file.context.chainId, unhex(k.blsPublicKey), publicKey, unhex(k.proofOfPossession!.signature))).toBe(true);
      expect(blsVerify(unhex(k.blsPublicKey), unhex(k.proofOfPossession!.payload), unhex(k.proofOfPossession!.signature))).toBe(true);
    }
  });
});

describe('headers, certificates and hashes', () => {
  const set = new ValidatorSet(
    file.context.validators
      .map(keyNamed)
      .map((k) => ({ name: k.name, address: unhex(k.address), identityKey: unhex(k.ed25519PublicKey), blsKey: unhex(k.blsPublicKey!) })),
  );

  it('every header decodes to its fields, and its hash is SHA-256 of its encoding', () => {
    for (const v of file.headers) {
      const header = headerFromWire(decode(unhex(v.encoded)));
      expect(headerFields(header), v.name).toEqual(v.fields);
      expect(hex(sha256(unhex(v.encoded))), v.name).toBe(v.hash);
      expect(v.fields.validatorSetHash).toBe(hex(set.hash));
    }
    const [one, two] = file.headers;
    expect((two!.fields.parentCertificate as { blockHash: string }).blockHash).toBe(one!.hash);
    expect(two!.fields.parentHash).toBe(one!.hash);
  });

  it("every certificate's aggregate signature verifies for its signers over the commit seal of its block and round", () => {
    for (const v of file.certificates) {
      const cert = certificateFromWire(decode(unhex(v.encoded)));
      expect(certificateFields(cert)).toEqual(v.fields);
      expect(hex(commitSealBytes(file.context.chainId, cert.height, cert.round, cert.blockHash))).toBe(v.sealPayload);
      const indexes = indexesFromBitmap(set.size, cert.signers)!;
      expect(indexes.map((i) => set.at(i).name).sort()).toEqual([...v.signerNames].sort());
      expect(indexes.length).toBeGreaterThanOrEqual(set.quorum);
      expect(
        blsFastAggregateVerify(
          unhex(v.sealPayload),
          indexes.map((i) => set.at(i).blsKey),
          cert.aggregateSignature,
        ),
      ).toBe(true);
    }
  });

  it('every hash is SHA-256 of the encoding of its value; every Merkle root is the tx root of its leaves', () => {
    for (const v of file.hashes) {
      expect(hex(encode(fromNotation(v.value) as Encodable)), v.name).toBe(v.encoded);
      expect(hex(sha256(unhex(v.encoded))), v.name).toBe(v.hash);
    }
    expect(file.hashes.find((h) => h.name === 'validator-set-hash')!.hash).toBe(hex(set.hash));
    for (const v of file.merkleRoots) expect(hex(merkleRoot(v.leaves.map(unhex))), v.name).toBe(v.root);
  });
});
