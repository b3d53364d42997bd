import { compareBytes, concatBytes, u64be } from '../core/bytes.ts';
import { decodeCertificate, decodeEnergyUtxo, type Certificate, type EnergyUtxo } from '../core/energy.ts';
import {
  beneficiaryCertificatePrefix,
  CERTIFICATE_RECORDS_PREFIX,
  certificateKey,
  deviceCertificatePrefix,
  energyUtxoKey,
  ownerUtxoPrefix,
  PERIOD_CERTIFICATE_PREFIX,
  UTXO_RECORDS_PREFIX,
  zoneCertificatePrefix,
} from './energy.ts';
import type { Access } from './loaded-state.ts';

/**
 * Bounded pages of energy UTXOs (all, or one owner's) and certificates (all, or by
 * beneficiary, device, zone or production period), read through the index entries
 * state/energy.ts keeps beside the records: a page reads what it returns and one entry
 * more, never the whole set. A cursor is the bytes of the last index key after its
 * group's prefix (an id, or for periods u64be(intervalStartMs) ++ id): opaque to clients.
 */

/** What a listing reads: ordered prefix iteration (state/'s readers). */
export interface PrefixReader {
  get(key: Uint8Array): Uint8Array | undefined;
  iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<readonly [Uint8Array, Uint8Array]>;
}

/** A reader that loads before it is read (state/loaded-state.ts LoadedState). */
export interface LoadableReader extends PrefixReader {
  load(access: Access): Promise<void>;
}

/** Most items one page holds (and the default). */
export const MAX_ENERGY_PAGE = 100;

export interface UtxoQuery {
  readonly owner?: Uint8Array;
  /** 1..MAX_ENERGY_PAGE. */
  readonly limit: number;
  readonly after?: Uint8Array;
}

export interface UtxoPage {
  readonly utxos: readonly EnergyUtxo[];
  readonly next: Uint8Array | undefined;
}

export type CertificateFilter =
  | { readonly by: 'all' }
  | { readonly by: 'beneficiary'; readonly beneficiary: Uint8Array }
  | { readonly by: 'device'; readonly deviceId: string }
  | { readonly by: 'zone'; readonly zone: string }
  /** Energy produced in intervals starting in [fromMs, toMs). */
  | { readonly by: 'period'; readonly fromMs: number; readonly toMs: number };

export interface CertificateQuery {
  readonly filter: CertificateFilter;
  readonly limit: number;
  readonly after?: Uint8Array;
}

export interface ListedCertificate {
  readonly certificate: Certificate;
  /** The index entry that listed it (the record itself when listing all): provable like the record. */
  readonly indexKey: Uint8Array;
}

export interface CertificatePage {
  readonly certificates: readonly ListedCertificate[];
  readonly next: Uint8Array | undefined;
}

interface Entry {
  readonly key: Uint8Array;
  readonly suffix: Uint8Array;
}

interface Bounds {
  readonly start?: Uint8Array;
  readonly after?: Uint8Array;
  readonly stop?: (suffix: Uint8Array) => boolean;
}

/** Where a page's walk starts: the later of `start` (inclusive) and `after` (the walk skips it). */
function pageFrom(prefix: Uint8Array, { start, after }: Bounds): Uint8Array | undefined {
  const lower = after === undefined || (start !== undefined && compareBytes(start, after) > 0) ? start : after;
  return lower === undefined ? undefined : concatBytes(prefix, lower);
}

/**
 * Up to `limit` keys under `prefix` whose suffix is >= `start` and > `after`, and whether
 * more follow; a suffix for which `stop` is true ends the walk.
 */
function page(state: PrefixReader, prefix: Uint8Array, limit: number, bounds: Bounds): { entries: Entry[]; more: boolean } {
  const { after, stop } = bounds;
  const entries: Entry[] = [];
  for (const [key] of state.iterate(prefix, pageFrom(prefix, bounds))) {
    const suffix = key.subarray(prefix.length);
    if (after !== undefined && compareBytes(suffix, after) <= 0) continue;
    if (stop?.(suffix) === true) break;
    if (entries.length === limit) return { entries, more: true };
    entries.push({ key, suffix });
  }
  return { entries, more: false };
}

const idOf = (suffix: Uint8Array): Uint8Array => suffix.subarray(suffix.length - 32);

function utxoWalk(q: UtxoQuery): { prefix: Uint8Array; bounds: Bounds; indexed: boolean } {
  return { prefix: q.owner === undefined ? UTXO_RECORDS_PREFIX : ownerUtxoPrefix(q.owner), bounds: { after: q.after }, indexed: q.owner !== undefined };
}

export function listUtxos(state: PrefixReader, q: UtxoQuery): UtxoPage {
  const { prefix, bounds } = utxoWalk(q);
  const { entries, more } = page(state, prefix, q.limit, bounds);
  const utxos = entries.map((e) => {
    const raw = q.owner === undefined ? state.get(e.key) : state.get(energyUtxoKey(idOf(e.suffix)));
    // An index entry without its record is corrupt state: say so rather than skip it.
    if (raw === undefined) throw new Error(`state/energy-lists: index entry without a UTXO record (${Buffer.from(e.key).toString('hex')})`);
    return decodeEnergyUtxo(raw);
  });
  return { utxos, next: more ? entries[entries.length - 1]!.suffix : undefined };
}

function certificatePrefix(f: CertificateFilter): Uint8Array {
  switch (f.by) {
    case 'all':
      return CERTIFICATE_RECORDS_PREFIX;
    case 'beneficiary':
      return beneficiaryCertificatePrefix(f.beneficiary);
    case 'device':
      return deviceCertificatePrefix(f.deviceId);
    case 'zone':
      return zoneCertificatePrefix(f.zone);
    case 'period':
      return PERIOD_CERTIFICATE_PREFIX;
  }
}

function certificateWalk(q: CertificateQuery): { prefix: Uint8Array; bounds: Bounds; indexed: boolean } {
  const f = q.filter;
  const bounds: Bounds =
    f.by === 'period'
      ? { start: u64be(f.fromMs), after: q.after, stop: (suffix: Uint8Array) => compareBytes(suffix.subarray(0, 8), u64be(f.toMs)) >= 0 }
      : { after: q.after };
  return { prefix: certificatePrefix(f), bounds, indexed: f.by !== 'all' };
}

export function listCertificates(state: PrefixReader, q: CertificateQuery): CertificatePage {
  const f = q.filter;
  const { prefix, bounds } = certificateWalk(q);
  const { entries, more } = page(state, prefix, q.limit, bounds);
  const certificates = entries.map((e) => {
    const raw = state.get(f.by === 'all' ? e.key : certificateKey(idOf(e.suffix)));
    if (raw === undefined) throw new Error(`state/energy-lists: index entry without a certificate (${Buffer.from(e.key).toString('hex')})`);
    return { certificate: decodeCertificate(raw), indexKey: e.key };
  });
  return { certificates, next: more ? entries[entries.length - 1]!.suffix : undefined };
}

/**
 * Loads one page into `view` (the index range: the cursor's entry, `limit` entries and one
 * more to tell whether the listing goes on; then the records its entries name), so the
 * listing reads only what was loaded: a LoadedState in strict mode proves it.
 */
async function loadPage(
  view: LoadableReader,
  walk: { prefix: Uint8Array; bounds: Bounds; indexed: boolean },
  limit: number,
  recordKey: (id: Uint8Array) => Uint8Array,
): Promise<void> {
  const from = pageFrom(walk.prefix, walk.bounds);
  await view.load({ ranges: [from === undefined ? { prefix: walk.prefix, limit: limit + 2 } : { prefix: walk.prefix, from, limit: limit + 2 }] });
  if (!walk.indexed) return;
  const keys: Uint8Array[] = [];
  for (const [key] of view.iterate(walk.prefix, from)) {
    keys.push(recordKey(idOf(key.subarray(walk.prefix.length))));
    if (keys.length === limit + 2) break;
  }
  await view.load({ keys });
}

export async function loadAndListUtxos(view: LoadableReader, q: UtxoQuery): Promise<UtxoPage> {
  await loadPage(view, utxoWalk(q), q.limit, energyUtxoKey);
  return listUtxos(view, q);
}

export async function loadAndListCertificates(view: LoadableReader, q: CertificateQuery): Promise<CertificatePage> {
  await loadPage(view, certificateWalk(q), q.limit, certificateKey);
  return listCertificates(view, q);
}
