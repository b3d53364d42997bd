/**
 * Helpers for tests and benchmarks of vm/ (not used by the node): an in-memory state and
 * deterministic key pairs. Not part of consensus code paths.
 */
import { utf8 } from '../../core/bytes.ts';
import { sha256 } from '../../core/hash.ts';
import { addressFromPublicKey, ed25519FromSeed } from '../../core/keys.ts';
import { encodeAccount, EMPTY_ACCOUNT, type Account } from '../../state/accounts.ts';
import { accountKey } from '../../state/keys.ts';
import { byteId as id, iterationStart, type StateChange, type StateEntry, type StateReader } from '../../state/overlay.ts';

/** A plain key-value state; `apply` commits a block's changes like the node would. */
export class MemoryState implements StateReader {
  private readonly data = new Map<string, Uint8Array>();

  get(key: Uint8Array): Uint8Array | undefined {
    return this.data.get(id(key));
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.data.set(id(key), value);
  }

  *iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry> {
    const p = id(prefix);
    const start = id(iterationStart(prefix, from));
    for (const k of [...this.data.keys()].sort()) {
      if (k >= start && k.startsWith(p)) yield [new Uint8Array(Buffer.from(k, 'latin1')), this.data.get(k)!];
    }
  }

  apply(changes: readonly StateChange[]): void {
    for (const c of changes) {
      if (c.value === undefined) this.data.delete(id(c.key));
      else this.data.set(id(c.key), c.value);
    }
  }

  setAccount(address: Uint8Array, account: Partial<Account>): void {
    this.set(accountKey(address), encodeAccount({ ...EMPTY_ACCOUNT, ...account }));
  }
}

export interface TestKey {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
}

/** Deterministic Ed25519 key number `i` (seed = SHA-256 of a label). */
export function testKey(i: number, label = 'joule-test-key'): TestKey {
  const seed = sha256(utf8(`${label}/${i}`));
  const { publicKey } = ed25519FromSeed(seed);
  return { seed, publicKey, address: addressFromPublicKey(publicKey) };
}
