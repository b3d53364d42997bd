import type { BlockEvent } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { decode, readArray, type Encodable } from '../core/codec.ts';
import { ErrorCode, isJouleError, JouleError } from '../core/errors.ts';
import { coreFromWire, KIND_NAMES, type SignedCore } from '../core/signed-core.ts';
import { MAX_EVIDENCE_BODY_BYTES } from '../core/tx/evidence.ts';
import { TxType } from '../core/tx/types.ts';
import type { Tx } from '../core/tx.ts';
import { addEvidenceRecord, EVIDENCE_COUNT_KEY, evidenceId, evidenceKey, hasEvidenceRecord } from '../state/evidence-records.ts';
import type { StateReader } from '../state/overlay.ts';
import { getValidatorSet, VALIDATOR_SET_KEY } from '../state/validator-set.ts';
import { addressText } from './accounts.ts';
import type { ChainContext, EvidenceRules, ExecContext, TxHandler, TxSignatureSet } from './types.ts';

/**
 * Type 3: proof that a validator signed two different consensus messages of the same
 * kind, height and round. The body is core/evidence.ts encodeEvidence(e) exactly. vm/
 * decodes each signed core with core's codec (core/signed-core.ts) and checks that the
 * two name the same [kind, height, round, author]; the full check (canonical order,
 * distinct content, and the author's two signatures as signature sets) is
 * ChainContext.evidenceRules, which node/ builds on consensus' verifyEvidence. Without them
 * every evidence tx is invalid: better to include nothing than to include what no one
 * checked.
 *
 * Validity: verifies against the validator set in state (so the author must still be a
 * validator), and not already recorded (evidence is canonical: one pair, one id). Any
 * funded account may submit it. Tier grid_balancing, like validator votes: rare and about
 * the safety of the chain. Slashing is out of scope: evidence is recorded, queryable by
 * RPC and emitted as an event; nothing is confiscated and no one is removed automatically.
 */

export interface EvidenceBody {
  readonly bytes: Uint8Array;
  readonly id: Uint8Array;
  readonly kind: number;
  readonly height: number;
  readonly round: number;
  readonly author: Uint8Array;
}

const invalid = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, field);

function readCore(v: Encodable, path: string): SignedCore {
  try {
    return coreFromWire(v, path, [0, 1, 2, 3]);
  } catch (e) {
    if (!isJouleError(e)) throw e;
    const why = e.field === undefined ? e.message : e.message.slice(e.field.length + 2);
    throw invalid(e.field ?? path, `is not a signed consensus message: ${why}`);
  }
}

/** Both signed cores decoded, naming the same [kind, height, round, author]. */
export function decodeEvidenceBody(bytes: Uint8Array): EvidenceBody {
  if (bytes.length > MAX_EVIDENCE_BODY_BYTES) throw invalid('tx.body', `evidence is ${bytes.length} bytes, limit ${MAX_EVIDENCE_BODY_BYTES}`);
  const pair = readArray(decode(bytes, 'tx.body'), 'tx.body', 2);
  const a = readCore(pair[0]!, 'tx.body.first');
  const b = readCore(pair[1]!, 'tx.body.second');
  if (a.kind !== b.kind || a.height !== b.height || a.round !== b.round || !equalBytes(a.author, b.author)) {
    throw invalid('tx.body', 'the two messages differ in kind, height, round or author');
  }
  return { bytes, id: evidenceId(bytes), kind: a.kind, height: a.height, round: a.round, author: a.author };
}

function requireRules(ctx: ChainContext): EvidenceRules {
  if (ctx.evidenceRules === undefined) throw invalid('tx.body', 'evidence verification unavailable');
  return ctx.evidenceRules;
}

const DOES_NOT_VERIFY = 'evidence does not verify (signatures, distinct content, author in the current validator set)';

function checkState(state: StateReader, body: EvidenceBody, _tx: Tx, ctx: ChainContext): void {
  const rules = requireRules(ctx);
  if (hasEvidenceRecord(state, body.id)) throw invalid('tx.body', 'evidence already included');
  const set = getValidatorSet(state);
  if (set === undefined || !rules.check(body.bytes, set)) throw invalid('tx.body', DOES_NOT_VERIFY);
}

/** The author's two signatures, under its identity key in the set of `state` (an address fixes its key). */
function signatureSets(body: EvidenceBody, _tx: Tx, ctx: ChainContext, state: StateReader): TxSignatureSet[] {
  const set = getValidatorSet(state);
  const sets = set === undefined ? undefined : requireRules(ctx).signatureSets(body.bytes, set);
  if (sets === undefined) throw invalid('tx.body', DOES_NOT_VERIFY);
  return sets.map((s) => ({ set: s, field: 'tx.body', message: DOES_NOT_VERIFY, code: ErrorCode.TX_INVALID_FIELD }));
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
        ['kind', KIND_NAMES[body.kind]!],
      ],
    },
  ];
}

export const evidenceHandler: TxHandler<EvidenceBody> = {
  type: TxType.evidence,
  name: 'evidence',
  tier: 'grid_balancing',
  decodeBody: decodeEvidenceBody,
  validate: (_body, _tx, ctx) => void requireRules(ctx),
  spend: () => 0n,
  keys: (body) => [VALIDATOR_SET_KEY, evidenceKey(body.id), EVIDENCE_COUNT_KEY],
  checkState,
  signatureSets,
  execute,
  describe: (body) => ({
    id: `0x${toHex(body.id)}`,
    author: addressText(body.author),
    height: body.height,
    round: body.round,
    kind: KIND_NAMES[body.kind],
    evidence: `0x${toHex(body.bytes)}`,
  }),
};
