import { equalBytes, toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { HASH_LENGTH, ZERO_HASH } from '../core/hash.ts';
import { innerHash, leafHash, pathBit, valueHash, type StateProof } from '../core/proof.ts';
import { DbPrefix, dbKey, type Database, type DbBatch } from './db.ts';
import type { InnerNode, LeafNode } from './tree.ts';

/**
 * Tree nodes on disk, content-addressed under DbPrefix.stateNode + node hash and never
 * deleted, so any historical root stays provable. Raw fixed layouts rather than the
 * canonical codec: these records are private to this file, hot (thousands per block),
 * and their integrity is checked by re-hashing on every read, not by their encoding.
 *   inner: 0x01 || left hash (32) || right hash (32)     (zero hash = empty child)
 *   leaf:  0x00 || key hash (32) || value                (the value itself, so a proof at
 *                                                         an old height can return it)
 */
const LEAF_RECORD = 0x00;
const INNER_RECORD = 0x01;

export function nodeKey(hash: Uint8Array): Uint8Array {
  return dbKey(DbPrefix.stateNode, hash);
}

export function encodeNode(node: LeafNode | InnerNode): Uint8Array {
  if (node.kind === 'leaf') {
    const out = new Uint8Array(1 + HASH_LENGTH + node.value.length);
    out[0] = LEAF_RECORD;
    out.set(node.keyHash, 1);
    out.set(node.value, 1 + HASH_LENGTH);
    return out;
  }
  const out = new Uint8Array(1 + 2 * HASH_LENGTH);
  out[0] = INNER_RECORD;
  out.set(node.left === null ? ZERO_HASH : node.left.hash, 1);
  out.set(node.right === null ? ZERO_HASH : node.right.hash, 1 + HASH_LENGTH);
  return out;
}

/** A node as read back: children by hash only. */
export type StoredNode =
  | { readonly kind: 'leaf'; readonly keyHash: Uint8Array; readonly valueHash: Uint8Array; readonly value: Uint8Array }
  | { readonly kind: 'inner'; readonly left: Uint8Array; readonly right: Uint8Array };

function corrupt(hash: Uint8Array, why: string): JouleError {
  return new JouleError(ErrorCode.STORE_CORRUPT, `state tree node ${toHex(hash)}: ${why}`);
}

/** Decodes a record and checks that it hashes to `hash`, so a damaged node is never trusted. */
export function decodeNode(hash: Uint8Array, record: Uint8Array): StoredNode {
  if (record.length >= 1 + HASH_LENGTH && record[0] === LEAF_RECORD) {
    const keyHash = record.slice(1, 1 + HASH_LENGTH);
    const value = record.slice(1 + HASH_LENGTH);
    const vh = valueHash(value);
    if (!equalBytes(leafHash(keyHash, vh), hash)) throw corrupt(hash, 'leaf record does not match its hash');
    return { kind: 'leaf', keyHash, valueHash: vh, value };
  }
  if (record.length === 1 + 2 * HASH_LENGTH && record[0] === INNER_RECORD) {
    const left = record.slice(1, 1 + HASH_LENGTH);
    const right = record.slice(1 + HASH_LENGTH);
    if (!equalBytes(innerHash(left, right), hash)) throw corrupt(hash, 'inner record does not match its hash');
    return { kind: 'inner', left, right };
  }
  throw corrupt(hash, 'malformed record');
}

export function putNodes(batch: DbBatch, nodes: readonly (LeafNode | InnerNode)[]): void {
  for (const node of nodes) batch.put(nodeKey(node.hash), encodeNode(node));
}

async function readNode(db: Database, hash: Uint8Array, root: Uint8Array): Promise<StoredNode> {
  const record = await db.get(nodeKey(hash));
  if (record === undefined) {
    if (equalBytes(hash, root)) throw new JouleError(ErrorCode.NOT_FOUND, `unknown state root ${toHex(root)}`);
    throw corrupt(hash, `missing (needed by root ${toHex(root)})`);
  }
  return decodeNode(hash, record);
}

/**
 * Proves `keyHash` against any stored root by walking nodes from the DB. Returns the
 * proof and the value found (undefined when absent). Throws NOT_FOUND for a root that
 * was never committed.
 */
export async function proveFromStore(
  db: Database,
  root: Uint8Array,
  keyHash: Uint8Array,
): Promise<{ proof: StateProof; value: Uint8Array | undefined }> {
  const siblings: Uint8Array[] = [];
  let hash = root;
  for (let depth = 0; !equalBytes(hash, ZERO_HASH); depth++) {
    const node = await readNode(db, hash, root);
    if (node.kind === 'leaf') {
      const value = equalBytes(node.keyHash, keyHash) ? node.value : undefined;
      return { proof: { siblings, leaf: { keyHash: node.keyHash, valueHash: node.valueHash } }, value };
    }
    if (depth >= 256) throw corrupt(hash, 'path deeper than 256 levels');
    const bit = pathBit(keyHash, depth);
    siblings.push(bit === 0 ? node.right : node.left);
    hash = bit === 0 ? node.left : node.right;
  }
  return { proof: { siblings, leaf: null }, value: undefined };
}
