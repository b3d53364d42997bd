import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { QbftMachine } from '../../consensus/machine.ts';
import { encodeMessage, type ConsensusMessage } from '../../consensus/messages.ts';
import { messageSigningBytes, type Unsigned } from '../../core/signed-core.ts';
import { CHAIN_ID, testBlock, testValidators } from '../../consensus/testing/fixtures.ts';
import { defaultBlockDigest, type ConsensusAction } from '../../consensus/types.ts';
import { encodeWalRecord } from '../../consensus/wal-record.ts';
import { ConsensusRecordLog, ConsensusWal } from './wal.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function walPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'joule-wal-'));
  dirs.push(d);
  return join(d, 'consensus.wal');
}

const { keys, set } = testValidators(4);
const addr = (i: number) => keys[i]!.validator.address;
const sign = (i: number, m: Unsigned<ConsensusMessage>) => ({ ...m, signature: keys[i]!.signer.sign(messageSigningBytes(CHAIN_ID, m)) }) as ConsensusMessage;
const blockA = testBlock(1, null, addr(0), 0, 0, set.hash);
const blockB = testBlock(1, null, addr(0), 1, 0, set.hash);
const proposal = (block: Uint8Array) =>
  sign(0, { kind: 0, height: 1, round: 0, author: addr(0), digest: defaultBlockDigest(block), block, justification: null });

/** Drives validator 3 the way node/ will: persist actions go to the file before anything else. */
function drive(log: ConsensusRecordLog, acts: ConsensusAction[], sent: ConsensusMessage[], crashBeforeSend = false): void {
  for (const a of acts) {
    if (a.type === 'persist') {
      log.persist(a.height, a.bytes);
      if (crashBeforeSend) return; // the process dies here: nothing after the fsync happens
    }
    if (a.type === 'broadcast') sent.push(a.message);
  }
}

function startNode3(log: ConsensusRecordLog): { m: QbftMachine; acts: ConsensusAction[] } {
  const m = new QbftMachine({ chainId: CHAIN_ID, signer: keys[3]!.signer, requestTimeoutMs: 1000 });
  return { m, acts: m.step({ type: 'start', height: 1, validators: set, previousProposer: null, wal: log.records }) };
}

function threeRecords(path: string): Uint8Array[] {
  const wal = ConsensusWal.open(path).wal;
  const payloads = [1, 2, 3].map((h) =>
    encodeWalRecord({ type: 'signed', message: sign(1, { kind: 1, height: h, round: 0, author: addr(1), digest: defaultBlockDigest(blockA) }) }),
  );
  payloads.forEach((p, i) => wal.append(i + 1, p));
  wal.close();
  return payloads;
}

function expectCorrupt(path: string, offset: number): void {
  try {
    ConsensusRecordLog.open(path);
    expect.unreachable('open should fail');
  } catch (e) {
    expect(e).toBeInstanceOf(JouleError);
    expect((e as JouleError).code).toBe(ErrorCode.WAL_CORRUPT);
    expect((e as JouleError).message).toContain(path);
    expect((e as JouleError).message).toContain(`offset ${offset}`);
  }
}

describe('consensus WAL file', () => {
  it('replays appended records after reopening', () => {
    const path = walPath();
    const payloads = threeRecords(path);
    const { wal, entries } = ConsensusWal.open(path);
    expect(entries.map((e) => e.height)).toEqual([1, 2, 3]);
    expect(entries.map((e) => e.payload)).toEqual(payloads);
    wal.close();
    const log = ConsensusRecordLog.open(path);
    expect(log.records).toHaveLength(3);
    log.close();
  });

  it('truncates a torn final record (incomplete length) and keeps appending', () => {
    const path = walPath();
    threeRecords(path);
    const full = statSync(path).size;
    appendFileSync(path, Buffer.from([0, 0, 0, 40, 1, 2, 3, 4, 9, 9])); // header says 40 bytes, 2 present
    const { wal, entries } = ConsensusWal.open(path);
    expect(entries).toHaveLength(3);
    expect(statSync(path).size).toBe(full);
    wal.append(4, new Uint8Array([1]));
    wal.close();
    appendFileSync(path, Buffer.from([0, 0])); // torn header
    expect(ConsensusWal.open(path).entries.map((e) => e.height)).toEqual([1, 2, 3, 4]);
  });

  it('stops with WAL_CORRUPT naming file and offset on a bad checksum, even in the last record', () => {
    const path = walPath();
    threeRecords(path);
    const bytes = readFileSync(path);
    const frame = (bytes.length - 10) / 3; // magic is 10 bytes; frames have equal size here
    const middle = Buffer.from(bytes);
    middle[10 + frame + 12]! ^= 0xff;
    writeFileSync(path, middle);
    expectCorrupt(path, 10 + frame);
    const last = Buffer.from(bytes);
    last[bytes.length - 1]! ^= 0x01;
    writeFileSync(path, last);
    expectCorrupt(path, 10 + 2 * frame);
  });

  it('rejects a foreign file and an undecodable record', () => {
    const path = walPath();
    writeFileSync(path, 'hello world, not a wal');
    expectCorrupt(path, 0);
    const p2 = walPath();
    const { wal } = ConsensusWal.open(p2);
    wal.append(1, new Uint8Array([0x93, 1, 2, 3])); // checksum fine, not a consensus record
    wal.close();
    expectCorrupt(p2, 10);
  });

  it('prunes records below the last committed height', () => {
    const path = walPath();
    threeRecords(path);
    const log = ConsensusRecordLog.open(path);
    log.prune(3);
    log.persist(
      3,
      encodeWalRecord({ type: 'signed', message: sign(3, { kind: 1, height: 3, round: 1, author: addr(3), digest: defaultBlockDigest(blockA) }) }),
    );
    log.close();
    const again = ConsensusRecordLog.open(path);
    expect(again.records.map((r) => (r.type === 'signed' ? [r.message.height, r.message.round] : []))).toEqual([
      [3, 0],
      [3, 1],
    ]);
    again.close();
  });

  it('after a commit, keeps the records of stored heights until they span 16 heights, then drops them', () => {
    const path = walPath();
    const log = ConsensusRecordLog.open(path);
    const record = (h: number) =>
      encodeWalRecord({ type: 'signed', message: sign(3, { kind: 1, height: h, round: 0, author: addr(3), digest: defaultBlockDigest(blockA) }) });
    const heightsOnDisk = () => {
      const again = ConsensusRecordLog.open(path);
      const hs = again.records.map((r) => (r.type === 'signed' ? r.message.height : r.height));
      again.close();
      return hs;
    };
    for (let h = 1; h <= 15; h++) {
      log.persist(h, record(h));
      log.pruneWhenDue(h + 1);
    }
    // Heights 1-15 committed: the oldest record is 15 heights below the next, not yet due.
    expect(heightsOnDisk()).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    log.persist(17, record(17)); // 16 was committed without a record of this node
    log.pruneWhenDue(17);
    expect(heightsOnDisk()).toEqual([17]);
    log.close();
  });

  it('a validator killed between its fsync and its send never signs a conflicting vote after restart', () => {
    const path = walPath();
    const sent: ConsensusMessage[] = [];
    let log = ConsensusRecordLog.open(path);
    let n = startNode3(log);
    drive(log, n.acts, sent);
    drive(log, n.m.step({ type: 'message', bytes: encodeMessage(proposal(blockA)) }), sent);
    drive(log, n.m.step({ type: 'validated', height: 1, digest: defaultBlockDigest(blockA), verdict: 'valid' }), sent, true);
    expect(sent.filter((x) => x.kind === 1)).toHaveLength(0); // died before sending its PREPARE
    log.close();

    log = ConsensusRecordLog.open(path);
    n = startNode3(log);
    drive(log, n.acts, sent); // re-sends the PREPARE for A from the WAL
    drive(log, n.m.step({ type: 'message', bytes: encodeMessage(proposal(blockB)) }), sent);
    const acts = n.m.step({ type: 'validated', height: 1, digest: defaultBlockDigest(blockB), verdict: 'valid' });
    drive(log, acts, sent);
    expect(acts.some((a) => a.type === 'refused')).toBe(true);
    const prepares = sent.filter((x) => x.kind === 1);
    expect(prepares).toHaveLength(1);
    expect(prepares[0]!.kind === 1 && prepares[0]!.digest).toEqual(defaultBlockDigest(blockA));
    log.close();
  });
});
