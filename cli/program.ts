import { Command, CommanderError } from 'commander';
import { isJouleError } from '../core/errors.ts';
import { registerCardCommands } from './commands/card.ts';
import { registerDeviceCommands } from './commands/device.ts';
import { registerCommandCommands } from './commands/command.ts';
import { registerEnergyCommands } from './commands/energy.ts';
import { registerMarketCommands } from './commands/market.ts';
import { registerFlexCommands } from './commands/flex.ts';
import { registerReversalCommands } from './commands/reversal.ts';
import { registerGenesisCommands } from './commands/genesis.ts';
import { registerKeysCommands } from './commands/keys.ts';
import { registerKeysInitCommand } from './commands/keys-init.ts';
import { registerKeysPopCommand } from './commands/keys-pop.ts';
import { registerNodeCommands } from './commands/node.ts';
import { registerQueryCommands } from './commands/query.ts';
import { registerRoleCommands } from './commands/role.ts';
import { registerSimulateCommands } from './commands/simulate.ts';
import { registerStateCommands } from './commands/state.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerTelemetryCommands } from './commands/telemetry.ts';
import { registerTxCommands } from './commands/tx.ts';
import { registerValidatorsCommands } from './commands/validators.ts';
import { registerAgreementCommands } from './commands/agreement.ts';
import { CliError } from './rpc-client.ts';

/**
 * The `joule` command. The tree groups by what the operator acts on, so later issues add
 * leaves rather than reshuffle it:
 *   keys generate|show|init|pop   genesis init|assemble|validate|hash
 *   card export|verify            (the genesis ceremony: keys init, card export, genesis
 *                                  assemble, init --expect-hash --cards)
 *   init | start | devnet         (node lifecycle, cli/commands/node.ts)
 *   verify-state                  (recompute a stopped node's state tree, cli/commands/state.ts)
 *   status                        tx transfer|validator-vote|make-pop
 *   query account|block|tx|proof|validators|evidence|validator-votes|device|devices|roles|
 *         readings|intervals|health
 *   device register|update|suspend|revoke|reactivate|rekey       role vote
 *   telemetry submit|resolve      simulate devices
 *   energy list|show|transfer|retire   certificates list|show   currency mint|burn
 *   grid-intensity post
 *   (Consensus: `validators transition` — the confirmed emergency transition written into
 *    every remaining node's config; markets add a `market` group, governed reversals a
 *    `reversal` group: propose|approve|show|governors;
 *    `agreement propose|sign|withdraw|collateralise|dispute|vote|show|list` bilateral agreements.)
 * Every failure prints `error CODE: message` on stderr and exits non-zero.
 */
export function buildProgram(): Command {
  const program = new Command('joule')
    .description('Joule: a permissioned BFT blockchain node for the energy sector')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Throw instead of process.exit, so run() owns the exit code and pending output flushes.
    .exitOverride();
  const keys = registerKeysCommands(program);
  registerKeysInitCommand(keys);
  registerKeysPopCommand(keys);
  registerCardCommands(program);
  registerGenesisCommands(program);
  registerNodeCommands(program);
  registerStatusCommand(program);
  registerTxCommands(program);
  registerQueryCommands(program);
  registerValidatorsCommands(program);
  registerDeviceCommands(program);
  registerCommandCommands(program);
  registerRoleCommands(program);
  registerTelemetryCommands(program);
  registerSimulateCommands(program);
  registerEnergyCommands(program);
  registerMarketCommands(program);
  registerFlexCommands(program);
  registerReversalCommands(program);
  registerStateCommands(program);
  registerAgreementCommands(program);
  return program;
}

/** Prints an error the way every command does; returns the exit code. */
export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // Commander already printed the usage problem or help; its exit code says which
    // (0 for --help and --version, 1 for a group called without a subcommand or bad usage).
    return e.exitCode;
  }
  if (e instanceof CliError || isJouleError(e)) {
    process.stderr.write(`error ${e.code}: ${e.message}\n`);
    return 1;
  }
  const err = e as Error;
  process.stderr.write(`error INTERNAL: ${err?.message ?? String(e)}\n`);
  if (process.env.JOULE_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
  else process.stderr.write('(set JOULE_DEBUG=1 for a stack trace)\n');
  return 1;
}

/** Runs the CLI; resolves to the exit code (also leaves it in process.exitCode). */
export async function run(argv: readonly string[] = process.argv): Promise<number> {
  let code: number;
  try {
    await buildProgram().parseAsync([...argv]);
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    code = reportError(e);
  }
  process.exitCode = code;
  return code;
}
