import { blockHash, type Block, type BlockHeader, type CommitCertificate } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, isJouleError, JouleError } from '../../core/errors.ts';
import type { ChainParams } from '../../core/params.ts';
import { decodeTx } from '../../core/tx.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import { sha256 } from '../../core/hash.ts';
import { defaultCrypto, type ConsensusCrypto } from '../../consensus/crypto.ts';
import { proposerOf } from '../../consensus/proposer.ts';
import type { WorldState } from '../../state/world-state.ts';
import { executeBlock, type EvidenceRules } from '../../vm/index.ts';
import { verifiedAhead } from '../verify/ahead.ts';
import type { SignatureVerification } from '../verify/service.ts';
import type { ExecutedBlock } from './block-builder.ts';
import { preverifyTxSignatures } from './block-signatures.ts';
import { receiptsRootOf, txRootOf } from './block-roots.ts';
import { withTransition } from '../chain/transitions.ts';

export interface VerifyInput {
  readonly world: WorldState;
  readonly chainId: string;
  readonly params: ChainParams;
  readonly parent: BlockHeader;
  readonly parentHash: Uint8Array;
  readonly validatorSet: ValidatorSet;
  readonly block: Block;
  /** Checks the parent's commit certificate carried in this header (consensus/ verifies it, through `crypto`). */
  readonly checkParentCertificate: (cert: CommitCertificate | null, parent: BlockHeader, parentHash: Uint8Array, crypto?: ConsensusCrypto) => void;
  /** An emergency transition's set, written into the state by this block. */
  readonly transition?: ValidatorSet | undefined;
  /** vm's evidence-tx rules (Chain.evidenceRules). */
  readonly evidenceRules?: EvidenceRules | undefined;
  /**
   * The verification service and the cache of txs this node verified: the txs' signatures
   * are verified there before execution, and cached txs are reused and not verified again.
   * Absent: the executor verifies every signature itself, on this thread.
   */
  readonly signatures?: SignatureVerification | undefined;
}

function invalid(field: string, message: string): JouleError {
  return new JouleError(ErrorCode.BLOCK_INVALID, message, `block.header.${field}`);
}

/**
 * How many ms a live proposal's timestamp is ahead of what the local clock allows (<= 0:
 * acceptable now). Kept out of verifyBlock on purpose: a verdict that depends on the local
 * clock may change a moment later, so it must never be cached as the block's validity
 * (the consensus driver holds such a block a bounded time, else answers 'premature').
 */
export function timestampAhead(header: BlockHeader, now: number, params: ChainParams): number {
  return header.timestamp - (now + params.maxClockDriftMs);
}

/** Header checks that need no execution and no clock (validity is the same on every node, at any time). */
export function checkHeader(input: VerifyInput, crypto: ConsensusCrypto = defaultCrypto): void {
  const { block, parent, params } = input;
  const h = block.header;
  if (h.chainId !== input.chainId) throw invalid('chainId', `expected ${input.chainId}, got ${h.chainId}`);
  if (h.height !== parent.height + 1) throw invalid('height', `expected ${parent.height + 1}, got ${h.height}`);
  if (!equalBytes(h.parentHash, input.parentHash)) throw invalid('parentHash', `expected ${toHex(input.parentHash)}`);
  if (h.timestamp <= parent.timestamp) throw invalid('timestamp', 'must be later than the parent timestamp');
  // The proposer rotation of the next height starts from this field, so it must be the
  // scheduled proposer of (height, round), not whoever the proposer claims to be.
  const scheduled = proposerOf(input.validatorSet, parent.height === 0 ? null : parent.proposer, h.round);
  if (!equalBytes(h.proposer, scheduled.address)) throw invalid('proposer', `not the scheduled proposer of round ${h.round} (expected ${scheduled.name})`);
  if (!equalBytes(h.validatorSetHash, input.validatorSet.hash)) throw invalid('validatorSetHash', 'does not match the validator set');
  if (h.txCount !== block.txs.length) throw invalid('txCount', `header says ${h.txCount}, body has ${block.txs.length}`);
  if (block.txs.length > params.maxBlockTxs) throw invalid('txCount', `over the limit of ${params.maxBlockTxs}`);
  let bytes = 0;
  for (const t of block.txs) bytes += t.length;
  if (bytes > params.maxBlockBytes) throw invalid('txCount', `${bytes} bytes of transactions, limit ${params.maxBlockBytes}`);
  input.checkParentCertificate(h.parentCertificate, parent, input.parentHash, crypto);
}

/**
 * The importer's side: every header field is checked, every tx decoded and re-executed,
 * and the resulting roots compared with the header. Throws BLOCK_INVALID naming the field.
 * Signatures are verified before execution (block-signatures.ts), which then runs on this
 * thread in block order: the verdict is the same as with every check made here.
 */
export async function verifyBlock(input: VerifyInput): Promise<ExecutedBlock> {
  // The parent certificate's pairing too goes to the pool when there is one.
  const sigs = input.signatures;
  checkHeader(input, sigs === undefined ? defaultCrypto : await verifiedAhead(sigs.service, { priority: 'block' }, (crypto) => checkHeader(input, crypto)));
  const { block } = input;
  const h = block.header;
  // A tx this node verified already (same hash, so the same bytes) was decoded then: reuse it.
  const txs = block.txs.map((bytes, i) => {
    const known = input.signatures?.verifiedTxs.get(sha256(bytes));
    if (known !== undefined) return known;
    try {
      return decodeTx(bytes, input.params.maxTxBytes);
    } catch (e) {
      throw new JouleError(ErrorCode.BLOCK_INVALID, `undecodable transaction (${isJouleError(e) ? e.code : 'error'}: ${(e as Error).message})`, `block.txs[${i}]`);
    }
  });
  if (!equalBytes(h.txRoot, txRootOf(txs))) throw invalid('txRoot', 'does not match the transactions');
  const seen = new Set<string>();
  for (const [i, tx] of txs.entries()) {
    const id = toHex(tx.hash);
    if (seen.has(id)) throw new JouleError(ErrorCode.BLOCK_INVALID, 'duplicate transaction', `block.txs[${i}]`);
    seen.add(id);
  }
  const ctx = { chainId: input.chainId, params: input.params, height: h.height, timestamp: h.timestamp, proposer: h.proposer, evidenceRules: input.evidenceRules };
  const verified = input.signatures === undefined ? new Set<string>() : await preverifyTxSignatures(input.world, txs, ctx, input.signatures);
  const executed = executeBlock(input.world, txs, ctx, { verified: (hash) => verified.has(toHex(hash)) });
  const result = input.transition === undefined ? executed : { ...executed, changes: withTransition(executed.changes, input.transition) };
  if (!equalBytes(h.receiptsRoot, receiptsRootOf(result.receipts))) throw invalid('receiptsRoot', 'does not match re-execution');
  const prepared = input.world.prepare(result.changes);
  if (!equalBytes(h.stateRoot, prepared.root)) throw invalid('stateRoot', 'does not match re-execution');
  return { block, hash: blockHash(h), txs, result, prepared };
}
