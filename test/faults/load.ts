import { toHex } from '../../core/bytes.ts';
import { addressFromPublicKey, formatAddress, type Ed25519KeyPair } from '../../core/keys.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { rpc, RpcCallError } from '../helpers/net.ts';
import type { FinalityLedger } from './ledger.ts';

interface Account {
  readonly key: Ed25519KeyPair;
  readonly address: string;
  readonly to: Uint8Array;
  /** Next nonce to sign; undefined until read from a node. */
  nonce: number | undefined;
  /** Submitted, not yet seen final, oldest first. */
  pending: { hash: string; at: number }[];
  busy: boolean;
}

/**
 * Transfer load for fault scenarios: every tick each account sends one transfer to a
 * target node (account j to targets[j mod n]), like a wallet that waits for receipts: at
 * most `maxPending` unconfirmed txs per account, so a cluster that cannot finalise is not
 * buried under a backlog that would distort its recovery. With 8 accounts and a 100 ms
 * tick that is at most 80 tx/s. An account whose txs stop being included while the chain
 * moves on (its node was killed with them in its mempool) re-reads its nonce and resends.
 */
export class TransferLoad {
  submitted = 0;
  private readonly chainId: string;
  private readonly urls: readonly string[];
  private readonly ledger: FinalityLedger;
  private readonly accounts: Account[];
  private readonly maxPending: number;
  private targets: readonly number[];
  private timer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<Promise<void>>();

  constructor(opts: { chainId: string; urls: readonly string[]; keys: readonly Ed25519KeyPair[]; ledger: FinalityLedger; maxPending?: number }) {
    this.chainId = opts.chainId;
    this.urls = opts.urls;
    this.ledger = opts.ledger;
    this.maxPending = opts.maxPending ?? 10;
    this.targets = opts.urls.map((_, i) => i);
    this.accounts = opts.keys.map((key, j) => ({
      key,
      address: formatAddress(addressFromPublicKey(key.publicKey)),
      to: addressFromPublicKey(opts.keys[(j + 1) % opts.keys.length]!.publicKey),
      nonce: undefined,
      pending: [],
      busy: false,
    }));
  }

  /** The nodes txs are sent to from now on (e.g. not one that is isolated, paused or down). */
  setTargets(nodes: readonly number[]): void {
    this.targets = [...nodes];
  }

  start(tickMs = 100): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), tickMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.inflight);
  }

  private tick(): void {
    if (this.targets.length === 0) return;
    for (const [j, a] of this.accounts.entries()) {
      if (a.busy) continue;
      const url = this.urls[this.targets[j % this.targets.length]!]!;
      a.busy = true;
      const p = this.send(a, url).finally(() => {
        a.busy = false;
        this.inflight.delete(p);
      });
      this.inflight.add(p);
    }
  }

  private async send(a: Account, url: string): Promise<void> {
    const now = Date.now();
    while (a.pending.length > 0 && this.ledger.txs.has(a.pending[0]!.hash)) a.pending.shift();
    // The chain moved on for 5 s without our oldest tx: it was lost with a mempool.
    const oldest = a.pending[0];
    if (oldest !== undefined && now - oldest.at > 5000 && this.ledger.lastProgressAt - oldest.at > 5000) {
      a.nonce = undefined;
      a.pending = [];
    }
    if (a.pending.length >= this.maxPending) return;
    try {
      a.nonce ??= (await rpc<{ nonce: number }>(url, 'joule_getAccount', [a.address], 1000)).nonce;
      const tx = buildTransfer({ chainId: this.chainId, seed: a.key.seed, nonce: a.nonce, fee: 100n, to: a.to, amount: 1n });
      const hash = `0x${toHex(tx.hash)}`;
      try {
        await rpc(url, 'joule_sendRawTransaction', [`0x${toHex(tx.bytes)}`], 1000);
      } catch (e) {
        // Resending a tx still pooled (after a nonce re-read) is fine: it is pending.
        if (!(e instanceof RpcCallError && e.error.data?.code === 'MEMPOOL_DUPLICATE')) throw e;
      }
      a.nonce++;
      a.pending.push({ hash, at: now });
      this.submitted++;
    } catch {
      a.nonce = undefined; // node down, or our nonce out of step with it: re-read next time
    }
  }
}
