import { describe, expect, it } from 'vitest';
import { decode, encode } from '../codec.ts';
import { ErrorCode } from '../errors.ts';
import { blsFromSecret, blsVerify } from '../keys.ts';
import { devicePopMessage, popMessage, signDeviceProofOfPossession, verifyProofOfPossession } from '../pop.ts';
import { Role } from '../roles.ts';
import { errorOf } from '../testing/errors.ts';
import { decodeTx, verifyTxSignature } from '../tx.ts';
import { buildDeviceRegister, decodeDeviceRegisterBody, encodeDeviceRegisterBody, type DeviceRegisterBody } from './device-register.ts';
import { decodeDeviceRekeyBody, encodeDeviceRekeyBody } from './device-rekey.ts';
import { decodeDeviceStatusBody, encodeDeviceStatusBody } from './device-status.ts';
import { decodeDeviceUpdateBody, encodeDeviceUpdateBody } from './device-update.ts';
import { decodeRoleVoteBody, encodeRoleVoteBody } from './role-vote.ts';
import { TxType } from './types.ts';

const chainId = 'joule-test';
const bls = blsFromSecret(new Uint8Array(32).fill(9));
const register: DeviceRegisterBody = {
  id: 'pv-roof-12',
  publicKey: bls.publicKey,
  proofOfPossession: signDeviceProofOfPossession(chainId, bls.secretKey, bls.publicKey),
  owner: new Uint8Array(20).fill(3),
  kind: 'solar',
  zone: 'DE-LU',
  maxImportW: 0,
  maxExportW: 9_800,
  carbonIntensity: 41,
  checkMeter: undefined,
};

describe('device-register body', () => {
  it('round-trips, and builds a signed envelope of type 16', () => {
    expect(decodeDeviceRegisterBody(encodeDeviceRegisterBody(register))).toEqual(register);
    const withMeter = { ...register, checkMeter: 'meter-9' };
    expect(decodeDeviceRegisterBody(encodeDeviceRegisterBody(withMeter))).toEqual(withMeter);
    const tx = decodeTx(buildDeviceRegister({ chainId, seed: new Uint8Array(32).fill(1), nonce: 0, fee: 25, device: register }).bytes);
    expect(tx.type).toBe(TxType.deviceRegister);
    expect(verifyTxSignature(tx)).toBe(true);
  });

  it('rejects each bad field by name', () => {
    const wire = decode(encodeDeviceRegisterBody(register)) as unknown[];
    const bad = (i: number, v: unknown) => encode(wire.map((x, j) => (j === i ? v : x)) as never);
    expect(errorOf(() => decodeDeviceRegisterBody(bad(0, 'no spaces')))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.id' });
    expect(errorOf(() => decodeDeviceRegisterBody(bad(1, new Uint8Array(47)))).field).toBe('tx.body.publicKey');
    expect(errorOf(() => decodeDeviceRegisterBody(bad(2, new Uint8Array(0)))).field).toBe('tx.body.proofOfPossession');
    expect(errorOf(() => decodeDeviceRegisterBody(bad(3, new Uint8Array(32)))).field).toBe('tx.body.owner');
    expect(errorOf(() => decodeDeviceRegisterBody(bad(4, 9))).field).toBe('tx.body.kind');
    expect(errorOf(() => decodeDeviceRegisterBody(bad(5, 'a/b'))).field).toBe('tx.body.zone');
    expect(errorOf(() => decodeDeviceRegisterBody(bad(7, -1))).field).toBe('tx.body.maxExportW');
    expect(errorOf(() => decodeDeviceRegisterBody(bad(8, 20_000))).field).toBe('tx.body.carbonIntensity');
    expect(errorOf(() => decodeDeviceRegisterBody(bad(9, 'pv-roof-12'))).field).toBe('tx.body.checkMeter');
    expect(errorOf(() => decodeDeviceRegisterBody(encode(wire.slice(1) as never))).field).toBe('tx.body');
  });
});

describe('device-update body', () => {
  it('round-trips partial updates; checkMeter null removes, absent leaves it', () => {
    for (const u of [
      { id: 'd1', zone: 'NL' },
      { id: 'd1', maxImportW: 5, maxExportW: 6, carbonIntensity: 7 },
      { id: 'd1', operator: new Uint8Array(20).fill(4) },
      { id: 'd1', checkMeter: null },
      { id: 'd1', checkMeter: 'm2' },
    ]) {
      expect(decodeDeviceUpdateBody(encodeDeviceUpdateBody(u))).toEqual(u);
    }
    expect(decode(encodeDeviceUpdateBody({ id: 'd1', checkMeter: null }))).toEqual(['d1', null, null, null, null, null, '']);
  });

  it('rejects an update that changes nothing, and bad fields by name', () => {
    expect(errorOf(() => encodeDeviceUpdateBody({ id: 'd1' })).field).toBe('tx.body.id');
    expect(errorOf(() => decodeDeviceUpdateBody(encode(['d1', null, null, null, null, null, null]))).field).toBe('tx.body.id');
    expect(errorOf(() => decodeDeviceUpdateBody(encode(['d1', null, -3, null, null, null, null]))).field).toBe('tx.body.maxImportW');
    expect(errorOf(() => decodeDeviceUpdateBody(encode(['d1', null, null, null, null, new Uint8Array(3), null]))).field).toBe('tx.body.operator');
    expect(errorOf(() => decodeDeviceUpdateBody(encode(['d1', null, null, null, null, null, 'd1']))).field).toBe('tx.body.checkMeter');
  });
});

describe('device-status and device-rekey bodies', () => {
  it('round-trip and refuse unknown actions', () => {
    for (const action of ['suspend', 'revoke', 'reactivate'] as const)
      expect(decodeDeviceStatusBody(encodeDeviceStatusBody({ id: 'd', action }))).toEqual({ id: 'd', action });
    expect(errorOf(() => decodeDeviceStatusBody(encode(['d', 3]))).field).toBe('tx.body.action');
    const rekey = { id: 'd', publicKey: bls.publicKey, proofOfPossession: register.proofOfPossession };
    expect(decodeDeviceRekeyBody(encodeDeviceRekeyBody(rekey))).toEqual(rekey);
    expect(errorOf(() => decodeDeviceRekeyBody(encode(['d', bls.publicKey, new Uint8Array(95)]))).field).toBe('tx.body.proofOfPossession');
  });
});

describe('role-vote body', () => {
  it('round-trips every votable role; the role travels as its bit', () => {
    const account = new Uint8Array(20).fill(5);
    for (const role of ['dso', 'aggregator', 'marketOperator', 'issuer', 'oracle'] as const) {
      const b = { action: 'grant' as const, account, role };
      expect(decodeRoleVoteBody(encodeRoleVoteBody(b))).toEqual(b);
    }
    expect(decode(encodeRoleVoteBody({ action: 'revoke', account, role: 'oracle' }))).toEqual([1, account, Role.oracle]);
  });

  it('refuses the validator role (validator-vote governs it), unknown bits and actions', () => {
    const account = new Uint8Array(20);
    expect(errorOf(() => encodeRoleVoteBody({ action: 'grant', account, role: 'validator' })).field).toBe('tx.body.role');
    expect(errorOf(() => decodeRoleVoteBody(encode([0, account, Role.validator]))).field).toBe('tx.body.role');
    expect(errorOf(() => decodeRoleVoteBody(encode([0, account, 3]))).field).toBe('tx.body.role');
    expect(errorOf(() => decodeRoleVoteBody(encode([2, account, 1]))).field).toBe('tx.body.action');
  });
});

describe('device proof of possession', () => {
  it('verifies for the key and chain, and is no validator proof (nor the reverse)', () => {
    const proof = signDeviceProofOfPossession(chainId, bls.secretKey, bls.publicKey);
    expect(blsVerify(bls.publicKey, devicePopMessage(chainId, bls.publicKey), proof)).toBe(true);
    expect(blsVerify(bls.publicKey, devicePopMessage('other-chain', bls.publicKey), proof)).toBe(false);
    expect(verifyProofOfPossession(chainId, bls.publicKey, new Uint8Array(32), proof)).toBe(false);
    expect(devicePopMessage(chainId, bls.publicKey)).not.toEqual(popMessage(chainId, bls.publicKey, new Uint8Array(32)));
  });
});
