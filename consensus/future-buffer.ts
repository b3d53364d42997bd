import type { ConsensusMessage } from './messages.ts';

interface Entry {
  readonly message: ConsensusMessage;
  /** Identifies the exact bytes (attachments included): two copies of one signed core may differ in them. */
  readonly variant: string;
  readonly seq: number;
}

/**
 * Copies of one (author, height, round, kind) kept side by side. Attachments are unsigned,
 * so a relay may forward a copy that differs from the author's in them; checks before
 * buffering stop most such copies, but not one that only a coming set change makes invalid.
 * Keeping a second copy means a bad copy that arrives first cannot evict the good one.
 */
const MAX_VARIANTS = 2;

/**
 * Messages for heights above the current one, kept until that height starts. Bounded per
 * author (authors are authenticated before buffering, so one validator cannot evict
 * another's messages) and by height distance (checked by the caller). Replay order is
 * (round, kind, arrival), independent of Map iteration order.
 */
export class FutureBuffer {
  private readonly byAuthor = new Map<string, Entry[]>();
  private seq = 0;
  private readonly maxPerAuthor: number;

  constructor(maxPerAuthor: number) {
    this.maxPerAuthor = maxPerAuthor;
  }

  /**
   * 'full' when the author's quota is used up, 'duplicate' when these exact bytes are held,
   * or MAX_VARIANTS copies of the same (height, round, kind) from this author are (so
   * replaying one signed message cannot exhaust the author's quota).
   */
  add(authorHex: string, message: ConsensusMessage, variant: string): 'added' | 'full' | 'duplicate' {
    let list = this.byAuthor.get(authorHex);
    if (list === undefined) this.byAuthor.set(authorHex, (list = []));
    const m = message;
    const same = list.filter((e) => e.message.height === m.height && e.message.round === m.round && e.message.kind === m.kind);
    if (same.length >= MAX_VARIANTS || same.some((e) => e.variant === variant)) return 'duplicate';
    if (list.length >= this.maxPerAuthor) return 'full';
    list.push({ message, variant, seq: this.seq++ });
    return 'added';
  }

  /** Removes and returns the messages of `height`; drops anything older. */
  take(height: number): ConsensusMessage[] {
    const out: Entry[] = [];
    for (const [author, list] of this.byAuthor) {
      const keep = list.filter((e) => e.message.height > height);
      for (const e of list) if (e.message.height === height) out.push(e);
      if (keep.length === 0) this.byAuthor.delete(author);
      else this.byAuthor.set(author, keep);
    }
    out.sort((a, b) => a.message.round - b.message.round || a.message.kind - b.message.kind || a.seq - b.seq);
    return out.map((e) => e.message);
  }

  /** How many distinct authors have buffered messages above `height`. */
  authorsAbove(height: number): number {
    let n = 0;
    for (const list of this.byAuthor.values()) if (list.some((e) => e.message.height > height)) n++;
    return n;
  }

  get size(): number {
    let n = 0;
    for (const list of this.byAuthor.values()) n += list.length;
    return n;
  }
}
