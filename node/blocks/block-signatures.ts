import { toHex } from '../../core/bytes.ts';
import type { SignatureSet } from '../../core/signature-sets.ts';
import type { Tx } from '../../core/tx.ts';
import type { StateReader } from '../../state/overlay.ts';
import { txSignatureSets, type ChainContext, type TxSignatureSet } from '../../vm/index.ts';
import type { SignatureVerification } from '../verify/service.ts';

/**
 * The signatures of a block's txs, verified before the block executes: every tx this node
 * has not verified yet (not in the shared cache) has its sets formed against the block's
 * pre-state, and all of them go to the service at once (batchable, block priority). Txs
 * whose sets all verify join the cache. Returns the hashes (hex) execution may skip the
 * signatures of: those cached before and those just verified.
 *
 * A tx left out (its sets cannot be formed: an invalid body, evidence by an author the
 * pre-state does not know; or a set failed) is verified by the executor itself, in block
 * order, so the block's verdict and the tx it names are exactly what a node checking
 * everything on one thread would give. A set depends on the tx's bytes, the chain id and,
 * for evidence, the author's identity key, which its address fixes: the same sets whatever
 * state of the block the executor reaches the tx in.
 *
 * A tx whose admission is being checked right now (already in a worker) is not checked
 * again: its verdict is waited for (node/verify/verified-txs.ts `track`), and while this
 * check runs, admission waits for it in turn.
 */
export async function preverifyTxSignatures(state: StateReader, txs: readonly Tx[], ctx: ChainContext, sigs: SignatureVerification): Promise<Set<string>> {
  const verified = new Set<string>();
  const pending: { tx: Tx; from: number; to: number }[] = [];
  const sets: SignatureSet[] = [];
  /** Txs admission is checking right now: their verdicts are waited for, not made again. */
  const elsewhere: Tx[] = [];
  const checks: Promise<void>[] = [];
  for (const tx of txs) {
    if (sigs.verifiedTxs.has(tx.hash)) {
      verified.add(toHex(tx.hash));
      continue;
    }
    const underway = sigs.verifiedTxs.join(tx.hash, 'block');
    if (underway !== undefined) {
      elsewhere.push(tx);
      checks.push(underway);
      continue;
    }
    let own: TxSignatureSet[];
    try {
      own = txSignatureSets(state, tx, ctx);
    } catch {
      continue;
    }
    pending.push({ tx, from: sets.length, to: sets.length + own.length });
    for (const s of own) sets.push(s.set);
  }
  if (sets.length > 0) {
    const check = checkPending(sets, pending, verified, sigs);
    sigs.verifiedTxs.track(
      pending.map((p) => p.tx.hash),
      check,
    );
    checks.push(check);
  }
  await Promise.all(checks);
  // A tx whose admission check did not pass it (a set failed, or the service stopped) is left to the executor, which verifies it itself.
  for (const tx of elsewhere) if (sigs.verifiedTxs.has(tx.hash)) verified.add(toHex(tx.hash));
  return verified;
}

/** The pending txs' sets verified in one job; those whose sets all verify join `verified` and the cache. */
async function checkPending(
  sets: readonly SignatureSet[],
  pending: readonly { tx: Tx; from: number; to: number }[],
  verified: Set<string>,
  sigs: SignatureVerification,
): Promise<void> {
  let invalid: number[];
  try {
    invalid = await sigs.service.findInvalid(sets, { priority: 'block', batchable: true });
  } catch {
    return; // the service stopped: the executor verifies the rest itself, same verdict
  }
  let next = 0;
  for (const { tx, from, to } of pending) {
    let ok = true;
    while (next < invalid.length && invalid[next]! < to) {
      if (invalid[next]! >= from) ok = false;
      next++;
    }
    if (!ok) continue;
    verified.add(toHex(tx.hash));
    sigs.verifiedTxs.add(tx);
  }
}
