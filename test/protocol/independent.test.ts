import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32 } from '@scure/base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode as coreEncode, type Encodable } from '../../core/codec.ts';
import { BODIES, CERTIFICATE, CORES, canonicalEncode, ENVELOPE, fromFields, HEADER, PAYLOADS, TYPE_IDS, type Value } from './independent-encoder.ts';
import { fromNotation, hex, unhex } from './notation.ts';
import type { KeyVector } from './vector-keys.ts';
import { type ProtocolVectors, VECTORS_FILE } from './vectors.ts';

/**
 * An integrator's view: every vector rebuilt from its JSON fields with the encoder and
 * layouts of docs/protocol.md (independent-encoder.ts) and standard libraries for the
 * cryptography (@noble/curves, @noble/hashes, @scure/base: not what core/ signs with),
 * never with core/. The only use of core/ is the reference side of the random comparison.
 */

const file = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', VECTORS_FILE), 'utf8')) as ProtocolVectors;
const chainId = file.context.chainId;
const keyNamed = (name: string): KeyVector => file.keys.find((k) => k.name === name)!;
const enc = (v: Value): string => hex(canonicalEncode(v));
const text = (s: string) => new TextEncoder().encode(s);

/** The ciphersuite of docs/protocol.md: BLS12-381, keys in G1, signatures in G2, the proof-of-possession scheme's DST. */
const bls = bls12_381.longSignatures;
const BLS_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
const blsSign = (secret: Uint8Array, message: Uint8Array) => bls.sign(bls.hash(message, BLS_DST), secret).toBytes(true);

const addressOf = (publicKey: Uint8Array) => sha256(publicKey).subarray(0, 20);
const bech32Address = (address: Uint8Array) => bech32.encode('joule', bech32.toWords(address));

describe('the canonical encoding as documented', () => {
  it('writes every encoding vector', () => {
    for (const v of file.encoding.valid) expect(enc(fromNotation(v.value) as Value), v.name).toBe(v.encoded);
  });

  const LONE_SURROGATE = /\p{Cs}/u;
  const value: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
      fc.bigInt({ min: -70_000n, max: 70_000n }),
      fc.constantFrom(
        0n,
        127n,
        128n,
        255n,
        256n,
        65_535n,
        65_536n,
        2n ** 32n - 1n,
        2n ** 32n,
        2n ** 63n - 1n,
        2n ** 63n,
        -32n,
        -33n,
        -128n,
        -129n,
        -(2n ** 31n),
        -(2n ** 31n) - 1n,
      ),
      fc.string({ unit: 'grapheme', maxLength: 120 }),
      fc.string({ unit: 'binary', maxLength: 300 }).filter((s) => !LONE_SURROGATE.test(s)),
      fc.uint8Array({ maxLength: 300 }),
      fc.array(tie('v'), { maxLength: 20 }),
    ),
  })).v;

  it('agrees with core/codec.ts on random values', () => {
    fc.assert(
      fc.property(value, (v) => enc(v) === hex(coreEncode(v as Encodable))),
      { numRuns: 3000 },
    );
  });

  it('agrees with core/codec.ts on 16- and 32-bit lengths', () => {
    for (const n of [65_535, 65_536]) {
      const cases: Value[] = ['a'.repeat(n), new Uint8Array(n), new Array<Value>(n).fill(0n)];
      for (const v of cases) expect(enc(v)).toBe(hex(coreEncode(v as Encodable)));
    }
  });
});

describe('keys and addresses', () => {
  for (const k of file.keys) {
    it(k.name, () => {
      const seed = unhex(k.ed25519Seed);
      expect(hex(sha256(text(`joule-protocol-vectors/ed25519/${k.name}`)))).toBe(k.ed25519Seed);
      expect(hex(ed25519.getPublicKey(seed))).toBe(k.ed25519PublicKey);
      expect(hex(addressOf(unhex(k.ed25519PublicKey)))).toBe(k.address);
      expect(bech32Address(unhex(k.address))).toBe(k.addressBech32);
      if (k.blsSecretKey === undefined) return;
      const secret = sha256(text(`joule-protocol-vectors/bls/${k.name}`));
      secret[0] = 0x11;
      expect(hex(secret)).toBe(k.blsSecretKey);
      expect(hex(bls.getPublicKey(secret).toBytes(true))).toBe(k.blsPublicKey);
      const payload = canonicalEncode(['JOULE/bls-pop/v1', chainId, unhex(k.blsPublicKey!), unhex(k.ed25519PublicKey)]);
      expect(hex(payload)).toBe(k.proofOfPossession!.payload);
      expect(hex(blsSign(secret, payload))).toBe(k.proofOfPossession!.signature);
    });
  }
});

describe('device keys and their proofs of possession (bound to the chain only: an empty identity field)', () => {
  for (const k of file.deviceKeys) {
    it(k.name, () => {
      const secret = sha256(text(`joule-protocol-vectors/device-bls/${k.name}`));
      secret[0] = 0x11;
      expect(hex(secret)).toBe(k.blsSecretKey);
      expect(hex(bls.getPublicKey(secret).toBytes(true))).toBe(k.blsPublicKey);
      const payload = canonicalEncode(['JOULE/bls-pop/v1', chainId, unhex(k.blsPublicKey), new Uint8Array(0)]);
      expect(hex(payload)).toBe(k.proofOfPossession.payload);
      expect(hex(blsSign(secret, payload))).toBe(k.proofOfPossession.signature);
    });
  }
});

describe('valid transactions rebuilt from their fields', () => {
  for (const v of file.transactions.valid) {
    it(v.name, () => {
      const f = v.fields;
      expect(TYPE_IDS[v.typeName]).toBe(f.type);
      const body = canonicalEncode(fromFields(f.body, BODIES[v.typeName]!, 'body'));
      expect(hex(body)).toBe(v.encodedBody);
      const unsigned = fromFields({ ...f, body: hex(body) }, PAYLOADS['JOULE/tx/v1']!);
      const payload = canonicalEncode(['JOULE/tx/v1', f.chainId, ...unsigned]);
      expect(hex(payload)).toBe(v.signingPayload);
      const signature = ed25519.sign(payload, unhex(keyNamed(v.signer).ed25519Seed));
      expect(hex(signature)).toBe(v.signature);
      const tx = canonicalEncode(fromFields({ ...f, body: hex(body), signature: hex(signature) }, ENVELOPE));
      expect(hex(tx)).toBe(v.encodedTx);
      expect(hex(sha256(tx))).toBe(v.txHash);
      expect(bech32Address(addressOf(unhex(f.sender)))).toBe(v.from);
    });
  }
});

describe('signed payloads rebuilt from their fields', () => {
  for (const v of file.signing) {
    it(v.name, () => {
      const layout = PAYLOADS[v.domain];
      expect(layout, `a payload layout for ${v.domain}`).toBeDefined();
      const payload = canonicalEncode([v.domain, chainId, ...fromFields(v.fields, layout!)]);
      expect(hex(payload)).toBe(v.payload);
      expect(enc(fromNotation(v.value) as Value)).toBe(v.payload);
      const signer = keyNamed(v.signer);
      const signature = v.scheme === 'ed25519' ? ed25519.sign(payload, unhex(signer.ed25519Seed)) : blsSign(unhex(signer.blsSecretKey!), payload);
      expect(hex(signature)).toBe(v.signature);
      if (v.encoded === undefined) return;
      const kind = Number(v.fields!.kind);
      expect(enc(fromFields(v.fields, CORES[kind]!))).toBe(v.encoded);
    });
  }
});

/** A reading's signing bytes from the layout docs/protocol.md gives (not core/telemetry.ts). */
function telemetryBytes(chain: string, deviceId: string, timestampUs: bigint, netEnergyWh: bigint): Uint8Array {
  const parts = [text('JOULE/telemetry/v1'), text(chain), text(deviceId)];
  const out = Buffer.alloc(parts.reduce((n, p) => n + 2 + p.length, 0) + 16);
  let o = 0;
  for (const p of parts) {
    out.writeUInt16BE(p.length, o);
    out.set(p, o + 2);
    o += 2 + p.length;
  }
  out.writeBigInt64BE(timestampUs, o);
  out.writeBigInt64BE(netEnergyWh, o + 8);
  return new Uint8Array(out);
}

describe('telemetry: readings signed from the documented layout with @noble/curves', () => {
  const deviceSecret = (name: string) => unhex(file.deviceKeys.find((k) => k.name === name)!.blsSecretKey);

  for (const v of file.telemetry) {
    it(`${v.name}: the bytes and the device's signature`, () => {
      const bytes = telemetryBytes(v.chainId, v.deviceId, BigInt(v.timestampUs), BigInt(v.netEnergyWh));
      expect(hex(bytes)).toBe(v.payload);
      expect(hex(blsSign(deviceSecret(v.signer), bytes))).toBe(v.signature);
    });
  }

  it("the valid telemetry batch's signature is the aggregate of its device's signatures of each reading", () => {
    const batch = file.transactions.valid.find((v) => v.typeName === 'telemetry-batch')!;
    const body = batch.fields.body as { readings: { deviceId: string; timestampUs: string; netEnergyWh: string }[]; signature: string };
    const device = file.context.devices.find((d) => d.id === body.readings[0]!.deviceId)!;
    const sigs = body.readings.map((r) =>
      bls.sign(bls.hash(telemetryBytes(chainId, r.deviceId, BigInt(r.timestampUs), BigInt(r.netEnergyWh)), BLS_DST), deviceSecret(device.key)),
    );
    expect(hex(bls.aggregateSignatures(sigs).toBytes(true))).toBe(body.signature);
  });
});

describe('blocks, certificates and hashes', () => {
  // The validator set sorted by address (bytewise; lowercase hex of equal length sorts the same).
  const validators = file.context.validators.map(keyNamed).sort((a, b) => (a.address < b.address ? -1 : 1));

  it('headers encode from their fields and hash to their block hash', () => {
    for (const v of file.headers) {
      const encoded = canonicalEncode(fromFields(v.fields, HEADER));
      expect(hex(encoded), v.name).toBe(v.encoded);
      expect(hex(sha256(encoded)), v.name).toBe(v.hash);
    }
  });

  it('certificates encode from their fields; their signers sealed the block at its height and round', () => {
    for (const v of file.certificates) {
      const f = v.fields as { height: number; round: number; blockHash: string; aggregateSignature: string; signers: string };
      expect(enc(fromFields(f, CERTIFICATE))).toBe(v.encoded);
      const seal = canonicalEncode(['JOULE/qbft/commit-seal/v2', chainId, BigInt(f.height), BigInt(f.round), unhex(f.blockHash)]);
      expect(hex(seal)).toBe(v.sealPayload);
      const bitmap = unhex(f.signers);
      expect(bitmap.length).toBe(Math.ceil(validators.length / 8));
      // Bit i (byte i >> 3, bit i & 7 counted from the least significant) = validator i.
      const signers = validators.filter((_, i) => (bitmap[i >> 3]! >> (i & 7)) & 1);
      expect(signers.map((k) => k.name).sort()).toEqual([...v.signerNames].sort());
      const aggregateKey = bls.aggregatePublicKeys(signers.map((k) => unhex(k.blsPublicKey!)));
      expect(bls.verify(unhex(f.aggregateSignature), bls.hash(seal, BLS_DST), aggregateKey)).toBe(true);
    }
  });

  it('every hash vector follows its documented rule', () => {
    const txNamed = (name: string) => file.transactions.valid.find((t) => t.name === name)!;
    const add = txNamed('validator-vote-add').fields.body as Record<string, string | number>;
    const rules: Record<string, () => Value | Uint8Array> = {
      'validator-set-hash': () => validators.map((k) => [k.name, unhex(k.address), unhex(k.ed25519PublicKey), unhex(k.blsPublicKey!)]),
      'validator-vote-proposal-id': () => [BigInt(add.action!), add.name as string, unhex(add.identityKey as string), unhex(add.blsKey as string)],
      // The evidence body is hashed as it is: its bytes are already canonical.
      'evidence-id': () => unhex(txNamed('evidence').encodedBody),
      'energy-utxo-minted-id': () => [
        'JOULE/energy-utxo/mint/v1',
        file.context.energyUtxos[0]!.provenance.deviceId,
        BigInt(file.context.energyUtxos[0]!.provenance.intervalStartMs),
      ],
      'energy-utxo-output-id': () => ['JOULE/energy-utxo/output/v1', unhex(txNamed('energy-transfer').txHash), 0n],
      'certificate-id': () => ['JOULE/certificate/v1', unhex(txNamed('energy-retire').txHash)],
      // The command of the valid command-anchor, issued by its sender (an address: the first 20 bytes of sha256 of its key).
      'command-hash': () => {
        const t = txNamed('command-anchor');
        const issuer = sha256(unhex(t.fields.sender as string)).slice(0, 20);
        return ['JOULE/grid-command/v1', t.fields.chainId as string, issuer, ...fromFields(t.fields.body, BODIES['command-anchor']!)];
      },
    };
    for (const v of file.hashes) {
      const rule = rules[v.name];
      expect(rule, `an independent rule for hash vector ${v.name}`).toBeDefined();
      const built = rule!();
      const encoded = built instanceof Uint8Array ? built : canonicalEncode(built);
      expect(hex(encoded), v.name).toBe(v.encoded);
      expect(hex(sha256(encoded)), v.name).toBe(v.hash);
    }
  });

  it('Merkle roots: tagged leaves and nodes, an odd node moved up', () => {
    const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
    const root = (items: Uint8Array[]): Uint8Array => {
      if (items.length === 0) return new Uint8Array(32);
      let level: Uint8Array[] = items.map((x) => sha256(concat(Uint8Array.of(0), x)));
      while (level.length > 1) {
        const next: Uint8Array[] = [];
        for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? sha256(concat(Uint8Array.of(1), level[i]!, level[i + 1]!)) : level[i]!);
        level = next;
      }
      return level[0]!;
    };
    for (const v of file.merkleRoots) expect(hex(root(v.leaves.map(unhex))), v.name).toBe(v.root);
    const block2 = file.headers.find((h) => h.name === 'block-2')!;
    const threeTransfers = file.transactions.valid.slice(0, 3).map((t) => sha256(unhex(t.encodedTx)));
    expect(hex(root(threeTransfers))).toBe(block2.fields.txRoot);
  });
});
