import type { PartyRole } from '../agreement.ts';
import { decode, encode, readAmount, readArray, readBytes, readUint } from '../codec.ts';
import { toHex } from '../bytes.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { ADDRESS_LENGTH, formatAddress } from '../keys.ts';
import type { Tx } from '../tx.ts';
import { idBody } from './id-body.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType, type TxTypeId } from './types.ts';

/**
 * The agreement txs after the proposal, each naming the agreement by its id (the proposing
 * tx's hash, 32 bytes):
 * - 35 agreement-sign [id]: the counterparty signs; the cooling-off starts;
 * - 36 agreement-withdraw [id]: either party, while proposed or during the cooling-off;
 * - 37 agreement-collateralise [id, amount]: a party posts collateral from its balance (also a top-up);
 * - 38 agreement-dispute [id, amount, counterparty]: a party claims the other owes `amount`,
 *   frozen until decided;
 * - 39 agreement-vote [id, decision (0 buyer, 1 seller), buyer, seller]: a validator's vote on
 *   the open dispute.
 * The dispute and the vote name the parties, whose accounts they may pay (a tx declares the
 * keys it reads from its bytes alone); the VM checks they are the agreement's.
 */

export const AGREEMENT_ID_LENGTH = 32;

export interface AgreementRefBody {
  readonly id: Uint8Array;
}

export interface AgreementAmountBody extends AgreementRefBody {
  readonly amount: bigint;
}

export interface AgreementDisputeBody extends AgreementAmountBody {
  readonly counterparty: Uint8Array;
}

export interface AgreementVoteBody extends AgreementRefBody {
  readonly decision: PartyRole;
  readonly buyer: Uint8Array;
  readonly seller: Uint8Array;
}

const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);

function checkId(id: unknown): void {
  if (!(id instanceof Uint8Array) || id.length !== AGREEMENT_ID_LENGTH) throw bad('id', 'must be a 32-byte agreement id');
}

function checkAmount(amount: unknown): void {
  if (typeof amount !== 'bigint' || amount < 1n || amount >= 2n ** 128n) throw bad('amount', 'must be a positive integer (micro-units)');
}

const refCodec = idBody('id', 'agreement id');

export const encodeAgreementRefBody = (b: AgreementRefBody): Uint8Array => refCodec.encode(b);

export const decodeAgreementRefBody = (bytes: Uint8Array): AgreementRefBody => refCodec.decode(bytes);

export function encodeAgreementAmountBody(b: AgreementAmountBody): Uint8Array {
  checkId(b.id);
  checkAmount(b.amount);
  return encode([b.id, b.amount]);
}

export function decodeAgreementAmountBody(bytes: Uint8Array): AgreementAmountBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 2);
  const body = { id: readBytes(f[0]!, 'tx.body.id', AGREEMENT_ID_LENGTH), amount: readAmount(f[1]!, 'tx.body.amount') };
  checkAmount(body.amount);
  return body;
}

function checkAddress(v: unknown, field: string): void {
  if (!(v instanceof Uint8Array) || v.length !== ADDRESS_LENGTH) throw bad(field, 'must be a 20-byte address');
}

export function encodeAgreementDisputeBody(b: AgreementDisputeBody): Uint8Array {
  checkId(b.id);
  checkAmount(b.amount);
  checkAddress(b.counterparty, 'counterparty');
  return encode([b.id, b.amount, b.counterparty]);
}

export function decodeAgreementDisputeBody(bytes: Uint8Array): AgreementDisputeBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 3);
  const body = {
    id: readBytes(f[0]!, 'tx.body.id', AGREEMENT_ID_LENGTH),
    amount: readAmount(f[1]!, 'tx.body.amount'),
    counterparty: readBytes(f[2]!, 'tx.body.counterparty', ADDRESS_LENGTH),
  };
  checkAmount(body.amount);
  return body;
}

export function encodeAgreementVoteBody(b: AgreementVoteBody): Uint8Array {
  checkId(b.id);
  if (b.decision !== 'buyer' && b.decision !== 'seller') throw bad('decision', 'must be buyer or seller');
  checkAddress(b.buyer, 'buyer');
  checkAddress(b.seller, 'seller');
  return encode([b.id, b.decision === 'buyer' ? 0 : 1, b.buyer, b.seller]);
}

export function decodeAgreementVoteBody(bytes: Uint8Array): AgreementVoteBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 4);
  const d = readUint(f[1]!, 'tx.body.decision');
  if (d > 1) throw bad('decision', `must be 0 (buyer) or 1 (seller), got ${d}`);
  return {
    id: readBytes(f[0]!, 'tx.body.id', AGREEMENT_ID_LENGTH),
    decision: d === 0 ? 'buyer' : 'seller',
    buyer: readBytes(f[2]!, 'tx.body.buyer', ADDRESS_LENGTH),
    seller: readBytes(f[3]!, 'tx.body.seller', ADDRESS_LENGTH),
  };
}

export const describeAgreementRef = (b: AgreementRefBody): Record<string, unknown> => ({ id: `0x${toHex(b.id)}` });
export const describeAgreementAmount = (b: AgreementAmountBody): Record<string, unknown> => ({ id: `0x${toHex(b.id)}`, amount: b.amount.toString() });
export const describeAgreementDispute = (b: AgreementDisputeBody): Record<string, unknown> => ({
  id: `0x${toHex(b.id)}`,
  amount: b.amount.toString(),
  counterparty: formatAddress(b.counterparty),
});
export const describeAgreementVote = (b: AgreementVoteBody): Record<string, unknown> => ({
  id: `0x${toHex(b.id)}`,
  decision: b.decision,
  buyer: formatAddress(b.buyer),
  seller: formatAddress(b.seller),
});

const refTx =
  (type: TxTypeId) =>
  (args: SenderArgs & AgreementRefBody): Tx =>
    signBody(args, type, encodeAgreementRefBody({ id: args.id }));
const amountTx =
  (type: TxTypeId) =>
  (args: SenderArgs & AgreementAmountBody): Tx =>
    signBody(args, type, encodeAgreementAmountBody({ id: args.id, amount: args.amount }));

export const buildAgreementSign = refTx(TxType.agreementSign);
export const buildAgreementWithdraw = refTx(TxType.agreementWithdraw);
export const buildAgreementCollateralise = amountTx(TxType.agreementCollateralise);
export function buildAgreementDispute(args: SenderArgs & AgreementDisputeBody): Tx {
  return signBody(args, TxType.agreementDispute, encodeAgreementDisputeBody({ id: args.id, amount: args.amount, counterparty: args.counterparty }));
}
export function buildAgreementVote(args: SenderArgs & AgreementVoteBody): Tx {
  const { id, decision, buyer, seller } = args;
  return signBody(args, TxType.agreementVote, encodeAgreementVoteBody({ id, decision, buyer, seller }));
}
