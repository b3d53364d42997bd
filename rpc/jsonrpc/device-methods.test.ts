import { beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import type { DeviceRecord } from '../../core/device.ts';
import { sha256 } from '../../core/hash.ts';
import { blsFromSecret, formatAddress } from '../../core/keys.ts';
import { encodeRoleVoteBody } from '../../core/tx/role-vote.ts';
import { TxType } from '../../core/tx/types.ts';
import { createFakeNode, rpcCaller, type FakeNode } from '../testing/fake-node.ts';
import { MAX_DEVICE_PAGE } from './device-methods.ts';

let node: FakeNode;
let call: ReturnType<typeof rpcCaller>;

const op1 = new Uint8Array(20).fill(1);
const op2 = new Uint8Array(20).fill(2);
const key = (n: number) => blsFromSecret(new Uint8Array(32).fill(n)).publicKey;

function device(id: string, operator: Uint8Array, zone: string): DeviceRecord {
  return {
    id,
    publicKey: key(2),
    owner: new Uint8Array(20).fill(9),
    operator,
    kind: 'battery',
    zone,
    maxImportW: 5000,
    maxExportW: 4000,
    carbonIntensity: 12,
    checkMeter: undefined,
    status: 'active',
    keyHistory: [
      { key: key(1), fromHeight: 3 },
      { key: key(2), fromHeight: 40 },
    ],
  };
}

beforeEach(() => {
  node = createFakeNode();
  call = rpcCaller(node);
  for (const [id, op, zone] of [
    ['b-1', op1, 'NL'],
    ['a-1', op1, 'BE'],
    ['c-1', op2, 'NL'],
  ] as const) {
    node.devices.set(id, device(id, op, zone));
  }
});

describe('joule_getDevice', () => {
  it('returns the record with its key history and the state key that proves it; null when unknown', async () => {
    const d = (await call('joule_getDevice', ['b-1'])).result;
    expect(d).toEqual({
      id: 'b-1',
      publicKey: `0x${toHex(key(2))}`,
      owner: formatAddress(new Uint8Array(20).fill(9)),
      operator: formatAddress(op1),
      kind: 'battery',
      zone: 'NL',
      maxImportW: 5000,
      maxExportW: 4000,
      carbonIntensity: 12,
      checkMeter: null,
      status: 'active',
      keyHistory: [
        { key: `0x${toHex(key(1))}`, fromHeight: 3 },
        { key: `0x${toHex(key(2))}`, fromHeight: 40 },
      ],
      stateKey: `0x1001${toHex(new TextEncoder().encode('b-1'))}`,
    });
    expect((await call('joule_getDevice', ['zz'])).result).toBeNull();
  });

  it('refuses a malformed id (-32602) and is UNAVAILABLE on a node without devices', async () => {
    const e = (await call('joule_getDevice', ['no spaces'])).error;
    expect(e.code).toBe(-32602);
    expect(e.data.field).toBe('params[0]');
    expect((await call('joule_getDevice', [])).error.code).toBe(-32602);
    call = rpcCaller({ ...node, getDevice: undefined, listDevices: undefined });
    expect((await call('joule_getDevice', ['a-1'])).error.data.code).toBe('UNAVAILABLE');
    expect((await call('joule_listDevices', [])).error.data.code).toBe('UNAVAILABLE');
  });
});

describe('joule_listDevices', () => {
  it('pages all devices in id order, by operator, by zone, with a cursor', async () => {
    const ids = async (q?: unknown) => {
      const r = (await call('joule_listDevices', q === undefined ? [] : [q])).result;
      return { ids: r.devices.map((d: { id: string }) => d.id), next: r.nextCursor };
    };
    expect(await ids()).toEqual({ ids: ['a-1', 'b-1', 'c-1'], next: null });
    expect(await ids({ operator: formatAddress(op1) })).toEqual({ ids: ['a-1', 'b-1'], next: null });
    expect(await ids({ zone: 'NL' })).toEqual({ ids: ['b-1', 'c-1'], next: null });
    expect(await ids({ limit: 2 })).toEqual({ ids: ['a-1', 'b-1'], next: 'b-1' });
    expect(await ids({ limit: 2, cursor: 'b-1' })).toEqual({ ids: ['c-1'], next: null });
  });

  it('bounds the page and names each bad field', async () => {
    const field = async (q: unknown) => (await call('joule_listDevices', [q])).error?.data.field;
    expect(await field({ limit: MAX_DEVICE_PAGE + 1 })).toBe('params[0].limit');
    expect(await field({ limit: 0 })).toBe('params[0].limit');
    expect(await field({ operator: 'joule1nope' })).toBe('params[0].operator');
    expect(await field({ zone: 'a/b' })).toBe('params[0].zone');
    expect(await field({ cursor: '' })).toBe('params[0].cursor');
    expect(await field({ owner: 'x' })).toBe('params[0].owner');
    expect(await field([1])).toBe('params[0]');
  });
});

describe('joule_getRoles', () => {
  it("lists the account's roles and the open role votes about it, with votes and what they need", async () => {
    const target = new Uint8Array(20).fill(5);
    node.accounts.set(toHex(target), { nonce: 0, balance: 0n, locked: 0n, roles: ['dso'] });
    const body = encodeRoleVoteBody({ action: 'grant', account: target, role: 'oracle' });
    const other = encodeRoleVoteBody({ action: 'grant', account: op1, role: 'oracle' });
    const voter = node.validatorSet.at(0).address;
    node.governanceProposals.push(
      { id: sha256(body), txType: TxType.roleVote, body, openedAtMs: 1_700_000_000_000, voters: [voter] },
      { id: sha256(other), txType: TxType.roleVote, body: other, openedAtMs: 1, voters: [voter] },
      { id: sha256(body), txType: TxType.deviceUpdate, body, openedAtMs: 1, voters: [voter] },
    );
    const r = (await call('joule_getRoles', [formatAddress(target)])).result;
    expect(r).toEqual({
      address: formatAddress(target),
      roles: ['dso'],
      pending: [
        { id: `0x${toHex(sha256(body))}`, action: 'grant', role: 'oracle', voters: [formatAddress(voter)], votes: 1, needed: 3, openedAt: 1_700_000_000_000 },
      ],
    });
    expect((await call('joule_getRoles', ['x'])).error.data.field).toBe('params[0]');
  });
});
