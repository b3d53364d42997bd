import { describe, expect, it } from 'vitest';
import { commandHash, type CommandFields, type CommandRecord, type IssuedCommand } from '../../core/command.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { buildCommandAnchor } from '../../core/tx/command-anchor.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { decodeTx, type Tx } from '../../core/tx.ts';
import { CommandIssuer, MAX_REMEMBERED_COMMANDS } from './issuer.ts';
import { zoneTargets } from './targets.ts';
import type { DeviceRecord } from '../../core/device.ts';

const CHAIN = 'joule-test';
const seed = new Uint8Array(32).fill(3);
const NOW = 1_700_000_000_000_000n;

const fields = (over: Partial<CommandFields> = {}): CommandFields => ({
  type: 1,
  deviceIds: ['bat-1'],
  zone: undefined,
  powerLimitW: 2000,
  priceMicroPerKwh: 90_000n,
  validFromUs: NOW,
  validUntilUs: NOW + 60_000_000n,
  ...over,
});
const anchor = (over: Partial<CommandFields> = {}, nonce = 0) => buildCommandAnchor({ chainId: CHAIN, seed, nonce, fee: 25n, ...fields(over) });

function setup(opts: { reject?: JouleError; nowUs?: () => bigint; derived?: (tx: Tx) => CommandRecord | undefined } = {}) {
  const announced: IssuedCommand[] = [];
  const submitted: Tx[] = [];
  let now = NOW;
  const issuer = new CommandIssuer({
    chainId: CHAIN,
    submit: async (bytes) => {
      if (opts.reject !== undefined) throw opts.reject;
      const tx = decodeTx(bytes);
      submitted.push(tx);
      return tx;
    },
    announce: (c) => announced.push(c),
    nowUs: opts.nowUs ?? (() => now),
    ...(opts.derived === undefined ? {} : { derived: opts.derived }),
  });
  return { issuer, announced, submitted, setNow: (n: bigint) => void (now = n) };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof JouleError) return `${e.code} ${e.field}`;
    throw e;
  }
  throw new Error('not rejected');
}

describe('CommandIssuer', () => {
  it('admits the anchor, then announces the command once with its hash and resolved targets', async () => {
    const { issuer, announced, submitted } = setup();
    const tx = anchor({ deviceIds: ['bat-1', 'bat-2'], zone: 'NL' });
    const r = await issuer.issue(tx.bytes);
    expect(submitted.map((t) => t.hash)).toEqual([tx.hash]);
    expect(r.txHash).toEqual(tx.hash);
    const hash = commandHash(CHAIN, { ...fields({ deviceIds: ['bat-1', 'bat-2'], zone: 'NL' }), issuer: tx.from });
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatchObject({ commandHash: hash, deviceIds: ['bat-1', 'bat-2'], type: 1, powerLimitW: 2000, issuer: tx.from });
    // The same command seen again from gossip is not announced twice.
    issuer.observe(tx);
    expect(announced).toHaveLength(1);
  });

  it('refuses an expired window before submitting anything, and never announces it', async () => {
    const { issuer, announced, submitted } = setup();
    expect(await code(issuer.issue(anchor({ validFromUs: NOW - 10n, validUntilUs: NOW }).bytes))).toBe(`${ErrorCode.COMMAND_EXPIRED} tx.body.validUntilUs`);
    expect(submitted).toHaveLength(0);
    issuer.observe(anchor({ validFromUs: NOW - 10n, validUntilUs: NOW - 1n }));
    expect(announced).toHaveLength(0);
  });

  it('does not announce a command whose window ended while it was being admitted', async () => {
    let now = NOW;
    const announced: IssuedCommand[] = [];
    const issuer = new CommandIssuer({
      chainId: CHAIN,
      submit: async (bytes) => {
        now = NOW + 60_000_000n; // verification took until the end of the window
        return decodeTx(bytes);
      },
      announce: (c) => announced.push(c),
      nowUs: () => now,
    });
    expect(await code(issuer.issue(anchor().bytes))).toBe(`${ErrorCode.COMMAND_EXPIRED} tx.body.validUntilUs`);
    expect(announced).toHaveLength(0);
  });

  it("passes on the admission's typed refusal (a target the sender does not operate) and announces nothing", async () => {
    const { issuer, announced } = setup({ reject: new JouleError(ErrorCode.TX_UNAUTHORIZED, 'does not operate', 'tx.body.deviceIds[0]') });
    expect(await code(issuer.issue(anchor().bytes))).toBe(`${ErrorCode.TX_UNAUTHORIZED} tx.body.deviceIds[0]`);
    expect(announced).toHaveLength(0);
  });

  it('refuses another tx type, another chain, and garbage, typed', async () => {
    const { issuer } = setup();
    const transfer = buildTransfer({ chainId: CHAIN, seed, nonce: 0, fee: 10n, to: new Uint8Array(20), amount: 1n });
    expect(await code(issuer.issue(transfer.bytes))).toBe(`${ErrorCode.TX_INVALID_FIELD} tx.type`);
    const other = buildCommandAnchor({ chainId: 'other', seed, nonce: 0, fee: 25n, ...fields() });
    expect(await code(issuer.issue(other.bytes))).toBe(`${ErrorCode.TX_WRONG_CHAIN} tx.chainId`);
    expect(await code(issuer.issue(new Uint8Array([1, 2, 3])))).toMatch(/^CODEC_/);
  });

  it('announces anchors admitted from gossip, ignores other types, and remembers a bounded number', async () => {
    const { issuer, announced } = setup();
    issuer.observe(buildTransfer({ chainId: CHAIN, seed, nonce: 0, fee: 10n, to: new Uint8Array(20), amount: 1n }));
    expect(announced).toHaveLength(0);
    for (let i = 0; i <= MAX_REMEMBERED_COMMANDS; i++) issuer.observe(anchor({ powerLimitW: 1000 + i }));
    expect(announced).toHaveLength(MAX_REMEMBERED_COMMANDS + 1);
    issuer.observe(anchor({ powerLimitW: 1000 })); // the oldest was forgotten
    expect(announced).toHaveLength(MAX_REMEMBERED_COMMANDS + 2);
    issuer.observe(anchor({ powerLimitW: 1000 + MAX_REMEMBERED_COMMANDS })); // the newest is remembered
    expect(announced).toHaveLength(MAX_REMEMBERED_COMMANDS + 2);
  });
});

describe('CommandIssuer: commands other txs carry', () => {
  it('announces the command a flex activation carries (derived from it), once, and not once its window has ended', () => {
    const transfer = buildTransfer({ chainId: CHAIN, seed, nonce: 0, fee: 10n, to: new Uint8Array(20), amount: 1n });
    const issuer0 = new Uint8Array(20).fill(9);
    let window = fields();
    const { issuer, announced } = setup({ derived: (tx) => (tx.hash === transfer.hash ? { ...window, issuer: issuer0 } : undefined) });
    issuer.observe(transfer);
    issuer.observe(transfer);
    expect(announced).toHaveLength(1);
    expect(announced[0]!.commandHash).toEqual(commandHash(CHAIN, { ...fields(), issuer: issuer0 }));
    expect(announced[0]!.issuer).toEqual(issuer0);
    window = fields({ validFromUs: NOW - 10n, validUntilUs: NOW });
    issuer.observe(transfer);
    expect(announced).toHaveLength(1);
  });
});

describe('zoneTargets', () => {
  const device = (id: string, status: DeviceRecord['status'] = 'active') => ({ id, status }) as DeviceRecord;
  it("pages through the issuer's devices in the zone, leaving revoked ones out", async () => {
    const pages = [
      { devices: [device('b'), device('c', 'revoked')], next: 'c' },
      { devices: [device('a'), device('d', 'suspended')], next: undefined },
    ];
    const seen: unknown[] = [];
    const ids = await zoneTargets(
      async (q) => {
        seen.push(q);
        return pages.shift()!;
      },
      new Uint8Array(20),
      'NL',
    );
    expect(ids).toEqual(['a', 'b', 'd']);
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatchObject({ zone: 'NL', after: 'c' });
  });

  it('refuses a zone where the issuer operates no device', async () => {
    expect(await code(zoneTargets(async () => ({ devices: [], next: undefined }), new Uint8Array(20), 'BE'))).toBe(`${ErrorCode.NOT_FOUND} zone`);
  });
});
