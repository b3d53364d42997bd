import type { IssuedCommand } from '../../core/command.ts';

/** How many commands wait for devices with no open stream here. */
export interface HeldCommandLimits {
  /** Per device: beyond, the one that ends soonest gives way. */
  readonly perDevice: number;
  /** Over all devices (one per device a command names): beyond, a new one is not held. */
  readonly total: number;
}

const DEFAULT_HELD_COMMAND_LIMITS: HeldCommandLimits = { perDevice: 16, total: 100_000 };

/** Expired entries are swept at most this often when the store is full (a sweep walks it all). */
const SWEEP_EVERY_US = 1_000_000n;

/**
 * Grid commands for target devices that had no open stream here when the command was
 * issued, until the device connects (it then gets those whose window has not ended) or
 * the window ends (never delivered after). A device that drops its stream for a moment
 * still gets a curtailment meant for it. In memory only: a restarted node holds nothing,
 * and every validator holds the commands for the devices its aggregator operates.
 */
export class HeldCommands {
  private readonly limits: HeldCommandLimits;
  private readonly byDevice = new Map<string, IssuedCommand[]>();
  private count = 0;
  private lastSweepUs = -SWEEP_EVERY_US;

  constructor(limits: HeldCommandLimits = DEFAULT_HELD_COMMAND_LIMITS) {
    this.limits = limits;
  }

  /** Commands held, over all devices. */
  get size(): number {
    return this.count;
  }

  /** Holds `c` for `deviceId`; false if it is no longer valid at `nowUs` or the store is full. */
  hold(deviceId: string, c: IssuedCommand, nowUs: bigint): boolean {
    if (c.validUntilUs < nowUs) return false;
    const list = this.byDevice.get(deviceId) ?? [];
    if (list.length >= this.limits.perDevice) {
      let soonest = 0;
      for (let i = 1; i < list.length; i++) if (list[i]!.validUntilUs < list[soonest]!.validUntilUs) soonest = i;
      if (list[soonest]!.validUntilUs > c.validUntilUs) return false;
      list.splice(soonest, 1);
      this.count--;
    } else if (this.count >= this.limits.total && !this.sweep(nowUs)) {
      return false;
    }
    list.push(c);
    this.byDevice.set(deviceId, list);
    this.count++;
    return true;
  }

  /** The device's held commands still valid at `nowUs`, in the order issued; the device holds none after. */
  take(deviceId: string, nowUs: bigint): IssuedCommand[] {
    const list = this.byDevice.get(deviceId);
    if (list === undefined) return [];
    this.byDevice.delete(deviceId);
    this.count -= list.length;
    return list.filter((c) => c.validUntilUs >= nowUs);
  }

  /** Drops every expired command (at most once a SWEEP_EVERY_US); whether there is room after. */
  private sweep(nowUs: bigint): boolean {
    if (nowUs - this.lastSweepUs >= SWEEP_EVERY_US) {
      this.lastSweepUs = nowUs;
      for (const [id, list] of this.byDevice) {
        const live = list.filter((c) => c.validUntilUs >= nowUs);
        this.count -= list.length - live.length;
        if (live.length === 0) this.byDevice.delete(id);
        else this.byDevice.set(id, live);
      }
    }
    return this.count < this.limits.total;
  }
}
