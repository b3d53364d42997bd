import { describe, expect, it } from 'vitest';
import { encode } from '../codec.ts';
import { ErrorCode } from '../errors.ts';
import { errorOf } from '../testing/errors.ts';
import { decodeCurrencyBurnBody } from './currency-burn.ts';
import { decodeCurrencyMintBody, encodeCurrencyMintBody } from './currency-mint.ts';
import { MAX_ENERGY_INPUTS } from './energy-inputs.ts';
import { decodeEnergyRetireBody, encodeEnergyRetireBody } from './energy-retire.ts';
import { decodeEnergyTransferBody, encodeEnergyTransferBody, MAX_ENERGY_OUTPUTS } from './energy-transfer.ts';
import { decodeGridIntensityBody, encodeGridIntensityBody } from './grid-intensity.ts';

const id = (n: number) => new Uint8Array(32).fill(n);
const addr = (n: number) => new Uint8Array(20).fill(n);

describe('energy tx bodies', () => {
  it('round-trip', () => {
    const t = {
      inputs: [id(1), id(2)],
      outputs: [
        { owner: addr(3), wh: 5n },
        { owner: addr(4), wh: 2n ** 40n },
      ],
    };
    expect(decodeEnergyTransferBody(encodeEnergyTransferBody(t))).toEqual(t);
    const r = { inputs: [id(1)], wh: 9n, beneficiary: addr(5), purpose: 'ünïcode ok' };
    expect(decodeEnergyRetireBody(encodeEnergyRetireBody(r))).toEqual(r);
    const g = { zone: 'DE-LU', intervalStartMs: 1_700_000_100_000, carbonIntensity: 380 };
    expect(decodeGridIntensityBody(encodeGridIntensityBody(g))).toEqual(g);
    const m = { to: addr(1), amount: 2n ** 64n - 1n };
    expect(decodeCurrencyMintBody(encodeCurrencyMintBody(m))).toEqual(m);
  });

  it('name the offending field of a malformed body', () => {
    expect(errorOf(() => decodeEnergyTransferBody(encode([[id(1).subarray(1)], [[addr(1), 1]]])))).toMatchObject({
      code: ErrorCode.CODEC_WRONG_TYPE,
      field: 'tx.body.inputs[0]',
    });
    expect(errorOf(() => decodeEnergyTransferBody(encode([[id(1)], [[addr(1), 0]]])))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      field: 'tx.body.outputs[0].wh',
    });
    expect(errorOf(() => decodeEnergyTransferBody(encode([[id(1)], [[addr(1), -1]]])))).toMatchObject({ field: 'tx.body.outputs[0].wh' });
    expect(errorOf(() => decodeEnergyTransferBody(encode([[id(1), id(1)], [[addr(1), 2]]])))).toMatchObject({ field: 'tx.body.inputs[1]' });
    const many = Array.from({ length: MAX_ENERGY_INPUTS + 1 }, (_, i) => id(i));
    expect(errorOf(() => decodeEnergyTransferBody(encode([many, [[addr(1), 2]]])))).toMatchObject({ field: 'tx.body.inputs' });
    const outs = Array.from({ length: MAX_ENERGY_OUTPUTS + 1 }, () => [addr(1), 1]);
    expect(errorOf(() => decodeEnergyTransferBody(encode([[id(1)], outs])))).toMatchObject({ field: 'tx.body.outputs' });
    expect(errorOf(() => decodeEnergyRetireBody(encode([[id(1)], 1, addr(1).subarray(1), ''])))).toMatchObject({ field: 'tx.body.beneficiary' });
    expect(errorOf(() => decodeGridIntensityBody(encode(['N L', 0, 1])))).toMatchObject({ field: 'tx.body.zone' });
    expect(errorOf(() => decodeCurrencyBurnBody(encode([0])))).toMatchObject({ field: 'tx.body.amount' });
    expect(errorOf(() => decodeCurrencyMintBody(encode([addr(1), 1, 2])))).toMatchObject({ code: ErrorCode.CODEC_WRONG_TYPE, field: 'tx.body' });
  });
});
