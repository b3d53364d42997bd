import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blsGenerate, ed25519Generate } from '../../core/keys.ts';
import { encryptKey } from '../../core/keystore.ts';
import { loadNodeKeys } from './keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'joule-node-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FAST = { n: 1024, r: 8, p: 1 };
const PASSPHRASE = 'node keys test passphrase';

async function keyPair(name: string, insecure: boolean, mode: number): Promise<[string, string]> {
  const id = join(dir, `${name}-identity.key`);
  const cons = join(dir, `${name}-consensus.key`);
  const opts = insecure ? { insecure: true } : { passphrase: PASSPHRASE, scrypt: FAST };
  writeFileSync(id, JSON.stringify(await encryptKey({ type: 'ed25519', secret: ed25519Generate().seed, ...opts })));
  writeFileSync(cons, JSON.stringify(await encryptKey({ type: 'bls', secret: blsGenerate().secretKey, ...opts })));
  chmodSync(id, mode);
  chmodSync(cons, 0o600);
  return [id, cons];
}

// Issue 8: key files readable by others were accepted silently.
describe('key files readable by other users', () => {
  it('a validator refuses to start with an encrypted key others can read, naming the file and the fix', async () => {
    const [id, cons] = await keyPair('loose', false, 0o644);
    await expect(loadNodeKeys(id, cons, PASSPHRASE, { validator: true })).rejects.toMatchObject({
      code: 'KEYSTORE_EXPOSED',
      message: expect.stringContaining(`${id}: mode 0644 lets its group and other users read or change it (fix: chmod 600 ${id})`),
    });
  });

  it('an observer starts and reports it; 0600 files report nothing; insecure devnet keys are public by design', async () => {
    const [id, cons] = await keyPair('observer', false, 0o640);
    expect((await loadNodeKeys(id, cons, PASSPHRASE, { validator: false })).exposed).toEqual([expect.stringContaining(`${id}: mode 0640 lets its group read`)]);
    const [tightId, tightCons] = await keyPair('tight', false, 0o600);
    expect((await loadNodeKeys(tightId, tightCons, PASSPHRASE, { validator: true })).exposed).toEqual([]);
    const [devId, devCons] = await keyPair('devnet', true, 0o644);
    const dev = await loadNodeKeys(devId, devCons, undefined, { validator: true });
    expect(dev.insecure).toBe(true);
    expect(dev.exposed).toHaveLength(1);
  });
});
