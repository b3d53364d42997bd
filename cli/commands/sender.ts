/**
 * What every `joule tx <type>` shares: the sender context (key, chain id, nonce), the
 * common options, and submitTx (submit, optionally wait for finality and print the receipt).
 */
import type { Command } from 'commander';
import { toHex } from '../../core/bytes.ts';
import { ErrorCode, isJouleError } from '../../core/errors.ts';
import type { Tx } from '../../core/tx.ts';
import type { StatusJson, TransactionJson } from '../../core/rpc-json.ts';
import { startProgress } from '../progress.ts';
import { CliError, resolveRpcUrl, rpcOption, RpcClient } from '../rpc-client.ts';
import { loadKey, passphraseFileOption } from './keys.ts';

const POLL_MS = 250;
const UINT64_LIMIT = 2n ** 64n;

export function parseAmount(v: string, name: string, allowZero = false): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(v) || BigInt(v) >= UINT64_LIMIT || (!allowZero && v === '0')) {
    throw new CliError(
      'INVALID_PARAMS',
      `--${name} must be a whole number of micro-units${allowZero ? '' : ' above 0'} below 2^64, got ${JSON.stringify(v)}`,
      name,
    );
  }
  return BigInt(v);
}

export interface SenderOptions {
  key: string;
  passphraseFile?: string;
  nonce?: string;
  rpc?: string;
}

export interface SenderContext {
  readonly client: RpcClient;
  readonly chainId: string;
  readonly seed: Uint8Array;
  readonly address: string;
  readonly nonce: number;
  /** --nonce was given: that nonce and no other. */
  readonly nonceGiven: boolean;
}

/** Nonces tried at most when the node's own aggregator takes the one a tx was built at. */
const NONCE_TRIES = 3;

/** The account's next free nonce at the node: past its pending txs, and past its node's own batches when it is that node's aggregator. */
async function pendingNonce(client: RpcClient, address: string): Promise<number> {
  const a = await client.call<{ nonce: number; pendingNonce?: number }>('joule_getAccount', [address]);
  return a.pendingNonce ?? a.nonce;
}

/**
 * Runs `send` at the sender's nonce. An operator's node batches its devices' readings from
 * the operator's own account, so a batch may take that nonce between the nonce's lookup and
 * the tx's arrival: the node then refuses the tx with MEMPOOL_NONCE_TAKEN, and, unless --nonce
 * was given, it is built again at the account's fresh pendingNonce.
 */
export async function atFreeNonce<T>(ctx: SenderContext, send: (nonce: number) => Promise<T>): Promise<T> {
  let nonce = ctx.nonce;
  for (let tries = 1; ; tries++) {
    try {
      return await send(nonce);
    } catch (e) {
      if (ctx.nonceGiven || tries >= NONCE_TRIES || !(e instanceof CliError) || e.code !== ErrorCode.MEMPOOL_NONCE_TAKEN) throw e;
      nonce = await pendingNonce(ctx.client, ctx.address);
    }
  }
}

/** Loads the sender's key, then asks the node for the chain id and the sender's next nonce. */
export async function senderContext(opts: SenderOptions): Promise<SenderContext> {
  const key = await loadKey(opts.key, opts.passphraseFile, 'ed25519');
  const client = new RpcClient(resolveRpcUrl(opts.rpc));
  const status = await client.call<StatusJson>('joule_status');
  let nonce: number;
  if (opts.nonce !== undefined) {
    if (!/^[0-9]+$/.test(opts.nonce) || !Number.isSafeInteger(Number(opts.nonce)))
      throw new CliError('INVALID_PARAMS', `--nonce must be a non-negative integer, got ${JSON.stringify(opts.nonce)}`, 'nonce');
    nonce = Number(opts.nonce);
  } else {
    nonce = await pendingNonce(client, key.address!);
  }
  return { client, chainId: status.chainId, seed: key.secret, address: key.address!, nonce, nonceGiven: opts.nonce !== undefined };
}

export interface SubmitOptions {
  wait?: boolean;
  timeout?: string;
  json?: boolean;
}

function printReceipt(t: TransactionJson): void {
  const lines = [
    `tx        ${t.hash}`,
    `status    ${t.receipt.success ? 'success' : `FAILED (${t.receipt.code})`}`,
    `block     ${t.blockHeight} ${t.blockHash}`,
    `fee paid  ${t.receipt.feePaid}`,
    ...t.receipt.events.map(
      (e) =>
        `event     ${e.type} ${Object.entries(e.attributes)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Polls joule_getTransaction (it answers only once the tx is in a final block). */
async function waitFinal(client: RpcClient, hash: string, timeoutMs: number): Promise<TransactionJson> {
  const progress = startProgress(`waiting for ${hash.slice(0, 12)}… to be final`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const t = await client.call<TransactionJson | null>('joule_getTransaction', [hash]);
      if (t !== null) {
        progress.succeed(`final in block ${t.blockHeight}`);
        return t;
      }
    } catch (e) {
      // A node busy or restarting is not a reason to give up before the deadline.
      if (!(e instanceof CliError) || !['RPC_TIMEOUT', 'RPC_UNREACHABLE'].includes(e.code)) {
        progress.fail();
        throw e;
      }
      progress.update(`waiting for ${hash.slice(0, 12)}… (node not answering: ${e.code})`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  progress.fail(`not final after ${timeoutMs / 1000}s`);
  throw new CliError(
    'TX_WAIT_TIMEOUT',
    `transaction ${hash} was submitted but is not final after ${timeoutMs / 1000}s; it may still be included (check: joule query tx ${hash})`,
  );
}

/** Submits a signed tx; with --wait, waits until final and prints the receipt (exit 1 if it failed). */
export async function submitTx(client: RpcClient, tx: Tx, opts: SubmitOptions, summary: Record<string, unknown>): Promise<void> {
  const { hash } = await client.call<{ hash: string }>('joule_sendRawTransaction', [`0x${toHex(tx.bytes)}`]);
  if (opts.wait !== true) {
    if (opts.json === true) process.stdout.write(`${JSON.stringify({ hash, ...summary })}\n`);
    else process.stdout.write(`submitted ${hash}\n`);
    return;
  }
  if (opts.json !== true) process.stderr.write(`submitted ${hash}\n`);
  const seconds = opts.timeout === undefined ? 60 : Number(opts.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new CliError('INVALID_PARAMS', `--timeout must be a positive number of seconds, got ${opts.timeout}`, 'timeout');
  const t = await waitFinal(client, hash, seconds * 1000);
  if (opts.json === true) process.stdout.write(`${JSON.stringify(t)}\n`);
  else printReceipt(t);
  if (!t.receipt.success) {
    process.stderr.write(`error ${t.receipt.code || 'TX_FAILED'}: transaction ${hash} is final but failed\n`);
    process.exitCode = 1;
  }
}

/** What a command that sends one tx takes: the sender, the fee, and how to submit. */
export type TxOptions = SenderOptions & SubmitOptions & { fee: string };

/** A body rule broken by the options (e.g. a bad zone) as the option's error. */
export function withBodyErrors<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw asOptionError(e);
  }
}

function asOptionError(e: unknown): unknown {
  return isJouleError(e) ? new CliError(e.code, e.message, e.field?.replace(/^tx\.body\./, '')) : e;
}

/** Builds a tx from the sender's context and `--fee`, then submits it (`--wait`: until final). */
export async function sendTx(opts: TxOptions, build: (ctx: SenderContext, fee: bigint) => Tx | Promise<Tx>, summary: Record<string, unknown>): Promise<void> {
  const fee = parseAmount(opts.fee, 'fee', true);
  const ctx = await senderContext(opts);
  await atFreeNonce(ctx, async (nonce) => {
    let tx: Tx;
    try {
      tx = await build({ ...ctx, nonce }, fee);
    } catch (e) {
      throw asOptionError(e);
    }
    await submitTx(ctx.client, tx, opts, { from: ctx.address, ...summary, fee: fee.toString(), nonce });
  });
}

/**
 * Options every `tx` subcommand has. `defaultFee` is the default chain's base fee of the
 * type's mempool tier (peer_to_peer 10, grid_balancing 25 in core/params.ts DEFAULT_PARAMS).
 */
export function withSenderOptions(cmd: Command, defaultFee = '10'): Command {
  return cmd
    .requiredOption('--key <file>', "the sender's ed25519 key file")
    .addOption(passphraseFileOption())
    .option('--fee <micro>', `fee in micro-units (the default chain's minimum for this type is ${defaultFee})`, defaultFee)
    .option('--nonce <n>', "use this nonce instead of the account's next free one (its pendingNonce at the node)")
    .addOption(rpcOption())
    .option('--wait', 'wait until the transaction is final and print its receipt')
    .option('--timeout <seconds>', 'with --wait: give up after this long', '60')
    .option('--json', 'print one JSON object');
}
