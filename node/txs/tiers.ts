import type { ChainParams } from '../../core/params.ts';
import type { TelemetryBatchBody } from '../../core/tx/telemetry-batch.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import type { Tier } from '../../mempool/index.ts';
import { tierParams } from '../../vm/index.ts';

/**
 * Which mempool tier each tx type belongs to (mempool/README.md "Tiers"). The system tier
 * (validator votes, evidence, role votes: the chain's own governance and safety) always
 * goes first. Command anchors (28) and the markets (32..47) have no handler yet on every
 * branch: they are named here so they land in their tier the day they do.
 *
 * This is the pool's order, not a consensus rule: a tx type's base fee stays that of its
 * vm handler's tier (vm/validity.ts), which for check-meter-resolution (27) is
 * carbon_credit while the pool ranks it with the grid_balancing work it unblocks.
 */
const TIER_OF_TYPE: ReadonlyMap<number, Tier> = new Map<number, Tier>([
  [TxType.validatorVote, 'system'],
  [TxType.evidence, 'system'],
  [TxType.roleVote, 'system'],
  [TxType.deviceRegister, 'grid_balancing'],
  [TxType.deviceUpdate, 'grid_balancing'],
  [TxType.deviceStatus, 'grid_balancing'],
  [TxType.deviceRekey, 'grid_balancing'],
  [TxType.telemetryBatch, 'grid_balancing'],
  [TxType.gridIntensity, 'grid_balancing'],
  [TxType.checkMeterResolution, 'grid_balancing'],
  [28, 'grid_balancing'], // command-anchor (issue 10)
  [TxType.transfer, 'peer_to_peer'],
  [TxType.energyTransfer, 'peer_to_peer'],
  [TxType.currencyMint, 'peer_to_peer'],
  [TxType.currencyBurn, 'peer_to_peer'],
  [TxType.energyRetire, 'carbon_credit'],
  [TxType.flexBid, 'grid_balancing'],
  [TxType.flexActivate, 'grid_balancing'],
  [TxType.flexConfirm, 'grid_balancing'],
  [TxType.flexWithdraw, 'grid_balancing'],
  // Governed reversals: the chain's own governance, sent by the few governors genesis names
  // (admission refuses anyone else), rare and never a flood: with the votes, ahead of trade.
  [TxType.reversalPropose, 'system'],
  [TxType.reversalApprove, 'system'],
]);

/** The mempool tier of a tx type; any type not named (the markets, 32..47, or one added later) is peer_to_peer. */
export function mempoolTier(type: number): Tier {
  return TIER_OF_TYPE.get(type) ?? 'peer_to_peer';
}

/** Priority units per micro-unit of fee per byte at multiplier 1.0: fees per byte are mostly below 1. */
export const PRIORITY_SCALE = 1_000_000n;

/**
 * Priority within a tier = fee per byte x the tier's multiplier, in integers only:
 * fee * multiplierBps * PRIORITY_SCALE / (bytes * 10_000), rounded down. Per byte, so a
 * big tx pays for the block space it takes; the system tier's multiplier is 1.0 (it is
 * ordered first regardless). A tx of 0 bytes does not exist (an envelope has 7 fields).
 */
export function mempoolPriority(tx: Pick<Tx, 'type' | 'fee' | 'bytes'>, tier: Tier, params: ChainParams): bigint {
  const bps = tier === 'system' ? 10_000n : BigInt(tierParams(params, tier).priorityMultiplierBps);
  const bytes = BigInt(Math.max(1, tx.bytes.length));
  return (tx.fee * bps * PRIORITY_SCALE) / (bytes * 10_000n);
}

/**
 * The devices a tx speaks for, each once, for the pool's per-device bound: a telemetry
 * batch's readings' devices, a device tx's device, a check-meter resolution's device.
 * `body` is the decoded body validation returned.
 */
export function txDevices(type: number, body: unknown): readonly string[] {
  switch (type) {
    case TxType.telemetryBatch: {
      const seen = new Set<string>();
      for (const r of (body as TelemetryBatchBody).readings) seen.add(r.deviceId);
      return [...seen];
    }
    case TxType.deviceRegister:
    case TxType.deviceUpdate:
    case TxType.deviceStatus:
    case TxType.deviceRekey:
      return [(body as { id: string }).id];
    case TxType.checkMeterResolution:
      return [(body as { deviceId: string }).deviceId];
    default:
      return [];
  }
}
