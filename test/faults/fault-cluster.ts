import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressFromPublicKey, formatAddress } from '../../core/keys.ts';
import type { ChainParams } from '../../core/params.ts';
import { DEFAULT_PORTS } from '../../node/home/config.ts';
import { createLocalNetwork, type LocalNetwork } from '../../node/home/local-network.ts';
import { rpc, waitFor } from '../helpers/net.ts';
import { NsNode } from './ns-node.ts';
import { NetSandbox, type CutMode } from './sandbox.ts';

export interface NodeStatus {
  readonly height: number;
  readonly latestBlockHash: string;
  readonly peerCount: number;
}

/**
 * A validator network whose nodes each run in their own network namespace (sandbox.ts):
 * every node listens on the same ports on its own addresses, p2p on the data plane and
 * RPC/metrics on the control plane, with the other validators as static peers.
 */
export class FaultCluster {
  readonly sandbox: NetSandbox;
  readonly net: LocalNetwork;
  readonly nodes: readonly NsNode[];
  readonly params: ChainParams;

  private constructor(sandbox: NetSandbox, net: LocalNetwork, nodes: NsNode[]) {
    this.sandbox = sandbox;
    this.net = net;
    this.nodes = nodes;
    this.params = net.devnet.genesis.params;
  }

  static async create(opts: { validators: number; accounts: number; params: Partial<ChainParams>; cut?: CutMode }): Promise<FaultCluster> {
    const cut = opts.cut ?? (process.env.JOULE_FAULTS_CUT === 'route' ? 'route' : 'bridge');
    const sandbox = await NetSandbox.create(opts.validators, { cut });
    try {
      const dir = await mkdtemp(join(tmpdir(), 'joule-faults-'));
      const net = await createLocalNetwork({
        dir,
        validators: opts.validators,
        accounts: opts.accounts,
        params: opts.params,
        ports: () => ({ ...DEFAULT_PORTS }),
      });
      const nodes: NsNode[] = [];
      for (const [i, n] of net.nodes.entries()) {
        const where = sandbox.nodes[i]!;
        const file = join(n.home, 'config.json');
        const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, Record<string, unknown>>;
        config.p2p!.listen = `/ip4/${where.dataIp}/tcp/${DEFAULT_PORTS.p2p}`;
        config.p2p!.peers = net.nodes.flatMap((m, j) => (j === i ? [] : [`/ip4/${sandbox.nodes[j]!.dataIp}/tcp/${DEFAULT_PORTS.p2p}/p2p/${m.peerId}`]));
        config.rpc!.host = where.ctlIp;
        config.metrics!.host = where.ctlIp;
        await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
        nodes.push(
          new NsNode({
            name: n.name,
            home: n.home,
            rpcUrl: `http://${where.ctlIp}:${DEFAULT_PORTS.rpc}`,
            metricsUrl: `http://${where.ctlIp}:${DEFAULT_PORTS.metrics}`,
            wrap: (argv) => sandbox.command(i, argv),
          }),
        );
      }
      return new FaultCluster(sandbox, net, nodes);
    } catch (e) {
      await sandbox.destroy();
      throw e;
    }
  }

  get size(): number {
    return this.nodes.length;
  }

  url(i: number): string {
    return this.nodes[i]!.spec.rpcUrl;
  }

  async start(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.start(90_000)));
  }

  status(i: number, timeoutMs = 1000): Promise<NodeStatus> {
    return rpc<NodeStatus>(this.url(i), 'joule_status', [], timeoutMs);
  }

  /** Heights of the nodes that answer (undefined for one that does not). */
  async heights(): Promise<(number | undefined)[]> {
    return Promise.all(
      this.nodes.map((_, i) =>
        this.status(i).then(
          (s) => s.height,
          () => undefined,
        ),
      ),
    );
  }

  /**
   * Waits until every node answers, is connected to all the others, and has finalised
   * two blocks after the slowest was seen: a healthy cluster to start a scenario from.
   */
  async settle(timeoutMs = 90_000): Promise<number> {
    let floor: number | undefined;
    return waitFor(
      'the cluster to settle (all nodes connected and finalising together)',
      async () => {
        const all = await Promise.all(this.nodes.map((_, i) => this.status(i)));
        if (all.some((s) => s.peerCount < this.size - 1)) return undefined;
        const low = Math.min(...all.map((s) => s.height));
        const high = Math.max(...all.map((s) => s.height));
        if (high - low > 1) return undefined;
        floor ??= high;
        return low >= floor + 2 ? low : undefined;
      },
      timeoutMs,
      200,
    );
  }

  /** Node index of each validator address (bech32). */
  private nodeOfAddress(address: string): number {
    const i = this.net.devnet.validatorKeys.findIndex((v) => formatAddress(addressFromPublicKey(v.identity.publicKey)) === address);
    if (i < 0) throw new Error(`${address} is not a validator of this cluster`);
    return i;
  }

  /**
   * The node that proposes round 0 of the next height, as node `from` sees it: the
   * validator after the latest block's proposer in the set's (address) order.
   */
  async nextProposer(from: number): Promise<{ node: number; height: number }> {
    const latest = await rpc<{ height: number; proposer: string }>(this.url(from), 'joule_getBlock', ['latest']);
    const set = await rpc<{ validators: { index: number; address: string }[] }>(this.url(from), 'joule_getValidators', []);
    const order = [...set.validators].sort((a, b) => a.index - b.index).map((v) => v.address);
    const next = order[(order.indexOf(latest.proposer) + 1) % order.length]!;
    return { node: this.nodeOfAddress(next), height: latest.height + 1 };
  }

  logTails(lines = 15): string {
    return this.nodes.map((n) => `--- ${n.name}\n${n.logTail(lines)}`).join('\n');
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill('SIGKILL')));
    await this.sandbox.destroy();
    if (process.env.JOULE_FAULTS_KEEP === undefined) await rm(this.net.dir, { recursive: true, force: true });
    else console.log(`fault cluster kept in ${this.net.dir}`);
  }
}
