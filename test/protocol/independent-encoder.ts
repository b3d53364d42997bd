/**
 * The canonical encoding and the wire layouts as docs/protocol.md states them, written
 * from the document alone: no msgpack library and nothing of core/. It is what an
 * integrator writes in Python, Java or C#; independent.test.ts rebuilds every vector with
 * it (and standard Ed25519, BLS and SHA-256 implementations), so the rules as documented
 * are the rules the node follows.
 */
export type Value = null | boolean | bigint | string | Uint8Array | readonly Value[];

const UINT64_END = 2n ** 64n;
const LONE_SURROGATE = /\p{Cs}/u;
const INT64_START = -(2n ** 63n);

/** Big-endian `bytes` bytes of n (two's complement for negative n). */
function pushInt(out: number[], n: bigint, bytes: number): void {
  const u = BigInt.asUintN(bytes * 8, n);
  for (let i = bytes - 1; i >= 0; i--) out.push(Number((u >> BigInt(8 * i)) & 0xffn));
}

/** A marker byte, then n in `bytes` big-endian bytes. */
function tagged(out: number[], marker: number, n: bigint, bytes: number): void {
  out.push(marker);
  pushInt(out, n, bytes);
}

function writeInt(out: number[], n: bigint): void {
  if (n >= 0n) {
    if (n <= 0x7fn) out.push(Number(n));
    else if (n <= 0xffn) tagged(out, 0xcc, n, 1);
    else if (n <= 0xffffn) tagged(out, 0xcd, n, 2);
    else if (n <= 0xffff_ffffn) tagged(out, 0xce, n, 4);
    // The one departure from "the narrowest form, unsigned first": 2^32..2^63-1 is int64.
    else if (n < 2n ** 63n) tagged(out, 0xd3, n, 8);
    else if (n < UINT64_END) tagged(out, 0xcf, n, 8);
    else throw new RangeError('integer above 2^64-1');
  } else if (n >= -32n) out.push(Number(BigInt.asUintN(8, n)));
  else if (n >= -128n) tagged(out, 0xd0, n, 1);
  else if (n >= -32_768n) tagged(out, 0xd1, n, 2);
  else if (n >= -(2n ** 31n)) tagged(out, 0xd2, n, 4);
  else if (n >= INT64_START) tagged(out, 0xd3, n, 8);
  else throw new RangeError('integer below -2^63');
}

/** A length header: the fix form when it fits, else the 8-, 16- or 32-bit form (the 8-bit one only where `c8` exists). */
function writeLength(out: number[], length: number, fix: { base: number; max: number } | null, c8: number | null, c16: number, c32: number): void {
  if (fix !== null && length <= fix.max) out.push(fix.base | length);
  else if (c8 !== null && length <= 0xff) tagged(out, c8, BigInt(length), 1);
  else if (length <= 0xffff) tagged(out, c16, BigInt(length), 2);
  else tagged(out, c32, BigInt(length), 4);
}

function write(out: number[], v: Value): void {
  if (v === null) out.push(0xc0);
  else if (v === false) out.push(0xc2);
  else if (v === true) out.push(0xc3);
  else if (typeof v === 'bigint') writeInt(out, v);
  else if (typeof v === 'string') {
    if (LONE_SURROGATE.test(v)) throw new RangeError('a string must be Unicode scalar values (no lone surrogate)');
    const utf8 = new TextEncoder().encode(v);
    writeLength(out, utf8.length, { base: 0xa0, max: 31 }, 0xd9, 0xda, 0xdb);
    for (const b of utf8) out.push(b);
  } else if (v instanceof Uint8Array) {
    writeLength(out, v.length, null, 0xc4, 0xc5, 0xc6);
    for (const b of v) out.push(b);
  } else {
    writeLength(out, v.length, { base: 0x90, max: 15 }, null, 0xdc, 0xdd);
    for (const x of v) write(out, x);
  }
}

export function canonicalEncode(v: Value): Uint8Array {
  const out: number[] = [];
  write(out, v);
  return Uint8Array.from(out);
}

// ---- the layouts of docs/protocol.md, as tables of (field, type) in wire order ----

/** int: an integer; bytes: a byte string; str: a string; `?`: or nil; `[]`: an array of; cert/core/outputs/readings: a nested layout below. */
export type FieldType = 'int' | 'bytes' | 'str' | 'int?' | 'bytes?' | 'str?' | 'cert?' | 'core' | 'bytes[]' | 'str[]' | 'outputs' | 'readings' | 'ints';
export type Layout = readonly (readonly [string, FieldType])[];

/** Tx type ids (docs/protocol.md, "Transaction types"). */
export const TYPE_IDS: Record<string, number> = {
  transfer: 1,
  'validator-vote': 2,
  evidence: 3,
  'device-register': 16,
  'device-update': 17,
  'device-status': 18,
  'device-rekey': 19,
  'grid-intensity': 21,
  'energy-transfer': 22,
  'energy-retire': 23,
  'currency-mint': 24,
  'currency-burn': 25,
  'role-vote': 26,
  'telemetry-batch': 20,
  'check-meter-resolution': 27,
  'command-anchor': 28,
  'order-place': 32,
  'order-cancel': 33,
  'agreement-propose': 34,
  'agreement-sign': 35,
  'agreement-withdraw': 36,
  'agreement-collateralise': 37,
  'agreement-dispute': 38,
  'agreement-vote': 39,
  'flex-bid': 42,
  'flex-activate': 43,
  'flex-confirm': 44,
  'flex-withdraw': 45,
  'reversal-propose': 46,
  'reversal-approve': 47,
};

export const ENVELOPE: Layout = [
  ['chainId', 'str'],
  ['type', 'int'],
  ['sender', 'bytes'],
  ['nonce', 'int'],
  ['fee', 'int'],
  ['body', 'bytes'],
  ['signature', 'bytes'],
];

export const BODIES: Record<string, Layout> = {
  transfer: [
    ['to', 'bytes'],
    ['amount', 'int'],
  ],
  'validator-vote': [
    ['action', 'int'],
    ['name', 'str'],
    ['identityKey', 'bytes'],
    ['blsKey', 'bytes'],
    ['blsProofOfPossession', 'bytes'],
  ],
  evidence: [
    ['first', 'core'],
    ['second', 'core'],
  ],
  'device-register': [
    ['id', 'str'],
    ['publicKey', 'bytes'],
    ['proofOfPossession', 'bytes'],
    ['owner', 'bytes'],
    ['kind', 'int'],
    ['zone', 'str'],
    ['maxImportW', 'int'],
    ['maxExportW', 'int'],
    ['carbonIntensity', 'int'],
    ['checkMeter', 'str?'],
  ],
  'device-update': [
    ['id', 'str'],
    ['zone', 'str?'],
    ['maxImportW', 'int?'],
    ['maxExportW', 'int?'],
    ['carbonIntensity', 'int?'],
    ['operator', 'bytes?'],
    ['checkMeter', 'str?'],
  ],
  'device-status': [
    ['id', 'str'],
    ['action', 'int'],
  ],
  'device-rekey': [
    ['id', 'str'],
    ['publicKey', 'bytes'],
    ['proofOfPossession', 'bytes'],
  ],
  'role-vote': [
    ['action', 'int'],
    ['account', 'bytes'],
    ['role', 'int'],
  ],
  'telemetry-batch': [
    ['keyHeight', 'int'],
    ['readings', 'readings'],
    ['signature', 'bytes'],
  ],
  'check-meter-resolution': [
    ['deviceId', 'str'],
    ['intervalStartMs', 'int'],
    ['resolution', 'int'],
    ['valueWh', 'int?'],
  ],
  'grid-intensity': [
    ['zone', 'str'],
    ['intervalStartMs', 'int'],
    ['carbonIntensity', 'int'],
  ],
  'energy-transfer': [
    ['inputs', 'bytes[]'],
    ['outputs', 'outputs'],
  ],
  'energy-retire': [
    ['inputs', 'bytes[]'],
    ['wh', 'int'],
    ['beneficiary', 'bytes'],
    ['purpose', 'str'],
  ],
  'currency-mint': [
    ['to', 'bytes'],
    ['amount', 'int'],
  ],
  'currency-burn': [['amount', 'int']],
  'command-anchor': [
    ['type', 'int'],
    ['deviceIds', 'str[]'],
    ['zone', 'str?'],
    ['powerLimitW', 'int'],
    ['priceMicroPerKwh', 'int'],
    ['validFromUs', 'int'],
    ['validUntilUs', 'int'],
  ],
  'order-place': [
    ['side', 'int'],
    ['zone', 'str'],
    ['intervalStartMs', 'int'],
    ['volumeWh', 'int'],
    ['price', 'int'],
    ['deviceId', 'str'],
  ],
  'order-cancel': [['orderId', 'bytes']],
  'agreement-propose': [
    ['role', 'int'],
    ['counterparty', 'bytes'],
    ['deviceId', 'str'],
    ['quantityWh', 'int'],
    ['firstSlotMs', 'int'],
    ['slots', 'int'],
    ['price', 'ints'],
    ['collateralBps', 'int'],
  ],
  'agreement-sign': [['id', 'bytes']],
  'agreement-withdraw': [['id', 'bytes']],
  'agreement-collateralise': [
    ['id', 'bytes'],
    ['amount', 'int'],
  ],
  'agreement-dispute': [
    ['id', 'bytes'],
    ['amount', 'int'],
    ['counterparty', 'bytes'],
  ],
  'agreement-vote': [
    ['id', 'bytes'],
    ['decision', 'int'],
    ['buyer', 'bytes'],
    ['seller', 'bytes'],
  ],
  'flex-bid': [
    ['deviceIds', 'str[]'],
    ['capacityKw', 'int'],
    ['rampUpKwPerMin', 'int'],
    ['rampDownKwPerMin', 'int'],
    ['minSocPercent', 'int'],
    ['maxSocPercent', 'int'],
    ['pricePerMwh', 'int'],
    ['availableFromMs', 'int'],
    ['availableUntilMs', 'int'],
  ],
  'flex-activate': [
    ['bidId', 'bytes'],
    ['powerKw', 'int'],
    ['startMs', 'int'],
    ['endMs', 'int'],
  ],
  'flex-confirm': [['activationId', 'bytes']],
  'flex-withdraw': [['bidId', 'bytes']],
  'reversal-propose': [
    ['zone', 'str'],
    ['intervalStartMs', 'int'],
    ['seq', 'int'],
    ['buyer', 'bytes'],
    ['seller', 'bytes'],
    ['reason', 'str'],
  ],
  'reversal-approve': [
    ['zone', 'str'],
    ['intervalStartMs', 'int'],
    ['seq', 'int'],
    ['buyer', 'bytes'],
    ['seller', 'bytes'],
  ],
};

/** One reading inside a telemetry batch. */
export const READING: Layout = [
  ['deviceId', 'str'],
  ['timestampUs', 'int'],
  ['netEnergyWh', 'int'],
  ['stateOfChargePercent', 'int'],
];

/** An energy-transfer output. */
export const OUTPUT: Layout = [
  ['owner', 'bytes'],
  ['wh', 'int'],
];

const BASE: Layout = [
  ['kind', 'int'],
  ['height', 'int'],
  ['round', 'int'],
  ['author', 'bytes'],
];
/** Signed consensus cores by kind: PROPOSAL, PREPARE, COMMIT, ROUND-CHANGE. */
export const CORES: readonly Layout[] = [
  [...BASE, ['digest', 'bytes'], ['signature', 'bytes']],
  [...BASE, ['digest', 'bytes'], ['signature', 'bytes']],
  [...BASE, ['digest', 'bytes'], ['seal', 'bytes'], ['signature', 'bytes']],
  [...BASE, ['preparedRound', 'int?'], ['preparedDigest', 'bytes?'], ['signature', 'bytes']],
];

export const CERTIFICATE: Layout = [
  ['height', 'int'],
  ['round', 'int'],
  ['blockHash', 'bytes'],
  ['aggregateSignature', 'bytes'],
  ['signers', 'bytes'],
];

export const HEADER: Layout = [
  ['chainId', 'str'],
  ['height', 'int'],
  ['round', 'int'],
  ['parentHash', 'bytes'],
  ['timestamp', 'int'],
  ['proposer', 'bytes'],
  ['txRoot', 'bytes'],
  ['stateRoot', 'bytes'],
  ['receiptsRoot', 'bytes'],
  ['validatorSetHash', 'bytes'],
  ['txCount', 'int'],
  ['parentCertificate', 'cert?'],
];

/** The fields after [tag, chainId] of each signed payload, by domain tag. */
export const PAYLOADS: Record<string, Layout> = {
  'JOULE/tx/v1': [
    ['type', 'int'],
    ['sender', 'bytes'],
    ['nonce', 'int'],
    ['fee', 'int'],
    ['body', 'bytes'],
  ],
  'JOULE/bls-pop/v1': [
    ['blsKey', 'bytes'],
    ['identityKey', 'bytes'],
  ],
  'JOULE/qbft/proposal/v1': [
    ['height', 'int'],
    ['round', 'int'],
    ['author', 'bytes'],
    ['digest', 'bytes'],
  ],
  'JOULE/qbft/prepare/v1': [
    ['height', 'int'],
    ['round', 'int'],
    ['author', 'bytes'],
    ['digest', 'bytes'],
  ],
  'JOULE/qbft/commit/v1': [
    ['height', 'int'],
    ['round', 'int'],
    ['author', 'bytes'],
    ['digest', 'bytes'],
    ['seal', 'bytes'],
  ],
  'JOULE/qbft/round-change/v1': [
    ['height', 'int'],
    ['round', 'int'],
    ['author', 'bytes'],
    ['preparedRound', 'int?'],
    ['preparedDigest', 'bytes?'],
  ],
  'JOULE/qbft/commit-seal/v2': [
    ['height', 'int'],
    ['round', 'int'],
    ['blockHash', 'bytes'],
  ],
  'JOULE/validator-transition/v1': [
    ['height', 'int'],
    ['validatorSetHash', 'bytes'],
  ],
};

function bytesOf(s: unknown, field: string): Uint8Array {
  if (typeof s !== 'string' || !/^0x([0-9a-f]{2})*$/.test(s)) throw new Error(`${field}: expected 0x hex, got ${String(s)}`);
  return Uint8Array.from(Buffer.from(s.slice(2), 'hex'));
}

function wireValue(json: unknown, type: FieldType, field: string): Value {
  if (type.endsWith('?') && json === null) return null;
  switch (type) {
    case 'int':
    case 'int?':
      if (typeof json !== 'number' && typeof json !== 'string') throw new Error(`${field}: expected an integer`);
      return BigInt(json);
    case 'bytes':
    case 'bytes?':
      return bytesOf(json, field);
    case 'str':
    case 'str?':
      if (typeof json !== 'string') throw new Error(`${field}: expected a string`);
      return json;
    case 'cert?':
      return fromFields(json, CERTIFICATE, field);
    case 'bytes[]':
      if (!Array.isArray(json)) throw new Error(`${field}: expected an array`);
      return json.map((x, i) => bytesOf(x, `${field}[${i}]`));
    case 'str[]':
      if (!Array.isArray(json) || json.some((x) => typeof x !== 'string')) throw new Error(`${field}: expected an array of strings`);
      return json as string[];
    case 'outputs':
      if (!Array.isArray(json)) throw new Error(`${field}: expected an array`);
      return json.map((x, i) => fromFields(x, OUTPUT, `${field}[${i}]`));
    case 'core': {
      const kind = Number((json as { kind: number }).kind);
      return fromFields(json, CORES[kind]!, field);
    }
    case 'ints':
      // Nested arrays of integers (a price formula: [kind, ...] with a table as an inner array).
      if (!Array.isArray(json)) throw new Error(`${field}: expected an array`);
      return json.map((x, i) => (Array.isArray(x) ? wireValue(x, 'ints', `${field}[${i}]`) : wireValue(x, 'int', `${field}[${i}]`)));
    case 'readings':
      if (!Array.isArray(json)) throw new Error(`${field}: expected an array of readings`);
      return json.map((r, i) => fromFields(r, READING, `${field}[${i}]`));
  }
}

/** The wire array of a layout, from the vector file's JSON fields (hex bytes, decimal or number integers). */
export function fromFields(json: unknown, layout: Layout, path = '$'): Value[] {
  const o = json as Record<string, unknown>;
  return layout.map(([name, type]) => {
    if (!(name in o)) throw new Error(`${path}.${name}: missing`);
    return wireValue(o[name], type, `${path}.${name}`);
  });
}
