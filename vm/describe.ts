import { toHex } from '../core/bytes.ts';
import { isJouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { txHandler } from './registry.ts';

/**
 * JSON-ready view of a tx's body for RPC (addresses bech32, amounts decimal strings).
 * Never throws on a well-formed envelope: an unknown type or an undecodable body is
 * shown raw, so RPC can still display whatever it stored or was sent.
 */
export function describeTx(tx: Pick<Tx, 'type' | 'body'>): { typeName: string; body: Record<string, unknown> } {
  const handler = txHandler(tx.type);
  if (handler === undefined) return { typeName: 'unknown', body: { raw: `0x${toHex(tx.body)}` } };
  try {
    return { typeName: handler.name, body: handler.describe(handler.decodeBody(tx.body)) };
  } catch (e) {
    if (!isJouleError(e)) throw e;
    return { typeName: handler.name, body: { raw: `0x${toHex(tx.body)}`, error: e.code } };
  }
}
