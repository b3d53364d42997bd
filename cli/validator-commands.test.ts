import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../core/bytes.ts';
import { addressFromPublicKey, blsFromSecret, ed25519FromSeed, formatAddress } from '../core/keys.ts';
import { encryptKey } from '../core/keystore.ts';
import { verifyProofOfPossession } from '../core/pop.ts';
import { decodeValidatorVoteBody } from '../core/tx/validator-vote.ts';
import { TxType } from '../core/tx/types.ts';
import { decodeTx } from '../core/tx.ts';
import { createFakeNode, type FakeNode } from '../rpc/testing/fake-node.ts';
import { startRpcServer, type RunningServer } from '../rpc/http/http-server.ts';
import { cardToJson, makeCard } from '../node/home/card.ts';
import { runCli } from './testing/run-cli.ts';
import { runCliInProcess } from './testing/run-in-process.ts';

/** tx validator-vote / make-pop and query validators|evidence|validator-votes against rpc/'s fake node. */
let fake: FakeNode;
let server: RunningServer;
let rpc: string;
const dir = mkdtempSync(join(tmpdir(), 'joule-cli-validators-'));
const candDir = join(dir, 'candidate', 'keys');
const candId = ed25519FromSeed(new Uint8Array(32).fill(21));
const candBlsSecret = new Uint8Array(32).fill(22);
const candBls = blsFromSecret(candBlsSecret);
const aliceKey = join(dir, 'alice.key');

beforeAll(async () => {
  fake = createFakeNode();
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api: fake });
  rpc = `http://127.0.0.1:${server.port}`;
  writeFileSync(aliceKey, JSON.stringify(await encryptKey({ type: 'ed25519', secret: fake.alice.seed, insecure: true })));
  mkdirSync(candDir, { recursive: true });
  writeFileSync(join(candDir, 'identity.key'), JSON.stringify(await encryptKey({ type: 'ed25519', secret: candId.seed, insecure: true })));
  writeFileSync(join(candDir, 'consensus.key'), JSON.stringify(await encryptKey({ type: 'bls', secret: candBlsSecret, insecure: true })));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const lastSubmitted = () => decodeTx(fake.submitted[fake.submitted.length - 1]!);

describe('joule tx validator-vote', () => {
  it('--add with --candidate-keys (a node home) computes the proof of possession and signs a type-2 tx', async () => {
    const r = await runCli([
      'tx',
      'validator-vote',
      '--add',
      '--name',
      'dso-5',
      '--candidate-keys',
      join(dir, 'candidate'),
      '--key',
      aliceKey,
      '--rpc',
      rpc,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const tx = lastSubmitted();
    expect(tx.type).toBe(TxType.validatorVote);
    expect(tx.fee).toBe(25n); // grid_balancing base fee of the default chain
    const body = decodeValidatorVoteBody(tx.body);
    expect(body).toMatchObject({ action: 0, name: 'dso-5' });
    expect(toHex(body.identityKey)).toBe(toHex(candId.publicKey));
    expect(toHex(body.blsKey)).toBe(toHex(candBls.publicKey));
    expect(verifyProofOfPossession('joule-test', body.blsKey, body.identityKey, body.blsProofOfPossession)).toBe(true);
    expect(JSON.parse(r.stdout)).toMatchObject({ action: 'add', name: 'dso-5', address: formatAddress(addressFromPublicKey(candId.publicKey)) });
  });

  it('--add with hex keys and a --pop from `tx make-pop`; a wrong proof is refused before sending', async () => {
    const made = await runCli(['tx', 'make-pop', '--candidate-keys', candDir, '--chain-id', 'joule-test']);
    expect(made.code, made.stderr).toBe(0);
    const { pop, identityKey, blsKey } = JSON.parse(made.stdout);
    const n = fake.submitted.length;
    const ok = await runCli([
      'tx',
      'validator-vote',
      '--add',
      '--name',
      'dso-5',
      '--identity-key',
      identityKey,
      '--bls-key',
      blsKey,
      '--pop',
      pop,
      '--key',
      aliceKey,
      '--rpc',
      rpc,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(fake.submitted).toHaveLength(n + 1);

    const otherChain = JSON.parse((await runCli(['tx', 'make-pop', '--candidate-keys', candDir, '--chain-id', 'other'])).stdout).pop;
    const bad = await runCli([
      'tx',
      'validator-vote',
      '--add',
      '--name',
      'dso-5',
      '--identity-key',
      identityKey,
      '--bls-key',
      blsKey,
      '--pop',
      otherChain,
      '--key',
      aliceKey,
      '--rpc',
      rpc,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error TX_BAD_SIGNATURE: the proof of possession does not verify/m);
    const noPop = await runCli([
      'tx',
      'validator-vote',
      '--add',
      '--name',
      'dso-5',
      '--identity-key',
      identityKey,
      '--bls-key',
      blsKey,
      '--key',
      aliceKey,
      '--rpc',
      rpc,
    ]);
    expect(noPop.stderr).toMatch(/^error INVALID_PARAMS: an add needs the candidate's proof of possession/m);
    // Issue 8: hex without its 0x prefix is refused, not guessed at.
    const bare = await runCliInProcess([
      'tx',
      'validator-vote',
      '--add',
      '--name',
      'dso-5',
      '--identity-key',
      identityKey.slice(2),
      '--bls-key',
      blsKey,
      '--pop',
      pop,
      '--key',
      aliceKey,
      '--rpc',
      rpc,
    ]);
    expect(bare.stderr).toMatch(/^error INVALID_PARAMS: --identity-key must be 32 bytes of 0x-prefixed hex/m);
    expect(fake.submitted).toHaveLength(n + 1);
  });

  it("--add --card takes keys, proof of possession and name from the candidate's card, checked for the node's chain", async () => {
    const card = (chainId: string, p2p = '/ip4/10.0.0.5/tcp/26600') =>
      cardToJson(makeCard({ chainId, name: 'dso-card', identitySeed: candId.seed, blsSecret: candBlsSecret, p2p }));
    writeFileSync(join(dir, 'card.json'), JSON.stringify(card('joule-test')));
    const r = await runCliInProcess(['tx', 'validator-vote', '--add', '--card', join(dir, 'card.json'), '--key', aliceKey, '--rpc', rpc, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const body = decodeValidatorVoteBody(lastSubmitted().body);
    expect(body).toMatchObject({ action: 0, name: 'dso-card' });
    expect(toHex(body.identityKey)).toBe(toHex(candId.publicKey));
    expect(toHex(body.blsKey)).toBe(toHex(candBls.publicKey));
    expect(toHex(body.blsProofOfPossession)).toBe(card('joule-test').blsProofOfPossession.slice(2));

    const n = fake.submitted.length;
    const vote = (extra: string[]) => runCliInProcess(['tx', 'validator-vote', '--add', '--key', aliceKey, '--rpc', rpc, ...extra]);
    writeFileSync(join(dir, 'card-other.json'), JSON.stringify(card('other-chain')));
    expect((await vote(['--card', join(dir, 'card-other.json')])).stderr).toMatch(
      /^error CARD_INVALID: --card .*card-other\.json is for chain "other-chain", but the node runs "joule-test"/m,
    );
    writeFileSync(
      join(dir, 'card-bad.json'),
      JSON.stringify({ ...card('joule-test'), blsKey: card('joule-test', '/ip4/10.0.0.6/tcp/1').blsKey.replace(/..$/, '00') }),
    );
    expect((await vote(['--card', join(dir, 'card-bad.json')])).stderr).toMatch(
      /^error CARD_INVALID: --card .*card-bad\.json is not a valid validator card \(1 problem\):\n {2}blsKey: /m,
    );
    expect((await vote(['--card', join(dir, 'nope.json')])).stderr).toMatch(/^error CARD_INVALID: --card cannot read .*nope\.json \(ENOENT\)/m);
    expect((await vote(['--card', join(dir, 'card.json'), '--pop', '0x00'])).stderr).toMatch(/^error INVALID_PARAMS: --card holds the candidate's keys/m);
    expect((await vote(['--card', join(dir, 'card.json'), '--name', 'someone-else'])).stderr).toMatch(
      /^error INVALID_PARAMS: --name "someone-else" differs from the card's name "dso-card"/m,
    );
    expect(fake.submitted).toHaveLength(n);
  });

  it("--remove --validator NAME looks the member's keys up on the node; bad usage is explained", async () => {
    const member = fake.validatorSet.at(2);
    const r = await runCli(['tx', 'validator-vote', '--remove', '--validator', member.name, '--key', aliceKey, '--rpc', rpc]);
    expect(r.code, r.stderr).toBe(0);
    const body = decodeValidatorVoteBody(lastSubmitted().body);
    expect(body).toMatchObject({ action: 1, name: member.name });
    expect(toHex(body.identityKey)).toBe(toHex(member.identityKey));
    expect(body.blsProofOfPossession).toHaveLength(0);

    const both = await runCli(['tx', 'validator-vote', '--add', '--remove', '--name', 'x', '--key', aliceKey, '--rpc', rpc]);
    expect(both.stderr).toMatch(/^error INVALID_PARAMS: give exactly one of --add or --remove/m);
    const unknown = await runCli(['tx', 'validator-vote', '--remove', '--validator', 'nobody', '--key', aliceKey, '--rpc', rpc]);
    expect(unknown.stderr).toMatch(/^error NOT_FOUND: no current validator named or at "nobody"/m);
  });
});

describe('joule query validators|evidence|validator-votes', () => {
  it('validators: text and --json, by height', async () => {
    const json = JSON.parse((await runCli(['query', 'validators', '--rpc', rpc, '--json'])).stdout);
    expect(json.validators).toHaveLength(4);
    expect(json.hash).toBe(`0x${toHex(fake.validatorSet.hash)}`);
    const text = await runCli(['query', 'validators', '--height', '0', '--rpc', rpc]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/size\s+4 \(quorum 3, a change needs 3 votes\)/);
    expect(text.stdout).toContain(formatAddress(fake.validatorSet.at(0).address));
    const missing = await runCli(['query', 'validators', '--height', '999', '--rpc', rpc]);
    expect(missing.stderr).toMatch(/^error NOT_FOUND: /m);
  });

  it('evidence and validator-votes', async () => {
    const author = fake.validatorSet.at(1).address;
    fake.evidence.push({ id: new Uint8Array(32).fill(5), height: 9, round: 2, kind: 2, author, includedAt: 11 });
    fake.proposals.push({
      id: new Uint8Array(32).fill(6),
      action: 0,
      name: 'dso-5',
      identityKey: candId.publicKey,
      blsKey: candBls.publicKey,
      voters: [author],
    });
    const ev = await runCli(['query', 'evidence', '--rpc', rpc]);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/evidence\s+1 included/);
    expect(ev.stdout).toContain(`${formatAddress(author)}  COMMIT at height 9 round 2, included in block 11`);
    expect(JSON.parse((await runCli(['query', 'evidence', '--json', '--rpc', rpc])).stdout).evidence[0].id).toBe(`0x${'05'.repeat(32)}`);
    const votes = await runCli(['query', 'validator-votes', '--rpc', rpc]);
    expect(votes.stdout).toMatch(/add\s+dso-5 joule1\S+\s+votes 1\/3/);
    expect(fromHex(JSON.parse((await runCli(['query', 'validator-votes', '--json', '--rpc', rpc])).stdout).proposals[0].id)).toHaveLength(32);
  });
});
