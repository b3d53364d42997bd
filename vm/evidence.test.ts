import { describe, expect, it } from 'vitest';
import { encodeReceipt } from '../core/block.ts';
import { toHex, utf8 } from '../core/bytes.ts';
import { encode } from '../core/codec.ts';
import { JouleError } from '../core/errors.ts';
import { sha256 } from '../core/hash.ts';
import { formatAddress } from '../core/keys.ts';
import { DEFAULT_PARAMS } from '../core/params.ts';
import { buildEvidenceTx } from '../core/tx/evidence.ts';
import type { Tx } from '../core/tx.ts';
import type { ValidatorSet } from '../core/validators.ts';
import { decodeEvidence, encodeEvidence, makeEvidence } from '../core/evidence.ts';
import { verifyEvidence } from '../consensus/evidence.ts';
import { messageSigningBytes } from '../core/signed-core.ts';
import type { Prepare } from '../consensus/messages.ts';
import { defaultCrypto } from '../consensus/crypto.ts';
import { CHAIN_ID, testValidators } from '../consensus/testing/fixtures.ts';
import { addEvidenceRecord, getEvidenceRecord, listEvidenceRecords } from '../state/evidence-records.ts';
import { StateOverlay } from '../state/overlay.ts';
import { putValidatorSet } from '../state/validator-set.ts';
import { executeBlock } from './executor.ts';
import { MemoryState, testKey } from './testing/fixtures.ts';
import type { BlockContext, BlockResult, EvidenceRules } from './types.ts';
import { checkTx } from './validity.ts';

const chainId = CHAIN_ID;
const { keys, set } = testValidators(4);
const reporter = testKey(1); // any funded account may submit evidence

/**
 * What node/ passes as ChainContext.evidenceRules (node/chain/evidence-verifier.ts):
 * consensus' decoder and verifier for this chain, the two signatures apart as sets.
 */
const decoded = (body: Uint8Array) => {
  try {
    return decodeEvidence(body);
  } catch {
    return undefined;
  }
};
const rules: EvidenceRules = {
  check(body: Uint8Array, validators: ValidatorSet): boolean {
    const e = decoded(body);
    return e !== undefined && verifyEvidence(e, validators, chainId, { ...defaultCrypto, verify: () => true }) === true;
  },
  signatureSets(body: Uint8Array, validators: ValidatorSet) {
    const e = decoded(body);
    const i = e === undefined ? -1 : validators.indexOf(e.first.author);
    if (e === undefined || i < 0) return undefined;
    const publicKey = validators.at(i).identityKey;
    return [e.first, e.second].map((m) => ({ kind: 'ed25519' as const, publicKey, message: messageSigningBytes(chainId, m), signature: m.signature }));
  },
};

function prepare(i: number, height: number, round: number, label: string): Prepare {
  const unsigned = { kind: 1 as const, height, round, author: keys[i]!.validator.address, digest: sha256(utf8(label)) };
  return { ...unsigned, signature: keys[i]!.signer.sign(messageSigningBytes(chainId, unsigned)) };
}

/** Validator i signs two different PREPAREs at (height, round): real equivocation. */
function equivocation(i: number, height = 5, round = 1): Uint8Array {
  return encodeEvidence(makeEvidence(prepare(i, height, round, 'block A'), prepare(i, height, round, 'block B')));
}

function chain(withVerifier = true) {
  const state = new MemoryState();
  const o = new StateOverlay(state);
  putValidatorSet(o, set);
  state.apply(o.changes());
  state.setAccount(reporter.address, { balance: 1_000_000n });
  let nonce = 0;
  let height = 10;
  const ctx = (): BlockContext => ({
    chainId,
    params: DEFAULT_PARAMS,
    height,
    timestamp: 1_700_000_000_000 + height,
    proposer: keys[0]!.validator.address,
    ...(withVerifier ? { evidenceRules: rules } : {}),
  });
  const tx = (evidence: Uint8Array): Tx => buildEvidenceTx({ chainId, seed: reporter.seed, nonce: nonce++, fee: 25n, evidence });
  const block = (...txs: Tx[]): BlockResult => {
    const r = executeBlock(state, txs, ctx());
    state.apply(r.changes);
    height++;
    return r;
  };
  const check = (t: Tx): string => {
    try {
      checkTx(state, t, ctx(), { allowFutureNonce: true });
      return 'ok';
    } catch (e) {
      if (e instanceof JouleError) return `${e.code} ${e.message}`;
      throw e;
    }
  };
  return { state, tx, block, check };
}

describe('evidence tx', () => {
  it('valid evidence is accepted, recorded under sha256(body), listed, and emits an event', () => {
    const c = chain();
    const body = equivocation(2);
    const r = c.block(c.tx(body));
    expect(r.receipts[0]!.success).toBe(true);
    const ev = r.receipts[0]!.events[0]!;
    expect(ev.type).toBe('evidence');
    expect(Object.fromEntries(ev.attributes)).toEqual({
      id: toHex(sha256(body)),
      author: formatAddress(keys[2]!.validator.address),
      height: '5',
      round: '1',
      kind: 'PREPARE',
    });
    expect(getEvidenceRecord(c.state, sha256(body))).toEqual({ height: 5, round: 1, kind: 1, author: keys[2]!.validator.address, includedAt: 10 });
    const list = listEvidenceRecords(c.state, 0, 10);
    expect(list.total).toBe(1);
    expect(toHex(list.items[0]!.id)).toBe(toHex(sha256(body)));
  });

  it('the same evidence twice is rejected, in a later block and within one block', () => {
    const c = chain();
    const body = equivocation(1);
    c.block(c.tx(body));
    expect(c.check(c.tx(body))).toMatch(/^TX_INVALID_FIELD .*evidence already included/);
    const d = chain();
    const other = equivocation(3);
    expect(() => d.block(d.tx(other), d.tx(other))).toThrow(/evidence already included/);
  });

  it('forged evidence is rejected: bad signature, same message twice, non-validator author, mismatched pair, garbage', () => {
    const c = chain();
    const a = prepare(0, 5, 0, 'x');
    const b = prepare(0, 5, 0, 'y');
    const forged = { ...b, signature: b.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) };
    expect(c.check(c.tx(encodeEvidence(makeEvidence(a, forged))))).toMatch(/^TX_INVALID_FIELD .*does not verify/);
    // Identical pair: not canonical (first must encode strictly lower), and no equivocation.
    expect(
      c.check(
        c.tx(
          encode([
            [1, 5, 0, a.author, a.digest, a.signature],
            [1, 5, 0, a.author, a.digest, a.signature],
          ]),
        ),
      ),
    ).toMatch(/does not verify/);
    // Signed by a validator of another set.
    const stranger = testValidators(1, 'stranger').keys[0]!;
    const s1 = { kind: 1 as const, height: 5, round: 0, author: stranger.validator.address, digest: sha256(utf8('p')) };
    const s2 = { ...s1, digest: sha256(utf8('q')) };
    const sign = (m: typeof s1) => ({ ...m, signature: stranger.signer.sign(messageSigningBytes(chainId, m)) });
    expect(c.check(c.tx(encodeEvidence(makeEvidence(sign(s1), sign(s2)))))).toMatch(/does not verify/);
    // Mismatched messages fail the vm's own shape check before the verifier runs.
    expect(c.check(c.tx(encodeEvidence({ first: prepare(0, 5, 0, 'x'), second: prepare(1, 5, 0, 'y') })))).toMatch(/differ in kind, height, round or author/);
    expect(c.check(c.tx(new Uint8Array([0x92, 0x90, 0x90])))).toMatch(/not a signed consensus message/);
  });

  it('without a verifier every evidence tx is invalid', () => {
    const c = chain(false);
    expect(c.check(c.tx(equivocation(2)))).toBe('TX_INVALID_FIELD tx.body: evidence verification unavailable');
  });

  it('re-execution is deterministic', () => {
    const run = (): string => {
      const c = chain();
      const r = c.block(c.tx(equivocation(0)), c.tx(equivocation(1, 7, 2)));
      return toHex(encode([r.receipts.map(encodeReceipt), r.changes.map((x) => [x.key, x.value ?? null])]));
    };
    expect(run()).toBe(run());
  });
});

describe('evidence index (state/evidence-records.ts)', () => {
  it('lists in inclusion order with offset and limit', () => {
    const state = new MemoryState();
    const n = 300;
    const o = new StateOverlay(state);
    for (let i = 0; i < n; i++) addEvidenceRecord(o, sha256(utf8(`e${i}`)), { height: i, round: 0, kind: 1, author: new Uint8Array(20), includedAt: i });
    state.apply(o.changes());
    const all = listEvidenceRecords(state, 0, 10_000);
    expect(all.total).toBe(n);
    expect(all.items.map((e) => e.height)).toEqual(Array.from({ length: n }, (_, i) => i));
    const mid = listEvidenceRecords(state, 254, 5);
    expect(mid.items.map((e) => e.height)).toEqual([254, 255, 256, 257, 258]);
    expect(listEvidenceRecords(state, n, 5).items).toEqual([]);
  });
});
