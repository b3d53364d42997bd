import { describe, expect, it } from 'vitest';
import { toHex } from './bytes.ts';
import { blsGenerate, ed25519Generate } from './keys.ts';
import { decryptKey, decryptKeySync, encryptKey, encryptKeySync, readKeyInfo, type KeystoreJson } from './keystore.ts';

// Small scrypt cost keeps the suite fast; the default (n=2^15) is exercised once below.
const FAST = { n: 1024, r: 8, p: 1 };

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

async function asyncCodeOf(f: () => Promise<unknown>): Promise<{ code?: string; field?: string; message?: string } | undefined> {
  try {
    await f();
  } catch (e) {
    return e as { code?: string; field?: string };
  }
  return undefined;
}

describe('keystore', () => {
  it('round-trips an ed25519 key with its address', async () => {
    const kp = ed25519Generate();
    const json = await encryptKey({ type: 'ed25519', secret: kp.seed, passphrase: 'correct horse', scrypt: FAST });
    expect(json.address).toMatch(/^joule1/);
    expect(JSON.stringify(json)).not.toContain(toHex(kp.seed));
    const k = await decryptKey(JSON.parse(JSON.stringify(json)), 'correct horse');
    expect(k.type).toBe('ed25519');
    expect(toHex(k.secret)).toBe(toHex(kp.seed));
    expect(toHex(k.publicKey)).toBe(toHex(kp.publicKey));
    expect(k.insecure).toBe(false);
  });

  it('round-trips a BLS key (sync API) with default scrypt parameters', () => {
    const kp = blsGenerate();
    const json = encryptKeySync({ type: 'bls', secret: kp.secretKey, passphrase: 'pw of twelve+' });
    expect(json.crypto!.kdfparams.n).toBe(2 ** 15);
    expect(json.address).toBeUndefined();
    const k = decryptKeySync(json, 'pw of twelve+');
    expect(toHex(k.secret)).toBe(toHex(kp.secretKey));
    expect(toHex(k.publicKey)).toBe(toHex(kp.publicKey));
  });

  it('refuses to encrypt a new key with a weak passphrase (issue 8: "a" was accepted), but still opens old files', async () => {
    const secret = ed25519Generate().seed;
    for (const weak of ['a', 'short pw', 'aaaaaaaaaaaaaaaa', '']) {
      const e = await asyncCodeOf(() => encryptKey({ type: 'ed25519', secret, passphrase: weak, scrypt: FAST }));
      expect(e?.code, weak).toBe('KEYSTORE_BAD_PASSPHRASE');
      expect(e?.field).toBe('passphrase');
    }
    const ok = await encryptKey({ type: 'ed25519', secret, passphrase: 'twelve chars', scrypt: FAST });
    expect((await decryptKey(ok, 'twelve chars')).secret).toEqual(secret);
  });

  it('rejects a wrong passphrase with KEYSTORE_BAD_PASSPHRASE', async () => {
    const json = await encryptKey({ type: 'ed25519', secret: ed25519Generate().seed, passphrase: 'the right passphrase', scrypt: FAST });
    expect((await asyncCodeOf(() => decryptKey(json, 'wrong')))?.code).toBe('KEYSTORE_BAD_PASSPHRASE');
    expect((await asyncCodeOf(() => decryptKey(json, undefined)))?.code).toBe('KEYSTORE_BAD_PASSPHRASE');
  });

  it('detects tampering with the ciphertext, tag, iv or public key', async () => {
    const json = await encryptKey({ type: 'ed25519', secret: ed25519Generate().seed, passphrase: 'pw of twelve+', scrypt: FAST });
    const flip = (hex: string) => hex.slice(0, -1) + (hex.endsWith('0') ? '1' : '0');
    const variants: KeystoreJson[] = [
      { ...json, crypto: { ...json.crypto!, ciphertext: flip(json.crypto!.ciphertext) } },
      { ...json, crypto: { ...json.crypto!, tag: flip(json.crypto!.tag) } },
      { ...json, crypto: { ...json.crypto!, iv: flip(json.crypto!.iv) } },
    ];
    for (const v of variants) expect((await asyncCodeOf(() => decryptKey(v, 'pw of twelve+')))?.code).toBe('KEYSTORE_BAD_PASSPHRASE');
    // Another key's public key and matching address: caught by the authenticated header.
    const other = await encryptKey({ type: 'ed25519', secret: ed25519Generate().seed, insecure: true });
    const swapped = { ...json, publicKey: other.publicKey, address: other.address };
    expect((await asyncCodeOf(() => decryptKey(swapped, 'pw of twelve+')))?.code).toBe('KEYSTORE_BAD_PASSPHRASE');
  });

  it('reports malformed files as KEYSTORE_INVALID naming the field', async () => {
    const json = await encryptKey({ type: 'ed25519', secret: ed25519Generate().seed, passphrase: 'pw of twelve+', scrypt: FAST });
    const cases: [unknown, string][] = [
      [null, '$'],
      [{ ...json, version: 2 }, 'version'],
      [{ ...json, type: 'rsa' }, 'type'],
      [{ ...json, publicKey: '0x1234' }, 'publicKey'],
      [{ ...json, address: 'joule1qqqq' }, 'address'],
      [{ ...json, crypto: undefined }, 'crypto'],
      [{ ...json, crypto: { ...json.crypto!, kdf: 'pbkdf2' } }, 'crypto.kdf'],
      [{ ...json, crypto: { ...json.crypto!, kdfparams: { ...json.crypto!.kdfparams, n: 1000 } } }, 'crypto.kdfparams.n'],
      [{ ...json, crypto: { ...json.crypto!, kdfparams: { ...json.crypto!.kdfparams, n: 2 ** 30 } } }, 'crypto.kdfparams.n'],
      [{ ...json, crypto: { ...json.crypto!, kdfparams: { ...json.crypto!.kdfparams, salt: 'zz' } } }, 'crypto.kdfparams.salt'],
      [{ ...json, crypto: { ...json.crypto!, iv: '0xabcd' } }, 'crypto.iv'],
      [{ ...json, crypto: { ...json.crypto!, cipher: 'aes-128-ctr' } }, 'crypto.cipher'],
    ];
    for (const [bad, field] of cases) {
      const e = await asyncCodeOf(() => decryptKey(bad, 'pw'));
      expect(e?.code, field).toBe('KEYSTORE_INVALID');
      expect(e?.field, field).toBe(field);
    }
  });

  // Found by the fuzzer (test/fuzz, target keystore): n=65536 with r=1 passed the bounds,
  // and scrypt threw a RangeError ("memory limit exceeded") instead of a typed error; the
  // bounds also let a file ask for 4 GiB (n=2^20, r=32) and minutes of work (p=16).
  it('refuses scrypt parameters scrypt cannot run or that cost more than 256 MiB and n*r*p = 2^21, as KEYSTORE_INVALID', async () => {
    const json = await encryptKey({ type: 'ed25519', secret: ed25519Generate().seed, passphrase: 'pw of twelve+', scrypt: FAST });
    const params = (n: number, r: number, p: number) => ({ ...json, crypto: { ...json.crypto!, kdfparams: { ...json.crypto!.kdfparams, n, r, p } } });
    const cases: [number, number, number, string][] = [
      [2 ** 16, 1, 1, 'crypto.kdfparams.n'], // RFC 7914: n < 2^(16 r)
      [2 ** 20, 2, 2, 'crypto.kdfparams'],
      [2 ** 20, 32, 16, 'crypto.kdfparams'], // 4 GiB, sixteen times over
      [2 ** 18, 8, 2, 'crypto.kdfparams'],
    ];
    for (const [n, r, p, field] of cases) {
      const e = await asyncCodeOf(() => decryptKey(params(n, r, p), 'pw of twelve+'));
      // Refused by the bounds, before any derivation (not by scrypt itself).
      expect(e, `n=${n} r=${r} p=${p}`).toMatchObject({ code: 'KEYSTORE_INVALID', field, message: expect.stringMatching(/must be/) });
      expect(
        codeOf(() => decryptKeySync(params(n, r, p), 'pw of twelve+')),
        `n=${n} r=${r} p=${p}`,
      ).toBe('KEYSTORE_INVALID');
    }
    // The most a file may ask for still opens: n*r*p = 2^21 (here with a wrong passphrase, the quickest way through a derivation).
    expect(await asyncCodeOf(() => decryptKey(params(2 ** 16, 8, 4), 'not the passphrase'))).toMatchObject({ code: 'KEYSTORE_BAD_PASSPHRASE' });
  });

  it('writes and loads the explicit insecure devnet form, which says so', async () => {
    const kp = ed25519Generate();
    const json = await encryptKey({ type: 'ed25519', secret: kp.seed, insecure: true });
    expect(json.insecure).toBe(true);
    expect(json.warning).toMatch(/INSECURE/);
    expect(json.crypto).toBeUndefined();
    const k = await decryptKey(json, undefined);
    expect(k.insecure).toBe(true);
    expect(toHex(k.secret)).toBe(toHex(kp.seed));
    expect(readKeyInfo(json).insecure).toBe(true);
    // A secret that does not match the public key is a broken file, not a usable key.
    const broken = { ...json, secret: `0x${toHex(ed25519Generate().seed)}` };
    expect(codeOf(() => decryptKeySync(broken, undefined))).toBe('KEYSTORE_INVALID');
  });

  it('refuses to encrypt without a passphrase', () => {
    expect(codeOf(() => encryptKeySync({ type: 'bls', secret: blsGenerate().secretKey }))).toBe('KEYSTORE_BAD_PASSPHRASE');
    expect(codeOf(() => encryptKeySync({ type: 'bls', secret: blsGenerate().secretKey, passphrase: '' }))).toBe('KEYSTORE_BAD_PASSPHRASE');
  });
});
