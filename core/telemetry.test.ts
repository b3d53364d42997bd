import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.ts';
import { decode, encode } from './codec.ts';
import { ErrorCode } from './errors.ts';
import { blsFromSecret, blsAggregateVerify, blsVerify } from './keys.ts';
import {
  checkReading,
  parseReadingJson,
  readingFromWire,
  readingSigningBytes,
  readingToJson,
  readingToWire,
  telemetrySigningBytes,
  type Reading,
} from './telemetry.ts';
import { errorOf } from './testing/errors.ts';

/** The worked example of README.md "Device telemetry": a device maker checks their C code against it. */
const EXAMPLE = {
  secretKey: '223e2190b824254f65f5e5e918c9301bdae44f3074ef4252aa491c246d4311c6',
  publicKey: '8405a20863421fea100d41921ad36dac609b7e575b8e97288cacb38b4b49c18665fec4f8eac713a1ce3c4c6108ce19ee',
  chainId: 'joule-devnet',
  deviceId: 'meter-0001',
  timestampUs: 1_700_000_000_000_000n,
  netEnergyWh: -1500n,
  bytes: '00124a4f554c452f74656c656d657472792f7631000c6a6f756c652d6465766e6574000a6d657465722d3030303100060a24181e4000fffffffffffffa24',
  signature:
    'b282e77bd73c1cfc70469e197f93e2448d2a7be23a9dab0a4e05288d7e599b17fd5a88e4e37f50945bdf4f85de95b4be16a3637ad3847bf0f343d319eac12bcf2a8de5f63232bc53aba6daf10196472bb575683caae4aa99849b32abcc2b7dfa',
};

const noble = bls12_381.longSignatures;
const DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
const nobleSign = (sk: Uint8Array, msg: Uint8Array) => noble.sign(noble.hash(msg, DST), sk).toBytes();

describe('telemetry signing bytes', () => {
  it('match the README worked example, byte for byte, and its signature verifies through blst', () => {
    const bytes = telemetrySigningBytes(EXAMPLE.chainId, EXAMPLE.deviceId, EXAMPLE.timestampUs, EXAMPLE.netEnergyWh);
    expect(toHex(bytes)).toBe(EXAMPLE.bytes);
    const sk = fromHex(EXAMPLE.secretKey);
    expect(toHex(blsFromSecret(sk).publicKey)).toBe(EXAMPLE.publicKey);
    expect(toHex(nobleSign(sk, bytes))).toBe(EXAMPLE.signature);
    expect(blsVerify(fromHex(EXAMPLE.publicKey), bytes, fromHex(EXAMPLE.signature))).toBe(true);
  });

  it('are what README.md shows: its keys, its hex dump (adding up to the bytes) and its signature', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Device telemetry: the signed bytes'));
    for (const h of [EXAMPLE.secretKey, EXAMPLE.publicKey, EXAMPLE.signature]) expect(section).toContain(`0x${h}`);
    const dump = /```\n(0012[\s\S]*?)```/.exec(section)![1]!;
    const joined = dump
      .split('\n')
      .map((l) => l.replace(/\s{2,}.*$/, '').replace(/\s+/g, ''))
      .join('');
    expect(joined).toBe(EXAMPLE.bytes);
  });

  it('are the documented layout: u16be-prefixed tag, chain id, device id, then two i64be', () => {
    const b = telemetrySigningBytes('c', 'd', -1n, 2n ** 63n - 1n);
    expect(toHex(b)).toBe(`0012${toHex(new TextEncoder().encode('JOULE/telemetry/v1'))}000163000164ffffffffffffffff7fffffffffffffff`);
  });

  it('readings signed with @noble/curves from the layout aggregate-verify through blst; a changed field does not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.bigInt({ min: 1n, max: 2n ** 62n }), fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n })), { minLength: 1, maxLength: 4 }),
        (rows) => {
          const sks = rows.map((_, i) => new Uint8Array(32).fill(i + 1));
          const pks = sks.map((sk) => blsFromSecret(sk).publicKey);
          const msgs = rows.map(([ts, wh], i) => telemetrySigningBytes('joule-test', `dev-${i}`, ts, wh));
          const sigs = msgs.map((m, i) => noble.Signature.fromBytes(nobleSign(sks[i]!, m)));
          const agg = noble.Signature.toBytes(noble.aggregateSignatures(sigs));
          expect(blsAggregateVerify(msgs, pks, agg)).toBe(true);
          const tampered = telemetrySigningBytes('joule-test', 'dev-0', rows[0]![0], rows[0]![1] + 1n);
          expect(blsAggregateVerify([tampered, ...msgs.slice(1)], pks, agg)).toBe(false);
        },
      ),
      { numRuns: 5 },
    );
  });

  it('bind the chain id: the same reading for another chain is other bytes', () => {
    const r: Reading = { deviceId: 'm', timestampUs: 1n, netEnergyWh: 1n, stateOfChargePercent: 0 };
    expect(toHex(readingSigningBytes('a', r))).not.toBe(toHex(readingSigningBytes('b', r)));
  });

  it('refuse fields outside their ranges, naming them', () => {
    expect(errorOf(() => telemetrySigningBytes('c', 'bad id', 1n, 1n)).field).toBe('deviceId');
    expect(errorOf(() => telemetrySigningBytes('c', 'd', 2n ** 63n, 1n)).field).toBe('timestampUs');
    expect(errorOf(() => telemetrySigningBytes('c', 'd', 1n, -(2n ** 63n) - 1n)).field).toBe('netEnergyWh');
  });
});

describe('readings', () => {
  const r: Reading = { deviceId: 'bat-7', timestampUs: 1_700_000_000_123_456n, netEnergyWh: -42n, stateOfChargePercent: 81 };

  it('round-trip through the tx-body wire form', () => {
    expect(readingFromWire(decode(encode(readingToWire(r))), 'r')).toEqual(r);
    const big = { ...r, netEnergyWh: -(2n ** 63n) };
    expect(readingFromWire(decode(encode(readingToWire(big))), 'r')).toEqual(big);
  });

  it('reject bad fields with TX_INVALID_FIELD or CODEC_WRONG_TYPE naming them', () => {
    expect(errorOf(() => checkReading({ ...r, timestampUs: 0n }, 'readings[3]'))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      field: 'readings[3].timestampUs',
    });
    expect(errorOf(() => checkReading({ ...r, stateOfChargePercent: 101 }, 'x')).field).toBe('x.stateOfChargePercent');
    expect(errorOf(() => readingFromWire(['bat-7', 'x', 1, 0], 'b.readings[2]'))).toMatchObject({
      code: ErrorCode.CODEC_WRONG_TYPE,
      field: 'b.readings[2].timestampUs',
    });
    expect(errorOf(() => readingFromWire(['bat-7', 1], 'b.readings[2]')).field).toBe('b.readings[2]');
    expect(errorOf(() => readingFromWire(['bad id', 1, 1, 0], 'b')).field).toBe('b.deviceId');
  });

  it('parse from JSON (int64 as decimal strings) with INVALID_PARAMS naming the field', () => {
    expect(parseReadingJson(readingToJson(r))).toEqual(r);
    expect(parseReadingJson({ deviceId: 'm', timestampUs: 5, netEnergyWh: '-9223372036854775808' })).toEqual({
      deviceId: 'm',
      timestampUs: 5n,
      netEnergyWh: -(2n ** 63n),
      stateOfChargePercent: 0,
    });
    expect(errorOf(() => parseReadingJson({ deviceId: 'm', timestampUs: '1.5', netEnergyWh: 0 }, 'readings[1]'))).toMatchObject({
      code: ErrorCode.INVALID_PARAMS,
      field: 'readings[1].timestampUs',
    });
    expect(errorOf(() => parseReadingJson({ deviceId: 'm', timestampUs: 1, netEnergyWh: '9223372036854775808' })).field).toBe('reading.netEnergyWh');
    expect(errorOf(() => parseReadingJson({ deviceId: 7, timestampUs: 1, netEnergyWh: 0 }))).toMatchObject({
      code: ErrorCode.INVALID_PARAMS,
      field: 'reading.deviceId',
    });
    expect(errorOf(() => parseReadingJson({ deviceId: 'm', timestampUs: 1, netEnergyWh: 0, extra: 1 })).field).toBe('reading.extra');
  });
});
