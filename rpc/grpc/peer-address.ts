/** A call's remote address: grpc-js names its peer `address:port` (`[v6]:port` for IPv6). */
export function peerAddress(peer: string): string {
  const colon = peer.lastIndexOf(':');
  return colon < 0 ? peer : peer.slice(0, colon);
}
