/**
 * Where processes' CPU goes, by kind of thread, from /proc (Linux; undefined elsewhere): the
 * CPU seconds each kind has used so far, summed over the processes. Two readings, taken
 * around a run, give each kind's share of the machine during it.
 *
 * Kinds are told apart by the thread's name: Node names its main thread and worker threads
 * ("MainThread", "WorkerThread"), V8 its helpers ("V8Worker": garbage collection and
 * compilation), libuv its pool ("libuv-worker"). A thread a native module starts inherits the
 * name of the thread that started it: blst's pairing pool (@chainsafe/blst runs every
 * multi-pairing on it, whichever thread calls) is started from the main thread, so it is a
 * "MainThread" that is not the process's first thread.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** The kind blst's pairing pool falls under: what the ingress ceiling counts. */
export const BLST_THREADS = 'native threads of the main thread (blst pairings)';

export const THREAD_KINDS = [
  'main thread (JavaScript)',
  BLST_THREADS,
  'verification worker threads (decoding, subgroup checks)',
  'V8 helpers (GC)',
  'other',
] as const;
export type ThreadKind = (typeof THREAD_KINDS)[number];

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function kindOf(pid: number, tid: number, name: string): ThreadKind {
  if (tid === pid) return 'main thread (JavaScript)';
  if (name === 'MainThread') return BLST_THREADS;
  if (name === 'WorkerThread') return 'verification worker threads (decoding, subgroup checks)';
  if (name === 'V8Worker') return 'V8 helpers (GC)';
  return 'other';
}

/** CPU seconds used so far by the processes' threads, by kind; undefined without /proc. Threads that ended are not counted (take both readings while the processes run). */
export function threadCpuSeconds(pids: readonly number[]): Map<ThreadKind, number> | undefined {
  if (!existsSync('/proc/self/task')) return undefined;
  const hz = clockTicks();
  const out = new Map<ThreadKind, number>(THREAD_KINDS.map((k) => [k, 0]));
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        // Fields after the name (which may hold spaces): utime and stime are the 12th and 13th.
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const kind = kindOf(pid, Number(tid), name);
        out.set(kind, out.get(kind)! + (Number(f[11]) + Number(f[12])) / hz);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  }
  return out;
}

/** Cores each kind kept busy between two readings taken `seconds` apart. */
export function coresBusy(before: Map<ThreadKind, number>, after: Map<ThreadKind, number>, seconds: number): Map<ThreadKind, number> {
  return new Map(THREAD_KINDS.map((k) => [k, ((after.get(k) ?? 0) - (before.get(k) ?? 0)) / seconds]));
}

/** What the whole machine has spent so far, CPU seconds (/proc/stat): busy (all but idle and I/O wait), and stolen by the hypervisor for other guests; undefined without /proc. */
export function machineCpuSeconds(): { busy: number; steal: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return { busy: (user! + nice! + system! + irq! + softirq!) / clockTicks(), steal: (steal ?? 0) / clockTicks() };
  } catch {
    return undefined;
  }
}
