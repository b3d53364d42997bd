/**
 * An in-memory NodeApi for rpc/'s own tests (and any client test that wants an RPC server
 * without a real node). Not used by production code. Blocks and txs are real, signed and
 * encoded with core/, so formatting is exercised on genuine data.
 */
import { Dispatcher } from '../jsonrpc/jsonrpc.ts';
import type { RpcMetrics } from '../metrics.ts';
import { createMethods } from '../jsonrpc/methods.ts';
import type { Block, CommitCertificate, Receipt } from '../../core/block.ts';
import { blockHash } from '../../core/block.ts';
import { encode } from '../../core/codec.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { sha256 } from '../../core/hash.ts';
import { addressFromPublicKey, blsFromSecret, ed25519FromSeed, formatAddress } from '../../core/keys.ts';
import { decodeTx, signTx, type Tx } from '../../core/tx.ts';
import { ValidatorSet, type Validator } from '../../core/validators.ts';
import type { DeviceRecord } from '../../core/device.ts';
import type { IssuedCommand } from '../../core/command.ts';
import { EMPTY_HEALTH, type DeviceHealth, type IntervalTotals } from '../../core/meter.ts';
import type {
  AccountView,
  DeviceQuery,
  EvidenceView,
  GovernanceProposalView,
  NodeApi,
  NodeStatus,
  ProofView,
  ReadingAck,
  ReadingView,
  StoredBlock,
  TxLookup,
  ValidatorProposalView,
} from '../node-api.ts';

export const FAKE_CHAIN_ID = 'joule-test';

export interface FakeNode extends NodeApi {
  readonly blocks: StoredBlock[];
  readonly txs: Map<string, TxLookup>;
  readonly accounts: Map<string, AccountView>;
  readonly submitted: Uint8Array[];
  readonly alice: { seed: Uint8Array; publicKey: Uint8Array; address: Uint8Array };
  /** Commits a block with the given txs and notifies 'block-committed' and 'tx-included' listeners. */
  commit(txs?: Tx[]): StoredBlock;
  /** How many event listeners are registered (to check servers unsubscribe on close). */
  listenerCount(): number;
  /** Emits 'command-issued' to its listeners. */
  announce(c: IssuedCommand): void;
  /** Emits a reading acknowledgement to onReadingAck listeners. */
  ack(a: ReadingAck): void;
  /** The current validator set (4 deterministic validators); tests may replace it. */
  validatorSet: ValidatorSet;
  readonly evidence: EvidenceView[];
  readonly proposals: ValidatorProposalView[];
  /** Registered devices by id (listDevices pages them in id order, like the node). */
  readonly devices: Map<string, DeviceRecord>;
  readonly governanceProposals: GovernanceProposalView[];
  /** Counted readings, interval totals and health by device id (pages filtered like the node's). */
  readonly readings: ReadingView[];
  readonly intervals: IntervalTotals[];
  readonly health: Map<string, DeviceHealth>;
}

/** Deterministic validator i of the fake chain (real Ed25519 and BLS keys). */
export function fakeValidator(i: number): Validator {
  const ed = ed25519FromSeed(sha256(new Uint8Array([0xfa, i])));
  const secret = sha256(new Uint8Array([0xfb, i]));
  secret[0] = 0x11; // below the BLS12-381 group order
  return { name: `fake-${i}`, address: addressFromPublicKey(ed.publicKey), identityKey: ed.publicKey, blsKey: blsFromSecret(secret).publicKey };
}

export function makeTransfer(seed: Uint8Array, nonce: number, to: Uint8Array, amount: bigint): Tx {
  const kp = ed25519FromSeed(seed);
  return signTx({ chainId: FAKE_CHAIN_ID, type: 1, sender: kp.publicKey, nonce, fee: 10n, body: encode([to, amount]) }, seed);
}

export function createFakeNode(): FakeNode {
  const seed = new Uint8Array(32).fill(7);
  const kp = ed25519FromSeed(seed);
  const alice = { seed, publicKey: kp.publicKey, address: addressFromPublicKey(kp.publicKey) };
  const blocks: StoredBlock[] = [];
  const receiptsByHeight: Receipt[][] = [];
  const txs = new Map<string, TxLookup>();
  const accounts = new Map<string, AccountView>();
  const submitted: Uint8Array[] = [];
  const listeners = {
    'block-committed': new Set<(b: StoredBlock) => void>(),
    'tx-included': new Set<(t: TxLookup) => void>(),
    'command-issued': new Set<(c: IssuedCommand) => void>(),
  };
  const ackListeners = new Set<(a: ReadingAck) => void>();
  accounts.set(toHex(alice.address), { nonce: 0, balance: 10n ** 20n, locked: 5n, roles: ['dso'] });

  const commit = (blockTxs: Tx[] = []): StoredBlock => {
    const height = blocks.length;
    const prev = blocks[height - 1];
    const parentCertificate: CommitCertificate | null = prev?.certificate ?? null;
    const block: Block = {
      header: {
        chainId: FAKE_CHAIN_ID,
        height,
        round: 0,
        parentHash: prev?.hash ?? new Uint8Array(32),
        timestamp: 1_700_000_000_000 + height * 1000,
        proposer: alice.address,
        txRoot: new Uint8Array(32).fill(1),
        stateRoot: new Uint8Array(32).fill(2),
        receiptsRoot: new Uint8Array(32).fill(3),
        validatorSetHash: new Uint8Array(32).fill(4),
        txCount: blockTxs.length,
        parentCertificate,
      },
      txs: blockTxs.map((t) => t.bytes),
    };
    const hash = blockHash(block.header);
    const certificate: CommitCertificate = {
      height,
      round: 0,
      blockHash: hash,
      aggregateSignature: new Uint8Array(96).fill(9),
      signers: new Uint8Array([0b1101]),
    };
    const sb: StoredBlock = { block, hash, certificate };
    blocks.push(sb);
    const receipts = blockTxs.map(
      (tx): Receipt => ({
        txHash: tx.hash,
        success: true,
        code: '',
        feePaid: tx.fee,
        events: [
          {
            type: 'transfer',
            attributes: [
              ['amount', '100'],
              ['__proto__', 'x'],
            ],
          },
        ],
      }),
    );
    receiptsByHeight.push(receipts);
    blockTxs.forEach((tx, index) => {
      txs.set(toHex(tx.hash), { tx, height, index, blockHash: hash, receipt: receipts[index]! });
    });
    for (const l of listeners['block-committed']) l(sb);
    for (const tx of blockTxs) for (const l of listeners['tx-included']) l(txs.get(toHex(tx.hash))!);
    return sb;
  };

  const status = (): NodeStatus => {
    const head = blocks[blocks.length - 1]!;
    return {
      chainId: FAKE_CHAIN_ID,
      genesisHash: blocks[0]!.hash,
      nodeName: 'fake-0',
      role: 'validator',
      height: head.block.header.height,
      latestBlockHash: head.hash,
      latestBlockTime: head.block.header.timestamp,
      validatorCount: 4,
      peerCount: 3,
      mempoolSize: submitted.length,
      syncing: false,
      syncTarget: null,
    };
  };

  commit(); // genesis block at height 0
  const evidence: EvidenceView[] = [];
  const proposals: ValidatorProposalView[] = [];
  const devices = new Map<string, DeviceRecord>();
  const governanceProposals: GovernanceProposalView[] = [];
  const readings: ReadingView[] = [];
  const intervals: IntervalTotals[] = [];
  const health = new Map<string, DeviceHealth>();
  const listDevices = (q: DeviceQuery) => {
    const all = [...devices.values()]
      .filter(
        (d) =>
          (q.operator === undefined || equalBytes(d.operator, q.operator)) &&
          (q.zone === undefined || d.zone === q.zone) &&
          (q.after === undefined || d.id > q.after),
      )
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const page = all.slice(0, q.limit);
    return { devices: page, next: all.length > q.limit ? page[page.length - 1]!.id : undefined };
  };

  const node: FakeNode = {
    validatorSet: new ValidatorSet([0, 1, 2, 3].map(fakeValidator)),
    evidence,
    proposals,
    // Any known height (and the next one) is certified by the current set in this fake.
    getValidators: (h) => (h === undefined || h <= blocks.length ? node.validatorSet : undefined),
    listEvidence: (offset, limit) => ({ total: evidence.length, items: evidence.slice(offset, offset + limit) }),
    listValidatorProposals: () => proposals,
    devices,
    governanceProposals,
    getDevice: (id) => devices.get(id),
    listDevices,
    listGovernanceProposals: () => governanceProposals,
    readings,
    intervals,
    health,
    getReadings: async (id, q) => readings.filter((r) => r.deviceId === id && r.timestampUs >= q.fromUs && r.timestampUs <= q.toUs).slice(0, q.limit),
    getIntervalTotals: (id, q) => ({
      intervals: intervals.filter((t) => t.deviceId === id && t.intervalStartMs >= q.fromMs && t.intervalStartMs <= q.toMs).slice(0, q.limit),
      settlementIntervalMs: 30_000,
    }),
    getDeviceHealth: (id) => {
      const device = devices.get(id);
      return device === undefined
        ? undefined
        : { device, health: health.get(id) ?? EMPTY_HEALTH, lastReadingUs: readings.findLast((r) => r.deviceId === id)?.timestampUs };
    },
    blocks,
    txs,
    accounts,
    submitted,
    alice,
    commit,
    listenerCount: () => listeners['block-committed'].size + listeners['tx-included'].size + listeners['command-issued'].size + ackListeners.size,
    announce: (c) => {
      for (const l of [...listeners['command-issued']]) l(c);
    },
    ack: (a) => {
      for (const l of [...ackListeners]) l(a);
    },
    onReadingAck(listener) {
      ackListeners.add(listener);
      return () => void ackListeners.delete(listener);
    },
    status,
    getBlockByHeight: async (h) => blocks[h],
    getBlockByHash: async (h) => blocks.find((b) => equalBytes(b.hash, h)),
    getTransaction: async (h) => txs.get(toHex(h)),
    getBlockReceipts: async (h) => receiptsByHeight[h],
    getAccount: (a) => accounts.get(toHex(a)) ?? { nonce: 0, balance: 0n, locked: 0n, roles: [] },
    async submitTransaction(bytes) {
      const tx = decodeTx(bytes); // throws CODEC_* JouleErrors on garbage, like the real node
      if (tx.chainId !== FAKE_CHAIN_ID) throw new JouleError(ErrorCode.TX_WRONG_CHAIN, 'wrong chain', 'tx.chainId');
      submitted.push(bytes);
      return { hash: tx.hash };
    },
    async getProof(key, height): Promise<ProofView> {
      const h = height ?? blocks.length - 1;
      if (h >= blocks.length) throw new JouleError(ErrorCode.NOT_FOUND, `no state at height ${h}`, 'height');
      const value = key[0] === 0x01 && accounts.has(toHex(key.subarray(1))) ? new Uint8Array([0xaa]) : undefined;
      return { height: h, stateRoot: blocks[h]!.block.header.stateRoot, value, proof: sha256(key) };
    },
    describeTx: (tx) => {
      if (tx.type !== 1) throw new Error('unknown type');
      return { typeName: 'transfer', body: { to: formatAddress(tx.body.subarray(3, 23)), amount: 100n } };
    },
    on(type, listener) {
      const set = listeners[type] as Set<typeof listener>;
      set.add(listener);
      return () => void set.delete(listener);
    },
  };
  return node;
}

/**
 * A JSON-RPC caller over `createMethods(node)` without any transport, for method tests:
 * `await call('joule_status', [])` resolves to the parsed response object.
 */
export function rpcCaller(
  node: NodeApi,
  opts: { methods?: ReturnType<typeof createMethods>; metrics?: RpcMetrics } = {},
): (method: string, params?: unknown) => Promise<any> {
  const d = new Dispatcher({ methods: opts.methods ?? createMethods(node), metrics: opts.metrics });
  return async (method, params) => JSON.parse((await d.handleText(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), { transport: 'http' }))!);
}
