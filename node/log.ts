import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs (pino). `JOULE_LOG_PRETTY`-style prettifying is left to the
 * operator's tooling (pipe into pino-pretty); the node writes one JSON object per line.
 */
export function createLogger(opts: { name: string; level?: string; destination?: number | string }): Logger {
  const dest =
    opts.destination === undefined
      ? pino.destination({ fd: 1, sync: false })
      : typeof opts.destination === 'number'
        ? pino.destination({ fd: opts.destination, sync: false })
        : pino.destination({ dest: opts.destination, mkdir: true, sync: false });
  return pino({ name: opts.name, level: opts.level ?? 'info', base: { node: opts.name } }, dest);
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
