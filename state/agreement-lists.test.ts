import { afterEach, describe, expect, it } from 'vitest';
import { compareBytes } from '../core/bytes.ts';
import { buildAgreementDispute } from '../core/tx/agreement-actions.ts';
import { testAgreement } from '../vm/testing/agreement.ts';
import { agreementKey, disputeKey, slotSettlementKey } from './agreements.ts';
import { loadAndGetAgreement, loadAndListAccountAgreements } from './agreement-lists.ts';
import { removeTempDirs, withStrictState } from './testing/store.ts';
import type { WorldState } from './world-state.ts';

afterEach(removeTempDirs);

/** The listings run on a strict LevelDB state: they read nothing but what they loaded. */
const strict = (entries: Iterable<readonly [Uint8Array, Uint8Array]>, use: (ws: WorldState) => Promise<void>) =>
  withStrictState('agreement-lists', entries, use);

/** Seller 0 sells buyer 0 three slots (two settled, then a dispute) and is proposed a second agreement by seller 1 (as buyer). */
function agreements() {
  const x = testAgreement();
  const { c } = x.t;
  const other = x.proposeTx({}, x.t.sellers[1]!);
  c.block(other);
  const id = x.ready({ slots: 3 });
  x.to(x.S0);
  c.block();
  x.deliver(0, 1000n);
  x.settle(0);
  x.deliver(1, 600n);
  x.settle(1);
  expect(c.block(buildAgreementDispute({ ...c.sender(x.buyer), id, amount: 50_000n, counterparty: x.seller.address })).receipts[0]!.success).toBe(true);
  return { x, c, id, other: other.hash, iv: c.ctx().params.settlementIntervalMs };
}

describe('agreement reads on the LevelDB state, loaded before they are read', () => {
  it('one agreement with its dispute and its slot settlements, paged by slot, each with the key that proves it', async () => {
    const { c, id, iv } = agreements();
    await strict(c.state.iterate(new Uint8Array(0)), async (ws) => {
      const first = (await loadAndGetAgreement(await ws.load({}), { id, fromSlot: 0, limit: 1 }, iv))!;
      expect(first.agreement).toMatchObject({ phase: 'disputed', nextSlot: 2, deliveredWh: 1600n });
      expect(first.key).toEqual(agreementKey(id));
      expect(first.dispute).toMatchObject({ claimant: 'buyer', frozen: 50_000n, resume: 'executing' });
      expect(first.disputeKey).toEqual(disputeKey(id));
      expect(first.settlements.map((s) => [s.settlement.slot, s.settlement.deliveredWh])).toEqual([[0, 1000n]]);
      expect(first.settlements[0]!.key).toEqual(slotSettlementKey(id, 0));
      expect(first.nextSlot).toBe(1);
      const rest = (await loadAndGetAgreement(await ws.load({}), { id, fromSlot: 1, limit: 100 }, iv))!;
      expect(rest.settlements.map((s) => [s.settlement.slot, s.settlement.deliveredWh, s.settlement.penalty])).toEqual([[1, 600n, 4_000n]]);
      expect(rest.nextSlot).toBeUndefined();
      // Past the settled slots there is nothing to list (and nothing read).
      expect((await loadAndGetAgreement(await ws.load({}), { id, fromSlot: 7, limit: 100 }, iv))!.settlements).toEqual([]);
      expect(await loadAndGetAgreement(await ws.load({}), { id: new Uint8Array(32), fromSlot: 0, limit: 100 }, iv)).toBeUndefined();
    });
  });

  it("an account's agreements as buyer or seller, by id, a page at a time", async () => {
    const { x, c, id, other, iv } = agreements();
    await strict(c.state.iterate(new Uint8Array(0)), async (ws) => {
      const seen: Uint8Array[] = [];
      let after: Uint8Array | undefined;
      do {
        const p = await loadAndListAccountAgreements(await ws.load({}), { account: x.seller.address, limit: 1, after }, iv);
        expect(p.agreements.length).toBeLessThanOrEqual(1);
        for (const l of p.agreements) {
          expect(l.agreement.seller).toEqual(x.seller.address);
          expect(l.key).toEqual(agreementKey(l.agreement.id));
          expect(ws.get(l.indexKey)).toBeDefined();
          seen.push(l.agreement.id);
        }
        expect(p.settlementIntervalMs).toBe(iv);
        after = p.next;
      } while (after !== undefined);
      expect(seen).toEqual([id, other].sort(compareBytes));
      const buyer = await loadAndListAccountAgreements(await ws.load({}), { account: x.buyer.address, limit: 100 }, iv);
      expect(buyer.agreements.map((l) => l.agreement.id)).toEqual([id]);
      expect(buyer.next).toBeUndefined();
      const none = await loadAndListAccountAgreements(await ws.load({}), { account: x.t.buyers[1]!.address, limit: 100 }, iv);
      expect(none).toEqual({ agreements: [], next: undefined, settlementIntervalMs: iv });
    });
  });
});
