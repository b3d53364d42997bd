/**
 * One counter summed over the nodes that expose it, as a total that never goes down: a node
 * whose scrape failed (busy, or stopping at the end of a run) counts with its last value, and
 * a node whose counter went down (it restarted) counts on from what it had reached. So the
 * difference between two reports is never negative, as Prometheus' rate() treats resets.
 */
export class ScrapedTotal {
  /** Each node's last scraped value, and what its counter had reached before it restarted. */
  private readonly nodes = new Map<string, { last: number; carried: number }>();

  /** A node's scrape: its counter's value, or undefined when it did not answer. */
  observe(node: string, value: number | undefined): void {
    if (value === undefined) return;
    const n = this.nodes.get(node);
    if (n === undefined) this.nodes.set(node, { last: value, carried: 0 });
    else {
      if (value < n.last) n.carried += n.last;
      n.last = value;
    }
  }

  get total(): number {
    let sum = 0;
    for (const n of this.nodes.values()) sum += n.carried + n.last;
    return sum;
  }
}
