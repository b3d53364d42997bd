import { closeSync, fsyncSync, fstatSync, ftruncateSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { ErrorCode, JouleError, isJouleError } from '../../core/errors.ts';
import { StorageFailure, storageFailure, type StorageOp } from '../../core/storage-error.ts';
import { decodeWalRecord, walRecordHeight } from '../../consensus/wal-record.ts';
import type { WalRecord } from '../../consensus/types.ts';

/**
 * The consensus write-ahead log: an append-only file of what this validator is about to
 * sign. File = MAGIC, then frames:
 *   [u32be bodyLength][u32be crc32(body)][body = u64be height ++ payload]
 * Each append is one write followed by fsync, so a crash can only leave an incomplete
 * frame at the very end.
 */
const MAGIC = Buffer.from('JOULEWAL1\n');
const FRAME_HEADER = 8;
const HEIGHT_BYTES = 8;
/** No honest record comes close (a record holds at most one block and its votes). */
const MAX_BODY = 64 * 1024 * 1024;
/** ConsensusRecordLog.pruneWhenDue's bounds on the records of stored heights kept. */
const PRUNE_AFTER_HEIGHTS = 16;
const PRUNE_AFTER_BYTES = 8 * 1024 * 1024;

export interface WalEntry {
  readonly height: number;
  readonly payload: Uint8Array;
}

function corrupt(path: string, offset: number, why: string): JouleError {
  return new JouleError(
    ErrorCode.WAL_CORRUPT,
    `consensus WAL ${path} is corrupt at byte offset ${offset}: ${why}. Refusing to start: the node could sign conflicting votes. Inspect the file; only an operator may move it aside.`,
    'wal',
  );
}

function frame(height: number, payload: Uint8Array): Buffer {
  const body = Buffer.alloc(HEIGHT_BYTES + payload.length);
  body.writeBigUInt64BE(BigInt(height), 0);
  body.set(payload, HEIGHT_BYTES);
  const header = Buffer.alloc(FRAME_HEADER);
  header.writeUInt32BE(body.length, 0);
  header.writeUInt32BE(crc32(body), 4);
  return Buffer.concat([header, body]);
}

/** Every failure to write the WAL is this node's disk (full, read-only, gone): fatal, whatever errno says. */
function walFailure(e: unknown, path: string, op: StorageOp): StorageFailure {
  return storageFailure(e, path, op) ?? new StorageFailure(path, op, (e as { code?: string }).code ?? 'unknown', (e as Error).message ?? String(e));
}

function fsyncDir(path: string): void {
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class ConsensusWal {
  readonly path: string;
  private fd: number;
  /** Bytes of complete frames: where a failed append is cut back to. */
  private size: number;
  /** Set by a failed append or prune: the file may not hold what was asked; nothing more is written. */
  private failure: StorageFailure | undefined;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
    this.size = fstatSync(fd).size;
  }

  /** Opens (creating if absent) and replays the log. Throws WAL_CORRUPT on any damage but a torn tail. */
  static open(path: string): { wal: ConsensusWal; entries: WalEntry[] } {
    const fd = openSync(path, 'a+');
    try {
      const size = fstatSync(fd).size;
      const data = Buffer.alloc(size);
      let got = 0;
      while (got < size) got += readSync(fd, data, got, size - got, got);
      if (size < MAGIC.length) {
        // A crash while creating the file: the magic is incomplete. Anything else is not ours.
        if (!MAGIC.subarray(0, size).equals(data)) throw corrupt(path, 0, 'not a Joule consensus WAL');
        ftruncateSync(fd, 0);
        writeSync(fd, MAGIC);
        fsyncSync(fd);
        fsyncDir(path);
        return { wal: new ConsensusWal(path, fd), entries: [] };
      }
      if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt(path, 0, 'bad magic (not a Joule consensus WAL)');
      const entries: WalEntry[] = [];
      let off = MAGIC.length;
      while (off < size) {
        if (size - off < FRAME_HEADER) {
          // Torn tail: the LAST frame's header is incomplete (crash mid-append). Its write never
          // returned, so nothing was signed or sent on its account; truncating it is safe.
          truncateTail(fd, off);
          break;
        }
        const length = data.readUInt32BE(off);
        const sum = data.readUInt32BE(off + 4);
        if (length < HEIGHT_BYTES || length > MAX_BODY) throw corrupt(path, off, `impossible record length ${length}`);
        if (off + FRAME_HEADER + length > size) {
          // Torn tail: complete header, incomplete body, and nothing can follow it. Same reasoning.
          truncateTail(fd, off);
          break;
        }
        const body = data.subarray(off + FRAME_HEADER, off + FRAME_HEADER + length);
        if (crc32(body) !== sum) throw corrupt(path, off, 'checksum mismatch');
        const height = Number(body.readBigUInt64BE(0));
        entries.push({ height, payload: new Uint8Array(body.subarray(HEIGHT_BYTES)) });
        off += FRAME_HEADER + length;
      }
      return { wal: new ConsensusWal(path, fd), entries };
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Appends one record and fsyncs it; returns only once it is durable. */
  append(height: number, payload: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    const f = frame(height, payload);
    try {
      let written = 0;
      while (written < f.length) written += writeSync(this.fd, f, written, f.length - written);
      fsyncSync(this.fd);
      this.size += f.length;
    } catch (e) {
      // A partial frame followed by later ones would read as corruption at the next start:
      // cut it off (best effort; a torn tail alone is dropped on open anyway) and write no more.
      try {
        ftruncateSync(this.fd, this.size);
      } catch {}
      this.failure = walFailure(e, this.path, 'wal-append');
      throw this.failure;
    }
  }

  /**
   * Drops records of heights below `height` (the last committed height): rewrites the kept
   * records to a temporary file, fsyncs it and renames it over the log (atomic on POSIX).
   */
  prune(height: number, entries: readonly WalEntry[]): void {
    if (this.failure !== undefined) throw this.failure;
    try {
      this.rewrite(height, entries);
    } catch (e) {
      this.failure = walFailure(e, this.path, 'wal-prune');
      throw this.failure;
    }
  }

  private rewrite(height: number, entries: readonly WalEntry[]): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, MAGIC);
      for (const e of entries) if (e.height >= height) writeSync(fd, frame(e.height, e.payload));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    fsyncDir(this.path);
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function truncateTail(fd: number, offset: number): void {
  ftruncateSync(fd, offset);
  fsyncSync(fd);
}

/**
 * The consensus-level view: frames decoded into WalRecords. A frame that passes its
 * checksum but does not decode is corruption too (never skipped). Keeps the entries so
 * `prune` can rewrite them; call `append` through `persist`.
 */
export class ConsensusRecordLog {
  private readonly wal: ConsensusWal;
  private entries: WalEntry[];
  readonly records: readonly WalRecord[];

  private constructor(wal: ConsensusWal, entries: WalEntry[], records: WalRecord[]) {
    this.wal = wal;
    this.entries = entries;
    this.records = records;
  }

  static open(path: string): ConsensusRecordLog {
    const { wal, entries } = ConsensusWal.open(path);
    const records: WalRecord[] = [];
    let offset = MAGIC.length;
    for (const e of entries) {
      try {
        const r = decodeWalRecord(e.payload);
        if (walRecordHeight(r) !== e.height) throw new Error(`record height ${walRecordHeight(r)} differs from frame height ${e.height}`);
        records.push(r);
      } catch (err) {
        wal.close();
        throw corrupt(path, offset, `undecodable record (${isJouleError(err) || err instanceof Error ? err.message : String(err)})`);
      }
      offset += FRAME_HEADER + HEIGHT_BYTES + e.payload.length;
    }
    return new ConsensusRecordLog(wal, entries, records);
  }

  /** Executes a `persist` action: durable when this returns. */
  persist(height: number, bytes: Uint8Array): void {
    this.wal.append(height, bytes);
    this.entries.push({ height, payload: bytes });
  }

  /** Call after storing block `committedHeight`: records below it are no longer needed. */
  prune(committedHeight: number): void {
    if (!this.entries.some((e) => e.height < committedHeight)) return;
    this.wal.prune(committedHeight, this.entries);
    this.entries = this.entries.filter((e) => e.height >= committedHeight);
  }

  /**
   * `prune`, once what it would drop spans PRUNE_AFTER_HEIGHTS heights or PRUNE_AFTER_BYTES:
   * after each commit. A rewrite costs two fsyncs and a rename on the commit's critical
   * path; records of stored heights are only dead weight (restoreHeight reads one height),
   * so they may wait, within both bounds.
   */
  pruneWhenDue(committedHeight: number): void {
    const oldest = this.entries[0];
    if (oldest === undefined || oldest.height >= committedHeight) return;
    let stale = 0;
    for (const e of this.entries) if (e.height < committedHeight) stale += e.payload.length;
    if (committedHeight - oldest.height >= PRUNE_AFTER_HEIGHTS || stale >= PRUNE_AFTER_BYTES) this.prune(committedHeight);
  }

  close(): void {
    this.wal.close();
  }
}
