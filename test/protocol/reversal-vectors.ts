import { encode, type Encodable } from '../../core/codec.ts';
import { ErrorCode } from '../../core/errors.ts';
import { parseAddress } from '../../core/keys.ts';
import { orderId } from '../../core/market.ts';
import { DEFAULT_PARAMS } from '../../core/params.ts';
import { decodeReversalApproveBody, encodeReversalApproveBody, buildReversalApprove } from '../../core/tx/reversal-approve.ts';
import { buildReversalPropose, decodeReversalProposeBody, encodeReversalProposeBody } from '../../core/tx/reversal-propose.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import type { ReversalTarget } from '../../core/reversal.ts';
import { marketId, putSettlement, putTrade } from '../../state/markets.ts';
import type { StateOverlay } from '../../state/overlay.ts';
import { putGovernorSet, putNextReversalId, putReversal } from '../../state/reversals.ts';
import { type Fields, type InvalidTxVector, invalid, tx } from './invalid-tx-builder.ts';
import { hex, unhex } from './notation.ts';
import { CONTEXT_BLOCK } from './telemetry-vectors.ts';
import type { ValidTxVector } from './valid-txs.ts';
import { KEYS, VECTOR_CHAIN_ID, type VectorKey } from './vector-keys.ts';

/**
 * Governed reversal's part of the vector file: valid and one-defect invalid
 * reversal-propose (46) and reversal-approve (47) transactions against the context chain,
 * whose governors are dso-north and issuer-one (k = 2) and whose market NL of the interval
 * before the block's holds two settled trades of bob's meter-0001 to alice; dso-north has
 * proposed reversing trade 1 (reversal 1, `context.reversals`).
 */

const INTERVAL = DEFAULT_PARAMS.settlementIntervalMs;
const PAST_START = (Math.floor(CONTEXT_BLOCK.timestampMs / INTERVAL) - 1) * INTERVAL;

export interface SettledTradeContext {
  seq: number;
  bidId: string;
  askId: string;
  buyer: string;
  seller: string;
  deviceId: string;
  volumeWh: string;
  settlement: { deliveredWh: string; payment: string; penalty: string; utxo: string | null; height: number };
}

export interface ReversalContext {
  /** Key names; k of them approve a reversal. */
  governors: string[];
  threshold: number;
  /** The market (zone, interval) of the settled trades. */
  zone: string;
  intervalStartMs: number;
  settledTrades: SettledTradeContext[];
  /** Proposed reversals waiting for approvals (approvers by key name). */
  open: { id: number; seq: number; reason: string; approvers: string[]; proposedHeight: number }[];
}

export function contextReversals(): ReversalContext {
  const ids = (price: bigint) => ({
    bidId: hex(orderId({ zone: 'NL', intervalStartMs: PAST_START, side: 'bid', price, height: 3, index: 0, deviceId: undefined })),
    askId: hex(orderId({ zone: 'NL', intervalStartMs: PAST_START, side: 'ask', price: 150_000n, height: 3, index: 1, deviceId: 'meter-0001' })),
  });
  const trade = (seq: number, volumeWh: bigint, deliveredWh: bigint, utxoByte: number): SettledTradeContext => ({
    seq,
    ...ids(250_000n),
    buyer: KEYS.alice.name,
    seller: KEYS.bob.name,
    deviceId: 'meter-0001',
    volumeWh: volumeWh.toString(),
    // P = 200,000: payment floor(delivered x P / 1000), penalty floor(undelivered x P x 500 / 10^7).
    settlement: {
      deliveredWh: deliveredWh.toString(),
      payment: ((deliveredWh * 200_000n) / 1000n).toString(),
      penalty: (((volumeWh - deliveredWh) * 200_000n * 500n) / 10_000_000n).toString(),
      utxo: hex(new Uint8Array(32).fill(utxoByte)),
      height: 8,
    },
  });
  return {
    governors: [KEYS.north.name, KEYS.issuer.name],
    threshold: 2,
    zone: 'NL',
    intervalStartMs: PAST_START,
    settledTrades: [trade(0, 1000n, 1000n, 0xa0), trade(1, 500n, 300n, 0xa1)],
    open: [{ id: 1, seq: 1, reason: 'meter-0001 read double during the interval', approvers: [KEYS.north.name], proposedHeight: 9 }],
  };
}

/** Writes the context's governors, settled trades and open reversals. */
export function putReversalContext(state: StateOverlay, c: ReversalContext, addressOf: (name: string) => string): void {
  const address = (name: string) => parseAddress(addressOf(name));
  putGovernorSet(state, { threshold: c.threshold, governors: c.governors.map(address) });
  const m = marketId(c.zone, c.intervalStartMs);
  for (const t of c.settledTrades) {
    const { buyer, seller } = { buyer: address(t.buyer), seller: address(t.seller) };
    putTrade(state, m, { seq: t.seq, bidId: unhex(t.bidId), askId: unhex(t.askId), buyer, seller, deviceId: t.deviceId, volumeWh: BigInt(t.volumeWh) });
    const s = t.settlement;
    putSettlement(state, m, t.seq, {
      deliveredWh: BigInt(s.deliveredWh),
      payment: BigInt(s.payment),
      penalty: BigInt(s.penalty),
      utxoId: s.utxo === null ? undefined : unhex(s.utxo),
      height: s.height,
    });
  }
  for (const r of c.open) {
    const t = c.settledTrades.find((x) => x.seq === r.seq)!;
    putReversal(state, {
      id: r.id,
      zone: c.zone,
      intervalStartMs: c.intervalStartMs,
      seq: r.seq,
      buyer: address(t.buyer),
      seller: address(t.seller),
      reason: r.reason,
      approvers: r.approvers.map(address),
      proposedHeight: r.proposedHeight,
      executedHeight: undefined,
    });
  }
  putNextReversalId(state, c.open.length + 1);
}

const target = (seq: number): ReversalTarget => ({ zone: 'NL', intervalStartMs: PAST_START, seq, buyer: KEYS.alice.address, seller: KEYS.bob.address });
const targetJson = (t: ReversalTarget) => ({ zone: t.zone, intervalStartMs: t.intervalStartMs, seq: t.seq, buyer: hex(t.buyer), seller: hex(t.seller) });
const REASON = 'meter-0001 was found 4 % fast at inspection';

type Vector = (name: string, description: string, signer: VectorKey, t: Tx, body: Record<string, unknown>) => ValidTxVector;

export function validReversalTxVectors(vector: Vector): ValidTxVector[] {
  const { north, issuer } = KEYS;
  return [
    vector(
      'reversal-propose',
      "dso-north, a governor, proposes reversing the settlement of trade 0 (bob's meter-0001 to alice, 1,000 Wh paid 200,000); it counts as its approval",
      north,
      buildReversalPropose({ chainId: VECTOR_CHAIN_ID, seed: north.seed, nonce: 2, fee: 10n, ...target(0), reason: REASON }),
      { ...targetJson(target(0)), reason: REASON },
    ),
    vector(
      'reversal-approve',
      'issuer-one, the second governor, approves reversal 1 (trade 1): the k-th approval, it moves back the payment of 60,000, the penalty of 2,000 and the 300 Wh',
      issuer,
      buildReversalApprove({ chainId: VECTOR_CHAIN_ID, seed: issuer.seed, nonce: 3, fee: 10n, ...target(1) }),
      targetJson(target(1)),
    ),
  ];
}

const wire = (t: ReversalTarget): Encodable[] => [t.zone, t.intervalStartMs, t.seq, t.buyer, t.seller];
const fields = (type: number, sender: VectorKey, body: Encodable): Fields => ({
  chainId: VECTOR_CHAIN_ID,
  type,
  sender: sender.publicKey,
  nonce: 0,
  fee: 10n,
  body: encode(body),
});
const propose = (sender: VectorKey, t: ReversalTarget, reason = REASON) => tx(fields(TxType.reversalPropose, sender, [...wire(t), reason]), {}, sender);
const approve = (sender: VectorKey, t: ReversalTarget) => tx(fields(TxType.reversalApprove, sender, wire(t)), {}, sender);

export function invalidReversalTxVectors(): InvalidTxVector[] {
  const { bob, north, issuer } = KEYS;
  return [
    invalid(
      'reversal-propose-not-governor',
      'validateTx',
      ErrorCode.REVERSAL_NOT_GOVERNOR,
      'tx.sender',
      'bob, the seller, proposes reversing trade 0: only governors may',
      propose(bob, target(0)),
    ),
    invalid(
      'reversal-propose-empty-reason',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.reason',
      'a proposal without a reason ("")',
      propose(north, target(0), ''),
    ),
    invalid(
      'reversal-propose-unknown-settlement',
      'validateTx',
      ErrorCode.REVERSAL_UNKNOWN_SETTLEMENT,
      'tx.body.seq',
      'trade 2 of the market: it has two trades, 0 and 1',
      propose(north, target(2)),
    ),
    invalid(
      'reversal-propose-wrong-buyer',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.buyer',
      'the body names bob as the buyer of trade 0; alice is',
      propose(north, { ...target(0), buyer: bob.address }),
    ),
    invalid(
      'reversal-propose-already-proposed',
      'validateTx',
      ErrorCode.REVERSAL_ALREADY_PROPOSED,
      'tx.body.seq',
      'issuer-one proposes reversing trade 1, whose reversal dso-north proposed: it approves it instead',
      propose(issuer, target(1)),
    ),
    invalid(
      'reversal-approve-twice',
      'validateTx',
      ErrorCode.REVERSAL_ALREADY_APPROVED,
      'tx.sender',
      'dso-north approves reversal 1, which it proposed (its proposal was its approval)',
      approve(north, target(1)),
    ),
    invalid(
      'reversal-approve-unknown',
      'validateTx',
      ErrorCode.REVERSAL_UNKNOWN,
      'tx.body.seq',
      'issuer-one approves a reversal of trade 0: none is proposed',
      approve(issuer, target(0)),
    ),
  ];
}

/** The body codecs of types 46 and 47 seen through the vector file's JSON fields (vectors.test.ts BODY_CODECS). */
export const REVERSAL_BODY_CODECS: Record<string, { fields(body: Uint8Array): Record<string, unknown>; encode(body: Uint8Array): Uint8Array }> = {
  'reversal-propose': {
    fields: (b) => {
      const d = decodeReversalProposeBody(b);
      return { ...targetJson(d), reason: d.reason };
    },
    encode: (b) => encodeReversalProposeBody(decodeReversalProposeBody(b)),
  },
  'reversal-approve': {
    fields: (b) => targetJson(decodeReversalApproveBody(b)),
    encode: (b) => encodeReversalApproveBody(decodeReversalApproveBody(b)),
  },
};
