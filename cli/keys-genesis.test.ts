import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decryptKey } from '../core/keystore.ts';
import { runCli } from './testing/run-cli.ts';

// `keys` and `genesis` commands run as real processes in a temp dir; exit codes and output checked.
const dir = mkdtempSync(join(tmpdir(), 'joule-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pwFile = join(dir, 'pw');
writeFileSync(pwFile, 'hunter2 but longer\n');
const readJson = (f: string): any => JSON.parse(readFileSync(join(dir, f), 'utf8'));

describe('joule keys', () => {
  it('refuses to write an unencrypted key without --insecure, and says so', async () => {
    const r = await runCli(['keys', 'generate', '--type', 'ed25519', '--out', 'plain.key'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error KEYSTORE_BAD_PASSPHRASE: refusing to write an unencrypted key/m);
    expect(r.stderr).toContain('--insecure');
    expect(existsSync(join(dir, 'plain.key'))).toBe(false);
  });

  it('generates an encrypted ed25519 key (passphrase file), shows it, and never prints the secret', async () => {
    const r = await runCli(['keys', 'generate', '--type', 'ed25519', '--out', 'a.key', '--passphrase-file', pwFile, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.address).toMatch(/^joule1/);
    expect(out.encrypted).toBe(true);
    expect(statSync(join(dir, 'a.key')).mode & 0o777).toBe(0o600);
    const file = readJson('a.key');
    expect(file.crypto.kdf).toBe('scrypt');
    expect(file.secret).toBeUndefined();
    const key = await decryptKey(file, 'hunter2 but longer');
    expect(`0x${Buffer.from(key.publicKey).toString('hex')}`).toBe(out.publicKey);

    const show = await runCli(['keys', 'show', 'a.key'], { cwd: dir });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(out.address);
    expect(show.stdout).toContain(out.publicKey);
    expect(show.stdout).toMatch(/encrypted\s+yes/);
    expect(show.stdout + show.stderr).not.toContain(Buffer.from(key.secret).toString('hex'));
    const showJson = await runCli(['keys', 'show', 'a.key', '--json'], { cwd: dir });
    expect(JSON.parse(showJson.stdout)).toMatchObject({ type: 'ed25519', address: out.address, publicKey: out.publicKey, encrypted: true });
  });

  it('generates a BLS key with the passphrase from JOULE_PASSPHRASE', async () => {
    const r = await runCli(['keys', 'generate', '--type', 'bls', '--out', 'keys/b.key'], { cwd: dir, env: { JOULE_PASSPHRASE: 'from the environment' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/type\s+bls/);
    expect(r.stdout).not.toContain('address');
    const key = await decryptKey(readJson('keys/b.key'), 'from the environment');
    expect(key.type).toBe('bls');
    expect(key.publicKey).toHaveLength(48);
  });

  it('never overwrites an existing key file', async () => {
    const before = readFileSync(join(dir, 'a.key'), 'utf8');
    const r = await runCli(['keys', 'generate', '--type', 'ed25519', '--out', 'a.key', '--passphrase-file', pwFile], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error FILE_EXISTS: /m);
    expect(readFileSync(join(dir, 'a.key'), 'utf8')).toBe(before);
  });

  it('writes an insecure devnet key only with --insecure, warning on write and on show', async () => {
    const r = await runCli(['keys', 'generate', '--type', 'ed25519', '--out', 'dev.key', '--insecure'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: --insecure: writing an UNENCRYPTED/);
    expect(readJson('dev.key')).toMatchObject({ insecure: true });
    const show = await runCli(['keys', 'show', 'dev.key'], { cwd: dir });
    expect(show.code).toBe(0);
    expect(show.stderr).toMatch(/INSECURE devnet key/);
    expect(show.stdout).toMatch(/encrypted\s+NO/);
    expect(show.stdout).not.toContain(readJson('dev.key').secret.slice(2));
  });

  it('reports bad input with a code and a non-zero exit', async () => {
    const missing = await runCli(['keys', 'show', 'nope.key'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error KEY_FILE: cannot read key file nope.key \(ENOENT\)/m);
    writeFileSync(join(dir, 'broken.key'), JSON.stringify({ ...readJson('a.key'), type: 'rsa' }));
    const broken = await runCli(['keys', 'show', 'broken.key'], { cwd: dir });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^error KEYSTORE_INVALID: broken.key: type: /m);
    const badType = await runCli(['keys', 'generate', '--type', 'rsa', '--out', 'x.key', '--insecure'], { cwd: dir });
    expect(badType.code).toBe(1);
    expect(badType.stderr).toMatch(/Allowed choices are ed25519, bls/);
    const unknown = await runCli(['frobnicate'], { cwd: dir });
    expect(unknown.code).toBe(1);
  });
});

describe('joule genesis', () => {
  it('init --insecure writes genesis.json and every key it references; validate says ok', async () => {
    const r = await runCli(['genesis', 'init', '--validators', '4', '--accounts', '3', '--out', 'net', '--insecure', '--chain-id', 'test-net'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: --insecure/);
    expect(r.stdout).toMatch(/chain id\s+test-net/);
    const g = readJson('net/genesis.json');
    expect(g.chainId).toBe('test-net');
    expect(g.validators).toHaveLength(4);
    for (let i = 0; i < 4; i++) {
      const identity = await decryptKey(readJson(`net/keys/validator-${i}/identity.key`), undefined);
      const consensus = await decryptKey(readJson(`net/keys/validator-${i}/consensus.key`), undefined);
      const v = g.validators.find((x: any) => x.name === `validator-${i}`);
      expect(v.identityKey).toBe(`0x${Buffer.from(identity.publicKey).toString('hex')}`);
      expect(v.address).toBe(identity.address);
      expect(v.blsKey).toBe(`0x${Buffer.from(consensus.publicKey).toString('hex')}`);
    }
    for (let j = 0; j < 3; j++) {
      const account = await decryptKey(readJson(`net/keys/account-${j}.key`), undefined);
      expect(g.accounts.map((a: any) => a.address)).toContain(account.address);
    }
    const v = await runCli(['genesis', 'validate', 'net/genesis.json'], { cwd: dir });
    expect(v.code).toBe(0);
    expect(v.stdout).toBe('ok\n');
    const h = await runCli(['genesis', 'hash', 'net/genesis.json'], { cwd: dir });
    expect(h.stdout).toMatch(/^0x[0-9a-f]{64}\n$/);
    expect(r.stdout).toContain(h.stdout.trim());
  });

  it('init encrypts keys with the passphrase and refuses an existing output', async () => {
    const r = await runCli(['genesis', 'init', '--validators', '1', '--accounts', '1', '--out', 'enc', '--passphrase-file', pwFile, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ chainId: 'joule-devnet', encrypted: true });
    const k = readJson('enc/keys/validator-0/consensus.key');
    expect(k.crypto).toBeDefined();
    expect((await decryptKey(k, 'hunter2 but longer')).type).toBe('bls');
    const again = await runCli(['genesis', 'init', '--validators', '1', '--accounts', '1', '--out', 'enc', '--insecure'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error FILE_EXISTS: /m);
    const noPass = await runCli(['genesis', 'init', '--validators', '1', '--accounts', '1', '--out', 'enc2'], { cwd: dir });
    expect(noPass.code).toBe(1);
    expect(noPass.stderr).toMatch(/^error KEYSTORE_BAD_PASSPHRASE: /m);
    const badN = await runCli(['genesis', 'init', '--validators', 'zero', '--accounts', '1', '--out', 'enc3', '--insecure'], { cwd: dir });
    expect(badN.code).toBe(1);
    expect(badN.stderr).toMatch(/^error INVALID_PARAMS: --validators must be an integer/m);
    const badId = await runCli(['genesis', 'init', '--out', 'enc4', '--insecure', '--chain-id', 'Bad_ID'], { cwd: dir });
    expect(badId.code).toBe(1);
    expect(badId.stderr).toMatch(/^error GENESIS_INVALID: chainId: /m);
  });

  it('validate prints every problem with its JSON path and exits 1', async () => {
    const g = readJson('net/genesis.json');
    g.validators[2].blsKey = '0x1234';
    g.validators[1].name = g.validators[0].name;
    g.accounts[0].balance = '-5';
    g.params.blockPeriodMs = 0;
    g.surprise = true;
    writeFileSync(join(dir, 'bad-genesis.json'), JSON.stringify(g));
    const r = await runCli(['genesis', 'validate', 'bad-genesis.json'], { cwd: dir });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual(
      expect.arrayContaining(['validators[2].blsKey', 'validators[1].name', 'accounts[0].balance', 'params.blockPeriodMs', 'surprise']),
    );
    expect(r.stderr).toMatch(/5 problems/);
    const json = await runCli(['genesis', 'validate', 'bad-genesis.json', '--json'], { cwd: dir });
    expect(JSON.parse(json.stdout).problems).toHaveLength(5);

    writeFileSync(join(dir, 'not-json.json'), '{"chainId": ');
    const nj = await runCli(['genesis', 'validate', 'not-json.json'], { cwd: dir });
    expect(nj.code).toBe(1);
    expect(nj.stderr).toMatch(/^error GENESIS_INVALID: not-json.json is not valid JSON/m);
  });
});

describe('joule init', () => {
  it("generates a node's keys without leaving its temporary key files behind (issue 8: /tmp/joule-key-* piled up)", async () => {
    const scratch = join(dir, 'init-tmp');
    mkdirSync(scratch);
    const env = { TMPDIR: scratch };
    const gen = await runCli(['genesis', 'init', '--validators', '1', '--accounts', '0', '--out', join(dir, 'init-net'), '--insecure'], { cwd: dir, env });
    expect(gen.code, gen.stderr).toBe(0);
    const init = await runCli(['init', '--home', join(dir, 'init-home'), '--genesis', join(dir, 'init-net', 'genesis.json'), '--insecure'], { cwd: dir, env });
    expect(init.code, init.stderr).toBe(0);
    expect(existsSync(join(dir, 'init-home', 'keys', 'identity.key'))).toBe(true);
    expect(readdirSync(scratch)).toEqual([]);
  });
});
