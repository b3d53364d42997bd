import type { Command } from 'commander';
import { verifyHomeState } from '../../node/chain/verify-home.ts';
import { startProgress } from '../progress.ts';

/** `joule verify-state --home DIR`: recomputes a stopped node's state tree and checks it against the chain. */
export function registerStateCommands(program: Command): void {
  program
    .command('verify-state')
    .description('recompute the whole state tree of a stopped node from its stored values and check it against the head block')
    .requiredOption('--home <dir>', 'the node home (the node must be stopped)')
    .action(async (o) => {
      const progress = startProgress('reading state values');
      try {
        const r = await verifyHomeState(o.home, (p) =>
          progress.update(
            p.phase === 'reading'
              ? `reading state values: ${p.values.toLocaleString('en-US')}`
              : `hashing ${p.values.toLocaleString('en-US')} values into the tree`,
          ),
        );
        progress.succeed(`state verified: ${r.values.toLocaleString('en-US')} values at height ${r.height}`);
        console.log(`height      ${r.height}`);
        console.log(`state root  0x${Buffer.from(r.stateRoot).toString('hex')}`);
        console.log(`values      ${r.values}`);
      } catch (e) {
        progress.fail('state verification failed');
        throw e;
      }
    });
}
