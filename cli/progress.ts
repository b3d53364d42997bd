/**
 * A one-line progress indicator for long-running CLI actions (key derivation, waiting for
 * finality). It writes to stderr so `--json` output on stdout stays machine-readable.
 * On a TTY it redraws a spinner line in place; otherwise (CI logs, pipes) it prints plain
 * lines, rate-limited, because carriage-return animations turn into garbage in log files.
 */

export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean | undefined;
}

export interface ProgressOptions {
  readonly stream?: ProgressStream;
  /** Overrides stream.isTTY (tests). */
  readonly tty?: boolean;
  /** Minimum time between plain (non-TTY) lines, ms. */
  readonly plainIntervalMs?: number;
}

export interface Progress {
  /** Replaces the text after the spinner. */
  update(text: string): void;
  /** Ends the line with a success mark and optional final text. */
  succeed(text?: string): void;
  /** Ends the line with a failure mark and optional final text. */
  fail(text?: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 100;
const CLEAR_LINE = '\r\x1b[2K';

function elapsed(startedAt: number): string {
  return `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
}

export function startProgress(text: string, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? stream.isTTY === true;
  const startedAt = Date.now();
  let current = text;
  let ended = false;

  if (!tty) {
    const interval = opts.plainIntervalMs ?? 2000;
    let lastPrinted = current;
    let lastAt = Date.now();
    stream.write(`${current} ...\n`);
    return {
      update(t) {
        current = t;
        if (ended || t === lastPrinted || Date.now() - lastAt < interval) return;
        lastPrinted = t;
        lastAt = Date.now();
        stream.write(`${t} ...\n`);
      },
      succeed(t) {
        if (ended) return;
        ended = true;
        stream.write(`done: ${t ?? current} (${elapsed(startedAt)})\n`);
      },
      fail(t) {
        if (ended) return;
        ended = true;
        stream.write(`failed: ${t ?? current} (${elapsed(startedAt)})\n`);
      },
    };
  }

  let frame = 0;
  const draw = (): void => {
    stream.write(`${CLEAR_LINE}${FRAMES[frame++ % FRAMES.length]} ${current} (${elapsed(startedAt)})`);
  };
  draw();
  const timer = setInterval(draw, FRAME_MS);
  timer.unref(); // a forgotten progress line must never keep the process alive
  const end = (mark: string, t: string | undefined): void => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    stream.write(`${CLEAR_LINE}${mark} ${t ?? current} (${elapsed(startedAt)})\n`);
  };
  return {
    update(t) {
      current = t;
    },
    succeed: (t) => end('✔', t),
    fail: (t) => end('✖', t),
  };
}

/**
 * Runs `work` behind a progress line that it may update: the line ends failed if `work`
 * throws (the error goes on), and succeeded, with `done(result)` if given, if it returns.
 */
export async function withProgress<T>(
  text: string,
  work: (progress: Progress) => Promise<T>,
  done?: (result: T) => string,
  opts: ProgressOptions = {},
): Promise<T> {
  const progress = startProgress(text, opts);
  let result: T;
  try {
    result = await work(progress);
  } catch (e) {
    progress.fail();
    throw e;
  }
  progress.succeed(done?.(result));
  return result;
}
