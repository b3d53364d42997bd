import { describe, expect, it } from 'vitest';
import { DISPUTE_DECISION_MS } from '../core/agreement.ts';
import { hasRole } from '../core/roles.ts';
import { buildAgreementDispute } from '../core/tx/agreement-actions.ts';
import { buildDeviceStatus } from '../core/tx/device-status.ts';
import { buildReversalApprove } from '../core/tx/reversal-approve.ts';
import { buildReversalPropose } from '../core/tx/reversal-propose.ts';
import { buildRoleVote } from '../core/tx/role-vote.ts';
import { buildValidatorVote } from '../core/tx/validator-vote.ts';
import type { Tx } from '../core/tx.ts';
import { marketId } from '../core/state-keys.ts';
import { signProofOfPossession } from '../core/pop.ts';
import { testValidator } from '../consensus/testing/fixtures.ts';
import { getAccount } from '../state/accounts.ts';
import { getDispute } from '../state/agreements.ts';
import { getDevice } from '../state/devices.ts';
import { getSettlement } from '../state/markets.ts';
import { StateOverlay } from '../state/overlay.ts';
import { getReversal, putGovernorSet } from '../state/reversals.ts';
import { getValidatorSet } from '../state/validator-set.ts';
import { disputeVote, slotZeroSettled, testAgreement } from './testing/agreement.ts';
import { ENERGY_CHAIN_ID, energyChain, type EnergyChain } from './testing/energy-chain.ts';
import { testMarket, ZONE } from './testing/market.ts';
import { executeAsTheNode } from './testing/staged-load.ts';
import type { BlockResult } from './types.ts';

/**
 * Every vote-decided transition, its deciding block run on what the node loads in stages
 * (vm/testing/staged-load.ts) with strict access: a read its access list missed would
 * halt every node at that block.
 */

async function staged(c: EnergyChain, ...txs: Tx[]): Promise<BlockResult> {
  const r = await executeAsTheNode(c.state, txs, c.ctx());
  c.state.apply(r.changes);
  c.height++;
  expect(r.receipts.map((x) => (x.success ? 'ok' : x.code))).toEqual(txs.map(() => 'ok'));
  return r;
}

const types = (r: BlockResult) => r.receipts.flatMap((x) => x.events.map((e) => e.type));

describe('vote-decided transitions under the node’s staged loading', () => {
  it('validator-vote: the deciding remove, and the sweep applying a pending add the smaller set now carries', async () => {
    const c = energyChain({ validators: 4, accounts: {} });
    const [v0, v1, v2, v3] = c.validators as [NonNullable<(typeof c.validators)[0]>, ...typeof c.validators];
    const cand = testValidator(0, 'staged-candidate');
    const pop = signProofOfPossession(ENERGY_CHAIN_ID, cand.blsSecret, cand.validator.blsKey, cand.validator.identityKey);
    const add = (v: typeof v0) => buildValidatorVote({ ...c.sender(v), action: 'add', validator: { ...cand.validator, blsProofOfPossession: pop } });
    const remove = (v: typeof v0, offset = 0) => buildValidatorVote({ ...c.sender(v, offset), action: 'remove', validator: v3!.validator });
    await staged(c, add(v0), add(v1!));
    await staged(c, remove(v0), remove(v1!));
    const r = await staged(c, remove(v2!));
    expect(types(r)).toEqual(['validator-vote', 'validator-set-changed', 'validator-set-changed']);
    expect(getValidatorSet(c.state)!.has(cand.validator.address)).toBe(true);
  });

  it('role-vote and device-status by governance: the deciding vote, and a repeat after the set shrank', async () => {
    const t = testMarket({ sellers: 1, buyers: 1 });
    const { c } = t;
    const [v0, v1, v2, v3] = c.validators as [NonNullable<(typeof c.validators)[0]>, ...typeof c.validators];
    const grant = (v: typeof v0) => buildRoleVote({ ...c.sender(v), action: 'grant', account: t.buyers[0]!.address, role: 'oracle' });
    const suspend = (v: typeof v0, offset = 0) => buildDeviceStatus({ ...c.sender(v, offset), id: 'pv-0', action: 'suspend' });
    await staged(c, grant(v0), grant(v1!), suspend(v0, 1));
    expect(types(await staged(c, grant(v2!)))).toContain('role-granted');
    expect(hasRole(getAccount(c.state, t.buyers[0]!.address).roles, 'oracle')).toBe(true);
    await staged(c, suspend(v1!));
    await staged(c, ...[v0, v1!, v2!].map((v) => buildValidatorVote({ ...c.sender(v), action: 'remove', validator: v3!.validator })));
    await staged(c, suspend(v0));
    expect(getDevice(c.state, 'pv-0')!.status).toBe('suspended');
  });

  it('agreement-dispute and agreement-vote: the freeze, a decision for the claimant and one for the respondent', async () => {
    for (const winner of ['buyer', 'seller'] as const) {
      const x = testAgreement();
      const { c } = x.t;
      const { id, money } = slotZeroSettled(x);
      await staged(c, buildAgreementDispute({ ...c.sender(x.buyer), id, amount: 50_000n, counterparty: x.seller.address }));
      const vote = (i: number) => disputeVote(x, id, i, winner);
      await staged(c, vote(0), vote(1));
      expect(types(await staged(c, vote(2)))).toContain('agreement-dispute-decided');
      expect(getDispute(c.state, id)!.decidedFor).toBe(winner);
      expect(x.money()).toBe(money);
    }
  });

  it('the dispute timer: a tie ended DISPUTE_DECISION_MS after the dispute opened', async () => {
    const x = testAgreement();
    const { c } = x.t;
    const { id, money } = slotZeroSettled(x, { slots: 1, deliveredWh: null });
    await staged(c, buildAgreementDispute({ ...c.sender(x.seller), id, amount: 10_000n, counterparty: x.buyer.address }));
    const vote = (i: number, decision: 'buyer' | 'seller') => disputeVote(x, id, i, decision);
    await staged(c, vote(0, 'buyer'), vote(1, 'buyer'), vote(2, 'seller'), vote(3, 'seller'));
    c.advance(DISPUTE_DECISION_MS);
    expect((await staged(c)).events.map((e) => e.type)).toEqual(['agreement-dispute-expired']);
    expect(getDispute(c.state, id)).toMatchObject({ decidedFor: 'buyer', fee: 0n });
    expect(x.money()).toBe(money);
  });

  it('reversal-propose and reversal-approve: the k-th approval executes, and with k = 1 the proposal itself', async () => {
    for (const threshold of [1, 2]) {
      const t = testMarket();
      const { c } = t;
      const o = new StateOverlay(c.state);
      putGovernorSet(o, { threshold, governors: c.validators.slice(0, 3).map((v) => v.validator.address) });
      c.state.apply(o.changes());
      const [b, s] = [t.buyers[0]!, t.sellers[0]!];
      c.block(t.place(b, 'bid', 1000n, 300n), t.place(s, 'ask', 1000n, 100n));
      t.toGate();
      c.block();
      t.deliver([['pv-0', 1000n]]);
      t.toSettlement();
      c.block();
      expect(getSettlement(c.state, marketId(ZONE, t.I), 0)).toBeDefined();
      const target = { zone: ZONE, intervalStartMs: t.I, seq: 0, buyer: b.address, seller: s.address };
      const r1 = await staged(c, buildReversalPropose({ ...c.sender(c.validators[0]!), ...target, reason: 'meter miscalibrated' }));
      if (threshold === 2) expect(types(await staged(c, buildReversalApprove({ ...c.sender(c.validators[1]!), ...target })))).toContain('settlement-reversed');
      else expect(types(r1)).toContain('settlement-reversed');
      expect(getReversal(c.state, target)!.executedHeight).toBeDefined();
    }
  });
});
