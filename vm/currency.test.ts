import { describe, expect, it } from 'vitest';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { buildCurrencyBurn } from '../core/tx/currency-burn.ts';
import { buildCurrencyMint } from '../core/tx/currency-mint.ts';
import { buildTransfer } from '../core/tx/transfer.ts';
import { getAccount } from '../state/accounts.ts';
import { getSupply } from '../state/supply.ts';
import { energyChain } from './testing/energy-chain.ts';
import type { TestKey } from './testing/fixtures.ts';

function rejection(f: () => unknown): { code: string; field: string | undefined } {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return { code: e.code, field: e.field };
    throw e;
  }
  throw new Error('was not rejected');
}

function setup() {
  const c = energyChain({ accounts: { issuer: ['issuer'], alice: [], dso: ['dso'] } });
  const { issuer, alice, dso } = c.accounts as Record<string, TestKey>;
  return { c, issuer: issuer!, alice: alice!, dso: dso! };
}

const balance = (c: ReturnType<typeof setup>['c'], k: TestKey) => getAccount(c.state, k.address).balance;

describe('currency-mint and currency-burn', () => {
  it('the issuer mints to any account and burns its own; the supply changes by exactly that', () => {
    const { c, issuer, alice } = setup();
    const before = balance(c, alice);
    const r = c.block(buildCurrencyMint({ ...c.sender(issuer), to: alice.address, amount: 5_000n }));
    expect(r.receipts[0]).toMatchObject({ success: true });
    expect(balance(c, alice)).toBe(before + 5_000n);
    const own = balance(c, issuer);
    c.block(buildCurrencyBurn({ ...c.sender(issuer), amount: 700n }));
    expect(balance(c, issuer)).toBe(own - 700n - 25n);
  });

  it('refuses every sender without the issuer role (a dso included)', () => {
    const { c, alice, dso } = setup();
    for (const who of [alice, dso]) {
      expect(rejection(() => c.check(buildCurrencyMint({ ...c.sender(who), to: who.address, amount: 1n })))).toMatchObject({
        code: ErrorCode.TX_UNAUTHORIZED,
        field: 'tx.sender',
      });
      expect(rejection(() => c.check(buildCurrencyBurn({ ...c.sender(who), amount: 1n })))).toMatchObject({
        code: ErrorCode.TX_UNAUTHORIZED,
        field: 'tx.sender',
      });
    }
  });

  it('refuses burning more than the issuer holds, and amounts of 0', () => {
    const { c, issuer } = setup();
    const all = balance(c, issuer);
    expect(rejection(() => c.check(buildCurrencyBurn({ ...c.sender(issuer), amount: all })))).toMatchObject({
      code: ErrorCode.TX_INSUFFICIENT_BALANCE,
      field: 'tx.body.amount',
    });
    expect(rejection(() => buildCurrencyMint({ ...c.sender(issuer), to: issuer.address, amount: 0n }))).toMatchObject({ field: 'tx.body.amount' });
  });

  it('a mint that would take the total supply past 2^64-1 is refused at tx.body.amount; up to the bound it is minted', () => {
    const { c, issuer, alice } = setup();
    const max = 2n ** 64n - 1n;
    const supply = getSupply(c.state)!;
    const before = balance(c, alice);
    // Before the bound a mint into an empty account passed and the supply went beyond what a
    // fee credit or a hook's payment into a full account can encode: the block failed to build.
    expect(rejection(() => c.check(buildCurrencyMint({ ...c.sender(issuer), to: alice.address, amount: max - supply + 1n })))).toEqual({
      code: ErrorCode.TX_INVALID_FIELD,
      field: 'tx.body.amount',
    });
    const r = c.block(buildCurrencyMint({ ...c.sender(issuer), to: alice.address, amount: max - supply }));
    expect(r.receipts[0]!.success).toBe(true);
    expect(balance(c, alice)).toBe(before + max - supply);
    expect(getSupply(c.state)).toBe(max);
    c.block(buildCurrencyBurn({ ...c.sender(issuer), amount: 5n }));
    expect(getSupply(c.state)).toBe(max - 5n);
  });

  it('everything else conserves currency: transfers and fees move it, the total stays', () => {
    const { c, issuer, alice, dso } = setup();
    const everyone = [issuer, alice, dso];
    const proposer = c.ctx().proposer;
    const total = () => everyone.reduce((s, k) => s + balance(c, k), 0n) + getAccount(c.state, proposer).balance;
    const t0 = total();
    c.block(buildTransfer({ ...c.sender(alice), to: dso.address, amount: 123n }), buildTransfer({ ...c.sender(dso), to: issuer.address, amount: 7n }));
    expect(total()).toBe(t0);
    c.block(buildCurrencyMint({ ...c.sender(issuer), to: dso.address, amount: 1000n }));
    expect(total()).toBe(t0 + 1000n);
  });
});
