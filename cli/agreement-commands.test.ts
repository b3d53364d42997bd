import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { formatAddress } from '../core/keys.ts';
import { encryptKey } from '../core/keystore.ts';
import type { AccountAgreementsQuery, AgreementQuery } from '../core/agreement-query.ts';
import { decodeAgreementAmountBody, decodeAgreementDisputeBody, decodeAgreementRefBody, decodeAgreementVoteBody } from '../core/tx/agreement-actions.ts';
import { decodeAgreementProposeBody } from '../core/tx/agreement-propose.ts';
import { TxType } from '../core/tx/types.ts';
import { decodeTx } from '../core/tx.ts';
import { startRpcServer, type RunningServer } from '../rpc/http/http-server.ts';
import type { NodeApi } from '../rpc/node-api.ts';
import { agreementDetail, agreementId, AGREEMENT_INTERVAL_MS, disputedAgreement, listedAgreement, seller } from '../rpc/testing/agreement-fixtures.ts';
import { createFakeNode, type FakeNode } from '../rpc/testing/fake-node.ts';
import { INTERVAL } from '../rpc/testing/market-fixtures.ts';
import { runCliInProcess as cli } from './testing/run-in-process.ts';

/** agreement propose|sign|withdraw|collateralise|dispute|vote|show|list and query proof agreement:/dispute: against rpc/'s fake node. */
let fake: FakeNode;
let server: RunningServer;
let rpc: string;
const dir = mkdtempSync(join(tmpdir(), 'joule-cli-agreement-'));
const aliceKey = join(dir, 'alice.key');
const sender: string[] = [];
const ID = `0x${toHex(agreementId)}`;
const getQueries: AgreementQuery[] = [];
const listQueries: AccountAgreementsQuery[] = [];
const proofKeys: string[] = [];
/** What the node answers for the agreement: alice (the key the CLI signs with) is its buyer; `decided` closes the dispute. */
let decided = false;

beforeAll(async () => {
  fake = createFakeNode();
  const api: NodeApi = {
    ...fake,
    getAgreement: (q) => {
      getQueries.push(q);
      if (toHex(q.id) !== toHex(agreementId)) return undefined;
      const d = agreementDetail(q.fromSlot, q.limit);
      return {
        ...d,
        agreement: { ...d.agreement, buyer: fake.alice.address },
        dispute: decided ? { ...d.dispute!, decidedFor: 'seller', fee: 500n } : d.dispute,
      };
    },
    listAccountAgreements: (q) => {
      listQueries.push(q);
      return { agreements: [listedAgreement], next: agreementId, settlementIntervalMs: AGREEMENT_INTERVAL_MS };
    },
    getProof: async (key) => {
      proofKeys.push(toHex(key));
      throw new JouleError(ErrorCode.NOT_FOUND, 'no proof here', 'key');
    },
  };
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api });
  rpc = `http://127.0.0.1:${server.port}`;
  sender.push('--key', aliceKey, '--rpc', rpc);
  writeFileSync(aliceKey, JSON.stringify(await encryptKey({ type: 'ed25519', secret: fake.alice.seed, insecure: true })));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const lastSubmitted = () => decodeTx(fake.submitted[fake.submitted.length - 1]!);

describe('joule agreement txs', () => {
  const propose = ['agreement', 'propose', '--role', 'buyer', '--counterparty', formatAddress(seller), '--device', 'pv-0', '--quantity', '1000'];
  const schedule = ['--first-slot', new Date(INTERVAL).toISOString(), '--slots', '96', '--collateral-bps', '1500'];

  it('propose signs a type-34 tx with a fixed, time-of-use or market price', async () => {
    const r = await cli([...propose, ...schedule, '--price', '200000', ...sender, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastSubmitted().type).toBe(TxType.agreementPropose);
    expect(decodeAgreementProposeBody(lastSubmitted().body)).toEqual({
      role: 'buyer',
      counterparty: seller,
      deviceId: 'pv-0',
      quantityWh: 1000n,
      firstSlotMs: INTERVAL,
      slots: 96,
      price: { kind: 'fixed', price: 200_000n },
      collateralBps: 1500,
    });
    // The printed hash is the agreement's id.
    expect(JSON.parse(r.stdout)).toMatchObject({ hash: `0x${toHex(lastSubmitted().hash)}`, role: 'buyer', price: { kind: 'fixed', price: '200000' } });
    const tou = Array.from({ length: 24 }, (_, h) => String(100_000 + h)).join(',');
    expect((await cli([...propose, ...schedule, '--tou', tou, ...sender])).code).toBe(0);
    expect(decodeAgreementProposeBody(lastSubmitted().body).price).toEqual({ kind: 'time-of-use', table: tou.split(',').map(BigInt) });
    expect((await cli([...propose, ...schedule, '--market-premium', '0', '--fallback', '150000', ...sender])).code).toBe(0);
    expect(decodeAgreementProposeBody(lastSubmitted().body).price).toEqual({ kind: 'market', premium: 0n, fallback: 150_000n });
  });

  it('propose refuses a missing or double price, a bad table, role, collateral or counterparty before anything is sent', async () => {
    const sent = fake.submitted.length;
    const err = async (args: string[]) => (await cli(args)).stderr;
    expect(await err([...propose, ...schedule, ...sender])).toMatch(/^error INVALID_PARAMS: give exactly one price/m);
    expect(await err([...propose, ...schedule, '--price', '1', '--tou', '1', ...sender])).toMatch(/^error INVALID_PARAMS: give exactly one price/m);
    expect(await err([...propose, ...schedule, '--tou', '1,2,3', ...sender])).toMatch(/^error INVALID_PARAMS: --tou must be 24/m);
    expect(await err([...propose, ...schedule, '--market-premium', '5', ...sender])).toMatch(/^error INVALID_PARAMS: --market-premium needs --fallback/m);
    expect(await err([...propose.map((a) => (a === 'buyer' ? 'lender' : a)), ...schedule, '--price', '1', ...sender])).toMatch(
      /--role must be buyer or seller/,
    );
    const bps = schedule.map((a) => (a === '1500' ? '2500' : a));
    expect(await err([...propose, ...bps, '--price', '1', ...sender])).toMatch(
      /^error INVALID_PARAMS: --collateral-bps must be an integer between 1000 and 2000/m,
    );
    const bad = propose.map((a) => (a === formatAddress(seller) ? 'joule1nope' : a));
    expect(await err([...bad, ...schedule, '--price', '1', ...sender])).toMatch(/^error /m);
    expect(fake.submitted.length).toBe(sent);
  });

  it('sign, withdraw and collateralise name the agreement; a malformed id is refused', async () => {
    expect((await cli(['agreement', 'sign', ID, ...sender])).code).toBe(0);
    expect(lastSubmitted().type).toBe(TxType.agreementSign);
    expect(decodeAgreementRefBody(lastSubmitted().body).id).toEqual(agreementId);
    expect((await cli(['agreement', 'withdraw', ID, ...sender])).code).toBe(0);
    expect(lastSubmitted().type).toBe(TxType.agreementWithdraw);
    expect((await cli(['agreement', 'collateralise', ID, '--amount', '90000', ...sender])).code).toBe(0);
    expect(lastSubmitted().type).toBe(TxType.agreementCollateralise);
    expect(decodeAgreementAmountBody(lastSubmitted().body)).toEqual({ id: agreementId, amount: 90_000n });
    expect((await cli(['agreement', 'sign', '0x0102', ...sender])).stderr).toMatch(/^error INVALID_PARAMS: agreement id must be 0x and 32 bytes/m);
  });

  it('dispute reads the agreement and names the other party; vote names both; an unknown agreement is NOT_FOUND', async () => {
    const r = await cli(['agreement', 'dispute', ID, '--amount', '50000', ...sender, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastSubmitted().type).toBe(TxType.agreementDispute);
    // Alice is the buyer: the counterparty is the seller.
    expect(decodeAgreementDisputeBody(lastSubmitted().body)).toEqual({ id: agreementId, amount: 50_000n, counterparty: seller });
    expect(JSON.parse(r.stdout)).toMatchObject({ id: ID, counterparty: formatAddress(seller) });
    expect((await cli(['agreement', 'vote', ID, '--for', 'seller', ...sender])).code).toBe(0);
    expect(lastSubmitted().type).toBe(TxType.agreementVote);
    expect(decodeAgreementVoteBody(lastSubmitted().body)).toEqual({ id: agreementId, decision: 'seller', buyer: fake.alice.address, seller });
    const sent = fake.submitted.length;
    const unknown = `0x${'00'.repeat(32)}`;
    expect((await cli(['agreement', 'dispute', unknown, '--amount', '1', ...sender])).stderr).toMatch(/^error NOT_FOUND: no agreement/m);
    expect((await cli(['agreement', 'vote', ID, '--for', 'both', ...sender])).stderr).toMatch(/--for must be buyer or seller/);
    decided = true;
    try {
      expect((await cli(['agreement', 'vote', ID, '--for', 'buyer', ...sender])).stderr).toMatch(
        /^error AGREEMENT_DISPUTED: .*no open dispute \(decided for the seller\)/m,
      );
    } finally {
      decided = false;
    }
    expect(fake.submitted.length).toBe(sent);
  });
});

describe('joule agreement reads', () => {
  it('show: phase, terms, collateral against its level, the margin call, the dispute and each slot, with the keys to prove them', async () => {
    getQueries.length = 0;
    const r = await cli(['agreement', 'show', ID, '--rpc', rpc]);
    expect(r.code, r.stderr).toBe(0);
    expect(getQueries[0]).toEqual({ id: agreementId, fromSlot: 0, limit: 100 });
    const lines = [
      'phase       disputed (proposed by the seller',
      `seller      ${formatAddress(seller)} (device pv-0, zone NL)`,
      `buyer       ${formatAddress(fake.alice.address)}`,
      'schedule    3 slot(s) of 1000 Wh from',
      'price       fixed 200000 per kWh',
      'value       600000; collateral 15 %, level now 30000',
      'collateral  buyer 90000, seller 36000',
      `margin call seller to restore the level by ${new Date(disputedAgreement.sellerCallMs).toISOString()}`,
      'progress    2/3 slot(s) settled: 1600 Wh delivered, 320000 paid',
      `joule query proof agreement:${ID}`,
      'dispute     the buyer claims from the seller: 50000 frozen, deposit 500; open since',
      `votes       buyer 1, seller 0 (prove it: joule query proof dispute:${ID})`,
      'delivered 600 Wh (metered 600) at 200000: paid 120000, penalty 4000, over-delivery 0',
      '(2 settlement(s), end of list)',
    ];
    for (const l of lines) expect(r.stdout).toContain(l);
    const page = await cli(['agreement', 'show', ID, '--from-slot', '0', '--limit', '1', '--rpc', rpc, '--json']);
    expect(getQueries[1]).toEqual({ id: agreementId, fromSlot: 0, limit: 1 });
    expect(JSON.parse(page.stdout)).toMatchObject({ nextSlot: 1, settlements: [{ slot: 0 }] });
    const none = await cli(['agreement', 'show', `0x${'00'.repeat(32)}`, '--rpc', rpc]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/^error NOT_FOUND/m);
  });

  it("list: an account's agreements and the cursor for more", async () => {
    const r = await cli(['agreement', 'list', formatAddress(seller), '--limit', '10', '--rpc', rpc]);
    expect(r.code, r.stderr).toBe(0);
    expect(listQueries[0]).toEqual({ account: seller, limit: 10 });
    expect(r.stdout).toContain(`${ID}  disputed        ${formatAddress(seller)} -> ${formatAddress(disputedAgreement.buyer)}  3 x 1000 Wh from`);
    expect(r.stdout).toContain(`(1 agreement(s); more: --cursor ${ID})`);
    await cli(['agreement', 'list', formatAddress(seller), '--cursor', ID, '--rpc', rpc]);
    expect(listQueries[1]).toEqual({ account: seller, limit: 100, after: agreementId });
    expect((await cli(['agreement', 'list', 'joule1nope', '--rpc', rpc])).code).not.toBe(0);
  });

  it('query proof asks for the state key of agreement:, agreement:#SLOT and dispute:', async () => {
    proofKeys.length = 0;
    for (const k of [`agreement:${ID}`, `agreement:${ID}#2`, `dispute:${ID}`]) await cli(['query', 'proof', k, '--rpc', rpc]);
    const id = toHex(agreementId);
    expect(proofKeys).toEqual([`2101${id}`, `2104${id}00000002`, `2105${id}`]);
    expect((await cli(['query', 'proof', `dispute:${ID}#1`, '--rpc', rpc])).stderr).toMatch(/^error INVALID_PARAMS: dispute:0xID takes no #SLOT/m);
    expect((await cli(['query', 'proof', 'agreement:0x01', '--rpc', rpc])).stderr).toMatch(/^error INVALID_PARAMS: agreement id must be/m);
  });
});
