/** A binary min-heap of timed events; ties run in insertion order, so a run is reproducible. */
export class EventQueue<E> {
  private readonly heap: { t: number; seq: number; e: E }[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(t: number, e: E): void {
    const item = { t, seq: this.seq++, e };
    const q = this.heap;
    q.push(item);
    let i = q.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const a = q[parent]!;
      if (a.t < t || (a.t === t && a.seq < item.seq)) break;
      q[i] = a;
      i = parent;
    }
    q[i] = item;
  }

  pop(): { t: number; e: E } | undefined {
    const q = this.heap;
    if (q.length === 0) return undefined;
    const top = q[0]!;
    const last = q.pop()!;
    const less = (x: typeof last, y: typeof last) => x.t < y.t || (x.t === y.t && x.seq < y.seq);
    if (q.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        let m = i;
        let best = last;
        if (l < q.length && less(q[l]!, best)) (m = l), (best = q[l]!);
        if (l + 1 < q.length && less(q[l + 1]!, best)) (m = l + 1), (best = q[l + 1]!);
        if (m === i) break;
        q[i] = best;
        i = m;
      }
      q[i] = last;
    }
    return top;
  }
}
