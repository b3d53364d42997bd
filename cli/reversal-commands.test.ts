import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { formatAddress } from '../core/keys.ts';
import { encryptKey } from '../core/keystore.ts';
import type { MarketTradesQuery } from '../core/market-query.ts';
import { encodeGovernorSet, encodeReversal, type ReversalView } from '../core/reversal.ts';
import { marketId, ReversalBucket, reversalBucketKey } from '../core/state-keys.ts';
import { decodeReversalApproveBody } from '../core/tx/reversal-approve.ts';
import { decodeReversalProposeBody } from '../core/tx/reversal-propose.ts';
import { TxType } from '../core/tx/types.ts';
import { decodeTx } from '../core/tx.ts';
import { startRpcServer, type RunningServer } from '../rpc/http/http-server.ts';
import type { NodeApi } from '../rpc/node-api.ts';
import { createFakeNode, type FakeNode } from '../rpc/testing/fake-node.ts';
import { buyer, clearedMarket, executedReversal, governors, INTERVAL, seller, settledTrade } from '../rpc/testing/market-fixtures.ts';
import { reversalProofKey } from './commands/reversal.ts';
import { provenState, type ProvenState } from './testing/proven-state.ts';
import { runCliInProcess as cli } from './testing/run-in-process.ts';
import { errorOf } from '../core/testing/errors.ts';
import { CliError } from './rpc-client.ts';

/** reversal propose|approve|show|governors against rpc/'s fake node: reversal 1 executed, reversal 2 open (trade NL@I#0). */
let fake: FakeNode;
let server: RunningServer;
let rpc: string;
const dir = mkdtempSync(join(tmpdir(), 'joule-cli-reversal-'));
const keyFile = join(dir, 'governor.key');
const sender: string[] = [];
const I = INTERVAL;
const tradeQueries: MarketTradesQuery[] = [];
/** The reversal of NL@I#0 and the governors, as state holds them. */
const reversalKey = reversalBucketKey(ReversalBucket.bySettlement, new Uint8Array([...marketId('NL', I), 0, 0, 0, 0]));
const governorsKey = new Uint8Array([0x23, 0x01]);
let proven: ProvenState;

const view = (id: number): ReversalView | undefined => {
  if (id !== 1 && id !== 2) return undefined;
  const reversal = id === 1 ? executedReversal : { ...executedReversal, id: 2, approvers: [governors[0]!], executedHeight: undefined };
  return {
    reversal,
    threshold: 2,
    settlement: settledTrade.settlement,
    key: new Uint8Array([0x23, 0x02]),
    idKey: new Uint8Array([0x23, 0x03]),
    settlementKey: new Uint8Array([0x20, 0x0b]),
  };
};

beforeAll(async () => {
  fake = createFakeNode();
  proven = provenState(fake, [
    [reversalKey, encodeReversal(executedReversal)],
    [governorsKey, encodeGovernorSet({ threshold: 2, governors })],
  ]);
  const api: NodeApi = {
    ...fake,
    getProof: (key) => proven.getProof(key),
    listMarketTrades: (q) => {
      tradeQueries.push(q);
      return { market: clearedMarket, trades: q.after === undefined ? [settledTrade] : [], next: undefined };
    },
    getReversal: (by) => (typeof by === 'number' ? view(by) : by.zone === 'NL' && by.seq === 0 ? view(1) : undefined),
    getGovernors: () => ({ threshold: 2, governors, key: new Uint8Array([0x23, 0x01]) }),
  };
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api });
  rpc = `http://127.0.0.1:${server.port}`;
  sender.push('--key', keyFile, '--rpc', rpc);
  writeFileSync(keyFile, JSON.stringify(await encryptKey({ type: 'ed25519', secret: fake.alice.seed, insecure: true })));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const lastSubmitted = () => decodeTx(fake.submitted[fake.submitted.length - 1]!);

describe('joule reversal propose|approve', () => {
  it("propose looks up the trade's parties and signs a type-46 tx with the reason", async () => {
    const r = await cli(['reversal', 'propose', `NL@${new Date(I).toISOString()}#0`, '--reason', 'pv-0 meter miscalibrated', ...sender, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(tradeQueries.at(-1)).toEqual({ zone: 'NL', intervalStartMs: I, limit: 1 });
    const tx = lastSubmitted();
    expect(tx.type).toBe(TxType.reversalPropose);
    expect(decodeReversalProposeBody(tx.body)).toEqual({ zone: 'NL', intervalStartMs: I, seq: 0, buyer, seller, reason: 'pv-0 meter miscalibrated' });
  });

  it('propose refuses a bad settlement, an empty reason, and a trade the node does not have, before anything is sent', async () => {
    const sent = fake.submitted.length;
    expect((await cli(['reversal', 'propose', 'NL#0', '--reason', 'x', ...sender])).stderr).toMatch(/^error INVALID_PARAMS: a settlement is ZONE@START#SEQ/m);
    expect((await cli(['reversal', 'propose', `NL@${I}#0`, '--reason', '', ...sender])).stderr).toMatch(/^error TX_INVALID_FIELD: .*non-empty/m);
    const missing = await cli(['reversal', 'propose', `NL@${I}#4`, '--reason', 'x', ...sender]);
    expect(tradeQueries.at(-1)).toEqual({ zone: 'NL', intervalStartMs: I, limit: 1, after: new Uint8Array([0, 0, 0, 3]) });
    expect(missing.stderr).toMatch(/^error NOT_FOUND: no trade 4/m);
    expect(fake.submitted.length).toBe(sent);
  });

  it("approve by id signs a type-47 tx naming the reversal's settlement and parties; an executed or unknown one is refused", async () => {
    const r = await cli(['reversal', 'approve', '2', ...sender]);
    expect(r.code, r.stderr).toBe(0);
    const tx = lastSubmitted();
    expect(tx.type).toBe(TxType.reversalApprove);
    expect(decodeReversalApproveBody(tx.body)).toEqual({ zone: 'NL', intervalStartMs: I, seq: 0, buyer, seller });
    expect((await cli(['reversal', 'approve', '1', ...sender])).stderr).toMatch(/^error REVERSAL_ALREADY_REVERSED/m);
    expect((await cli(['reversal', 'approve', '9', ...sender])).stderr).toMatch(/^error REVERSAL_UNKNOWN: no reversal 9/m);
  });
});

describe('joule reversal show|governors', () => {
  it('show by id or by settlement: status, reason, approvals of k, what moved back and the key to prove it', async () => {
    const r = await cli(['reversal', 'show', '1', '--rpc', rpc]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('status      executed in block 21 (proposed in block 20)');
    expect(r.stdout).toContain('reason      pv-0 meter miscalibrated');
    expect(r.stdout).toContain(`approvals   2 of 2: ${formatAddress(governors[0]!)}, ${formatAddress(governors[2]!)}`);
    expect(r.stdout).toContain('moved back  payment 120 (seller -> buyer), penalty 4 (buyer -> seller), 600 Wh (buyer -> seller)');
    expect(r.stdout).toContain('joule query proof 0x2302');
    const j = await cli(['reversal', 'show', `NL@${I}#0`, '--rpc', rpc, '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ id: 1, status: 'executed', threshold: 2 });
    expect((await cli(['reversal', 'show', `NL@${I}#5`, '--rpc', rpc])).stderr).toMatch(/^error NOT_FOUND: no reversal of the settlement/m);
    expect((await cli(['reversal', 'show', '2', '--rpc', rpc])).stdout).toContain('approvals   1 of 2');
  });

  it('governors: k of n and each governor', async () => {
    const r = await cli(['reversal', 'governors', '--rpc', rpc]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('threshold   2 of 3');
    expect(r.stdout).toContain(`governor    ${formatAddress(governors[1]!)}`);
  });
});

describe('joule query proof reversal:|governors', () => {
  it('reversal:ZONE@START#SEQ is the reversal of that settlement, governors the governor set; other keys are not theirs', () => {
    expect(reversalProofKey(`reversal:NL@${I}#0`)).toEqual(reversalKey);
    expect(toHex(reversalProofKey(`reversal:NL-north@${I}#4294967295`)!)).toBe(`2302${toHex(marketId('NL-north', I))}ffffffff`);
    expect(reversalProofKey('governors')).toEqual(governorsKey);
    for (const other of [`settlement:NL@${I}#0`, 'governors:', 'governor', '0x2301']) expect(reversalProofKey(other)).toBeUndefined();
  });

  it('refuses a malformed reversal: key with INVALID_PARAMS naming the key', () => {
    for (const bad of [
      'reversal:',
      'reversal:NL',
      `reversal:NL@${I}`,
      `reversal:NL#0`,
      `reversal:NL@${I}#4294967296`,
      `reversal:N L@${I}#0`,
      'reversal:NL@99999999999999999#0',
      `reversal:NL@2026-01-01T00:00:00Z#0`,
    ]) {
      const e = errorOf(() => reversalProofKey(bad), CliError);
      expect(e, bad).toMatchObject({ code: 'INVALID_PARAMS', field: 'key', message: expect.stringMatching(/^reversal:ZONE@START#SEQ needs/) });
    }
  });

  it('query proof asks for those keys, verifies the proofs and prints the reversal and the governors', async () => {
    proven.asked.length = 0;
    const r = await cli(['query', 'proof', `reversal:NL@${I}#0`, '--rpc', rpc]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `value       reversal 1 of NL@${I}#0: executed at height 21, 2 approval(s), seller ${formatAddress(seller)}, buyer ${formatAddress(buyer)}: "pv-0 meter miscalibrated"`,
    );
    expect(r.stdout).toMatch(/verified\s+yes \(inclusion proof\)/);
    const g = await cli(['query', 'proof', 'governors', '--rpc', rpc]);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout).toContain(`value       governors: 2 of 3 approve a reversal: ${governors.map(formatAddress).join(', ')}`);
    const absent = await cli(['query', 'proof', `reversal:NL@${I}#1`, '--rpc', rpc]);
    expect(absent.stdout).toMatch(/value\s+absent/);
    expect(proven.asked).toEqual([toHex(reversalKey), '2301', `2302${toHex(marketId('NL', I))}00000001`]);
    expect((await cli(['query', 'proof', 'reversal:NL#0', '--rpc', rpc])).stderr).toMatch(/^error INVALID_PARAMS: reversal:ZONE@START#SEQ needs/m);
  });
});
