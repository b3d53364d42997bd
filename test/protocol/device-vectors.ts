import { utf8 } from '../../core/bytes.ts';
import { encode, type Encodable } from '../../core/codec.ts';
import { deviceKindId, type DeviceRecord } from '../../core/device.ts';
import { ErrorCode } from '../../core/errors.ts';
import { sha256 } from '../../core/hash.ts';
import { blsFromSecret, parseAddress } from '../../core/keys.ts';
import { devicePopMessage, signDeviceProofOfPossession } from '../../core/pop.ts';
import { Role } from '../../core/roles.ts';
import { buildDeviceRegister, decodeDeviceRegisterBody, encodeDeviceRegisterBody } from '../../core/tx/device-register.ts';
import { buildDeviceRekey, decodeDeviceRekeyBody, encodeDeviceRekeyBody } from '../../core/tx/device-rekey.ts';
import { buildDeviceStatus, decodeDeviceStatusBody, DEVICE_STATUS_ACTIONS, encodeDeviceStatusBody } from '../../core/tx/device-status.ts';
import { buildDeviceUpdate, decodeDeviceUpdateBody, encodeDeviceUpdateBody } from '../../core/tx/device-update.ts';
import { buildRoleVote, decodeRoleVoteBody, encodeRoleVoteBody, ROLE_VOTE_ACTIONS } from '../../core/tx/role-vote.ts';
import { TxType } from '../../core/tx/types.ts';
import { type Fields, type InvalidTxVector, invalid, tx } from './invalid-tx-builder.ts';
import { hex } from './notation.ts';
import type { ValidTxVector } from './valid-txs.ts';
import { KEYS, VECTOR_CHAIN_ID, type VectorKey } from './vector-keys.ts';

/**
 * The energy ledger's part of the vector file: device keys (BLS, with the device proof of
 * possession, bound to the chain only), the device the context's chain holds, valid
 * transactions of types 16-19 and 26, and one-defect invalid ones of each.
 */

export interface DeviceKeyVector {
  name: string;
  blsSecretKey: string;
  blsPublicKey: string;
  /** encode(["JOULE/bls-pop/v1", chainId, blsPublicKey, <empty bytes>]) and its BLS signature. */
  proofOfPossession: { payload: string; signature: string };
}

/** A device of the context's chain, as JSON (keys by name). */
export interface DeviceContext {
  id: string;
  key: string;
  operator: string;
  owner: string;
  kind: string;
  zone: string;
  maxImportW: number;
  maxExportW: number;
  carbonIntensity: number;
  checkMeter: string | null;
  status: string;
  keyFromHeight: number;
}

interface DeviceKey {
  readonly name: string;
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

function makeDeviceKey(name: string): DeviceKey {
  const secret = sha256(utf8(`joule-protocol-vectors/device-bls/${name}`));
  secret[0] = 0x11;
  return { name, ...blsFromSecret(secret) };
}

export const DEVICE_KEYS = {
  meter: makeDeviceKey('meter-0001'),
  pv: makeDeviceKey('pv-0002'),
  meterNext: makeDeviceKey('meter-0001-next'),
  ev: makeDeviceKey('ev-0003'),
} as const;

const popOf = (k: DeviceKey, chainId = VECTOR_CHAIN_ID) => signDeviceProofOfPossession(chainId, k.secretKey, k.publicKey);

export function deviceKeyVectors(): DeviceKeyVector[] {
  return Object.values(DEVICE_KEYS).map((k) => ({
    name: k.name,
    blsSecretKey: hex(k.secretKey),
    blsPublicKey: hex(k.publicKey),
    proofOfPossession: { payload: hex(devicePopMessage(VECTOR_CHAIN_ID, k.publicKey)), signature: hex(popOf(k)) },
  }));
}

/** The context's devices: meter-0001, operated by aggregator-two, and the EV charger ev-0003, operated by dso-north; both owned by bob. */
export function contextDevices(): DeviceContext[] {
  return [
    {
      id: 'meter-0001',
      key: DEVICE_KEYS.meter.name,
      operator: KEYS.aggregator.name,
      owner: KEYS.bob.name,
      kind: 'meter',
      zone: 'NL',
      maxImportW: 17_250,
      maxExportW: 11_000,
      carbonIntensity: 0,
      checkMeter: null,
      status: 'active',
      keyFromHeight: 1,
    },
    {
      id: 'ev-0003',
      key: DEVICE_KEYS.ev.name,
      operator: KEYS.north.name,
      owner: KEYS.bob.name,
      kind: 'ev-charger',
      zone: 'NL',
      maxImportW: 11_000,
      maxExportW: 11_000,
      carbonIntensity: 0,
      checkMeter: null,
      status: 'active',
      keyFromHeight: 1,
    },
  ];
}

/** A context device as a record; `addressOf` and `keyOf` resolve names the way a reader of the file would. */
export function deviceRecordOf(d: DeviceContext, addressOf: (name: string) => string, keyOf: (name: string) => Uint8Array): DeviceRecord {
  const key = keyOf(d.key);
  return {
    id: d.id,
    publicKey: key,
    owner: parseAddress(addressOf(d.owner)),
    operator: parseAddress(addressOf(d.operator)),
    kind: d.kind as DeviceRecord['kind'],
    zone: d.zone,
    maxImportW: d.maxImportW,
    maxExportW: d.maxExportW,
    carbonIntensity: d.carbonIntensity,
    checkMeter: d.checkMeter ?? undefined,
    status: d.status as DeviceRecord['status'],
    keyHistory: [{ key, fromHeight: d.keyFromHeight }],
  };
}

type Vector = (name: string, description: string, signer: VectorKey, t: ReturnType<typeof buildDeviceStatus>, body: Record<string, unknown>) => ValidTxVector;

export function validDeviceTxVectors(vector: Vector): ValidTxVector[] {
  const { aggregator, north, bob } = KEYS;
  const from = (k: VectorKey, nonce: number) => ({ chainId: VECTOR_CHAIN_ID, seed: k.seed, nonce, fee: 25n });
  const pv = DEVICE_KEYS.pv;
  const next = DEVICE_KEYS.meterNext;
  const register = {
    id: 'pv-0002',
    publicKey: pv.publicKey,
    proofOfPossession: popOf(pv),
    owner: bob.address,
    kind: 'solar' as const,
    zone: 'NL',
    maxImportW: 0,
    maxExportW: 4_000,
    carbonIntensity: 35,
    checkMeter: 'meter-0001',
  };
  return [
    vector(
      'device-register',
      'aggregator-two registers the rooftop solar pv-0002 of bob, checked by meter-0001',
      aggregator,
      buildDeviceRegister({ ...from(aggregator, 0), device: register }),
      {
        id: register.id,
        publicKey: hex(register.publicKey),
        proofOfPossession: hex(register.proofOfPossession),
        owner: hex(register.owner),
        kind: deviceKindId('solar'),
        zone: register.zone,
        maxImportW: register.maxImportW,
        maxExportW: register.maxExportW,
        carbonIntensity: register.carbonIntensity,
        checkMeter: register.checkMeter,
      },
    ),
    vector(
      'device-update',
      'aggregator-two raises the export limit of meter-0001 to 22,000 W (every other field nil: unchanged)',
      aggregator,
      buildDeviceUpdate({ ...from(aggregator, 1), update: { id: 'meter-0001', maxExportW: 22_000 } }),
      {
        id: 'meter-0001',
        zone: null,
        maxImportW: null,
        maxExportW: 22_000,
        carbonIntensity: null,
        operator: null,
        checkMeter: null,
      },
    ),
    vector(
      'device-status',
      'aggregator-two suspends meter-0001 (action 0)',
      aggregator,
      buildDeviceStatus({ ...from(aggregator, 2), id: 'meter-0001', action: 'suspend' }),
      { id: 'meter-0001', action: 0 },
    ),
    vector(
      'device-rekey',
      'aggregator-two gives meter-0001 the key meter-0001-next, with its proof of possession',
      aggregator,
      buildDeviceRekey({ ...from(aggregator, 3), id: 'meter-0001', publicKey: next.publicKey, proofOfPossession: popOf(next) }),
      { id: 'meter-0001', publicKey: hex(next.publicKey), proofOfPossession: hex(popOf(next)) },
    ),
    vector(
      'role-vote',
      'dso-north votes to grant bob the oracle role (bit 32)',
      north,
      buildRoleVote({ ...from(north, 2), action: 'grant', account: bob.address, role: 'oracle' }),
      {
        action: 0,
        account: hex(bob.address),
        role: Role.oracle,
      },
    ),
  ];
}

const fields = (type: number, sender: VectorKey, body: Encodable[]): Fields => ({
  chainId: VECTOR_CHAIN_ID,
  type,
  sender: sender.publicKey,
  nonce: 0,
  fee: 25n,
  body: encode(body),
});

export function invalidDeviceTxVectors(): InvalidTxVector[] {
  const { aggregator, alice, bob, north } = KEYS;
  const pv = DEVICE_KEYS.pv;
  const registerBody = (over: { pop?: Uint8Array; id?: string; checkMeter?: string } = {}): Encodable[] => [
    over.id ?? 'pv-0002',
    pv.publicKey,
    over.pop ?? popOf(pv),
    bob.address,
    1,
    'NL',
    0,
    4000,
    35,
    over.checkMeter ?? null,
  ];
  const next = DEVICE_KEYS.meterNext;
  const notOnCurve = new Uint8Array(48).fill(0xaa);
  return [
    invalid(
      'device-register-rogue-key',
      'validateTx',
      ErrorCode.TX_BAD_SIGNATURE,
      'tx.body.proofOfPossession',
      "pv-0002's key with meter-0001's proof of possession: whoever sends it does not hold the key",
      tx(fields(TxType.deviceRegister, aggregator, registerBody({ pop: popOf(DEVICE_KEYS.meter) })), {}, aggregator),
    ),
    invalid(
      'device-register-proof-for-another-chain',
      'validateTx',
      ErrorCode.TX_BAD_SIGNATURE,
      'tx.body.proofOfPossession',
      'the proof of possession made for chain "joule-other"',
      tx(fields(TxType.deviceRegister, aggregator, registerBody({ pop: popOf(pv, 'joule-other') })), {}, aggregator),
    ),
    invalid(
      'device-register-without-role',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'alice holds neither the dso nor the aggregator role',
      tx(fields(TxType.deviceRegister, alice, registerBody())),
    ),
    invalid(
      'device-register-existing-id',
      'validateTx',
      ErrorCode.DEVICE_EXISTS,
      'tx.body.id',
      'meter-0001 is already registered',
      tx(fields(TxType.deviceRegister, aggregator, registerBody({ id: 'meter-0001' })), {}, aggregator),
    ),
    invalid(
      'device-register-check-meter-of-another-operator',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.body.checkMeter',
      'ev-0003 is operated by dso-north: a check meter is never minted, so only its operator (or governance) names it',
      tx(fields(TxType.deviceRegister, aggregator, registerBody({ checkMeter: 'ev-0003' })), {}, aggregator),
    ),
    invalid(
      'device-register-kind-6',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.kind',
      'kind 6 (0 meter .. 5 load)',
      tx(
        fields(
          TxType.deviceRegister,
          aggregator,
          registerBody().map((v, i) => (i === 4 ? 6 : v)),
        ),
        {},
        aggregator,
      ),
    ),
    invalid(
      'device-update-unknown-device',
      'validateTx',
      ErrorCode.DEVICE_UNKNOWN,
      'tx.body.id',
      'no device meter-0009 is registered',
      tx(fields(TxType.deviceUpdate, aggregator, ['meter-0009', 'BE', null, null, null, null, null]), {}, aggregator),
    ),
    invalid(
      'device-update-changes-nothing',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.id',
      'every field nil: an update must change something',
      tx(fields(TxType.deviceUpdate, aggregator, ['meter-0001', null, null, null, null, null, null]), {}, aggregator),
    ),
    invalid(
      'device-status-by-stranger',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'alice, neither the operator of meter-0001 nor a validator, suspends it',
      tx(fields(TxType.deviceStatus, alice, ['meter-0001', 0])),
    ),
    invalid(
      'device-status-reactivate-active',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.action',
      'meter-0001 is active: reactivating it changes nothing',
      tx(fields(TxType.deviceStatus, aggregator, ['meter-0001', 2]), {}, aggregator),
    ),
    invalid(
      'device-rekey-key-off-curve',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.publicKey',
      '48 bytes that are no G1 point',
      tx(fields(TxType.deviceRekey, aggregator, ['meter-0001', notOnCurve, popOf(next)]), {}, aggregator),
    ),
    invalid(
      'device-rekey-same-key',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.publicKey',
      "meter-0001's own key again",
      tx(fields(TxType.deviceRekey, aggregator, ['meter-0001', DEVICE_KEYS.meter.publicKey, popOf(DEVICE_KEYS.meter)]), {}, aggregator),
    ),
    invalid(
      'role-vote-validator-role',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.role',
      'the validator role (bit 8) changes only by validator-vote',
      tx(fields(TxType.roleVote, north, [0, bob.address, Role.validator]), {}, north),
    ),
    invalid(
      'role-vote-by-non-validator',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'alice is no validator',
      tx(fields(TxType.roleVote, alice, [0, bob.address, Role.oracle])),
    ),
    invalid(
      'role-vote-grant-held-role',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.role',
      'aggregator-two already holds the aggregator role',
      tx(fields(TxType.roleVote, north, [0, aggregator.address, Role.aggregator]), {}, north),
    ),
  ];
}

/** The body codecs of types 16-19 and 26 seen through the vector file's JSON fields (vectors.test.ts BODY_CODECS). */
export const DEVICE_BODY_CODECS: Record<string, { fields(body: Uint8Array): Record<string, unknown>; encode(body: Uint8Array): Uint8Array }> = {
  'device-register': {
    fields: (b) => {
      const r = decodeDeviceRegisterBody(b);
      return {
        id: r.id,
        publicKey: hex(r.publicKey),
        proofOfPossession: hex(r.proofOfPossession),
        owner: hex(r.owner),
        kind: deviceKindId(r.kind),
        zone: r.zone,
        maxImportW: r.maxImportW,
        maxExportW: r.maxExportW,
        carbonIntensity: r.carbonIntensity,
        checkMeter: r.checkMeter ?? null,
      };
    },
    encode: (b) => encodeDeviceRegisterBody(decodeDeviceRegisterBody(b)),
  },
  'device-update': {
    fields: (b) => {
      const u = decodeDeviceUpdateBody(b);
      return {
        id: u.id,
        zone: u.zone ?? null,
        maxImportW: u.maxImportW ?? null,
        maxExportW: u.maxExportW ?? null,
        carbonIntensity: u.carbonIntensity ?? null,
        operator: u.operator === undefined ? null : hex(u.operator),
        checkMeter: u.checkMeter === undefined ? null : (u.checkMeter ?? ''),
      };
    },
    encode: (b) => encodeDeviceUpdateBody(decodeDeviceUpdateBody(b)),
  },
  'device-status': {
    fields: (b) => {
      const s = decodeDeviceStatusBody(b);
      return { id: s.id, action: DEVICE_STATUS_ACTIONS.indexOf(s.action) };
    },
    encode: (b) => encodeDeviceStatusBody(decodeDeviceStatusBody(b)),
  },
  'device-rekey': {
    fields: (b) => {
      const r = decodeDeviceRekeyBody(b);
      return { id: r.id, publicKey: hex(r.publicKey), proofOfPossession: hex(r.proofOfPossession) };
    },
    encode: (b) => encodeDeviceRekeyBody(decodeDeviceRekeyBody(b)),
  },
  'role-vote': {
    fields: (b) => {
      const v = decodeRoleVoteBody(b);
      return { action: ROLE_VOTE_ACTIONS.indexOf(v.action), account: hex(v.account), role: Role[v.role] };
    },
    encode: (b) => encodeRoleVoteBody(decodeRoleVoteBody(b)),
  },
};
