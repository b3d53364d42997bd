import { execFileSync, spawn } from 'node:child_process';
import { ip, ipSync, netnsPidsSync, pidAlive } from './ip.ts';

/**
 * A network of Linux network namespaces, one per validator, for fault injection.
 *
 * Each namespace has two interfaces, each a veth pair whose other end is on a bridge in the
 * root namespace:
 *   ctl  (10.77.k.i+1) on the control bridge, which also carries 10.77.k.254: the test
 *        process reaches every node's JSON-RPC and metrics here, and no fault touches it;
 *   data (10.78.k.i+1) on the data bridge: validator-to-validator libp2p traffic only.
 * A partition moves data ports onto separate bridges. Packets then vanish inside the
 * network, in flight or not, and the sender's kernel is not told: TCP backs off as it
 * does behind a real broken link. (A blackhole route or a link taken down instead makes
 * the sender's own kernel refuse the packet, and TCP then retries every 500 ms; measured
 * in test/faults/README.md. That weaker cut is available as `cut: 'route'`.)
 *
 * Everything is named after this process's pid (namespaces `jft-<pid>-<i>`, interfaces
 * `jft<pid base36><kind><i>`, at most 15 characters), removed by `destroy()`, on exit and on
 * SIGINT/SIGTERM; leftovers of runs whose process is gone are removed before a new one.
 */

export type CutMode = 'bridge' | 'route';

export interface SandboxNode {
  readonly index: number;
  readonly ns: string;
  /** Address for RPC and metrics (never cut). */
  readonly ctlIp: string;
  /** Address for p2p (cut by partitions). */
  readonly dataIp: string;
  /** Host-side end of the data veth. */
  readonly dataPort: string;
}

const PREFIX = 'jft';
const NS_PATTERN = /^jft-(\d+)-\d+$/;
const LINK_PATTERN = /^jft([0-9a-z]{1,6})[bdgcx]\d*$/;

const live = new Set<NetSandbox>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', () => {
    for (const s of live) s.destroySync();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const s of live) s.destroySync();
      process.kill(process.pid, signal);
    });
  }
}

/** Why this machine cannot run the fault tests, or undefined when it can (as far as can be told before trying). */
export function preflightProblem(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux; this is ${process.platform}`;
  const uid = process.getuid?.();
  if (uid !== 0)
    return `the fault-injection tests create network namespaces, bridges and veth pairs, which needs root; this process runs as uid ${uid} (CI runs as root; locally use a root shell or a privileged container)`;
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return "iproute2's `ip` is not on PATH (install it: apt-get install iproute2; .ci/run does this when `ip` is missing)";
  }
  return undefined;
}

/** Removes namespaces and links of earlier runs whose process has gone (or whose pid this process now has). */
export function removeStale(): void {
  const stale = (pid: number) => pid === process.pid || !pidAlive(pid);
  for (const line of ipSync(['netns', 'list']).split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const m = NS_PATTERN.exec(ns);
    if (m === null || !stale(Number(m[1]))) continue;
    for (const pid of netnsPidsSync(ns)) killQuietly(pid);
    ipSync(['netns', 'del', ns]);
  }
  for (const line of ipSync(['-o', 'link', 'show']).split('\n')) {
    const name = /^\d+: ([^:@]+)[:@]/.exec(line)?.[1];
    const m = name === undefined ? null : LINK_PATTERN.exec(name);
    if (m === null || !stale(parseInt(m[1]!, 36))) continue;
    ipSync(['link', 'del', name!]);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A /24 under 10.77 not routed in this namespace yet (another run may hold one). */
async function freeSubnet(): Promise<number> {
  const routes = await ip(['-4', 'route', 'show']);
  const addrs = await ip(['-4', '-o', 'addr', 'show']);
  for (let i = 0; i < 256; i++) {
    const k = (process.pid + i) % 256;
    if (!routes.includes(`10.77.${k}.`) && !addrs.includes(`10.77.${k}.`)) return k;
  }
  throw new Error('no free 10.77.x.0/24 subnet for the fault sandbox');
}

export class NetSandbox {
  readonly nodes: readonly SandboxNode[];
  /** The test process's address on the control bridge. */
  readonly hostIp: string;
  readonly cut: CutMode;
  private readonly tag: string;
  private readonly links: string[] = [];
  private readonly namespaces: string[] = [];
  private groupBridges: string[] = [];
  private routeCuts: { ns: string; ip: string }[] = [];
  private destroyed = false;

  private constructor(n: number, k: number, cut: CutMode) {
    this.tag = `${PREFIX}${process.pid.toString(36)}`;
    this.cut = cut;
    this.hostIp = `10.77.${k}.254`;
    this.nodes = Array.from({ length: n }, (_, i) => ({
      index: i,
      ns: `${PREFIX}-${process.pid}-${i}`,
      ctlIp: `10.77.${k}.${i + 1}`,
      dataIp: `10.78.${k}.${i + 1}`,
      dataPort: `${this.tag}x${i}`,
    }));
  }

  /**
   * Creates the namespaces, bridges and links. Throws (never skips) with the reason when
   * this machine cannot: not root, no `ip`, namespaces not permitted, bridged traffic
   * filtered.
   */
  static async create(n: number, opts: { cut?: CutMode } = {}): Promise<NetSandbox> {
    const problem = preflightProblem();
    if (problem !== undefined) throw new Error(`cannot run the fault-injection tests: ${problem}`);
    // Names derive from the pid, and stale cleanup treats this pid's leftovers as stale.
    if (live.size > 0) throw new Error('one fault sandbox per process at a time');
    installExitHooks();
    removeStale();
    const sandbox = new NetSandbox(n, await freeSubnet(), opts.cut ?? 'bridge');
    live.add(sandbox);
    try {
      await sandbox.build();
      await sandbox.probeDataPlane();
    } catch (e) {
      sandbox.destroySync();
      throw new Error(`cannot run the fault-injection tests: ${(e as Error).message}`);
    }
    return sandbox;
  }

  private get ctlBridge(): string {
    return `${this.tag}b`;
  }

  private get dataBridge(): string {
    return `${this.tag}d`;
  }

  private async addBridge(name: string, address?: string): Promise<void> {
    await ip(['link', 'add', name, 'type', 'bridge']);
    this.links.push(name);
    if (address !== undefined) await ip(['addr', 'add', address, 'dev', name]);
    await ip(['link', 'set', name, 'up']);
  }

  private async build(): Promise<void> {
    await this.addBridge(this.ctlBridge, `${this.hostIp}/24`);
    await this.addBridge(this.dataBridge);
    for (const node of this.nodes) {
      try {
        await ip(['netns', 'add', node.ns]);
      } catch (e) {
        throw new Error(`cannot create network namespace ${node.ns} (a container needs CAP_SYS_ADMIN): ${(e as Error).message}`);
      }
      this.namespaces.push(node.ns);
      await ip(['-n', node.ns, 'link', 'set', 'lo', 'up']);
      for (const [inside, outside, bridge, address] of [
        ['ctl', `${this.tag}c${node.index}`, this.ctlBridge, node.ctlIp],
        ['data', node.dataPort, this.dataBridge, node.dataIp],
      ] as const) {
        await ip(['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside, 'netns', node.ns]);
        await ip(['link', 'set', outside, 'master', bridge, 'up']);
        await ip(['-n', node.ns, 'addr', 'add', `${address}/24`, 'dev', inside]);
        await ip(['-n', node.ns, 'link', 'set', inside, 'up']);
      }
    }
  }

  /** `ip netns exec` argv running `argv` inside node i's namespace (exec'd in place: the pid is the program's). */
  command(i: number, argv: readonly string[]): { file: string; args: string[] } {
    return { file: 'ip', args: ['netns', 'exec', this.nodes[i]!.ns, ...argv] };
  }

  /**
   * One TCP connection across the data plane, so a host that filters bridged traffic
   * (br_netfilter with an iptables FORWARD policy of DROP, as Docker sets) fails here with
   * that explanation instead of as a cluster that never forms.
   */
  private async probeDataPlane(): Promise<void> {
    if (this.nodes.length < 2) return;
    if (!(await this.canConnect(1, 0))) {
      throw new Error(
        `a TCP connection from ${this.nodes[1]!.dataIp} to ${this.nodes[0]!.dataIp} across bridge ${this.dataBridge} failed: bridged traffic is filtered on this host ` +
          '(br_netfilter with an iptables FORWARD policy of DROP, as Docker installs?)',
      );
    }
  }

  /** Whether node `from` can open a TCP connection to node `to` over the data plane now (one at a time). */
  async canConnect(from: number, to: number, timeoutMs = 1500): Promise<boolean> {
    const port = 7999;
    const target = this.nodes[to]!;
    const server = `require('net').createServer((s) => s.end('ok')).listen(${port}, '${target.dataIp}', () => console.log('up'))`;
    const client = `const s = require('net').connect(${port}, '${target.dataIp}'); let d = ''; s.on('data', (x) => (d += x)); s.on('end', () => process.exit(d === 'ok' ? 0 : 1)); s.on('error', () => process.exit(1)); setTimeout(() => process.exit(2), ${timeoutMs});`;
    const srv = spawn('ip', ['netns', 'exec', target.ns, process.execPath, '-e', server], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((resolve, reject) => {
        srv.stdout.once('data', () => resolve());
        srv.once('exit', () => reject(new Error(`probe listener in ${target.ns} exited`)));
      });
      const code = await new Promise<number | null>((resolve) =>
        spawn('ip', ['netns', 'exec', this.nodes[from]!.ns, process.execPath, '-e', client], { stdio: 'ignore' }).once('exit', resolve),
      );
      return code === 0;
    } finally {
      srv.kill('SIGKILL');
    }
  }

  /**
   * Cuts the data plane into groups (every node in exactly one group): nodes reach only
   * the nodes of their own group. A node alone in its group is isolated.
   */
  async partition(groups: readonly (readonly number[])[]): Promise<void> {
    const seen = groups.flat();
    if (seen.length !== this.nodes.length || new Set(seen).size !== seen.length || seen.some((i) => this.nodes[i] === undefined)) {
      throw new Error(`partition ${JSON.stringify(groups)} must put each of the ${this.nodes.length} nodes in exactly one group`);
    }
    await this.heal();
    if (this.cut === 'route') {
      for (const [g, group] of groups.entries()) {
        for (const a of group) {
          for (const [h, other] of groups.entries()) {
            if (h === g) continue;
            for (const b of other) {
              const cut = { ns: this.nodes[a]!.ns, ip: this.nodes[b]!.dataIp };
              await ip(['-n', cut.ns, 'route', 'add', 'blackhole', `${cut.ip}/32`]);
              this.routeCuts.push(cut);
            }
          }
        }
      }
      return;
    }
    for (const [g, group] of groups.entries()) {
      if (g === 0) continue;
      const bridge = `${this.tag}g${g}`;
      await this.addBridge(bridge);
      this.groupBridges.push(bridge);
      for (const i of group) await ip(['link', 'set', this.nodes[i]!.dataPort, 'master', bridge]);
    }
  }

  /** Cuts node i off from all the others. */
  isolate(i: number): Promise<void> {
    return this.partition([this.nodes.filter((n) => n.index !== i).map((n) => n.index), [i]]);
  }

  /** Undoes any partition: every node reaches every other again. */
  async heal(): Promise<void> {
    for (const cut of this.routeCuts.splice(0)) await ip(['-n', cut.ns, 'route', 'del', 'blackhole', `${cut.ip}/32`]);
    if (this.groupBridges.length === 0) return;
    for (const node of this.nodes) await ip(['link', 'set', node.dataPort, 'master', this.dataBridge]);
    for (const bridge of this.groupBridges.splice(0)) {
      await ip(['link', 'del', bridge]);
      this.links.splice(this.links.indexOf(bridge), 1);
    }
  }

  /** Kills whatever still runs in the namespaces, then removes namespaces and bridges. */
  async destroy(): Promise<void> {
    this.destroySync();
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const ns of this.namespaces) for (const pid of netnsPidsSync(ns)) killQuietly(pid);
    // Deleting a namespace deletes the veth ends inside it, and with them their peers.
    for (const ns of this.namespaces) ipSync(['netns', 'del', ns]);
    for (const link of this.links) ipSync(['link', 'del', link]);
  }
}
