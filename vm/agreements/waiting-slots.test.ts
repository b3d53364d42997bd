import { describe, expect, it } from 'vitest';
import { settlesAt } from '../../core/meter.ts';
import { MarketBucket } from '../../core/state-keys.ts';
import { putTimer, TIMER_PREFIX, timerKey, timerOf } from '../../state/agreements.ts';
import { settleItemKey } from '../../state/markets.ts';
import { StateOverlay } from '../../state/overlay.ts';
import { testAgreement } from '../testing/agreement.ts';
import { ZONE } from '../testing/market.ts';
import { runAgreements } from './execution.ts';
import { workBudget } from '../end-block.ts';

describe('agreement timers: a slot that must wait', () => {
  it('does not hold back the timers due after it, and stays queued until it can settle', () => {
    const x = testAgreement();
    const { c } = x.t;
    const params = c.ctx().params;
    const F = 40;
    const I = x.slot(F);
    // Three agreements of pv-0 whose slot of I is due at once.
    const ids = [0, 1, 2].map(() => x.ready({ slots: 1, quantityWh: 100n, firstSlotMs: I }));
    x.to(I);
    c.block();
    const settles = settlesAt(I, params);
    x.to(settles);
    const o = new StateOverlay(c.state);
    // pv-0 has a market trade of I still to settle: each slot waits for it.
    o.set(settleItemKey(MarketBucket.settleQueue, I, 'pv-0', ZONE, 0), new Uint8Array([1]));
    // A timer due just after theirs, of an agreement that is gone: running it only deletes it.
    const gone = { ...x.get(ids[0]!), id: new Uint8Array(32).fill(7) };
    const due = settles + 1;
    putTimer(o, due, gone, 'slot', 0, I);
    // Blocks whose budget covers two timers: the three waiting ones would take it all, every block.
    const ctx = c.ctx();
    for (let b = 0; b < 3; b++) runAgreements(o, { ...ctx, height: ctx.height + b, timestamp: due + b * params.blockPeriodMs }, workBudget(2));
    expect(o.get(timerKey(due, gone.id, 'slot', 0))).toBeUndefined();
    // The waiting slots are neither settled nor lost: each still has its timer, for the same slot.
    for (const id of ids) expect(x.get(id).nextSlot).toBe(0);
    const queued = [...o.iterate(TIMER_PREFIX)].map(timerOf);
    expect(queued.map((t) => [Buffer.from(t.id).toString('hex'), t.kind, t.slot]).sort()).toEqual(
      ids.map((id) => [Buffer.from(id).toString('hex'), 'slot', 0]).sort(),
    );
    expect(queued.every((t) => t.dueMs > settles)).toBe(true);
  });
});
