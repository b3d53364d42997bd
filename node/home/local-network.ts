import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DEVNET_PARAMS, type ChainParams } from '../../core/params.ts';
import { generateDevnet, writeDevnetFiles, type Devnet, type DevnetFiles } from '../../genesis/index.ts';
import { peerIdFromIdentityKey } from '../../p2p/identity.ts';
import { initHome } from './home.ts';

export interface NodePorts {
  readonly p2p: number;
  readonly rpc: number;
  readonly metrics: number;
  readonly grpc: number;
}

export interface LocalNode {
  readonly name: string;
  readonly home: string;
  readonly ports: NodePorts;
  readonly p2p: string;
  readonly peerId: string;
  readonly rpcUrl: string;
  readonly metricsUrl: string;
}

export interface LocalNetwork {
  readonly dir: string;
  readonly devnet: Devnet;
  readonly files: DevnetFiles;
  readonly nodes: readonly LocalNode[];
}

/**
 * Writes a whole local network into `dir`: genesis, keys (insecure: devnets and tests
 * only), and one node home per validator on 127.0.0.1, each listing the others as static
 * peers. Used by `joule devnet`, the cross-process tests and the benchmarks.
 */
export async function createLocalNetwork(opts: {
  readonly dir: string;
  readonly validators: number;
  readonly accounts: number;
  readonly params?: Partial<ChainParams>;
  readonly ports: (index: number) => NodePorts | Promise<NodePorts>;
  readonly onKey?: (file: string, done: number, total: number) => void;
}): Promise<LocalNetwork> {
  // Each validator gets an aggregator account that operates the devices streaming to it (node/ingress/).
  // Three governors, any two of whom reverse a market settlement (vm/markets/reversal.ts).
  const devnet = generateDevnet({
    validators: opts.validators,
    accounts: opts.accounts,
    params: { ...DEVNET_PARAMS, ...opts.params },
    aggregators: true,
    governors: 3,
  });
  const files = await writeDevnetFiles(opts.dir, devnet, { insecure: true, onKey: opts.onKey });
  const ports: NodePorts[] = [];
  for (let i = 0; i < opts.validators; i++) ports.push(await opts.ports(i));
  const peerIds = devnet.validatorKeys.map((v) => peerIdFromIdentityKey(v.identity.publicKey));
  const p2pAddrs = ports.map((p, i) => `/ip4/127.0.0.1/tcp/${p.p2p}/p2p/${peerIds[i]}`);
  const nodes: LocalNode[] = [];
  for (const [i, v] of files.validators.entries()) {
    const home = join(opts.dir, v.name);
    const p = ports[i]!;
    await initHome({
      home,
      genesisFile: files.genesisFile,
      name: v.name,
      role: 'validator',
      identityKeyFile: v.identityKeyFile,
      consensusKeyFile: v.consensusKeyFile,
      aggregatorKeyFile: v.aggregatorKeyFile,
      ports: p,
      peers: p2pAddrs.filter((_, j) => j !== i),
      // A wrong access list halts a local network loudly rather than being counted.
      state: { strictAccess: true },
      // The validators share this machine: its cores (one left to the event loops) split between their pools.
      verifyWorkers: Math.max(1, Math.floor((availableParallelism() - 1) / opts.validators)),
    });
    nodes.push({
      name: v.name,
      home,
      ports: p,
      p2p: p2pAddrs[i]!,
      peerId: peerIds[i]!,
      rpcUrl: `http://127.0.0.1:${p.rpc}`,
      metricsUrl: `http://127.0.0.1:${p.metrics}`,
    });
  }
  return { dir: opts.dir, devnet, files, nodes };
}
