import { execFile, execFileSync } from 'node:child_process';

/**
 * iproute2, run as a program (this machine may have no iptables/nft; iproute2 is all the
 * harness relies on). Errors carry the command and its stderr, so a failing setup says why.
 */
export function ip(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout);
      else reject(new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
    });
  });
}

/** Synchronous form, for exit and signal handlers (no event loop left to await in). */
export function ipSync(args: readonly string[]): string {
  try {
    return execFileSync('ip', args, { timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch {
    return '';
  }
}

/** Whether a process with this pid exists (signal 0 probes without sending anything). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of the processes living in a named network namespace. */
export function netnsPidsSync(ns: string): number[] {
  return ipSync(['netns', 'pids', ns])
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((p) => Number.isInteger(p) && p > 0);
}
