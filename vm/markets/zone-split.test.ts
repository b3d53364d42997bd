import { describe, expect, it } from 'vitest';
import { imbalanceAccount } from '../../core/market.ts';
import { buildDeviceUpdate } from '../../core/tx/device-update.ts';
import { getAccount } from '../../state/accounts.ts';
import { testMarket } from '../testing/market.ts';

const ZONE2 = 'NL2';

describe("a device selling in two zones' markets of one interval", () => {
  it('its trades settle as one group once both markets cleared: its over-delivery is charged once, its export allocated once', () => {
    const t = testMarket({ sellers: 2, buyers: 2 });
    const { c } = t;
    const [s0, s1] = [t.sellers[0]!, t.sellers[1]!];
    const [b0, b1] = [t.buyers[0]!, t.buyers[1]!];
    const move = (id: string) => buildDeviceUpdate({ ...c.sender(t.agg), update: { id, zone: ZONE2 } });
    // pv-0 sells 600 Wh in NL, then moves to NL2 (with pv-1) and sells 600 Wh there too.
    c.block(t.place(s0, 'ask', 600n, 100_000n), t.place(b0, 'bid', 600n, 300_000n));
    c.block(move('pv-0'));
    c.block(move('pv-1'));
    // NL2 is busy: 5,001 asks of 1 Wh from pv-1 match before pv-0's (a block writes 625 trades: CLEARING_UNITS.trade each of 2,500 units).
    const small = Array.from({ length: 5_001 }, (_, i) => t.place(s1, 'ask', 1n, 50_000n, { zone: ZONE2, offset: i }));
    c.block(t.place(s0, 'ask', 600n, 100_000n, { zone: ZONE2 }), t.place(b1, 'bid', 5_601n, 300_000n, { zone: ZONE2 }), ...small);
    const money = t.money() + getAccount(c.state, imbalanceAccount(ZONE2)).balance;
    t.toGate();
    // 1,800 Wh metered against 1,200 sold: 600 Wh over-delivered, at 2 % of P = 200,000 a kWh: 4 a Wh.
    t.deliver([['pv-0', 1800n]]);
    t.toSettlement();
    const over: bigint[] = [];
    for (let i = 0; i < 30; i++) for (const e of c.block().events) if (e.type === 'over-delivery') over.push(BigInt(Object.fromEntries(e.attributes).overWh!));
    expect(over.reduce((s, x) => s + x, 0n)).toBe(600n);
    expect(t.energyOf(b0.address) + t.energyOf(b1.address)).toBe(1200n);
    expect(t.money() + getAccount(c.state, imbalanceAccount(ZONE2)).balance).toBe(money);
  });
});
