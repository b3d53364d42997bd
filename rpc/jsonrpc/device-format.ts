/**
 * JSON shapes of the energy ledger's queries (docs/json-rpc.md: Device, DeviceList, Roles).
 * Pure, like json-format.ts: no lookups, testable from plain values.
 */
import type { DeviceRecord } from '../../core/device.ts';
import { formatAddress } from '../../core/keys.ts';
import type { DeviceJson, RoleProposalJson } from '../../core/rpc-json.ts';
import { deviceKey } from '../../core/state-keys.ts';
import { decodeRoleVoteBody } from '../../core/tx/role-vote.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import { hex } from './json-format.ts';
import type { GovernanceProposalView } from '../node-api.ts';

export function formatDevice(d: DeviceRecord): DeviceJson {
  return {
    id: d.id,
    publicKey: hex(d.publicKey),
    owner: formatAddress(d.owner),
    operator: formatAddress(d.operator),
    kind: d.kind,
    zone: d.zone,
    maxImportW: d.maxImportW,
    maxExportW: d.maxExportW,
    carbonIntensity: d.carbonIntensity,
    checkMeter: d.checkMeter ?? null,
    status: d.status,
    keyHistory: d.keyHistory.map((k) => ({ key: hex(k.key), fromHeight: k.fromHeight })),
    stateKey: hex(deviceKey(d.id)),
  };
}

/** A role-vote proposal as RPC shows it, or undefined if `p` is no role vote about `account`'s roles. */
export function formatRoleProposal(
  p: GovernanceProposalView,
  txType: number,
  account: Uint8Array,
  current: ValidatorSet | undefined,
): RoleProposalJson | undefined {
  if (p.txType !== txType) return undefined;
  let body: ReturnType<typeof decodeRoleVoteBody>;
  try {
    body = decodeRoleVoteBody(p.body);
  } catch {
    return undefined;
  }
  if (formatAddress(body.account) !== formatAddress(account)) return undefined;
  return {
    id: hex(p.id),
    action: body.action,
    role: body.role,
    voters: p.voters.map(formatAddress),
    votes: current === undefined ? null : p.voters.filter((a) => current.has(a)).length,
    needed: current === undefined ? null : Math.floor(current.size / 2) + 1,
    openedAt: p.openedAtMs,
  };
}
