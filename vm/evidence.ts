import type { BlockEvent } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { decode, readArray, readBytes, readUint } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { ADDRESS_LENGTH } from '../core/keys.ts';
import { MAX_EVIDENCE_BODY_BYTES, TxType } from '../core/tx-bodies.ts';
import type { Tx } from '../core/tx.ts';
import { addEvidenceRecord, EVIDENCE_COUNT_KEY, evidenceId, evidenceKey, hasEvidenceRecord } from '../state/evidence-records.ts';
import type { StateReader } from '../state/overlay.ts';
import { getValidatorSet, VALIDATOR_SET_KEY } from '../state/validator-set.ts';
import { addressText } from './accounts.ts';
import type { ChainContext, ExecContext, TxHandler } from './types.ts';

/**
 * Type 3: proof that a validator signed two different consensus messages of the same
 * kind, height and round. The body is consensus/evidence.ts encodeEvidence(e) exactly.
 * vm/ may not import consensus/, so it reads only the fields it records (the leading
 * [kind, height, round, author] of each signed core) and leaves the full check (canonical
 * order, signatures, distinct content) to ChainContext.verifyEvidence, which node/ builds
 * on consensus' verifyEvidence. Without a verifier every evidence tx is invalid: better
 * to include nothing than to include what no one checked.
 *
 * Validity: verifies against the validator set in state (so the author must still be a
 * validator), and not already recorded (evidence is canonical: one pair, one id). Any
 * funded account may submit it. Tier grid_balancing, like validator votes: rare and about
 * the safety of the chain. Slashing is out of scope: evidence is recorded, queryable by
 * RPC and emitted as an event; nothing is confiscated and no one is removed automatically.
 */

/** Message kind names, as consensus/messages.ts KIND_NAMES (duplicated: vm/ may not import consensus/). */
export const EVIDENCE_KIND_NAMES: readonly string[] = ['PROPOSAL', 'PREPARE', 'COMMIT', 'ROUND-CHANGE'];

export interface EvidenceBody {
  readonly bytes: Uint8Array;
  readonly id: Uint8Array;
  readonly kind: number;
  readonly height: number;
  readonly round: number;
  readonly author: Uint8Array;
}

const invalid = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, field);

/** Shape only: [[kind, height, round, author, ...], [kind, height, round, author, ...]] with equal leading fields. */
export function decodeEvidenceBody(bytes: Uint8Array): EvidenceBody {
  if (bytes.length > MAX_EVIDENCE_BODY_BYTES) throw invalid('tx.body', `evidence is ${bytes.length} bytes, limit ${MAX_EVIDENCE_BODY_BYTES}`);
  const pair = readArray(decode(bytes, 'tx.body'), 'tx.body', 2).map((core, i) => {
    const path = i === 0 ? 'tx.body.first' : 'tx.body.second';
    const f = readArray(core, path);
    if (f.length < 5) throw invalid(path, 'is not a signed consensus message');
    const kind = readUint(f[0]!, `${path}.kind`);
    if (kind >= EVIDENCE_KIND_NAMES.length) throw invalid(`${path}.kind`, `unknown message kind ${kind}`);
    return { kind, height: readUint(f[1]!, `${path}.height`), round: readUint(f[2]!, `${path}.round`), author: readBytes(f[3]!, `${path}.author`, ADDRESS_LENGTH) };
  });
  const [a, b] = [pair[0]!, pair[1]!];
  if (a.kind !== b.kind || a.height !== b.height || a.round !== b.round || !equalBytes(a.author, b.author)) {
    throw invalid('tx.body', 'the two messages differ in kind, height, round or author');
  }
  return { bytes, id: evidenceId(bytes), ...a };
}

function requireVerifier(ctx: ChainContext): NonNullable<ChainContext['verifyEvidence']> {
  if (ctx.verifyEvidence === undefined) throw invalid('tx.body', 'evidence verification unavailable');
  return ctx.verifyEvidence;
}

function checkState(state: StateReader, body: EvidenceBody, _tx: Tx, ctx: ChainContext): void {
  const verifyEvidence = requireVerifier(ctx);
  if (hasEvidenceRecord(state, body.id)) throw invalid('tx.body', 'evidence already included');
  const set = getValidatorSet(state);
  if (set === undefined || !verifyEvidence(body.bytes, set)) {
    throw invalid('tx.body', 'evidence does not verify (signatures, distinct content, author in the current validator set)');
  }
}

function execute({ state, body, block }: ExecContext<EvidenceBody>): BlockEvent[] {
  addEvidenceRecord(state, body.id, { height: body.height, round: body.round, kind: body.kind, author: body.author, includedAt: block.height });
  return [
    {
      type: 'evidence',
      attributes: [
        ['id', toHex(body.id)],
        ['author', addressText(body.author)],
        ['height', String(body.height)],
        ['round', String(body.round)],
        ['kind', EVIDENCE_KIND_NAMES[body.kind]!],
      ],
    },
  ];
}

export const evidenceHandler: TxHandler<EvidenceBody> = {
  type: TxType.evidence,
  name: 'evidence',
  tier: 'grid_balancing',
  decodeBody: decodeEvidenceBody,
  validate: (_body, _tx, ctx) => void requireVerifier(ctx),
  spend: () => 0n,
  keys: (body) => [VALIDATOR_SET_KEY, evidenceKey(body.id), EVIDENCE_COUNT_KEY],
  checkState,
  execute,
  describe: (body) => ({
    id: `0x${toHex(body.id)}`,
    author: addressText(body.author),
    height: body.height,
    round: body.round,
    kind: EVIDENCE_KIND_NAMES[body.kind],
    evidence: `0x${toHex(body.bytes)}`,
  }),
};
