import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { encryptKey } from '../core/keystore.ts';
import { decodeTx } from '../core/tx.ts';
import { formatAddress } from '../core/keys.ts';
import { blockHash } from '../core/block.ts';
import { encodeProof, keyPath } from '../core/proof.ts';
import { accountKey } from '../state/keys.ts';
import { buildTree, makeLeaf, nodeHash, proveInTree } from '../state/tree.ts';
import { createFakeNode, type FakeNode } from '../rpc/testing/fake-node.ts';
import { startRpcServer, type RunningServer } from '../rpc/http/http-server.ts';
import { runCli } from './testing/run-cli.ts';

/**
 * status / tx / query as real processes against rpc/'s HTTP server over its in-memory fake
 * node (the end-to-end test against a real node lives in test/). This checks the CLI's side
 * of the JSON-RPC contract: parameters, output shapes, error codes and exit codes.
 */
let fake: FakeNode;
let server: RunningServer;
let rpc: string;
const dir = mkdtempSync(join(tmpdir(), 'joule-cli-rpc-'));
const bob = 'joule1' + 'q'.repeat(32); // well-formed looking, but its bech32 checksum is wrong

beforeAll(async () => {
  fake = createFakeNode();
  fake.commit();
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api: fake });
  rpc = `http://127.0.0.1:${server.port}`;
  writeFileSync(join(dir, 'alice.key'), JSON.stringify(await encryptKey({ type: 'ed25519', secret: fake.alice.seed, insecure: true })));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const to = formatAddress(new Uint8Array(20).fill(3));

describe('joule status', () => {
  it('prints the node status, or one JSON object with --json', async () => {
    const text = await runCli(['status', '--rpc', rpc]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/chain id\s+joule-test/);
    expect(text.stdout).toMatch(/height\s+1/);
    expect(text.stdout).toMatch(/peers\s+3/);
    const json = await runCli(['status', '--json'], { env: { JOULE_RPC: rpc } });
    const s = JSON.parse(json.stdout);
    expect(s).toMatchObject({ chainId: 'joule-test', height: 1, validatorCount: 4 });
    expect(s.latestBlockHash).toBe(`0x${toHex(fake.blocks[1]!.hash)}`);
  });

  it('explains a refused connection', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await runCli(['status', '--rpc', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error RPC_UNREACHABLE: cannot connect to a Joule node at .* \(connection refused\)\. Is it running\?/m);
  });
});

describe('joule tx transfer', () => {
  it('signs with the chain id and nonce from the node, submits, and --wait prints the final receipt', async () => {
    const child = runCli(['tx', 'transfer', '--to', to, '--amount', '5', '--key', join(dir, 'alice.key'), '--rpc', rpc, '--wait', '--json']);
    // Play the node: once the tx arrives, commit it in a block.
    const deadline = Date.now() + 20_000;
    while (fake.submitted.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fake.submitted).toHaveLength(1);
    const tx = decodeTx(fake.submitted[0]!);
    expect(tx.chainId).toBe('joule-test');
    expect(tx.nonce).toBe(0);
    expect(tx.fee).toBe(10n);
    fake.commit([tx]);
    const r = await child;
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.hash).toBe(`0x${toHex(tx.hash)}`);
    expect(out.receipt.success).toBe(true);
    expect(out.blockHeight).toBe(2);
    expect(r.stderr).toMatch(/INSECURE devnet key/);
  });

  it('times out with a clear error when the tx never becomes final', async () => {
    const r = await runCli([
      'tx',
      'transfer',
      '--to',
      to,
      '--amount',
      '7',
      '--nonce',
      '1',
      '--key',
      join(dir, 'alice.key'),
      '--rpc',
      rpc,
      '--wait',
      '--timeout',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error TX_WAIT_TIMEOUT: transaction 0x[0-9a-f]{64} was submitted but is not final after 1s/m);
  });

  it('rejects bad arguments before signing anything', async () => {
    const badTo = await runCli(['tx', 'transfer', '--to', bob, '--amount', '5', '--key', join(dir, 'alice.key'), '--rpc', rpc]);
    expect(badTo.code).toBe(1);
    expect(badTo.stderr).toMatch(/^error ADDRESS_INVALID: --to /m);
    const badAmount = await runCli(['tx', 'transfer', '--to', to, '--amount', '1.5', '--key', join(dir, 'alice.key'), '--rpc', rpc]);
    expect(badAmount.stderr).toMatch(/^error INVALID_PARAMS: --amount /m);
  });
});

describe('joule query', () => {
  it('account, block (by height and hash) and tx, with --json', async () => {
    const acct = await runCli(['query', 'account', formatAddress(fake.alice.address), '--rpc', rpc, '--json']);
    expect(JSON.parse(acct.stdout)).toMatchObject({ nonce: 0, roles: ['dso'] });
    const text = await runCli(['query', 'account', formatAddress(fake.alice.address), '--rpc', rpc]);
    expect(text.stdout).toMatch(/balance\s+100000000000000000000/);

    const b1 = JSON.parse((await runCli(['query', 'block', '1', '--rpc', rpc, '--json'])).stdout);
    expect(b1.height).toBe(1);
    const byHash = JSON.parse((await runCli(['query', 'block', b1.hash, '--rpc', rpc, '--json'])).stdout);
    expect(byHash).toEqual(b1);
    const missing = await runCli(['query', 'block', '999', '--rpc', rpc]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error NOT_FOUND: no block 999/m);

    const [lookup] = [...fake.txs.values()];
    const tx = await runCli(['query', 'tx', `0x${toHex(lookup!.tx.hash)}`, '--rpc', rpc]);
    expect(tx.code, tx.stderr).toBe(0);
    expect(tx.stdout).toMatch(/status\s+success/);
  });

  it('proof: checks the header hash and refuses a proof that does not verify', async () => {
    // The fake node returns junk proof bytes: the CLI must say so and exit 1.
    const r = await runCli(['query', 'proof', formatAddress(fake.alice.address), '--height', '1', '--rpc', rpc, '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.verified).toBe(false);
    expect(out.checks['proof is for the requested key']).toBe(true);
    expect(out.checks['header hashes to the block hash']).toBe(true);
    expect(out.checks['Merkle proof verifies against the header state root']).toBe(false);
    expect(r.stderr).toMatch(/^error PROOF_INVALID: /m);
  });

  it('proof: a real inclusion proof and a real exclusion proof verify', async () => {
    // Give the fake node a real state tree: alice's account plus a few other records.
    const aliceKey = accountKey(fake.alice.address);
    const value = new Uint8Array([0xaa]); // what the fake node reports for a known account
    const leaves = [makeLeaf(keyPath(aliceKey), value), ...[1, 2, 3].map((i) => makeLeaf(keyPath(new Uint8Array([0x10, i])), new Uint8Array([i])))];
    const root = buildTree(leaves);
    const head = fake.blocks[fake.blocks.length - 1]!;
    const header = { ...head.block.header, stateRoot: nodeHash(root) };
    fake.blocks[fake.blocks.length - 1] = { ...head, block: { ...head.block, header }, hash: blockHash(header) };
    fake.getProof = async (key) => ({
      height: header.height,
      stateRoot: header.stateRoot,
      value: toHex(key) === toHex(aliceKey) ? value : undefined,
      proof: encodeProof(proveInTree(root, keyPath(key))),
    });

    const inc = await runCli(['query', 'proof', formatAddress(fake.alice.address), '--rpc', rpc]);
    expect(inc.code, inc.stdout + inc.stderr).toBe(0);
    expect(inc.stdout).toMatch(/verified\s+yes \(inclusion proof\)/);
    const exc = await runCli(['query', 'proof', to, '--rpc', rpc, '--json']);
    expect(exc.code, exc.stdout + exc.stderr).toBe(0);
    expect(JSON.parse(exc.stdout)).toMatchObject({ verified: true, value: null });
  });
});
