/**
 * How many of a port's places (TCP connections, WebSocket sessions) one remote address may
 * hold at once, so that one host cannot take a port's whole cap and lock everyone else out.
 * Both the RPC port (rpc/http/) and the gRPC port (rpc/grpc/) use it.
 */
export class PerAddressLimit {
  readonly maxPerAddress: number;
  readonly #held = new Map<string, number>();

  constructor(maxPerAddress: number) {
    this.maxPerAddress = maxPerAddress;
  }

  /** Addresses holding a place now. */
  get addresses(): number {
    return this.#held.size;
  }

  /** Places held now by `address`. */
  heldBy(address: string): number {
    return this.#held.get(address) ?? 0;
  }

  /**
   * Takes a place for `address`: the function that gives it back (once, however often it is
   * called), or undefined, nothing taken, when the address already holds its limit.
   */
  admit(address: string): (() => void) | undefined {
    const n = this.heldBy(address);
    if (n >= this.maxPerAddress) return undefined;
    this.#held.set(address, n + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = this.heldBy(address) - 1;
      if (left <= 0) this.#held.delete(address);
      else this.#held.set(address, left);
    };
  }
}

/**
 * One address's share of a cap when none is configured: an eighth, so that locking a port
 * out takes at least eight hosts; but at least 8 places (or the whole cap, if smaller), so
 * that one machine's own tools are not refused on a small node.
 */
export function defaultPerAddress(cap: number): number {
  return Math.min(cap, Math.max(8, Math.ceil(cap / 8)));
}
