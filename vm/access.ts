import { toHex } from '../core/bytes.ts';
import { isJouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { accountKey } from '../state/keys.ts';
import { StateAccessError, type Access } from '../state/loaded-state.ts';
import { byteId, type StateEntry, type StateReader } from '../state/overlay.ts';
import { endBlockHooks, txHandler } from './registry.ts';
import type { BlockContext, EndBlockHook, HookRange } from './types.ts';
import { decodedBody } from './validity.ts';

/**
 * Access lists: what a tx or an end-of-block hook reads, declared up front so the node
 * can load it before the block runs (state/loaded-state.ts) and the VM stays synchronous
 * and free of I/O. The sender's account is implicit, as is the proposer's (fees).
 */

export interface AccessList {
  readonly keys: readonly Uint8Array[];
  readonly prefixes: readonly Uint8Array[];
  /** Bounded slices of prefixes (an end-of-block hook's queue), listed within what was loaded. */
  readonly ranges?: readonly HookRange[];
}

// A tx's access list depends only on its bytes (immutable): computed once per Tx object,
// shared by the block's load and strict mode's per-tx guard.
const accessCache = new WeakMap<Tx, AccessList>();

/**
 * What `tx` reads. A tx of an unknown type or with an undecodable body reads only its
 * sender's account: validity rejects it before its handler runs.
 */
export function txAccess(tx: Tx): AccessList {
  let list = accessCache.get(tx);
  if (list === undefined) {
    list = computeTxAccess(tx);
    accessCache.set(tx, list);
  }
  return list;
}

function computeTxAccess(tx: Tx): AccessList {
  const sender = accountKey(tx.from);
  const handler = txHandler(tx.type);
  if (handler === undefined) return { keys: [sender], prefixes: [] };
  let body: unknown;
  try {
    body = decodedBody(handler, tx);
  } catch (e) {
    if (isJouleError(e)) return { keys: [sender], prefixes: [] };
    throw e;
  }
  return { keys: [sender, ...(handler.keys?.(body, tx) ?? [])], prefixes: [...(handler.prefixes?.(body, tx) ?? [])] };
}

function hookAccess(hook: EndBlockHook, block: BlockContext): AccessList {
  return { keys: [...(hook.keys?.(block) ?? [])], prefixes: [...hook.prefixes(block)], ranges: [...(hook.ranges?.(block) ?? [])] };
}

/** What finishing a block reads: the proposer's account (fees) and every end-of-block hook's declaration. */
export function endBlockAccess(block: BlockContext): AccessList {
  const keys: Uint8Array[] = [accountKey(block.proposer)];
  const prefixes: Uint8Array[] = [];
  const ranges: HookRange[] = [];
  for (const hook of endBlockHooks()) {
    const a = hookAccess(hook, block);
    keys.push(...a.keys);
    prefixes.push(...a.prefixes);
    ranges.push(...(a.ranges ?? []));
  }
  return { keys, prefixes, ranges };
}

/**
 * The hooks' second stage: what the state loaded for `endBlockAccess` names
 * (EndBlockHook.dependent), for the node to load before the block runs.
 */
export function endBlockDependentAccess(block: BlockContext, declared: StateReader): Access {
  return mergeAccess(endBlockHooks().flatMap((h) => (h.dependent === undefined ? [] : [h.dependent(block, declared)])));
}

/** The hooks' third stage (EndBlockHook.dependentNext): what the dependent reads, loaded, name in turn; loaded last. */
export function endBlockNextAccess(block: BlockContext, declared: StateReader): Access {
  return mergeAccess(endBlockHooks().flatMap((h) => (h.dependentNext === undefined ? [] : [h.dependentNext(block, declared)])));
}

/**
 * What the node loads after a block's own access list, stage by stage, each computed from
 * the state with the stages before it loaded: the block builder, block import and tests
 * load exactly these, in this order.
 */
export const END_BLOCK_LATER_STAGES: readonly ((block: BlockContext, declared: StateReader) => Access)[] = [endBlockDependentAccess, endBlockNextAccess];

/** Merges access lists (duplicates dropped) into what WorldState.load takes. */
export function mergeAccess(lists: readonly AccessList[]): Access {
  const keys = new Map<string, Uint8Array>();
  const prefixes = new Map<string, Uint8Array>();
  const ranges = new Map<string, HookRange>();
  for (const l of lists) {
    for (const k of l.keys) keys.set(byteId(k), k);
    for (const p of l.prefixes) prefixes.set(byteId(p), p);
    for (const r of l.ranges ?? []) ranges.set(`${byteId(r.prefix)}/${r.from === undefined ? '' : byteId(r.from)}/${r.limit}`, r);
  }
  return { keys: [...keys.values()], prefixes: [...prefixes.values()], ...(ranges.size === 0 ? {} : { ranges: [...ranges.values()] }) };
}

/** Everything executing `txs` as a block reads, but the hooks' dependent reads (endBlockDependentAccess, loaded next). */
export function blockAccess(txs: readonly Tx[], block: BlockContext): Access {
  return mergeAccess([...txs.map(txAccess), endBlockAccess(block)]);
}

/**
 * Strict mode's check, per tx and per hook: a read of a key outside the declared list
 * throws StateAccessError, whatever earlier txs of the block happened to load or write,
 * so a wrong access list fails every test that runs the handler, not only unlucky blocks.
 */
export class AccessGuard implements StateReader {
  private readonly base: StateReader;
  private readonly keys: Set<string>;
  /** The declared prefixes by length: a key is under one when its first `length` bytes are one of them (hundreds in a block that closes an interval for hundreds of devices: looked up, not scanned). */
  private readonly prefixes = new Map<number, Set<string>>();
  private readonly who: () => string;

  constructor(base: StateReader, list: AccessList, who: () => string) {
    this.base = base;
    this.keys = new Set(list.keys.map(byteId));
    // A slice's prefix may be listed and read within: the loaded state refuses what lies beyond the slice.
    for (const p of [...list.prefixes, ...(list.ranges ?? []).map((r) => r.prefix)]) {
      let ids = this.prefixes.get(p.length);
      if (ids === undefined) this.prefixes.set(p.length, (ids = new Set()));
      ids.add(byteId(p));
    }
    this.who = who;
  }

  private underPrefix(key: Uint8Array): boolean {
    for (const [length, ids] of this.prefixes) if (key.length >= length && ids.has(byteId(key.subarray(0, length)))) return true;
    return false;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    if (!this.keys.has(byteId(key)) && !this.underPrefix(key)) throw new StateAccessError(`${this.who()} read key 0x${toHex(key)}`);
    return this.base.get(key);
  }

  iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry> {
    if (!this.underPrefix(prefix)) throw new StateAccessError(`${this.who()} listed prefix 0x${toHex(prefix)}`);
    return this.base.iterate(prefix, from);
  }
}

/** The guarded reader for one hook (strict mode): its declaration and what that names (EndBlockHook.dependent, dependentNext). */
export function hookGuard(base: StateReader, hook: EndBlockHook, block: BlockContext): AccessGuard {
  const stages = [hookAccess(hook, block), hook.dependent?.(block, base), hook.dependentNext?.(block, base)].filter((s) => s !== undefined);
  const list: AccessList = {
    keys: stages.flatMap((s) => s.keys),
    prefixes: stages.flatMap((s) => s.prefixes),
    ranges: stages.flatMap((s) => s.ranges ?? []),
  };
  return new AccessGuard(base, list, () => `end-of-block hook ${hook.name}`);
}
