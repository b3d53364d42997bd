import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isJouleError } from '../../core/errors.ts';
import { addressFromPublicKey } from '../../core/keys.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { genesisHash, generateDevnet } from '../../genesis/index.ts';
import { Mempool } from '../../mempool/index.ts';
import { Chain } from '../chain/chain.ts';
import { SameThreadVerifier } from '../verify/same-thread.ts';
import { VerifiedTxs } from '../verify/verified-txs.ts';
import { TxAdmission } from './admission.ts';
import { NO_ADMISSION_METRICS } from './metrics.ts';

/**
 * Finding 2 of issue 8, through the real door (decode, validity against the head state,
 * Ed25519 verification, the pool), scaled from a 100,000-tx pool to 2,000: 40 accounts
 * holding 1,000 each send self-transfers of 975 at fee 20. Each tx alone is funded; at
 * most one per account can ever execute. Before: all 2,000 were admitted and an honest
 * transfer at fee 20 got MEMPOOL_FULL. After: the pool holds 40 and the honest tx gets in.
 */
const ATTACKERS = 40;
const POOL = 2_000;
const devnet = generateDevnet({ validators: 1, accounts: ATTACKERS + 1, balance: 1_000n, genesisTime: 1_700_000_000_000 });
const { chainId } = devnet.genesis;
const keys = devnet.accountKeys.map((a) => a.keyPair);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'joule-flood-'));
  const service = new SameThreadVerifier();
  const chain = await Chain.open(dir, devnet.genesis, genesisHash(devnet.genesis), { signatures: { service, verifiedTxs: new VerifiedTxs(2 * POOL) } });
  cleanups.push(async () => {
    await chain.close();
    await rm(dir, { recursive: true, force: true });
  });
  // The node's defaults, with the pool scaled down.
  const mempool = new Mempool({ maxTxs: POOL, maxBytes: 128 * 1024 * 1024, maxPerSender: 10_000, maxNonceGap: 10_000, replaceBumpPercent: 10 });
  return { mempool, service, admission: new TxAdmission(chain, mempool, NO_ADMISSION_METRICS) };
}

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'admitted',
    (e: unknown) => (isJouleError(e) ? e.code : String(e)),
  );

function selfTransfer(i: number, nonce: number, amount: bigint, fee = 20n) {
  const k = keys[i]!;
  return buildTransfer({ chainId, seed: k.seed, nonce, fee, to: addressFromPublicKey(k.publicKey), amount });
}

describe('a flood of txs that can never execute (issue 8, finding 2, scaled)', () => {
  it('holds only what each balance covers, and an honest transfer at fee 20 still gets in', async () => {
    const { mempool, admission } = await setup();
    const submitted: Promise<string>[] = [];
    for (let a = 0; a < ATTACKERS; a++) {
      for (let n = 0; n < POOL / ATTACKERS; n++) submitted.push(outcome(admission.submit(selfTransfer(a, n, 975n).bytes, 'rpc')));
    }
    const results = await Promise.all(submitted);
    const tally = Object.fromEntries([...new Set(results)].map((r) => [r, results.filter((x) => x === r).length]));
    expect(tally).toEqual({ admitted: ATTACKERS, MEMPOOL_INSUFFICIENT_FUNDS: POOL - ATTACKERS });
    expect(mempool.size).toBe(ATTACKERS);
    const honest = keys[ATTACKERS]!;
    const tx = buildTransfer({ chainId, seed: honest.seed, nonce: 0, fee: 20n, to: addressFromPublicKey(keys[0]!.publicKey), amount: 100n });
    expect(await outcome(admission.submit(tx.bytes, 'rpc'))).toBe('admitted');
  });

  it("refuses a tx the sender's pending txs leave unfunded before verifying its signature", async () => {
    const { service, admission } = await setup();
    expect(await outcome(admission.submit(selfTransfer(0, 0, 975n).bytes, 'rpc'))).toBe('admitted');
    expect(service.submitted).toBe(1);
    expect(await outcome(admission.submit(selfTransfer(0, 1, 975n).bytes, 'rpc'))).toBe('MEMPOOL_INSUFFICIENT_FUNDS');
    expect(service.submitted).toBe(1);
    // Not even the cheapest tx fits the 5 left (minimum fee 10).
    expect(await outcome(admission.submit(selfTransfer(0, 1, 1n, 10n).bytes, 'rpc'))).toBe('MEMPOOL_INSUFFICIENT_FUNDS');
    expect(service.submitted).toBe(1);
  });
});
