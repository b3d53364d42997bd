import type { CommandRecord } from '../../core/command.ts';
import { settlesAt } from '../../core/meter.ts';
import type { ChainParams } from '../../core/params.ts';
import { putQueueEntry } from '../../state/flex.ts';
import type { StateOverlay } from '../../state/overlay.ts';

/**
 * A plain anchored command (tx command-anchor, type 28) with a price pays each target
 * device's metered export in its window, up to the commanded limit, at that price: the
 * issuing dso pays the device's owner (as when the command was anchored), interval by
 * interval as each settles (vm/flex/settlement.ts). Only DISCHARGE and CURTAIL commands:
 * export is what they command or allow; a CHARGE or IDLE command's price is for the
 * device's information only.
 */

/** The commands whose price pays for export. */
export function isPricedExportCommand(c: Pick<CommandRecord, 'type' | 'priceMicroPerKwh'>): boolean {
  return c.priceMicroPerKwh > 0n && (c.type === 1 || c.type === 3);
}

/** The start of the settlement interval holding `us` (a time in µs), ms. */
export function intervalHolding(us: bigint, settlementIntervalMs: number): number {
  const ms = Number(us / 1000n);
  return ms - (ms % settlementIntervalMs);
}

/**
 * Queues the settlement of the command's interval starting at `intervalStartMs`: due when
 * it settles, but never in the block that queues it (`nowMs` the block's time), whose
 * end-of-block reads were declared before its txs ran.
 */
export function queueCommandInterval(
  state: StateOverlay,
  hash: Uint8Array,
  c: Pick<CommandRecord, 'issuer' | 'deviceIds'>,
  owners: readonly Uint8Array[],
  intervalStartMs: number,
  params: Pick<ChainParams, 'settlementIntervalMs' | 'settlementDelayMs'>,
  nowMs: number,
): void {
  const due = settlesAt(intervalStartMs, params);
  putQueueEntry(state, {
    dueMs: due > nowMs ? due : nowMs + 1,
    kind: 'command',
    id: hash,
    intervalStartMs,
    payer: c.issuer,
    payee: undefined,
    deviceIds: c.deviceIds,
    owners,
  });
}
