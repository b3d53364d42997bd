/**
 * Each validator's highest ROUND-CHANGE at the current height (one round per author, so
 * bounded whatever the distance), and the two rules that move a node up on it without
 * waiting for its own timer. Pure: the machine (machine.ts) asks, then acts.
 */
export class HighestRoundChanges {
  private readonly byAuthor = new Map<string, number>();

  /** The author's highest round seen, or -1. */
  of(author: string): number {
    return this.byAuthor.get(author) ?? -1;
  }

  /** Records `round` for `author` if it is above what it had. */
  raise(author: string, round: number): void {
    if (this.of(author) < round) this.byAuthor.set(author, round);
  }

  /**
   * The f+1 rule (QBFT spec, upon f+1 ROUND-CHANGEs for rounds above ours): at least one
   * honest validator is at the lowest of them, so join it. Of each author's highest round,
   * the (f+1)-th highest is the highest round that f+1 distinct authors have reached: one
   * Byzantine author's far round cannot pull this node past every honest one. undefined:
   * fewer than f+1 others are above `round`.
   */
  fPlusOneRound(me: string, round: number, faulty: number): number | undefined {
    const ahead: number[] = [];
    for (const [author, r] of this.byAuthor) if (author !== me && r > round) ahead.push(r);
    if (ahead.length <= faulty) return undefined;
    ahead.sort((a, b) => b - a);
    return ahead[faulty]!;
  }

  /**
   * Whether `proposer` has left `round`. An honest proposer never signs in a round below its
   * highest (the machine resumes there after a crash; QBFT's round only ever increases), so
   * once the round's proposer has signed a ROUND-CHANGE for a later one, no proposal will
   * come from it, and waiting out the round's exponentially grown timer only delays
   * recovery (after a heal, nodes restarted from their WAL can sit a round below the
   * proposer of theirs, each hearing too few ROUND-CHANGEs for the f+1 rule). Leaving a
   * round is always safe in QBFT (timers are arbitrary; only a proposal's justification
   * protects safety); the machine leaves one round at a time, so a Byzantine proposer can
   * make the others skip only the rounds it leads, which it could stall anyway by silence.
   */
  proposerLeft(proposer: string, round: number): boolean {
    return this.of(proposer) > round;
  }
}
