import { describe, expect, it } from 'vitest';
import { utf8 } from '../../core/bytes.ts';
import { commitSealBytes } from '../../core/block.ts';
import { sha256 } from '../../core/hash.ts';
import { blsAggregateSignatures } from '../../core/keys.ts';
import { bitmapFromIndexes } from '../../core/validators.ts';
import { verifyCertificate } from '../../consensus/certificate.ts';
import { defaultCrypto, type ConsensusCrypto } from '../../consensus/crypto.ts';
import { checkMessage } from '../../consensus/message-check.ts';
import type { Prepare } from '../../consensus/messages.ts';
import { messageSigningBytes } from '../../core/signed-core.ts';
import { CHAIN_ID, testValidators } from '../../consensus/testing/fixtures.ts';
import { defaultBlockInfo } from '../../consensus/types.ts';
import { cachingCrypto } from '../consensus/verify-cache.ts';
import { verifiedAhead, verifyAhead } from './ahead.ts';
import { SameThreadVerifier } from './same-thread.ts';

const { keys, set } = testValidators(4);

function prepare(i: number, tamper = false): Prepare {
  const unsigned = { kind: 1 as const, height: 3, round: 0, author: keys[i]!.validator.address, digest: sha256(utf8('block')) };
  const signature = keys[i]!.signer.sign(messageSigningBytes(CHAIN_ID, unsigned));
  if (tamper) signature[0]! ^= 1;
  return { ...unsigned, signature };
}

/** The caching crypto over one that counts the verifications made on this thread. */
function counted() {
  const calls = { n: 0 };
  const cache = cachingCrypto({ ...defaultCrypto, verify: (k, m, s) => (calls.n++, defaultCrypto.verify(k, m, s)) });
  return { cache, calls };
}

describe('verifyAhead (consensus gossip validation through the service)', () => {
  const check = (m: Prepare) => (crypto: ConsensusCrypto) =>
    checkMessage({ chainId: CHAIN_ID, height: 3, validators: set, previousProposer: null, crypto }, m, defaultBlockInfo);

  it("verifies a message's signature through the service; the real check then finds it cached", async () => {
    const service = new SameThreadVerifier();
    const { cache, calls } = counted();
    const m = prepare(1);
    await verifyAhead(service, { priority: 'consensus' }, check(m), (s) => cache.remember(s));
    expect(service.submitted).toBe(1);
    expect(check(m)(cache)[0]).toBe('accept');
    expect(calls.n).toBe(0); // answered from the cache: nothing verified on this thread
    expect(check(prepare(3))(cache)[0]).toBe('accept'); // control: a message not verified ahead is verified here
    expect(calls.n).toBe(1);
  });

  it('a bad signature is not remembered: the real check rejects it exactly as without the service', async () => {
    const service = new SameThreadVerifier();
    const { cache, calls } = counted();
    const m = prepare(2, true);
    await verifyAhead(service, { priority: 'consensus' }, check(m), (s) => cache.remember(s));
    expect(check(m)(cache)).toEqual(check(m)(defaultCrypto));
    expect(check(m)(cache)[0]).toBe('reject');
    expect(calls.n).toBe(2); // verified here, each time: failures are never cached
  });

  it('a commit certificate: its pairing is answered from the service, and a forged one fails as it would here', async () => {
    const height = 7;
    const hash = sha256(utf8('a block'));
    const message = commitSealBytes(CHAIN_ID, height, 0, hash);
    const signers = [0, 1, 2];
    const cert = {
      height,
      round: 0,
      blockHash: hash,
      aggregateSignature: blsAggregateSignatures(signers.map((i) => keys[i]!.signer.blsSign(message))),
      signers: bitmapFromIndexes(4, signers),
    };
    const check = (c: typeof cert) => (crypto?: ConsensusCrypto) => verifyCertificate(c, set, CHAIN_ID, crypto);
    const service = new SameThreadVerifier();
    const crypto = await verifiedAhead(service, { priority: 'block' }, check(cert));
    expect(service.submitted).toBe(1);
    expect(crypto).not.toBe(defaultCrypto);
    expect(check(cert)(crypto)).toBe(true);
    const forged = { ...cert, round: 1 }; // seals of round 0 claimed for round 1
    expect(check(forged)(await verifiedAhead(service, { priority: 'block' }, check(forged)))).toEqual(check(forged)(defaultCrypto));
    expect(check(forged)(defaultCrypto)).not.toBe(true);
    const closed = new SameThreadVerifier();
    await closed.close();
    expect(await verifiedAhead(closed, { priority: 'block' }, check(cert))).toBe(defaultCrypto); // never rejects
  });
});
