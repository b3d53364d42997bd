import type { Receipt } from '../../core/block.ts';
import type { Tx } from '../../core/tx.ts';
import type { AccountView, DeviceQuery, NodeApi, NodeApiEvents, NodeStatus, ProofView, StoredBlock, TxLookup } from '../../rpc/node-api.ts';
import { bitsToRoles } from '../../core/roles.ts';
import { getAccount } from '../../state/accounts.ts';
import { deviceListRange, getDevice, indexedDeviceKeys, listDevices } from '../../state/devices.ts';
import { getDeviceHealth, getMeterCursor, intervalTotalsAccess, listIntervalTotals } from '../../state/telemetry.ts';
import { getCertificate, getUtxo } from '../../state/energy.ts';
import { loadAndListCertificates, loadAndListUtxos } from '../../state/energy-lists.ts';
import { getMarket } from '../../state/markets.ts';
import { getFlexActivation, getFlexBid } from '../../state/flex.ts';
import { loadAndListFlexActivations, loadAndListFlexBids, loadAndListFlexIntervals } from '../../state/flex-lists.ts';
import { GOVERNORS_KEY, getGovernorSet, readReversal } from '../../state/reversals.ts';
import { loadAndListAccountTrades, loadAndListMarketTrades, loadAndListOrders } from '../../state/market-lists.ts';
import { loadAndGetAgreement, loadAndListAccountAgreements } from '../../state/agreement-lists.ts';
import { listGovernanceProposals } from '../../state/governance-votes.ts';
import { evidenceListAccess, listEvidenceRecords } from '../../state/evidence-records.ts';
import { listProposals } from '../../state/validator-votes.ts';
import { describeTx } from '../../vm/index.ts';
import type { Chain } from '../chain/chain.ts';
import type { TxAdmission } from '../txs/admission.ts';
import type { NodeEventMap, NodeEvents } from '../events.ts';
import { onOneHeight } from './one-height.ts';
import type { CommandIssuer } from '../commands/issuer.ts';

export interface ApiDeps {
  readonly chain: Chain;
  readonly admission: TxAdmission;
  readonly events: NodeEvents;
  readonly status: () => NodeStatus;
  /** Called after a tx is admitted locally, e.g. to gossip it. */
  readonly onAdmitted?: (tx: Tx) => void;
  /** Grid command issuing (node/commands/); without it the node does not serve issueCommand. */
  readonly commands?: CommandIssuer;
}

/** Each node event is a superset of the shape the contract promises (checked here at compile time). */
const asContract: { readonly [K in keyof NodeApiEvents]: (e: NodeEventMap[K]) => NodeApiEvents[K] } = {
  'block-committed': (b) => b,
  'tx-included': (t) => t,
  'command-issued': (c) => c,
};

/** A read for a request whose client is gone (in a batch, or queued behind others) is not started. */
async function live<T>(signal: AbortSignal | undefined, read: () => Promise<T>): Promise<T> {
  signal?.throwIfAborted();
  return read();
}

/** The node as the RPC layer sees it: reads of the committed chain, and tx submission. */
export function createNodeApi(deps: ApiDeps): NodeApi {
  const { chain, admission, events } = deps;
  return {
    status: deps.status,
    getBlockByHeight: (height: number, signal?: AbortSignal): Promise<StoredBlock | undefined> => live(signal, () => chain.blockAt(height)),
    getBlockByHash: (hash: Uint8Array, signal?: AbortSignal): Promise<StoredBlock | undefined> => live(signal, () => chain.blockByHash(hash)),
    getTransaction: (hash: Uint8Array, signal?: AbortSignal): Promise<TxLookup | undefined> => live(signal, () => chain.transaction(hash)),
    getBlockReceipts: (height: number, signal?: AbortSignal): Promise<readonly Receipt[] | undefined> =>
      live(signal, async () => (height <= chain.height ? chain.store.receipts(height) : undefined)),
    getAccount(address: Uint8Array): AccountView {
      const a = getAccount(chain.world, address);
      return { nonce: a.nonce, pendingNonce: admission.nextNonce(address), balance: a.balance, locked: a.locked, roles: bitsToRoles(a.roles) };
    },
    async submitTransaction(bytes: Uint8Array): Promise<{ hash: Uint8Array }> {
      const tx = await admission.submit(bytes, 'rpc');
      deps.onAdmitted?.(tx);
      return { hash: tx.hash };
    },
    getProof: (key: Uint8Array, height?: number, signal?: AbortSignal): Promise<ProofView> => live(signal, () => chain.proof(key, height)),
    describeTx: (tx: Tx) => describeTx(tx),
    on: <K extends keyof NodeApiEvents>(type: K, listener: (event: NodeApiEvents[K]) => void) => events.on(type, (e) => listener(asContract[type](e))),
    async getValidators(height?: number) {
      if (height === undefined || height === chain.height + 1) return chain.validators;
      const at = height >= 0 && height <= chain.height ? await chain.blockAt(height) : undefined;
      return at === undefined ? undefined : chain.validatorSetByHash(at.block.header.validatorSetHash);
    },
    // Evidence is not held in memory: the page is loaded first (one range read), then listed.
    listEvidence: (offset: number, limit: number) =>
      onOneHeight(async () => listEvidenceRecords(await chain.world.load(evidenceListAccess(offset, limit)), offset, limit)),
    listValidatorProposals: () => listProposals(chain.world),
    getDevice: (id: string) => getDevice(chain.world, id),
    // Devices are not held in memory: the page (an index range, then the records it names) is loaded first.
    listDevices: (q: DeviceQuery) =>
      onOneHeight(async () => {
        const view = await chain.world.load({ ranges: [deviceListRange(q)] });
        await view.load({ keys: indexedDeviceKeys(view, q) });
        return listDevices(view, q);
      }),
    listGovernanceProposals: () => listGovernanceProposals(chain.world),
    getReadings: (deviceId, q, signal) => live(signal, () => chain.readings(deviceId, q.fromUs, q.toUs, q.limit)),
    // Interval totals are not held in memory: the page (a range of the device's records, and its cursor) is loaded first.
    getIntervalTotals: async (deviceId, q) => ({
      intervals: await onOneHeight(async () =>
        listIntervalTotals(await chain.world.load(intervalTotalsAccess(deviceId, q.fromMs, q.limit)), deviceId, q.fromMs, q.toMs, q.limit),
      ),
      settlementIntervalMs: chain.genesis.params.settlementIntervalMs,
    }),
    getDeviceHealth(deviceId) {
      const device = getDevice(chain.world, deviceId);
      if (device === undefined) return undefined;
      return { device, health: getDeviceHealth(chain.world, deviceId), lastReadingUs: getMeterCursor(chain.world, deviceId)?.lastTimestampUs };
    },
    getEnergyUtxo: (id: Uint8Array) => getUtxo(chain.world, id),
    // UTXOs and certificates are not held in memory: the page (an index range, then the records it names) is loaded first.
    listEnergyUtxos: (q) => onOneHeight(async () => loadAndListUtxos(await chain.world.load({}), q)),
    getCertificate: (id: Uint8Array) => getCertificate(chain.world, id),
    listCertificates: (q) => onOneHeight(async () => loadAndListCertificates(await chain.world.load({}), q)),
    getMarket: (zone, intervalStartMs) => getMarket(chain.world, zone, intervalStartMs),
    // Books and trades are not held in memory: the page (a range, then the records it names) is loaded first.
    listOrders: (q) => onOneHeight(async () => loadAndListOrders(await chain.world.load({}), q)),
    listMarketTrades: (q) => onOneHeight(async () => loadAndListMarketTrades(await chain.world.load({}), q)),
    listAccountTrades: (q) => onOneHeight(async () => loadAndListAccountTrades(await chain.world.load({}), q)),
    ...(deps.commands === undefined ? {} : { issueCommand: (bytes: Uint8Array) => deps.commands!.issue(bytes) }),
    getFlexBid: (id) => getFlexBid(chain.world, id),
    getFlexActivation: (id) => getFlexActivation(chain.world, id),
    // Bids, activations and intervals are not held in memory: the page (a range, then the records it names) is loaded first.
    listFlexBids: (aggregator, q) => onOneHeight(async () => loadAndListFlexBids(await chain.world.load({}), aggregator, q)),
    listFlexActivations: (bidId, q) => onOneHeight(async () => loadAndListFlexActivations(await chain.world.load({}), bidId, q)),
    listFlexIntervals: (activationId, q) => onOneHeight(async () => loadAndListFlexIntervals(await chain.world.load({}), activationId, q)),
    getReversal: (by) => readReversal(chain.world, by),
    getGovernors: () => {
      const g = getGovernorSet(chain.world);
      return g === undefined ? undefined : { ...g, key: GOVERNORS_KEY };
    },
    // The device ingress announces acknowledgements in groups ('reading-acks'); a subscriber gets them one by one.
    onReadingAck: (listener) =>
      events.on('reading-acks', (acks) => {
        for (const a of acks) listener(a);
      }),
    // Agreements are not held in memory: the record (then its settlements) or the index page (then its records) is loaded first.
    getAgreement: (q) => onOneHeight(async () => loadAndGetAgreement(await chain.world.load({}), q, chain.genesis.params.settlementIntervalMs)),
    listAccountAgreements: (q) =>
      onOneHeight(async () => loadAndListAccountAgreements(await chain.world.load({}), q, chain.genesis.params.settlementIntervalMs)),
  };
}
