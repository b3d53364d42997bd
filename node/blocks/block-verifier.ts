import { blockHash, type Block, type BlockHeader, type CommitCertificate } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, isJouleError, JouleError } from '../../core/errors.ts';
import type { ChainParams } from '../../core/params.ts';
import { decodeTx, type Tx } from '../../core/tx.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import { sha256 } from '../../core/hash.ts';
import { proposerOf } from '../../consensus/proposer.ts';
import type { WorldState } from '../../state/world-state.ts';
import { blockAccess, executeBlock, type BlockContext } from '../../vm/index.ts';
import type { ExecutedBlock } from './block-builder.ts';
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
  /** Checks the parent's commit certificate carried in this header (consensus/ verifies it). */
  readonly checkParentCertificate: (cert: CommitCertificate | null, parent: BlockHeader, parentHash: Uint8Array) => void;
  /** An emergency transition's set, written into the state by this block. */
  readonly transition?: ValidatorSet | undefined;
  /** vm's evidence-tx verifier (Chain.verifyEvidence). */
  readonly verifyEvidence?: ((body: Uint8Array, validators: ValidatorSet) => boolean) | undefined;
  /** Txs this node already decoded and verified completely (mempool), by hash: execution skips their signatures. */
  readonly knownTx?: (hash: Uint8Array) => Tx | undefined;
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
export function checkHeader(input: VerifyInput): void {
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
  input.checkParentCertificate(h.parentCertificate, parent, input.parentHash);
}

/**
 * The importer's side: every header field is checked, every tx decoded and re-executed,
 * and the resulting roots compared with the header. Throws BLOCK_INVALID naming the field.
 * What the block reads (vm/access.ts) is loaded before it runs.
 */
export async function verifyBlock(input: VerifyInput): Promise<ExecutedBlock> {
  checkHeader(input);
  const { block } = input;
  const h = block.header;
  // A tx already in the mempool (same hash, so the same bytes) was decoded and verified
  // completely at admission: reuse it rather than decode it again, and let execution skip
  // its signatures. Every other tx is verified in full by the executor.
  const known = new Set<string>();
  const txs = block.txs.map((bytes, i) => {
    const pooled = input.knownTx?.(sha256(bytes));
    if (pooled !== undefined) {
      known.add(toHex(pooled.hash));
      return pooled;
    }
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
  const ctx: BlockContext = { chainId: input.chainId, params: input.params, height: h.height, timestamp: h.timestamp, proposer: h.proposer, verifyEvidence: input.verifyEvidence };
  const state = await input.world.load(blockAccess(txs, ctx));
  const executed = executeBlock(state, txs, ctx, { verified: (hash) => known.has(toHex(hash)), strictAccess: input.world.strictAccess });
  const result = input.transition === undefined ? executed : { ...executed, changes: withTransition(executed.changes, input.transition) };
  if (!equalBytes(h.receiptsRoot, receiptsRootOf(result.receipts))) throw invalid('receiptsRoot', 'does not match re-execution');
  const prepared = await input.world.prepare(result.changes, h.height);
  if (!equalBytes(h.stateRoot, prepared.root)) throw invalid('stateRoot', 'does not match re-execution');
  return { block, hash: blockHash(h), txs, result, prepared };
}
