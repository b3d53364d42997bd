/**
 * Where each device's readings stand at this node's ingress: the last accepted timestamp
 * and the allowance carries (vm/telemetry/allowance.ts), ahead of the chain's cursor by the
 * readings accepted but not yet final. That is what keeps a replayed or re-sent reading
 * out of a second batch (a batch holding one would fail whole when executed). Bounded: the
 * least recently used devices are forgotten beyond `max`, and fall back to the chain's
 * cursor (a device idle that long has its readings final by then).
 */
export interface IngressCursor {
  readonly lastTimestampUs: bigint;
  readonly importCarry: number;
  readonly exportCarry: number;
}

export class DeviceCursors {
  private readonly max: number;
  private readonly map = new Map<string, IngressCursor>();

  constructor(max = 200_000) {
    this.max = max;
  }

  get(deviceId: string): IngressCursor | undefined {
    return this.map.get(deviceId);
  }

  set(deviceId: string, c: IngressCursor): void {
    this.map.delete(deviceId);
    this.map.set(deviceId, c);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  get size(): number {
    return this.map.size;
  }
}
