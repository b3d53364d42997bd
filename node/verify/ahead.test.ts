import { describe, expect, it } from 'vitest';
import { utf8 } from '../../core/bytes.ts';
import { sha256 } from '../../core/hash.ts';
import { defaultCrypto, type ConsensusCrypto } from '../../consensus/crypto.ts';
import { checkMessage } from '../../consensus/message-check.ts';
import { messageSigningBytes, type Prepare } from '../../consensus/messages.ts';
import { CHAIN_ID, testValidators } from '../../consensus/testing/fixtures.ts';
import { defaultBlockInfo } from '../../consensus/types.ts';
import { cachingCrypto } from '../consensus/verify-cache.ts';
import { verifyAhead } from './ahead.ts';
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
  const check = (m: Prepare) => (crypto: ConsensusCrypto) => checkMessage({ chainId: CHAIN_ID, height: 3, validators: set, previousProposer: null, crypto }, m, defaultBlockInfo);

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
});
