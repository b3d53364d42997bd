import { Kind, messageSigningBytes } from '../core/signed-core.ts';
import { encodeMessage, type ConsensusMessage } from './messages.ts';

interface Own {
  readonly payload: Uint8Array;
  readonly message: ConsensusMessage;
  /** Encoded once, shared by the broadcast and every re-send (restored ones: on first use). */
  bytes?: Uint8Array;
}

/**
 * What this node signed at the current height, one message per (round, kind), including
 * what the WAL restored after a crash: the record behind "never sign two different
 * messages for one (round, kind)" (the machine signs only when `signedAt` has nothing, and
 * refuses a different payload), and what a peer that missed this height needs again.
 */
export class OwnMessages {
  private readonly byKey = new Map<string, Own>();
  private readonly chainId: string;

  constructor(chainId: string) {
    this.chainId = chainId;
  }

  /** The payload this node signed at (round, kind), if it did. */
  signedAt(round: number, kind: Kind): Uint8Array | undefined {
    return this.byKey.get(`${round}:${kind}`)?.payload;
  }

  /** A message this node signed before a crash (from its WAL). */
  restore(m: ConsensusMessage): void {
    this.byKey.set(`${m.round}:${m.kind}`, { payload: messageSigningBytes(this.chainId, m), message: m });
  }

  /** A message just signed, with its signing payload and encoding. */
  add(m: ConsensusMessage, payload: Uint8Array, bytes: Uint8Array): void {
    this.byKey.set(`${m.round}:${m.kind}`, { payload, message: m, bytes });
  }

  /**
   * What a peer that missed this height so far needs from this node, in (round, kind) order:
   * its latest ROUND-CHANGE, everything it signed in `round` (proposal, PREPARE) and every
   * COMMIT (a commit quorum of an earlier round still decides the height).
   */
  toResend(round: number): { message: ConsensusMessage; bytes: Uint8Array }[] {
    let latestRoundChange: Own | undefined;
    const picked: Own[] = [];
    for (const e of this.byKey.values()) {
      const m = e.message;
      if (m.kind === Kind.ROUND_CHANGE) {
        if (latestRoundChange === undefined || m.round > latestRoundChange.message.round) latestRoundChange = e;
      } else if (m.kind === Kind.COMMIT || m.round === round) picked.push(e);
    }
    if (latestRoundChange !== undefined) picked.push(latestRoundChange);
    picked.sort((a, b) => a.message.round - b.message.round || a.message.kind - b.message.kind);
    return picked.map((e) => ({ message: e.message, bytes: (e.bytes ??= encodeMessage(e.message)) }));
  }
}
