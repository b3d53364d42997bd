import { describe, expect, it } from 'vitest';
import { encode } from './codec.ts';
import {
  certificateId,
  decodeCertificate,
  decodeEnergyUtxo,
  encodeCertificate,
  encodeEnergyUtxo,
  MAX_ENERGY_WH,
  mintedUtxoId,
  outputUtxoId,
  provenanceWire,
  sameProvenance,
  type Certificate,
  type EnergyProvenance,
  type EnergyUtxo,
} from './energy.ts';
import { ErrorCode } from './errors.ts';
import { errorOf } from './testing/errors.ts';

const provenance: EnergyProvenance = {
  deviceId: 'pv-1',
  kind: 'solar',
  zone: 'NL',
  intervalStartMs: 1_700_000_010_000,
  intervalEndMs: 1_700_000_040_000,
  carbonIntensity: 30,
};
const utxo: EnergyUtxo = { id: mintedUtxoId('pv-1', 1_700_000_010_000), owner: new Uint8Array(20).fill(7), wh: 1234n, provenance, frozen: false, height: 9 };
const certificate: Certificate = {
  id: certificateId(new Uint8Array(32).fill(3)),
  beneficiary: new Uint8Array(20).fill(8),
  purpose: 'scope 2, 2026',
  wh: 1000n,
  provenance,
  height: 12,
  time: 1_700_000_100_000,
};

describe('energy UTXO and certificate records', () => {
  it('round-trip through their wire forms', () => {
    expect(decodeEnergyUtxo(encodeEnergyUtxo(utxo))).toEqual(utxo);
    expect(decodeCertificate(encodeCertificate(certificate))).toEqual(certificate);
    const frozenEmpty = { ...utxo, wh: 0n, frozen: true };
    expect(decodeEnergyUtxo(encodeEnergyUtxo(frozenEmpty))).toEqual(frozenEmpty);
  });

  it('refuse 0 Wh unless frozen, and more than MAX_ENERGY_WH', () => {
    expect(errorOf(() => encodeEnergyUtxo({ ...utxo, wh: 0n }))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'utxo.wh' });
    expect(errorOf(() => encodeEnergyUtxo({ ...utxo, wh: MAX_ENERGY_WH + 1n }))).toMatchObject({ field: 'utxo.wh' });
    expect(errorOf(() => encodeCertificate({ ...certificate, wh: 0n }))).toMatchObject({ field: 'certificate.wh' });
  });

  it('refuse a provenance whose interval ends before it starts, or with an unknown kind', () => {
    const bad = encode([utxo.id, utxo.owner, 5n, provenanceWire({ ...provenance, intervalEndMs: provenance.intervalStartMs }), false, 1]);
    expect(errorOf(() => decodeEnergyUtxo(bad))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'utxo.provenance.intervalEndMs' });
    const kind = encode([utxo.id, utxo.owner, 5n, ['pv-1', 99, 'NL', 1, 2, 3], false, 1]);
    expect(errorOf(() => decodeEnergyUtxo(kind))).toMatchObject({ field: 'utxo.provenance.kind' });
  });

  it('refuse a wrong-length id or address', () => {
    expect(errorOf(() => encodeEnergyUtxo({ ...utxo, id: new Uint8Array(31) }))).toMatchObject({ field: 'utxo.id' });
    expect(errorOf(() => encodeCertificate({ ...certificate, beneficiary: new Uint8Array(32) }))).toMatchObject({ field: 'certificate.beneficiary' });
    expect(errorOf(() => encodeCertificate({ ...certificate, purpose: 'x'.repeat(257) }))).toMatchObject({ field: 'certificate.purpose' });
  });
});

describe('ids', () => {
  it('one per (device, interval) for a mint; distinct across devices, intervals and derivations', () => {
    expect(mintedUtxoId('pv-1', 30_000)).toEqual(mintedUtxoId('pv-1', 30_000));
    const ids = [
      mintedUtxoId('pv-1', 30_000),
      mintedUtxoId('pv-1', 60_000),
      mintedUtxoId('pv-2', 30_000),
      outputUtxoId(new Uint8Array(32), 0),
      outputUtxoId(new Uint8Array(32), 1),
      certificateId(new Uint8Array(32)),
    ];
    expect(new Set(ids.map((i) => Buffer.from(i).toString('hex'))).size).toBe(ids.length);
    for (const i of ids) expect(i).toHaveLength(32);
  });
});

describe('sameProvenance', () => {
  it('is true only when every field is equal', () => {
    expect(sameProvenance(provenance, { ...provenance })).toBe(true);
    for (const change of [
      { deviceId: 'pv-2' },
      { kind: 'wind' as const },
      { zone: 'DE' },
      { intervalStartMs: 1 },
      { intervalEndMs: 1_800_000_000_000 },
      { carbonIntensity: 31 },
    ]) {
      expect(sameProvenance(provenance, { ...provenance, ...change })).toBe(false);
    }
  });
});
