import { commandIdOf, isCommandExpired, issuedCommand, type CommandRecord, type IssuedCommand } from '../../core/command.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { type CommandAnchorBody, decodeCommandAnchorBody } from '../../core/tx/command-anchor.ts';
import { TxType } from '../../core/tx/types.ts';
import { decodeTx, MAX_TX_BYTES, type Tx } from '../../core/tx.ts';

/**
 * Issuing grid commands. A dso signs a command-anchor tx (type 28) naming the command and
 * submits it here (JSON-RPC joule_issueCommand, gRPC IssueCommand, `joule command issue`).
 * The node refuses an expired window at once, then admits the tx like any other (the VM's
 * rules: the sender holds the dso role and operates every target, in the zone it names;
 * signatures verified), and the moment it is admitted announces the command
 * ('command-issued'), so ingress pushes it to connected target devices without waiting for
 * consensus; the tx itself, gossiped and included, is the anchor.
 *
 * Why the issuer's own tx, not one from the node's account: the tx signature is the
 * issuer's authorization, checked by the same rules that check the anchor on chain, so no
 * second signature scheme, no hot node account that must hold funds and sequence nonces for
 * every dso, and the anchor's sender is the issuer for anyone auditing it. Every validator
 * that admits the anchor (from gossip too: `observe`) announces the command, so a device
 * connected to any validator gets it.
 *
 * A command is announced once per node (a bounded memory of hashes) and never once its
 * window has ended by this node's clock.
 */

/** Command hashes remembered as announced (oldest forgotten first). */
export const MAX_REMEMBERED_COMMANDS = 4096;

export interface CommandIssuerDeps {
  readonly chainId: string;
  /** The node's one door into the mempool; rejects with the typed rejection. */
  readonly submit: (bytes: Uint8Array) => Promise<Tx>;
  /** Announces a command (node event 'command-issued'). */
  readonly announce: (c: IssuedCommand) => void;
  /**
   * The command another tx type carries besides command-anchor: a flex-activate's command to
   * its bid's fleet (vm activationCommand, from the committed state). Announced like an anchor's.
   */
  readonly derived?: (tx: Tx) => CommandRecord | undefined;
  /** Wall clock, microseconds. */
  readonly nowUs?: () => bigint;
  readonly maxTxBytes?: number;
}

/** What issuing answers. */
export interface IssueResult {
  readonly command: IssuedCommand;
  readonly txHash: Uint8Array;
}

const wallClockUs = (): bigint => BigInt(Date.now()) * 1000n;

export class CommandIssuer {
  private readonly deps: CommandIssuerDeps;
  private readonly nowUs: () => bigint;
  /** Insertion-ordered: the first key is the oldest. */
  private readonly announced = new Set<string>();

  constructor(deps: CommandIssuerDeps) {
    this.deps = deps;
    this.nowUs = deps.nowUs ?? wallClockUs;
  }

  /**
   * Issues the command a signed command-anchor tx carries: COMMAND_EXPIRED for a window that
   * has ended, TX_UNKNOWN_TYPE-like TX_INVALID_FIELD for another tx type, the admission's
   * typed rejection for the rest (TX_UNAUTHORIZED for a target the sender does not operate).
   */
  async issue(bytes: Uint8Array): Promise<IssueResult> {
    const tx = decodeTx(bytes, this.deps.maxTxBytes ?? MAX_TX_BYTES);
    if (tx.type !== TxType.commandAnchor)
      throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must be a command-anchor transaction (type ${TxType.commandAnchor}), got type ${tx.type}`, 'tx.type');
    if (tx.chainId !== this.deps.chainId) throw new JouleError(ErrorCode.TX_WRONG_CHAIN, `signed for chain ${JSON.stringify(tx.chainId)}`, 'tx.chainId');
    const body = decodeCommandAnchorBody(tx.body);
    this.refuseExpired(body);
    const admitted = await this.deps.submit(bytes);
    // Verification took time: a window that ended meanwhile is not delivered (the anchor still lands).
    this.refuseExpired(body);
    const command = this.commandOf(admitted, body);
    this.announceOnce(command);
    return { command, txHash: admitted.hash };
  }

  /**
   * A tx this node admitted (from gossip, or a flex activation submitted here): a
   * command-anchor, or a tx that carries a command (`derived`), is announced here too.
   */
  observe(tx: Tx): void {
    if (tx.type !== TxType.commandAnchor) {
      const c = this.deps.derived?.(tx);
      if (c !== undefined && !isCommandExpired(c, this.nowUs())) this.announceOnce(issuedCommand(this.deps.chainId, c));
      return;
    }
    let body: CommandAnchorBody;
    try {
      body = decodeCommandAnchorBody(tx.body);
    } catch {
      return; // admitted txs decode; nothing to announce otherwise
    }
    if (isCommandExpired(body, this.nowUs())) return;
    this.announceOnce(this.commandOf(tx, body));
  }

  private refuseExpired(body: CommandAnchorBody): void {
    const now = this.nowUs();
    if (isCommandExpired(body, now))
      throw new JouleError(ErrorCode.COMMAND_EXPIRED, `the window ended at ${body.validUntilUs} us, not after now (${now} us)`, 'tx.body.validUntilUs');
  }

  private commandOf(tx: Tx, body: CommandAnchorBody): IssuedCommand {
    return issuedCommand(this.deps.chainId, { ...body, issuer: tx.from });
  }

  private announceOnce(c: IssuedCommand): void {
    const id = commandIdOf(c.commandHash);
    if (this.announced.has(id)) return;
    this.announced.add(id);
    if (this.announced.size > MAX_REMEMBERED_COMMANDS) this.announced.delete(this.announced.values().next().value!);
    this.deps.announce(c);
  }
}
