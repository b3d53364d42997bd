import { DEFAULT_PARAMS, type ChainParams } from '../../core/params.ts';
import { formatAddress, parseAddress } from '../../core/keys.ts';
import { ROLE_FROM_JSON, rolesToBits, type RoleJsonName } from '../../core/roles.ts';
import { putDevice } from '../../state/devices.ts';
import { deviceRecordOf, type DeviceKeyVector } from './device-vectors.ts';
import { putFrozenInterval } from './telemetry-vectors.ts';
import { energyUtxoRecordOf } from './energy-vectors.ts';
import { putUtxo } from '../../state/energy.ts';
import { ValidatorSet } from '../../core/validators.ts';
import { evidenceRules } from '../../node/chain/evidence-verifier.ts';
import { StateOverlay } from '../../state/overlay.ts';
import { putValidatorSet } from '../../state/validator-set.ts';
import { MemoryState } from '../../vm/testing/fixtures.ts';
import type { ChainContext } from '../../vm/types.ts';
import { putOpenOrder } from './market-vectors.ts';
import { putContextAgreement } from './agreement-vectors.ts';
import { putContextFlex } from './flex-vectors.ts';
import { putReversalContext } from './reversal-vectors.ts';
import { hex, unhex } from './notation.ts';
import type { KeyVector } from './vector-keys.ts';
import type { VectorContext } from './vectors.ts';

/**
 * The chain the vector file's `context` describes, built from the file alone: its
 * accounts and validator set in an in-memory state, its parameters, and the evidence
 * verifier a node injects into vm/. What a node of that chain checks a submitted tx against.
 */
export function vectorChain(
  context: VectorContext,
  keys: readonly KeyVector[],
  deviceKeys: readonly DeviceKeyVector[],
): { state: MemoryState; chain: ChainContext } {
  const key = (name: string): KeyVector => {
    const k = keys.find((x) => x.name === name);
    if (k === undefined) throw new Error(`no key ${name} in the vector file`);
    return k;
  };
  const state = new MemoryState();
  for (const a of context.accounts) {
    const own = (name: string) => key(name).address === hex(parseAddress(a.address));
    const locked =
      context.openOrders.filter((o) => own(o.owner)).reduce((sum, o) => sum + BigInt(o.locked), 0n) +
      context.flexActivations.filter((f) => own(f.dso)).reduce((sum, f) => sum + BigInt(f.escrow), 0n);
    state.setAccount(parseAddress(a.address), {
      balance: BigInt(a.balance),
      locked,
      roles: rolesToBits(a.roles.map((r) => ROLE_FROM_JSON[r as RoleJsonName])),
    });
  }
  const set = new ValidatorSet(
    context.validators
      .map(key)
      .map((k) => ({ name: k.name, address: unhex(k.address), identityKey: unhex(k.ed25519PublicKey), blsKey: unhex(k.blsPublicKey!) })),
  );
  const overlay = new StateOverlay(state);
  putValidatorSet(overlay, set);
  const addressOf = (name: string) => formatAddress(unhex(key(name).address));
  const deviceKeyOf = (name: string) => unhex(deviceKeys.find((k) => k.name === name)!.blsPublicKey);
  for (const d of context.devices) putDevice(overlay, deviceRecordOf(d, addressOf, deviceKeyOf));
  for (const f of context.frozenIntervals) {
    const device = context.devices.find((d) => d.id === f.deviceId)!;
    putFrozenInterval(overlay, f, device, parseAddress(addressOf(device.owner)));
  }
  for (const u of context.energyUtxos) putUtxo(overlay, energyUtxoRecordOf(u, addressOf));
  for (const o of context.openOrders) putOpenOrder(overlay, o, addressOf);
  for (const a of context.agreements ?? []) putContextAgreement(overlay, a);
  putContextFlex(overlay, context.flexBids, context.flexActivations, addressOf);
  putReversalContext(overlay, context.reversals, addressOf);
  state.apply(overlay.changes());
  const params: ChainParams = {
    ...DEFAULT_PARAMS,
    minFee: BigInt(context.params.minFee),
    maxTxBytes: context.params.maxTxBytes,
    tiers: DEFAULT_PARAMS.tiers.map((t) => ({ ...t, baseFee: BigInt(context.params.tierBaseFees[t.name]!) })),
  };
  return {
    state,
    chain: {
      chainId: context.chainId,
      params,
      evidenceRules: evidenceRules(context.chainId),
      height: context.block.height,
      timestamp: context.block.timestampMs,
    },
  };
}
