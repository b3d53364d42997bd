import { concatBytes, utf8 } from './bytes.ts';

/**
 * The state key space, one table for every part: a prefix byte per kind of record, then
 * the record's id. These keys are what the state tree authenticates, what
 * `joule_getProof` / `joule query proof KEY` prove, and what state/'s typed views read and
 * write. A prefix, once given, is never reused.
 */
export const StatePrefix = {
  account: 0x01,
  validatorSet: 0x02,
  validatorVote: 0x03,
  evidence: 0x04,
  /**
   * Pending proposals decided by a validator majority other than validator-set changes:
   * role grants and revocations, device changes by governance (state/governance-votes.ts).
   */
  governanceVote: 0x05,
  /** Devices: buckets in DeviceBucket (state/devices.ts). */
  device: 0x10,
  energyUtxo: 0x11,
  order: 0x20,
  agreement: 0x21,
  chainMeta: 0x7f,
} as const;
export type StatePrefixId = (typeof StatePrefix)[keyof typeof StatePrefix];

/**
 * Buckets under StatePrefix.evidence (state/evidence-records.ts): a kind that keeps more
 * than one sort of record gives each a bucket byte after its prefix byte.
 */
export const EvidenceBucket = {
  /** ++ id(32) -> u64be(inclusion sequence number): "already included?" */
  byId: 0x01,
  /** ++ u64be(seq) -> the record: lists in inclusion order */
  bySeq: 0x02,
  /** -> number of records */
  count: 0x03,
} as const;

export function stateKey(prefix: number, id: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([prefix]), id);
}

/** The key of an address's account record. */
export function accountKey(address: Uint8Array): Uint8Array {
  return stateKey(StatePrefix.account, address);
}

/** Buckets under StatePrefix.device (state/devices.ts). */
export const DeviceBucket = {
  /** ++ deviceId (ASCII) -> the device record (core/device.ts encodeDevice) */
  record: 0x01,
  /** ++ operator (20) ++ deviceId -> 0x01: a paged list of one operator's devices */
  byOperator: 0x02,
  /** ++ u8(len zone) ++ zone ++ deviceId -> 0x01: a paged list of one zone's devices */
  byZone: 0x03,
} as const;

/** The key of a device's record: what `joule_getProof` proves for a device. */
export function deviceKey(deviceId: string): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.device, DeviceBucket.record]), utf8(deviceId));
}
