import { createP2PHost } from './node.ts';
import { peerIdFromIdentitySeed } from './identity.ts';
import { multiaddr } from '@multiformats/multiaddr';
const seeds = [1, 2].map((i) => new Uint8Array(32).fill(i));
const ids = seeds.map(peerIdFromIdentitySeed);
const log = { info: (o: object, m?: string) => console.log('I', m, o), warn: (o: object, m?: string) => console.log('W', m, o), debug: (o: object, m?: string) => console.log('D', m, o), error: (o: object, m?: string) => console.log('E', m, o) };
const a = await createP2PHost({ chainId: 'test', identitySeed: seeds[0]!, listen: '/ip4/127.0.0.1/tcp/0', allowedPeers: [ids[0]!], logger: log });
const x = await createP2PHost({ chainId: 'test', identitySeed: seeds[1]!, listen: '/ip4/127.0.0.1/tcp/0', allowedPeers: ids });
x.libp2p.addEventListener('connection:close', () => console.log('x: connection closed', Date.now()));
try { const c = await x.libp2p.dial(multiaddr(a.node.multiaddrs()[0]!)); console.log('x dial resolved', c.status, Date.now()); } catch (e) { console.log('x dial rejected', (e as Error).message); }
await new Promise((r) => setTimeout(r, 300));
console.log('x conns', x.libp2p.getConnections().length, 'a conns', a.libp2p.getConnections().length);
try { await a.libp2p.dial(multiaddr(x.node.multiaddrs()[0]!)); console.log('a dial resolved'); } catch (e) { console.log('a dial rejected', (e as Error).message); }
try { await a.libp2p.dial(multiaddr(x.node.multiaddrs()[0]!).decapsulateCode(421)); console.log('a dial2 resolved'); } catch (e) { console.log('a dial2 rejected', (e as Error).message); }
await a.node.stop(); await x.node.stop();
