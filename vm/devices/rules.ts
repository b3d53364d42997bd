import type { BlockEvent } from '../../core/block.ts';
import type { DeviceRecord } from '../../core/device.ts';
import { equalBytes } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { Role } from '../../core/roles.ts';
import type { Tx } from '../../core/tx.ts';
import { deviceKey, getDevice } from '../../state/devices.ts';
import { governanceProposalId, governanceProposalKey } from '../../state/governance-votes.ts';
import { VALIDATOR_SET_KEY } from '../../state/validator-set.ts';
import type { StateOverlay, StateReader } from '../../state/overlay.ts';
import { addressText, readAccount } from '../accounts.ts';
import { castGovernanceVote, checkGovernanceVoter } from '../governance.ts';
import type { BlockContext } from '../types.ts';

/** The rules the device handlers share: who may act on a device, and in which states. */

/** dso or aggregator: the roles that operate devices. */
export const OPERATOR_ROLE_BITS = Role.dso | Role.aggregator;

export function holdsOperatorRole(state: StateReader, address: Uint8Array): boolean {
  return (readAccount(state, address).roles & OPERATOR_ROLE_BITS) !== 0;
}

/** The registered device `id`; DEVICE_UNKNOWN naming `field` otherwise. */
export function requireDevice(state: StateReader, id: string, field: string): DeviceRecord {
  const d = getDevice(state, id);
  if (d === undefined) throw new JouleError(ErrorCode.DEVICE_UNKNOWN, `no device ${JSON.stringify(id)} is registered`, field);
  return d;
}

export function requireNotRevoked(d: DeviceRecord, field: string): void {
  if (d.status === 'revoked') throw new JouleError(ErrorCode.DEVICE_INACTIVE, `device ${JSON.stringify(d.id)} is revoked, which is final`, field);
}

/**
 * A check meter: another registered device, not revoked, and, when an operator names it,
 * one that operator operates (`operator`; governance names any). A device named as a
 * check meter is never minted (its energy is the checked device's), so naming another
 * operator's device would stop its owner's energy tokens.
 */
export function requireCheckMeter(state: StateReader, id: string, operator: Uint8Array | undefined): void {
  const m = requireDevice(state, id, 'tx.body.checkMeter');
  requireNotRevoked(m, 'tx.body.checkMeter');
  if (operator !== undefined && !equalBytes(m.operator, operator))
    throw new JouleError(
      ErrorCode.TX_UNAUTHORIZED,
      `device ${JSON.stringify(id)} is operated by ${addressText(m.operator)}, not by ${addressText(operator)}: a check meter is never minted, so only its operator (or governance) names it`,
      'tx.body.checkMeter',
    );
}

export type Authority = 'operator' | 'governance';

/** Who acts: the device's operator (still holding dso or aggregator), or else a validator's governance vote. */
export function authorityOf(tx: Tx, d: DeviceRecord): Authority {
  return equalBytes(tx.from, d.operator) ? 'operator' : 'governance';
}

/** Validity of the sender of a change to `d`: its operator, or a current validator voting (vm/governance.ts). */
export function checkAuthority(state: StateReader, tx: Tx, d: DeviceRecord): Authority {
  if (authorityOf(tx, d) === 'operator') {
    requireOperatorRole(state, tx);
    return 'operator';
  }
  checkGovernanceVoter(state, tx, `is neither the operator of device ${JSON.stringify(d.id)} nor a validator (governance)`);
  return 'governance';
}

/** The sender holds dso or aggregator; TX_UNAUTHORIZED naming tx.sender otherwise. */
export function requireOperatorRole(state: StateReader, tx: Tx): void {
  if (!holdsOperatorRole(state, tx.from)) {
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} holds neither the dso nor the aggregator role`, 'tx.sender');
  }
}

/** Runs `act` now (the operator's change) or as the vote of a validator (governance). */
export function byAuthority(state: StateOverlay, tx: Tx, block: BlockContext, d: DeviceRecord, act: () => BlockEvent[]): BlockEvent[] {
  return authorityOf(tx, d) === 'operator' ? act() : castGovernanceVote(state, tx, block, act);
}

/**
 * What a change to a device by operator or governance reads: the device, the validator set
 * and this body's proposal (governance validity), and all proposals (a vote sweeps
 * expired ones): GOVERNANCE_PREFIX in `prefixes`.
 */
export function governedDeviceKeys(tx: Pick<Tx, 'type' | 'body'>, id: string): Uint8Array[] {
  return [deviceKey(id), VALIDATOR_SET_KEY, governanceProposalKey(governanceProposalId(tx.type, tx.body))];
}
