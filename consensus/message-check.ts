import { equalBytes } from '../core/bytes.ts';
import { checkAttachments, verifySignature, type HeightContext } from './justification.ts';
import type { ConsensusMessage } from './messages.ts';
import type { BlockInfo, Verdict } from './types.ts';

export type Outcome = readonly [Verdict, string];

/**
 * The checks a message can pass before its height is running, shared by the gossip
 * validator (so nothing that fails is relayed) and the machine's future-height buffer.
 *
 * - Author not in the set this node knows: 'ignore'. The set of a coming height may have
 *   gained a member by vote; an honest relay of its messages must not be penalised, and the
 *   author re-sends (resend) once this node is at that height.
 * - Bad signature of a known author: 'reject' (an address fixes its identity key, so no
 *   set change makes a bad signature good: the relay tampered).
 * - An attachment that cannot match its signed digest (malformed block, block hash differs
 *   from the signed digest): 'reject', for the same reason.
 * - Any other attachment check (justification quorum and signatures, prepared votes,
 *   proposer schedule): 'reject' when the height's rotation is known (`previousProposer`
 *   not undefined), else 'ignore' (it may depend on a set this node does not know yet).
 */
export function checkMessage(ctx: HeightContext, m: ConsensusMessage, blockInfo: (block: Uint8Array) => BlockInfo): Outcome {
  if (!ctx.validators.has(m.author)) return ['ignore', 'author is not a validator of the set this node knows'];
  if (!verifySignature(ctx, m)) return ['reject', 'bad signature'];
  const mismatch = digestMismatch(m, blockInfo);
  if (mismatch !== null) return ['reject', mismatch];
  const why = checkAttachments(ctx, m, blockInfo);
  if (why === null) return ['accept', 'ok'];
  return [ctx.previousProposer === undefined ? 'ignore' : 'reject', why];
}

/** The set-independent part of the attachment checks: each carried block hashes to its signed digest. */
function digestMismatch(m: ConsensusMessage, blockInfo: (block: Uint8Array) => BlockInfo): string | null {
  let block: Uint8Array;
  let digest: Uint8Array;
  if (m.kind === 0) [block, digest] = [m.block, m.digest];
  else if (m.kind === 3 && m.prepared !== null && m.preparedDigest !== null) [block, digest] = [m.prepared.block, m.preparedDigest];
  else return null;
  try {
    return equalBytes(blockInfo(block).digest, digest) ? null : 'carried block does not hash to the signed digest';
  } catch {
    return 'carried block is malformed';
  }
}
