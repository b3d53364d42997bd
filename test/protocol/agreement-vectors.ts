import { type Agreement, type AgreementPhase, encodeAgreement, encodeDispute, priceFormulaWire } from '../../core/agreement.ts';
import { utf8 } from '../../core/bytes.ts';
import { encode, type Encodable } from '../../core/codec.ts';
import { ErrorCode } from '../../core/errors.ts';
import { sha256 } from '../../core/hash.ts';
import { DEFAULT_PARAMS } from '../../core/params.ts';
import { agreementKey } from '../../core/state-keys.ts';
import {
  buildAgreementCollateralise,
  buildAgreementDispute,
  buildAgreementSign,
  buildAgreementVote,
  buildAgreementWithdraw,
  decodeAgreementAmountBody,
  decodeAgreementDisputeBody,
  decodeAgreementRefBody,
  decodeAgreementVoteBody,
  encodeAgreementAmountBody,
  encodeAgreementDisputeBody,
  encodeAgreementRefBody,
  encodeAgreementVoteBody,
} from '../../core/tx/agreement-actions.ts';
import { buildAgreementPropose, decodeAgreementProposeBody, encodeAgreementProposeBody, type AgreementProposeBody } from '../../core/tx/agreement-propose.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { disputeKey } from '../../state/agreements.ts';
import type { StateOverlay } from '../../state/overlay.ts';
import { type Fields, type InvalidTxVector, invalid, tx } from './invalid-tx-builder.ts';
import { hex, unhex } from './notation.ts';
import { CONTEXT_BLOCK } from './telemetry-vectors.ts';
import type { ValidTxVector } from './valid-txs.ts';
import { KEYS, VECTOR_CHAIN_ID, type VectorKey } from './vector-keys.ts';

/**
 * The agreements' part of the vector file: valid and one-defect invalid txs of types
 * 34-39 against the context chain, which holds four agreements of alice (buyer) and bob
 * (seller, meter-0001), one per phase the valid txs need (`context.agreements`: each
 * record's state key and canonical encoding, with no collateral posted).
 */

const INTERVAL = DEFAULT_PARAMS.settlementIntervalMs;
const FIRST_SLOT = (Math.floor(CONTEXT_BLOCK.timestampMs / INTERVAL) + 4) * INTERVAL;

export interface AgreementContext {
  name: string;
  id: string;
  phase: AgreementPhase;
  /** State writes: the agreement's record (and a dispute's), key and value in hex. */
  records: { key: string; value: string }[];
}

const idOf = (name: string) => sha256(utf8(`joule-protocol-vectors/agreement/${name}`));

function agreement(name: string, phase: AgreementPhase, more: Partial<Agreement> = {}): Agreement {
  const quantityWh = 1000n;
  return {
    id: idOf(name),
    buyer: KEYS.alice.address,
    seller: KEYS.bob.address,
    proposer: 'buyer',
    deviceId: 'meter-0001',
    zone: 'NL',
    quantityWh,
    firstSlotMs: FIRST_SLOT,
    slots: 4,
    price: { kind: 'fixed', price: 200_000n },
    collateralBps: 1500,
    phase,
    proposedAtMs: CONTEXT_BLOCK.timestampMs - 600_000,
    signedAtMs: 0,
    settledAtMs: 0,
    buyerCollateral: 0n,
    sellerCollateral: 0n,
    nextSlot: 0,
    remainingValue: 4n * quantityWh * 200_000n,
    buyerCallMs: 0,
    sellerCallMs: 0,
    deliveredWh: 0n,
    paid: 0n,
    ...more,
  };
}

const SIGNED_AT = CONTEXT_BLOCK.timestampMs - 120_000;

/** proposed (alice proposed), signed (cooling-off over), executing, disputed (alice's open claim of 10,000). */
export function contextAgreements(): AgreementContext[] {
  const rows: [string, Agreement, Uint8Array | undefined][] = [
    ['proposed', agreement('proposed', 'proposed'), undefined],
    ['signed', agreement('signed', 'signed', { signedAtMs: SIGNED_AT }), undefined],
    ['executing', agreement('executing', 'executing', { signedAtMs: SIGNED_AT, firstSlotMs: FIRST_SLOT - 8 * INTERVAL, nextSlot: 1 }), undefined],
    [
      'disputed',
      agreement('disputed', 'disputed', { signedAtMs: SIGNED_AT, firstSlotMs: FIRST_SLOT - 8 * INTERVAL, nextSlot: 1 }),
      encodeDispute({
        claimant: 'buyer',
        frozen: 0n,
        deposit: 0n,
        openedAtMs: SIGNED_AT,
        resume: 'executing',
        votesBuyer: [],
        votesSeller: [],
        decidedFor: undefined,
        fee: 0n,
      }),
    ],
  ];
  return rows.map(([name, a, dispute]) => ({
    name,
    id: hex(a.id),
    phase: a.phase,
    records: [
      { key: hex(agreementKey(a.id)), value: hex(encodeAgreement(a)) },
      ...(dispute === undefined ? [] : [{ key: hex(disputeKey(a.id)), value: hex(dispute) }]),
    ],
  }));
}

export function putContextAgreement(state: StateOverlay, a: AgreementContext): void {
  for (const r of a.records) state.set(unhex(r.key), unhex(r.value));
}

type Vector = (name: string, description: string, signer: VectorKey, t: Tx, body: Record<string, unknown>) => ValidTxVector;

const PROPOSE: AgreementProposeBody = {
  role: 'buyer',
  counterparty: KEYS.bob.address,
  deviceId: 'meter-0001',
  quantityWh: 500n,
  firstSlotMs: FIRST_SLOT,
  slots: 8,
  price: { kind: 'market', premium: 5_000n, fallback: 180_000n },
  collateralBps: 1000,
};

const wireJson = (v: Encodable): unknown => (Array.isArray(v) ? v.map(wireJson) : typeof v === 'bigint' || typeof v === 'number' ? v.toString() : v);
const proposeJson = (b: AgreementProposeBody) => ({
  role: b.role === 'buyer' ? 0 : 1,
  counterparty: hex(b.counterparty),
  deviceId: b.deviceId,
  quantityWh: b.quantityWh.toString(),
  firstSlotMs: b.firstSlotMs,
  slots: b.slots,
  price: wireJson(priceFormulaWire(b.price)),
  collateralBps: b.collateralBps,
});

const sender = (k: VectorKey, nonce: number) => ({ chainId: VECTOR_CHAIN_ID, seed: k.seed, nonce, fee: 10n });

export function validAgreementTxVectors(vector: Vector): ValidTxVector[] {
  const { alice, bob, north } = KEYS;
  const [proposed, signed, executing, disputed] = contextAgreements().map((a) => unhex(a.id));
  return [
    vector(
      'agreement-propose',
      "alice proposes to buy 500 Wh per 15-minute slot from bob's meter-0001 for 8 slots at NL's market price plus 5,000 (180,000 where NL has no price), 10 % collateral",
      alice,
      buildAgreementPropose({ ...sender(alice, 5), ...PROPOSE }),
      proposeJson(PROPOSE),
    ),
    vector(
      'agreement-sign',
      "bob signs alice's proposed agreement: its 60 s cooling-off starts",
      bob,
      buildAgreementSign({ ...sender(bob, 0), id: proposed! }),
      {
        id: hex(proposed!),
      },
    ),
    vector('agreement-withdraw', 'alice withdraws her proposal before bob signs', alice, buildAgreementWithdraw({ ...sender(alice, 6), id: proposed! }), {
      id: hex(proposed!),
    }),
    vector(
      'agreement-collateralise',
      'alice posts 120,000 collateral to the signed agreement whose cooling-off is over (its level: 15 % of 800,000)',
      alice,
      buildAgreementCollateralise({ ...sender(alice, 7), id: signed!, amount: 120_000n }),
      { id: hex(signed!), amount: '120000' },
    ),
    vector(
      'agreement-dispute',
      'alice claims 10,000 from bob under the executing agreement; she deposits 100 (1 %)',
      alice,
      buildAgreementDispute({ ...sender(alice, 8), id: executing!, amount: 10_000n, counterparty: bob.address }),
      { id: hex(executing!), amount: '10000', counterparty: hex(bob.address) },
    ),
    vector(
      'agreement-vote',
      "validator dso-north votes for the buyer on the disputed agreement's open dispute",
      north,
      buildAgreementVote({ ...sender(north, 0), id: disputed!, decision: 'buyer', buyer: alice.address, seller: bob.address }),
      { id: hex(disputed!), decision: 0, buyer: hex(alice.address), seller: hex(bob.address) },
    ),
  ];
}

const fields = (type: number, s: VectorKey, body: Encodable): Fields => ({
  chainId: VECTOR_CHAIN_ID,
  type,
  sender: s.publicKey,
  nonce: 0,
  fee: 10n,
  body: encode(body),
});
const proposeWire = (b: Partial<AgreementProposeBody>): Encodable => {
  const f = { ...PROPOSE, ...b };
  return [f.role === 'buyer' ? 0 : 1, f.counterparty, f.deviceId, f.quantityWh, f.firstSlotMs, f.slots, priceFormulaWire(f.price), f.collateralBps];
};

export function invalidAgreementTxVectors(): InvalidTxVector[] {
  const { alice, bob } = KEYS;
  const [proposed, signed, executing] = contextAgreements().map((a) => unhex(a.id));
  const t = (type: number, s: VectorKey, body: Encodable) => tx(fields(type, s, body), {}, s);
  return [
    invalid(
      'agreement-propose-collateral-above-20-percent',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.collateralBps',
      'collateral of 2001 basis points: above 20 % of the contract value',
      t(TxType.agreementPropose, alice, proposeWire({ collateralBps: 2001 })),
    ),
    invalid(
      'agreement-propose-device-of-the-buyer',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.body.deviceId',
      'bob proposes to buy from alice with his own meter-0001 as the delivering device: the seller does not own it',
      t(TxType.agreementPropose, bob, proposeWire({ counterparty: alice.address })),
    ),
    invalid(
      'agreement-sign-by-proposer',
      'validateTx',
      ErrorCode.AGREEMENT_NOT_PARTY,
      'tx.sender',
      'alice signs her own proposal',
      t(TxType.agreementSign, alice, [proposed!]),
    ),
    invalid(
      'agreement-sign-unknown',
      'validateTx',
      ErrorCode.AGREEMENT_UNKNOWN,
      'tx.body.id',
      'an id no agreement has',
      t(TxType.agreementSign, bob, [idOf('none')]),
    ),
    invalid(
      'agreement-withdraw-after-cooling-off',
      'validateTx',
      ErrorCode.AGREEMENT_PHASE,
      'tx.body.id',
      'alice withdraws the signed agreement 120 s after signing: its cooling-off ended',
      t(TxType.agreementWithdraw, alice, [signed!]),
    ),
    invalid(
      'agreement-collateralise-unsigned',
      'validateTx',
      ErrorCode.AGREEMENT_PHASE,
      'tx.body.id',
      'collateral for an agreement bob has not signed',
      t(TxType.agreementCollateralise, alice, [proposed!, 1000n]),
    ),
    invalid(
      'agreement-dispute-wrong-counterparty',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.counterparty',
      'alice names herself as the other party',
      t(TxType.agreementDispute, alice, [executing!, 1000n, alice.address]),
    ),
    invalid(
      'agreement-vote-not-validator',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'bob, not a validator, votes on a dispute',
      t(TxType.agreementVote, bob, [executing!, 0, alice.address, bob.address]),
    ),
  ];
}

export const AGREEMENT_BODY_CODECS: Record<string, { fields(body: Uint8Array): Record<string, unknown>; encode(body: Uint8Array): Uint8Array }> = {
  'agreement-propose': { fields: (b) => proposeJson(decodeAgreementProposeBody(b)), encode: (b) => encodeAgreementProposeBody(decodeAgreementProposeBody(b)) },
  'agreement-sign': { fields: (b) => ({ id: hex(decodeAgreementRefBody(b).id) }), encode: (b) => encodeAgreementRefBody(decodeAgreementRefBody(b)) },
  'agreement-withdraw': { fields: (b) => ({ id: hex(decodeAgreementRefBody(b).id) }), encode: (b) => encodeAgreementRefBody(decodeAgreementRefBody(b)) },
  'agreement-collateralise': {
    fields: (b) => {
      const d = decodeAgreementAmountBody(b);
      return { id: hex(d.id), amount: d.amount.toString() };
    },
    encode: (b) => encodeAgreementAmountBody(decodeAgreementAmountBody(b)),
  },
  'agreement-dispute': {
    fields: (b) => {
      const d = decodeAgreementDisputeBody(b);
      return { id: hex(d.id), amount: d.amount.toString(), counterparty: hex(d.counterparty) };
    },
    encode: (b) => encodeAgreementDisputeBody(decodeAgreementDisputeBody(b)),
  },
  'agreement-vote': {
    fields: (b) => {
      const d = decodeAgreementVoteBody(b);
      return { id: hex(d.id), decision: d.decision === 'buyer' ? 0 : 1, buyer: hex(d.buyer), seller: hex(d.seller) };
    },
    encode: (b) => encodeAgreementVoteBody(decodeAgreementVoteBody(b)),
  },
};
