import { rpc } from '../helpers/net.ts';
import { rpcMany } from './rpc-batch.ts';

export interface FinalBlock {
  readonly hash: string;
  /** Which node reported it final, and when the test learnt it. */
  readonly node: number;
  readonly at: number;
}

export interface FinalTx {
  readonly height: number;
  readonly blockHash: string;
  readonly at: number;
}

interface BlockJson {
  readonly hash: string;
  readonly height: number;
  readonly transactions: string[];
}

/**
 * What the nodes told a client was final: every committed block (with its transactions)
 * as the nodes report it over JSON-RPC, read from a different answering node each time
 * round. This is the record "nothing final lost" is checked against; two nodes reporting
 * different blocks at one height is recorded as a conflict at once.
 */
export class FinalityLedger {
  readonly blocks = new Map<number, FinalBlock>();
  readonly txs = new Map<string, FinalTx>();
  private readonly conflicts: { at: number; what: string }[] = [];
  /** Time of the last new block recorded. */
  lastProgressAt = Date.now();
  private readonly urls: readonly string[];
  private readonly readers: () => readonly number[];
  private next = 0;
  private top = 0;
  private running = false;
  private loop: Promise<void> | undefined;

  /** `readers`: the nodes it may read from now (e.g. not a paused one, whose RPC would hang). */
  constructor(urls: readonly string[], readers: () => readonly number[]) {
    this.urls = urls;
    this.readers = readers;
  }

  /** The highest final height recorded. */
  get height(): number {
    return this.top;
  }

  start(everyMs = 250): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.poll().catch(() => {});
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Nodes reporting different blocks at one height, found since `since`. */
  conflictsSince(since: number): string[] {
    return this.conflicts.filter((c) => c.at >= since).map((c) => c.what);
  }

  /** Final txs learnt in [from, to). */
  txsLearnt(from: number, to = Infinity): Map<string, FinalTx> {
    return new Map([...this.txs].filter(([, t]) => t.at >= from && t.at < to));
  }

  /** Reads new final blocks from the next reader in turn. */
  async poll(): Promise<void> {
    const readers = this.readers();
    if (readers.length === 0) return;
    const node = readers[this.next++ % readers.length]!;
    const url = this.urls[node]!;
    const { height } = await rpc<{ height: number }>(url, 'joule_status', [], 1000);
    const known = this.height;
    // Re-read the newest block already recorded: a different answer from this node is a fork.
    const from = Math.max(1, known);
    if (height < from) return;
    const to = Math.min(height, from + 199);
    const blocks = await rpcMany<BlockJson | null>(
      url,
      'joule_getBlock',
      Array.from({ length: to - from + 1 }, (_, i) => [from + i]),
      5000,
    );
    const at = Date.now();
    for (const b of blocks) {
      if (b === null) continue;
      const seen = this.blocks.get(b.height);
      if (seen !== undefined) {
        if (seen.hash !== b.hash)
          this.conflicts.push({ at, what: `height ${b.height}: node ${seen.node} reported ${seen.hash}, node ${node} reports ${b.hash}` });
        continue;
      }
      this.blocks.set(b.height, { hash: b.hash, node, at });
      for (const tx of b.transactions) this.txs.set(tx, { height: b.height, blockHash: b.hash, at });
      this.top = Math.max(this.top, b.height);
      this.lastProgressAt = at;
    }
  }
}
