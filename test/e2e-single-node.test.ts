import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../core/bytes.ts';
import { addressFromPublicKey } from '../core/keys.ts';
import { verifyProof } from '../core/proof.ts';
import { buildTransfer } from '../core/tx/transfer.ts';
import { signTx } from '../core/tx.ts';
import { accountKey } from '../state/keys.ts';
import { freePort, rpc, type RpcCallError, waitFor } from './helpers/net.ts';
import { NodeProcess, runCli } from './helpers/cluster.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { decryptKeySync } from '../core/keystore.ts';

/**
 * One real `joule start` process, driven through the real CLI and raw JSON-RPC:
 * genesis -> init -> start -> transfers -> receipts, balances, proofs -> bad input.
 */
describe('end to end: one validator process, CLI and JSON-RPC', () => {
  let dir: string;
  let url: string;
  let metricsUrl: string;
  let node: NodeProcess;
  let chainId: string;
  const key = (name: string) => decryptKeySync(JSON.parse(readFileSync(join(dir, 'keys', `${name}.key`), 'utf8')), undefined);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'joule-e2e-'));
    const gen = await runCli(['genesis', 'init', '--validators', '1', '--accounts', '3', '--out', dir, '--insecure']);
    expect(gen.code, gen.stderr).toBe(0);
    const valid = await runCli(['genesis', 'validate', join(dir, 'genesis.json')]);
    expect(valid.stdout.trim()).toBe('ok');
    const [rpcPort, metricsPort, p2pPort, grpcPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const home = join(dir, 'node');
    const init = await runCli([
      'init',
      '--home',
      home,
      '--genesis',
      join(dir, 'genesis.json'),
      '--name',
      'v0',
      '--identity-key',
      join(dir, 'keys', 'validator-0', 'identity.key'),
      '--consensus-key',
      join(dir, 'keys', 'validator-0', 'consensus.key'),
      '--rpc-port',
      String(rpcPort),
      '--metrics-port',
      String(metricsPort),
      '--p2p-port',
      String(p2pPort),
      '--grpc-port',
      String(grpcPort),
    ]);
    expect(init.code, init.stderr).toBe(0);
    url = `http://127.0.0.1:${rpcPort}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}`;
    node = new NodeProcess({ name: 'v0', home, rpcUrl: url });
    await node.start();
    chainId = (await rpc<{ chainId: string }>(url, 'joule_status')).chainId;
  }, 120_000);

  afterAll(async () => {
    await node?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('joule status shows the chain advancing', async () => {
    const first = await runCli(['status', '--rpc', url, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const s = JSON.parse(first.stdout);
    expect(s.chainId).toBe(chainId);
    expect(typeof s.latestBlockHash).toBe('string');
    await waitFor('a later block', async () => ((await rpc<{ height: number }>(url, 'joule_status')).height > s.height ? true : undefined), 10_000);
    const human = await runCli(['status', '--rpc', url]);
    expect(human.stdout).toMatch(/height/i);
  });

  it('joule tx transfer --wait finalises a transfer and moves exactly amount + fee', async () => {
    const from = key('account-0');
    const to = key('account-1');
    const before = await rpc<{ balance: string }>(url, 'joule_getAccount', [from.address]);
    const toBefore = await rpc<{ balance: string }>(url, 'joule_getAccount', [to.address]);
    const out = await runCli([
      'tx',
      'transfer',
      '--to',
      to.address!,
      '--amount',
      '5000',
      '--fee',
      '100',
      '--key',
      join(dir, 'keys', 'account-0.key'),
      '--rpc',
      url,
      '--wait',
      '--json',
    ]);
    expect(out.code, out.stderr).toBe(0);
    const receipt = JSON.parse(out.stdout);
    expect(receipt.receipt.success).toBe(true);
    expect(receipt.blockHeight).toBeGreaterThan(0);
    const after = await rpc<{ balance: string; nonce: number }>(url, 'joule_getAccount', [from.address]);
    const toAfter = await rpc<{ balance: string }>(url, 'joule_getAccount', [to.address]);
    expect(BigInt(before.balance) - BigInt(after.balance)).toBe(5100n);
    expect(BigInt(toAfter.balance) - BigInt(toBefore.balance)).toBe(5000n);
    expect(after.nonce).toBe(1);

    const queried = await runCli(['query', 'tx', receipt.hash, '--rpc', url, '--json']);
    expect(JSON.parse(queried.stdout).blockHeight).toBe(receipt.blockHeight);
    const block = await runCli(['query', 'block', String(receipt.blockHeight), '--rpc', url, '--json']);
    const b = JSON.parse(block.stdout);
    expect(b.height).toBe(receipt.blockHeight);
    expect(b.hash).toBe(receipt.blockHash);
    const account = await runCli(['query', 'account', to.address!, '--rpc', url, '--json']);
    expect(JSON.parse(account.stdout).balance).toBe(toAfter.balance);
  });

  it('JSON-RPC transfers get receipts, and state proofs verify against the header (and fail when tampered)', async () => {
    const from = key('account-2');
    const to = addressFromPublicKey(key('account-0').publicKey);
    const nonce = (await rpc<{ nonce: number }>(url, 'joule_getAccount', [from.address])).nonce;
    const txs = [0, 1, 2].map((i) => buildTransfer({ chainId, seed: from.secret, nonce: nonce + i, fee: 50n, to, amount: 10n + BigInt(i) }));
    for (const tx of txs) {
      const r = await rpc<{ hash: string }>(url, 'joule_sendRawTransaction', [`0x${toHex(tx.bytes)}`]);
      expect(r.hash).toBe(`0x${toHex(tx.hash)}`);
    }
    const last = await waitFor(
      'the last tx to be final',
      () =>
        rpc<{ blockHeight: number; receipt: { success: boolean } } | null>(url, 'joule_getTransaction', [`0x${toHex(txs[2]!.hash)}`]).then(
          (t) => t ?? undefined,
        ),
      15_000,
    );
    expect(last.receipt.success).toBe(true);

    const height = last.blockHeight;
    const header = await rpc<{ stateRoot: string }>(url, 'joule_getBlock', [height]);
    const proof = await rpc<{ value: string | null; proof: string; stateRoot: string; height: number }>(url, 'joule_getProof', [from.address, height]);
    expect(proof.stateRoot).toBe(header.stateRoot);
    const k = accountKey(addressFromPublicKey(from.publicKey));
    expect(verifyProof(fromHex(header.stateRoot), k, fromHex(proof.value!), fromHex(proof.proof))).toBe(true);
    const tamperedValue = fromHex(proof.value!);
    tamperedValue[tamperedValue.length - 1]! ^= 1;
    expect(verifyProof(fromHex(header.stateRoot), k, tamperedValue, fromHex(proof.proof))).toBe(false);
    // Exclusion: a never-used address is provably absent.
    const absentKey = accountKey(new Uint8Array(20).fill(7));
    const absent = await rpc<{ value: string | null; proof: string }>(url, 'joule_getProof', [`0x${toHex(absentKey)}`, height]);
    expect(absent.value).toBeNull();
    expect(verifyProof(fromHex(header.stateRoot), absentKey, undefined, fromHex(absent.proof))).toBe(true);
    expect(verifyProof(fromHex(header.stateRoot), absentKey, new Uint8Array([1]), fromHex(absent.proof))).toBe(false);

    const cli = await runCli(['query', 'proof', from.address!, '--height', String(height), '--rpc', url, '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout).verified).toBe(true);
  });

  it('answers bad input with clear errors and keeps running', async () => {
    const post = (body: string, type = 'application/json') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
    const parse = (await (await post(`{"jsonrpc":"2.0",`)).json()) as { error: { code: number } };
    expect(parse.error.code).toBe(-32700);
    const wrongType = (await (await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'joule_getBlock', params: [{ height: 1 }] }))).json()) as {
      error: { code: number };
    };
    expect(wrongType.error.code).toBe(-32602);
    const oversized = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'joule_status', params: ['x'.repeat(2 * 1024 * 1024)] }));
    expect(oversized.status).toBe(413);
    const rejection = async (bytes: Uint8Array) => {
      try {
        await rpc(url, 'joule_sendRawTransaction', [`0x${toHex(bytes)}`]);
      } catch (e) {
        return (e as RpcCallError).error;
      }
      throw new Error('accepted');
    };
    const garbage = await rejection(new Uint8Array([0xc1, 0xff, 0x00, 0x13]));
    expect(garbage.code).toBe(-32000);
    expect(garbage.data?.code).toMatch(/^CODEC_/);
    const signer = key('account-1');
    const good = buildTransfer({ chainId, seed: signer.secret, nonce: 0, fee: 100n, to: new Uint8Array(20), amount: 1n });
    const badSig = signTx({ chainId, type: good.type, sender: good.sender, nonce: 99, fee: good.fee, body: good.body }, key('account-2').secret);
    expect((await rejection(badSig.bytes)).data?.code).toBe('TX_BAD_SIGNATURE');
    const wrongChain = buildTransfer({ chainId: 'another-chain', seed: signer.secret, nonce: 5, fee: 100n, to: new Uint8Array(20), amount: 1n });
    expect((await rejection(wrongChain.bytes)).data?.code).toBe('TX_WRONG_CHAIN');
    const stale = buildTransfer({ chainId, seed: key('account-0').secret, nonce: 0, fee: 100n, to: new Uint8Array(20), amount: 1n });
    expect((await rejection(stale.bytes)).data?.code).toBe('TX_NONCE_TOO_LOW');
    const broke = buildTransfer({ chainId, seed: signer.secret, nonce: 1, fee: 100n, to: new Uint8Array(20), amount: 10n ** 18n });
    expect((await rejection(broke.bytes)).data).toMatchObject({ code: 'TX_INSUFFICIENT_BALANCE' });

    // Still alive, still producing, and every rejection was counted.
    const h = (await rpc<{ height: number }>(url, 'joule_status')).height;
    await waitFor('another block', async () => ((await rpc<{ height: number }>(url, 'joule_status')).height > h ? true : undefined), 10_000);
    const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/joule_rejections_total\{[^}]*code="TX_BAD_SIGNATURE"/);
    expect(metrics).toMatch(/joule_chain_height\{[^}]*\} [1-9]/);
    expect((await fetch(`${metricsUrl}/health`)).status).toBe(200);
  });

  it('stops cleanly on SIGTERM with exit code 0 and resumes at the same height', async () => {
    const before = await rpc<{ height: number; latestBlockHash: string }>(url, 'joule_status');
    expect(await node.kill('SIGTERM')).toBe(0);
    await node.start();
    const block = await rpc<{ hash: string }>(url, 'joule_getBlock', [before.height]);
    expect(block.hash).toBe(before.latestBlockHash);
  });
});
