/**
 * Peer admission. Joule is permissioned: only peer ids derived from genesis validator
 * identity keys and configured observers may connect, in either direction. Everything
 * else is refused at the earliest gater hook where the remote peer id is known:
 *   - outbound: before dialing (denyDialPeer / denyDialMultiaddr with a /p2p/ part), and
 *     again after the Noise handshake, which proves the remote's key (a multiaddr may
 *     name no peer id, or the wrong one);
 *   - inbound: right after the Noise handshake (denyInboundEncryptedConnection), before
 *     any muxer or protocol runs, so an unknown peer never reaches gossip or sync.
 * Penalized peers are banned for a while through the same hooks.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';

export class PeerBans {
  private readonly until = new Map<string, number>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  ban(peerId: string, forMs: number): void {
    this.until.set(peerId, Math.max(this.until.get(peerId) ?? 0, this.now() + forMs));
  }

  isBanned(peerId: string): boolean {
    const u = this.until.get(peerId);
    if (u === undefined) return false;
    if (u <= this.now()) {
      this.until.delete(peerId);
      return false;
    }
    return true;
  }

  /** Milliseconds until the ban on `peerId` lifts (0 when not banned). */
  remainingMs(peerId: string): number {
    return this.isBanned(peerId) ? this.until.get(peerId)! - this.now() : 0;
  }
}

export type GaterDecision = (peerId: string, where: string) => void;

/**
 * Builds the gater. `onDeny` is told every refusal (for logs and metrics); it must not throw.
 */
export function createGater(allowed: ReadonlySet<string>, bans: PeerBans, onDeny?: GaterDecision): ConnectionGater {
  const deny = (peer: PeerId | string, where: string): boolean => {
    const id = peer.toString();
    const refused = !allowed.has(id) || bans.isBanned(id);
    if (refused) onDeny?.(id, where);
    return refused;
  };
  return {
    denyDialPeer: (peerId) => deny(peerId, 'dial'),
    denyDialMultiaddr: (ma: Multiaddr) => {
      const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
      // Without a peer id the address cannot be judged yet; the encrypted hook decides.
      return id === undefined ? false : deny(id, 'dial-multiaddr');
    },
    denyOutboundEncryptedConnection: (peerId) => deny(peerId, 'outbound-encrypted'),
    denyInboundEncryptedConnection: (peerId) => deny(peerId, 'inbound-encrypted'),
    // Belt and braces: also refuse at the final upgrade step (a ban may start mid-upgrade).
    denyInboundUpgradedConnection: (peerId) => deny(peerId, 'inbound-upgraded'),
    denyOutboundUpgradedConnection: (peerId) => deny(peerId, 'outbound-upgraded'),
    // Relays are not used; refuse any relay traffic outright.
    denyInboundRelayReservation: () => true,
    denyOutboundRelayedConnection: () => true,
    denyInboundRelayedConnection: () => true,
    // Keep the peer store free of addresses for peers we would never talk to (identify
    // and gossip PX could otherwise fill it).
    filterMultiaddrForPeer: (peer) => allowed.has(peer.toString()),
  };
}
