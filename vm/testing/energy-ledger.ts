/**
 * Energy tokens in tests (not used by the node): mint a device's interval straight into an
 * energy chain's state through vm/energy/mint.ts, as the interval-close hook does.
 */
import { getDevice } from '../../state/devices.ts';
import { StateOverlay } from '../../state/overlay.ts';
import { mintMeteredInterval, type MeteredInterval } from '../energy/mint.ts';
import type { EnergyChain } from './energy-chain.ts';

/** Mints interval number `k` (of the chain's settlement interval, from `originMs`) of a registered device; returns the UTXO id. */
export function mintInterval(
  chain: EnergyChain,
  deviceId: string,
  k: number,
  m: Partial<MeteredInterval> = {},
  originMs = 1_699_999_980_000,
): Uint8Array | undefined {
  const device = getDevice(chain.state, deviceId);
  if (device === undefined) throw new Error(`no device ${deviceId}`);
  const len = chain.ctx().params.settlementIntervalMs;
  const o = new StateOverlay(chain.state);
  const id = mintMeteredInterval(
    o,
    device,
    { deviceId, intervalStartMs: originMs + k * len, intervalEndMs: originMs + (k + 1) * len, importWh: 0n, exportWh: 0n, frozen: false, ...m },
    chain.height,
  );
  chain.state.apply(o.changes());
  return id;
}
