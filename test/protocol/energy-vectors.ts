import { encode, type Encodable } from '../../core/codec.ts';
import { certificateId, mintedUtxoId, outputUtxoId, type EnergyProvenance, type EnergyUtxo } from '../../core/energy.ts';
import { ErrorCode } from '../../core/errors.ts';
import { parseAddress } from '../../core/keys.ts';
import { buildCurrencyBurn, decodeCurrencyBurnBody, encodeCurrencyBurnBody } from '../../core/tx/currency-burn.ts';
import { buildCurrencyMint, decodeCurrencyMintBody, encodeCurrencyMintBody } from '../../core/tx/currency-mint.ts';
import { buildEnergyRetire, decodeEnergyRetireBody, encodeEnergyRetireBody } from '../../core/tx/energy-retire.ts';
import { buildEnergyTransfer, decodeEnergyTransferBody, encodeEnergyTransferBody } from '../../core/tx/energy-transfer.ts';
import { buildGridIntensity, decodeGridIntensityBody, encodeGridIntensityBody } from '../../core/tx/grid-intensity.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { type Fields, type InvalidTxVector, invalid, tx } from './invalid-tx-builder.ts';
import { hex, type Plain, toNotation, unhex } from './notation.ts';
import type { HashVector } from './signing-vectors.ts';
import type { ValidTxVector } from './valid-txs.ts';
import { KEYS, VECTOR_CHAIN_ID, type VectorKey } from './vector-keys.ts';

/**
 * The energy tokens' part of the vector file: the energy UTXOs the context's chain holds
 * (bob's, of meter-0001), valid transactions of types 21-25, one-defect invalid ones of each,
 * and the id rules of UTXOs and certificates.
 */

/** 2026-01-01T00:00:00Z: a settlement interval start under the default 15-minute interval. */
export const T0 = 1_767_225_600_000;
const INTERVAL = 900_000;

/** An energy UTXO of the context's chain, as JSON (owner by key name). */
export interface EnergyUtxoContext {
  id: string;
  owner: string;
  wh: string;
  provenance: EnergyProvenance;
  frozen: boolean;
  height: number;
}

const meterInterval = (k: number, carbonIntensity = 0): EnergyProvenance => ({
  deviceId: 'meter-0001',
  kind: 'meter',
  zone: 'NL',
  intervalStartMs: T0 + k * INTERVAL,
  intervalEndMs: T0 + (k + 1) * INTERVAL,
  carbonIntensity,
});

/** bob's: the export of meter-0001 in three intervals; the second is frozen (a check-meter disagreement). */
export function contextEnergyUtxos(): EnergyUtxoContext[] {
  const utxo = (k: number, wh: bigint, frozen: boolean): EnergyUtxoContext => ({
    id: hex(mintedUtxoId('meter-0001', T0 + k * INTERVAL)),
    owner: KEYS.bob.name,
    wh: wh.toString(),
    provenance: meterInterval(k),
    frozen,
    height: 3 + k,
  });
  return [utxo(0, 1_500n, false), utxo(1, 800n, true), utxo(2, 200n, false)];
}

export function energyUtxoRecordOf(u: EnergyUtxoContext, addressOf: (name: string) => string): EnergyUtxo {
  return { id: unhex(u.id), owner: parseAddress(addressOf(u.owner)), wh: BigInt(u.wh), provenance: u.provenance, frozen: u.frozen, height: u.height };
}

const [U0, U1, U2] = contextEnergyUtxos().map((u) => unhex(u.id)) as [Uint8Array, Uint8Array, Uint8Array];

type Vector = (name: string, description: string, signer: VectorKey, t: Tx, body: Record<string, unknown>) => ValidTxVector;

export function validEnergyTxVectors(vector: Vector): ValidTxVector[] {
  const { alice, bob, oracle, issuer } = KEYS;
  const from = (k: VectorKey, nonce: number, fee = 25n) => ({ chainId: VECTOR_CHAIN_ID, seed: k.seed, nonce, fee });
  const outputs = [
    { owner: alice.address, wh: 1_000n },
    { owner: bob.address, wh: 500n },
  ];
  const purpose = 'scope 2, 2026, site Utrecht';
  return [
    vector(
      'grid-intensity',
      'grid-oracle posts 312 g CO2e/kWh for zone NL in the interval starting 2026-01-01T00:00Z',
      oracle,
      buildGridIntensity({ ...from(oracle, 0), zone: 'NL', intervalStartMs: T0, carbonIntensity: 312 }),
      {
        zone: 'NL',
        intervalStartMs: T0,
        carbonIntensity: 312,
      },
    ),
    vector(
      'energy-transfer',
      'bob splits his 1,500 Wh of meter-0001: 1,000 Wh to alice, 500 Wh back to himself',
      bob,
      buildEnergyTransfer({ ...from(bob, 0, 10n), inputs: [U0], outputs }),
      {
        inputs: [hex(U0)],
        outputs: outputs.map((o) => ({ owner: hex(o.owner), wh: o.wh.toString() })),
      },
    ),
    vector(
      'energy-retire',
      'bob retires 1,200 Wh of meter-0001 for alice; the other 300 Wh come back to him',
      bob,
      buildEnergyRetire({ ...from(bob, 1, 10n), inputs: [U0], wh: 1_200n, beneficiary: alice.address, purpose }),
      { inputs: [hex(U0)], wh: '1200', beneficiary: hex(alice.address), purpose },
    ),
    vector(
      'currency-mint',
      'issuer-one mints 5,000,000 micro-units for bob',
      issuer,
      buildCurrencyMint({ ...from(issuer, 0, 10n), to: bob.address, amount: 5_000_000n }),
      {
        to: hex(bob.address),
        amount: '5000000',
      },
    ),
    vector('currency-burn', 'issuer-one burns 250,000 micro-units of its own', issuer, buildCurrencyBurn({ ...from(issuer, 1, 10n), amount: 250_000n }), {
      amount: '250000',
    }),
  ];
}

const fields = (type: number, sender: VectorKey, body: Encodable[], fee = 25n): Fields => ({
  chainId: VECTOR_CHAIN_ID,
  type,
  sender: sender.publicKey,
  nonce: 0,
  fee,
  body: encode(body),
});

export function invalidEnergyTxVectors(): InvalidTxVector[] {
  const { alice, bob, oracle, issuer } = KEYS;
  const transfer = (inputs: Uint8Array[], outputs: [Uint8Array, number][], sender: VectorKey = bob) =>
    tx(fields(TxType.energyTransfer, sender, [inputs, outputs], 10n), {}, sender);
  const retire = (inputs: Uint8Array[], wh: number, purpose = '') => tx(fields(TxType.energyRetire, bob, [inputs, wh, alice.address, purpose], 10n), {}, bob);
  return [
    invalid(
      'grid-intensity-without-role',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'alice holds no oracle role',
      tx(fields(TxType.gridIntensity, alice, ['NL', T0, 312])),
    ),
    invalid(
      'grid-intensity-unaligned-interval',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.intervalStartMs',
      'an interval start 1 ms after a multiple of the 900,000 ms settlement interval',
      tx(fields(TxType.gridIntensity, oracle, ['NL', T0 + 1, 312]), {}, oracle),
    ),
    invalid(
      'energy-transfer-not-owner',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.body.inputs[0]',
      "alice spends bob's UTXO",
      transfer([U0], [[alice.address, 1500]], alice),
    ),
    invalid(
      'energy-transfer-not-conserved',
      'validateTx',
      ErrorCode.ENERGY_NOT_CONSERVED,
      'tx.body.outputs',
      'outputs of 1,501 Wh from an input of 1,500',
      transfer(
        [U0],
        [
          [alice.address, 1001],
          [bob.address, 500],
        ],
      ),
    ),
    invalid(
      'energy-transfer-mixed-provenance',
      'validateTx',
      ErrorCode.ENERGY_PROVENANCE_MIXED,
      'tx.body.inputs[1]',
      "meter-0001's first and third intervals merged into one output",
      transfer([U0, U2], [[alice.address, 1700]]),
    ),
    invalid(
      'energy-transfer-frozen',
      'validateTx',
      ErrorCode.ENERGY_UTXO_FROZEN,
      'tx.body.inputs[0]',
      'the frozen second interval',
      transfer([U1], [[alice.address, 800]]),
    ),
    invalid(
      'energy-transfer-unknown-utxo',
      'validateTx',
      ErrorCode.ENERGY_UTXO_UNKNOWN,
      'tx.body.inputs[0]',
      'the id of the fourth interval, which was never minted',
      transfer([mintedUtxoId('meter-0001', T0 + 3 * INTERVAL)], [[alice.address, 10]]),
    ),
    invalid(
      'energy-transfer-input-twice',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.inputs[1]',
      'one UTXO listed twice',
      transfer([U0, U0], [[alice.address, 3000]]),
    ),
    invalid(
      'energy-retire-more-than-inputs',
      'validateTx',
      ErrorCode.ENERGY_NOT_CONSERVED,
      'tx.body.wh',
      'retires 1,501 Wh of a 1,500 Wh UTXO',
      retire([U0], 1501),
    ),
    invalid(
      'energy-retire-purpose-257-characters',
      'validateTx',
      ErrorCode.CODEC_WRONG_TYPE,
      'tx.body.purpose',
      'a purpose of 257 characters (at most 256)',
      retire([U0], 1, 'x'.repeat(257)),
    ),
    invalid(
      'currency-mint-without-role',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'alice holds no issuer role',
      tx(fields(TxType.currencyMint, alice, [bob.address, 1], 10n)),
    ),
    invalid(
      'currency-mint-amount-zero',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.amount',
      'amount 0',
      tx(fields(TxType.currencyMint, issuer, [bob.address, 0], 10n), {}, issuer),
    ),
    invalid(
      'currency-burn-exceeds-balance',
      'validateTx',
      ErrorCode.TX_INSUFFICIENT_BALANCE,
      'tx.body.amount',
      'issuer-one burns its whole 1,000,000 and cannot pay the fee on top',
      tx(fields(TxType.currencyBurn, issuer, [1_000_000], 10n), {}, issuer),
    ),
  ];
}

/** The id rules of energy UTXOs and certificates (core/energy.ts), as hash vectors. */
export function energyHashVectors(transferTxHash: Uint8Array, retireTxHash: Uint8Array): HashVector[] {
  const vector = (name: string, rule: string, value: Plain, hash: Uint8Array): HashVector => ({
    name,
    rule,
    value: toNotation(value),
    encoded: hex(encode(value as Encodable)),
    hash: hex(hash),
  });
  return [
    vector(
      'energy-utxo-minted-id',
      'sha256(encode(["JOULE/energy-utxo/mint/v1", deviceId, intervalStartMs]))',
      ['JOULE/energy-utxo/mint/v1', 'meter-0001', T0],
      mintedUtxoId('meter-0001', T0),
    ),
    vector(
      'energy-utxo-output-id',
      'sha256(encode(["JOULE/energy-utxo/output/v1", txHash, outputIndex]))',
      ['JOULE/energy-utxo/output/v1', transferTxHash, 0],
      outputUtxoId(transferTxHash, 0),
    ),
    vector('certificate-id', 'sha256(encode(["JOULE/certificate/v1", txHash]))', ['JOULE/certificate/v1', retireTxHash], certificateId(retireTxHash)),
  ];
}

/** The body codecs of types 21-25 seen through the vector file's JSON fields (vectors.test.ts BODY_CODECS). */
export const ENERGY_BODY_CODECS: Record<string, { fields(body: Uint8Array): Record<string, unknown>; encode(body: Uint8Array): Uint8Array }> = {
  'grid-intensity': {
    fields: (b) => ({ ...decodeGridIntensityBody(b) }),
    encode: (b) => encodeGridIntensityBody(decodeGridIntensityBody(b)),
  },
  'energy-transfer': {
    fields: (b) => {
      const t = decodeEnergyTransferBody(b);
      return { inputs: t.inputs.map(hex), outputs: t.outputs.map((o) => ({ owner: hex(o.owner), wh: o.wh.toString() })) };
    },
    encode: (b) => encodeEnergyTransferBody(decodeEnergyTransferBody(b)),
  },
  'energy-retire': {
    fields: (b) => {
      const r = decodeEnergyRetireBody(b);
      return { inputs: r.inputs.map(hex), wh: r.wh.toString(), beneficiary: hex(r.beneficiary), purpose: r.purpose };
    },
    encode: (b) => encodeEnergyRetireBody(decodeEnergyRetireBody(b)),
  },
  'currency-mint': {
    fields: (b) => {
      const m = decodeCurrencyMintBody(b);
      return { to: hex(m.to), amount: m.amount.toString() };
    },
    encode: (b) => encodeCurrencyMintBody(decodeCurrencyMintBody(b)),
  },
  'currency-burn': {
    fields: (b) => ({ amount: decodeCurrencyBurnBody(b).amount.toString() }),
    encode: (b) => encodeCurrencyBurnBody(decodeCurrencyBurnBody(b)),
  },
};
