import { toHex } from '../../core/bytes.ts';
import { addressFromPublicKey, formatAddress, type Ed25519KeyPair } from '../../core/keys.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { rpc } from './net.ts';

/**
 * A simple load source for tests: each account sends transfers with consecutive nonces,
 * re-reading its nonce from the node when the node forgot pending txs (after a crash).
 */
export class TransferLoad {
  private readonly chainId: string;
  private readonly accounts: { key: Ed25519KeyPair; nonce: number | undefined }[];
  readonly submitted: { hash: string; from: string }[] = [];

  constructor(chainId: string, keys: readonly Ed25519KeyPair[]) {
    this.chainId = chainId;
    this.accounts = keys.map((key) => ({ key, nonce: undefined }));
  }

  /** Forget local nonces (the node may have lost its mempool). */
  resync(): void {
    for (const a of this.accounts) a.nonce = undefined;
  }

  /** Sends one transfer from each account to the next; returns how many were accepted. */
  async round(url: string, amount = 1n): Promise<number> {
    let accepted = 0;
    await Promise.all(
      this.accounts.map(async (a, i) => {
        try {
          if (a.nonce === undefined) {
            const acct = await rpc<{ nonce: number }>(url, 'joule_getAccount', [formatAddress(addressFromPublicKey(a.key.publicKey))], 2000);
            a.nonce = acct.nonce;
          }
          const to = this.accounts[(i + 1) % this.accounts.length]!.key.publicKey;
          const tx = buildTransfer({ chainId: this.chainId, seed: a.key.seed, nonce: a.nonce, fee: 100n, to: addressFromPublicKey(to), amount });
          await rpc(url, 'joule_sendRawTransaction', [`0x${toHex(tx.bytes)}`], 2000);
          a.nonce++;
          accepted++;
          this.submitted.push({ hash: `0x${toHex(tx.hash)}`, from: formatAddress(addressFromPublicKey(a.key.publicKey)) });
        } catch {
          a.nonce = undefined; // node down, or nonce out of step: re-read next time
        }
      }),
    );
    return accepted;
  }
}
