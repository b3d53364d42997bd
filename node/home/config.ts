import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { NODE_ROLES, type NodeRole } from '../../core/roles.ts';
import { EXPIRY_DEFAULTS } from '../../mempool/index.ts';

/**
 * A node home's `config.json`. Relative paths are relative to the home directory.
 * Every field has a default, so a config may name only what differs.
 */
export interface NodeConfig {
  readonly name: string;
  readonly role: NodeRole;
  readonly genesis: string;
  readonly dataDir: string;
  readonly identityKey: string;
  readonly consensusKey: string;
  readonly p2p: {
    readonly listen: string;
    /** Static peers: multiaddrs ending in /p2p/<peerId>. */
    readonly peers: readonly string[];
    /** Peer ids of named observers allowed to connect besides the validators. */
    readonly allowPeers: readonly string[];
    readonly maxConnections: number;
  };
  readonly rpc: {
    readonly host: string;
    readonly port: number;
    /** Origins (`https://app.example`) whose browser pages may call the RPC port; `'*'` any. Default none. */
    readonly corsOrigins: readonly string[];
    /** Host names accepted in the `Host` header (IP addresses always are; `rpc.host` too); `'*'` any. Default `localhost`. */
    readonly hosts: readonly string[];
    /** TCP connections to the RPC port, HTTP and WebSocket together. */
    readonly maxConnections: number;
    /** Of those, the most one remote address may hold; null: an eighth of maxConnections, at least 8 (rpc/per-address-limit.ts). */
    readonly maxConnectionsPerAddress: number | null;
    /** WebSocket connections; null: sized from the process's memory (rpc/http/limits.ts). */
    readonly maxWsConnections: number | null;
    /** Of those, the most one remote address may hold; null: an eighth of maxWsConnections, at least 8. */
    readonly maxWsConnectionsPerAddress: number | null;
    /** Request-body bytes being read at once, all connections together; null: sized from the process's memory. */
    readonly maxBodyBytesInFlight: number | null;
  };
  readonly metrics: { readonly host: string; readonly port: number };
  /** The gRPC port (rpc/grpc/): the device stream, health, reflection (and Joule's own services). */
  readonly grpc: {
    readonly host: string;
    readonly port: number;
    /** null: plaintext, for a devnet on loopback only (the node logs it). With clientCaFile: mutual TLS. */
    readonly tls: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile: string | null } | null;
    /** The largest message received; what the node sends is bounded by the block size instead (rpc/grpc/server.ts). */
    readonly maxMessageBytes: number;
    readonly maxStreamsPerConnection: number;
    readonly maxConnections: number;
    /** Connections at once from one remote address (so one host cannot take maxConnections). */
    readonly maxConnectionsPerAddress: number;
    /** A connection with no call open this long (from its arrival, TLS handshake included, or its last call's end) is closed, ms. */
    readonly idleConnectionMs: number;
    /** A device stream with no reading verified under the device's key this long after it opened is closed (DEVICE_UNPROVEN), ms. */
    readonly proveStreamWithinMs: number;
    /** Device streams waiting for that proof at once; beyond, new ones end at once with RESOURCE_EXHAUSTED. */
    readonly maxUnprovenStreams: number;
    /** Readings of unproven streams that may fail their signature check, a second, from one address and from all (bursts of 10 x). */
    readonly unprovenFailuresPerSecondPerAddress: number;
    readonly unprovenFailuresPerSecond: number;
    readonly readingsPerSecondPerDevice: number;
    readonly readingsPerSecondPerConnection: number;
  };
  /** Device ingress (node/ingress/): the aggregator account that batches the streamed readings. */
  readonly ingress: {
    /** Ed25519 key file of the account (aggregator or dso role) that operates the devices streaming here; null: no device stream. */
    readonly aggregatorKey: string | null;
    readonly maxBatchReadings: number;
    readonly maxBatchDelayMs: number;
    /** Fee of each telemetry-batch tx, micro-units. */
    readonly batchFee: number;
  };
  readonly mempool: {
    readonly maxTxs: number;
    readonly maxBytes: number;
    readonly maxPerSender: number;
    readonly maxNonceGap: number;
    readonly replaceBumpPercent: number;
    readonly maxGappedPerSender: number;
    readonly maxGapAgeMs: number;
    readonly maxTxAgeMs: number;
  };
  readonly log: { readonly level: string; readonly file: string | null };
  /** How the state is kept (state/README.md). */
  readonly state: {
    /** Heights behind the head whose state stays provable; older tree nodes are pruned. */
    readonly historyBlocks: number;
    /** Keep every height provable (no pruning). */
    readonly archive: boolean;
    /** Memory for flat state values (LRU), MiB. */
    readonly valueCacheMB: number;
    /** Memory for state tree nodes, MiB: 7/8 inner nodes off the heap (state/slab-cache.ts), 1/8 leaves (LRU). */
    readonly nodeCacheMB: number;
    /**
     * A block reading a key its txs or hooks did not declare stops the node loudly (devnets,
     * tests). Off: the read is served from the store synchronously, counted and logged.
     */
    readonly strictAccess: boolean;
  };
  /** Signature verification worker threads (node/verify/); null: availableParallelism() - 1, at least 1. */
  readonly verify: { readonly workers: number | null };
  /** Emergency validator-set transitions (node/transitions.ts), as written by `joule validators transition`. */
  readonly transitions: readonly unknown[];
}

export const DEFAULT_PORTS = { p2p: 26600, rpc: 26601, metrics: 26602, grpc: 26603 } as const;

export function defaultConfig(name: string): NodeConfig {
  return {
    name,
    role: 'validator',
    genesis: 'genesis.json',
    dataDir: 'data',
    identityKey: 'keys/identity.key',
    consensusKey: 'keys/consensus.key',
    p2p: { listen: `/ip4/127.0.0.1/tcp/${DEFAULT_PORTS.p2p}`, peers: [], allowPeers: [], maxConnections: 64 },
    rpc: {
      host: '127.0.0.1',
      port: DEFAULT_PORTS.rpc,
      corsOrigins: [],
      hosts: ['localhost'],
      maxConnections: 1024,
      maxConnectionsPerAddress: null,
      maxWsConnections: null,
      maxWsConnectionsPerAddress: null,
      maxBodyBytesInFlight: null,
    },
    metrics: { host: '127.0.0.1', port: DEFAULT_PORTS.metrics },
    grpc: {
      host: '127.0.0.1',
      port: DEFAULT_PORTS.grpc,
      tls: null,
      maxMessageBytes: 64 * 1024,
      maxStreamsPerConnection: 128,
      maxConnections: 4096,
      maxConnectionsPerAddress: 1024,
      idleConnectionMs: 30_000,
      proveStreamWithinMs: 30_000,
      maxUnprovenStreams: 8192,
      unprovenFailuresPerSecondPerAddress: 10,
      unprovenFailuresPerSecond: 200,
      readingsPerSecondPerDevice: 50,
      readingsPerSecondPerConnection: 5000,
    },
    ingress: { aggregatorKey: null, maxBatchReadings: 1000, maxBatchDelayMs: 250, batchFee: 1000 },
    mempool: { maxTxs: 100_000, maxBytes: 128 * 1024 * 1024, maxPerSender: 10_000, maxNonceGap: 10_000, replaceBumpPercent: 10, ...EXPIRY_DEFAULTS },
    log: { level: 'info', file: null },
    state: { historyBlocks: 1000, archive: false, valueCacheMB: 64, nodeCacheMB: 128, strictAccess: false },
    verify: { workers: null },
    transitions: [],
  };
}

type Json = Record<string, unknown>;

function invalid(field: string, message: string): JouleError {
  return new JouleError(ErrorCode.CONFIG_INVALID, message, `config.${field}`);
}

function pick<T>(obj: Json, key: string, fallback: T, path: string, check: (v: unknown) => boolean, expected: string): T {
  if (!Object.hasOwn(obj, key)) return fallback;
  const v = obj[key];
  if (!check(v)) throw invalid(`${path}${key}`, `expected ${expected}`);
  return v as T;
}

/** The grpc section's integer fields. */
type GrpcIntField = { [K in keyof NodeConfig['grpc']]: NodeConfig['grpc'][K] extends number ? K : never }[keyof NodeConfig['grpc']];

const isString = (v: unknown) => typeof v === 'string' && v.length > 0;
const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
const isPositiveInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;
const isBoolean = (v: unknown) => typeof v === 'boolean';
const isNonNegativeInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const isStringArray = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isPositiveIntOrNull = (v: unknown) => v === null || isPositiveInt(v);
/** `'*'`, or an origin exactly as a browser sends it: scheme, host and port, no path. */
const isOrigin = (v: unknown) => {
  if (v === '*') return true;
  if (typeof v !== 'string') return false;
  try {
    return new URL(v).origin === v;
  } catch {
    return false;
  }
};
/** `'*'`, or a host name or IP address (IPv6 with or without brackets), without scheme, port or path. */
const isHostName = (v: unknown) => typeof v === 'string' && (v === '*' || isIP(v.replace(/^\[(.*)\]$/, '$1')) !== 0 || /^[^\s/:@[\]]+$/.test(v));
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A nested section; its keys are those of its default, so a typo (`mempool.maxTx`) is an error, not a silent default. */
function section(obj: Json, key: string, defaults: object): Json {
  const v = obj[key];
  if (v === undefined) return {};
  if (!isObject(v)) throw invalid(key, 'expected an object');
  // Own fields only: `toString` or `constructor` is in every object, not a field of the config.
  for (const k of Object.keys(v)) if (!Object.hasOwn(defaults, k)) throw invalid(`${key}.${k}`, `unknown field (known: ${Object.keys(defaults).join(', ')})`);
  return v;
}

/** Parses a config object; unknown keys are errors (a typo must not silently fall back to a default). */
export function parseConfig(json: unknown): NodeConfig {
  if (!isObject(json)) throw invalid('$', 'expected a JSON object');
  const name = pick(json, 'name', 'node', '', isString, 'a non-empty string');
  const d = defaultConfig(name);
  for (const k of Object.keys(json)) if (!Object.hasOwn(d, k)) throw invalid(k, 'unknown field');
  const p2p = section(json, 'p2p', d.p2p);
  const rpc = section(json, 'rpc', d.rpc);
  const metrics = section(json, 'metrics', d.metrics);
  const grpc = section(json, 'grpc', d.grpc);
  const ingress = section(json, 'ingress', d.ingress);
  /** A grpc field that is an integer of at least `min`. */
  const grpcInt = (key: GrpcIntField, min = 1): number =>
    pick(grpc, key, d.grpc[key], 'grpc.', (v) => isPositiveInt(v) && (v as number) >= min, min === 1 ? 'a positive integer' : `an integer of at least ${min}`);
  /** An rpc count that is a positive integer, or null: the port derives it (rpc/http/limits.ts, rpc/per-address-limit.ts). */
  const rpcCountOrNull = (key: 'maxConnectionsPerAddress' | 'maxWsConnections' | 'maxWsConnectionsPerAddress'): number | null =>
    pick(rpc, key, d.rpc[key], 'rpc.', isPositiveIntOrNull, 'a positive integer or null');
  const mempool = section(json, 'mempool', d.mempool);
  const log = section(json, 'log', d.log);
  const verify = section(json, 'verify', d.verify);
  const state = section(json, 'state', d.state);
  return {
    name,
    role: pick(json, 'role', d.role, '', (v) => (NODE_ROLES as readonly unknown[]).includes(v), NODE_ROLES.map((r) => `"${r}"`).join(' or ')),
    genesis: pick(json, 'genesis', d.genesis, '', isString, 'a path'),
    dataDir: pick(json, 'dataDir', d.dataDir, '', isString, 'a path'),
    identityKey: pick(json, 'identityKey', d.identityKey, '', isString, 'a path'),
    consensusKey: pick(json, 'consensusKey', d.consensusKey, '', isString, 'a path'),
    p2p: {
      listen: pick(p2p, 'listen', d.p2p.listen, 'p2p.', isString, 'a multiaddr'),
      peers: pick(p2p, 'peers', d.p2p.peers, 'p2p.', isStringArray, 'an array of multiaddrs'),
      allowPeers: pick(p2p, 'allowPeers', d.p2p.allowPeers, 'p2p.', isStringArray, 'an array of peer ids'),
      maxConnections: pick(p2p, 'maxConnections', d.p2p.maxConnections, 'p2p.', isPositiveInt, 'a positive integer'),
    },
    rpc: {
      host: pick(rpc, 'host', d.rpc.host, 'rpc.', isString, 'a host'),
      port: pick(rpc, 'port', d.rpc.port, 'rpc.', isPort, 'a port'),
      corsOrigins: pick(
        rpc,
        'corsOrigins',
        d.rpc.corsOrigins,
        'rpc.',
        (v) => Array.isArray(v) && v.every(isOrigin),
        'an array of origins like "https://app.example" (scheme, host, port; no path), or ["*"]',
      ),
      hosts: pick(
        rpc,
        'hosts',
        d.rpc.hosts,
        'rpc.',
        (v) => Array.isArray(v) && v.every(isHostName),
        'an array of host names (no scheme, port or path), or ["*"]',
      ),
      maxConnections: pick(rpc, 'maxConnections', d.rpc.maxConnections, 'rpc.', isPositiveInt, 'a positive integer'),
      maxConnectionsPerAddress: rpcCountOrNull('maxConnectionsPerAddress'),
      maxWsConnections: rpcCountOrNull('maxWsConnections'),
      maxWsConnectionsPerAddress: rpcCountOrNull('maxWsConnectionsPerAddress'),
      // Below one full body (1 MiB) a large request could never be read.
      maxBodyBytesInFlight: pick(
        rpc,
        'maxBodyBytesInFlight',
        d.rpc.maxBodyBytesInFlight,
        'rpc.',
        (v) => v === null || (isPositiveInt(v) && (v as number) >= 1024 * 1024),
        'an integer of at least 1048576 (one full body), or null',
      ),
    },
    metrics: {
      host: pick(metrics, 'host', d.metrics.host, 'metrics.', isString, 'a host'),
      port: pick(metrics, 'port', d.metrics.port, 'metrics.', isPort, 'a port'),
    },
    grpc: {
      host: pick(grpc, 'host', d.grpc.host, 'grpc.', isString, 'a host'),
      port: pick(grpc, 'port', d.grpc.port, 'grpc.', isPort, 'a port'),
      tls: parseTls(grpc),
      maxMessageBytes: grpcInt('maxMessageBytes', 1024),
      maxStreamsPerConnection: grpcInt('maxStreamsPerConnection'),
      maxConnections: grpcInt('maxConnections'),
      maxConnectionsPerAddress: grpcInt('maxConnectionsPerAddress'),
      idleConnectionMs: grpcInt('idleConnectionMs', 1000),
      proveStreamWithinMs: grpcInt('proveStreamWithinMs', 1000),
      maxUnprovenStreams: grpcInt('maxUnprovenStreams'),
      unprovenFailuresPerSecondPerAddress: grpcInt('unprovenFailuresPerSecondPerAddress'),
      unprovenFailuresPerSecond: grpcInt('unprovenFailuresPerSecond'),
      readingsPerSecondPerDevice: grpcInt('readingsPerSecondPerDevice'),
      readingsPerSecondPerConnection: grpcInt('readingsPerSecondPerConnection'),
    },
    ingress: {
      aggregatorKey: pick(ingress, 'aggregatorKey', d.ingress.aggregatorKey, 'ingress.', (v) => v === null || isString(v), 'a path or null'),
      maxBatchReadings: pick(
        ingress,
        'maxBatchReadings',
        d.ingress.maxBatchReadings,
        'ingress.',
        (v) => isPositiveInt(v) && (v as number) <= 10_000,
        'an integer 1..10000',
      ),
      maxBatchDelayMs: pick(ingress, 'maxBatchDelayMs', d.ingress.maxBatchDelayMs, 'ingress.', isPositiveInt, 'a positive integer (ms)'),
      batchFee: pick(ingress, 'batchFee', d.ingress.batchFee, 'ingress.', isPositiveInt, 'a positive integer (micro-units)'),
    },
    mempool: {
      maxTxs: pick(mempool, 'maxTxs', d.mempool.maxTxs, 'mempool.', isPositiveInt, 'a positive integer'),
      maxBytes: pick(mempool, 'maxBytes', d.mempool.maxBytes, 'mempool.', isPositiveInt, 'a positive integer'),
      maxPerSender: pick(mempool, 'maxPerSender', d.mempool.maxPerSender, 'mempool.', isPositiveInt, 'a positive integer'),
      maxNonceGap: pick(mempool, 'maxNonceGap', d.mempool.maxNonceGap, 'mempool.', isPositiveInt, 'a positive integer'),
      replaceBumpPercent: pick(mempool, 'replaceBumpPercent', d.mempool.replaceBumpPercent, 'mempool.', isPositiveInt, 'a positive integer'),
      maxGappedPerSender: pick(mempool, 'maxGappedPerSender', d.mempool.maxGappedPerSender, 'mempool.', isNonNegativeInt, 'a non-negative integer'),
      maxGapAgeMs: pick(mempool, 'maxGapAgeMs', d.mempool.maxGapAgeMs, 'mempool.', isPositiveInt, 'a positive integer (ms)'),
      maxTxAgeMs: pick(mempool, 'maxTxAgeMs', d.mempool.maxTxAgeMs, 'mempool.', isPositiveInt, 'a positive integer (ms)'),
    },
    log: {
      level: pick(
        log,
        'level',
        d.log.level,
        'log.',
        (v) => ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(v as string),
        'a pino level',
      ),
      file: pick(log, 'file', d.log.file, 'log.', (v) => v === null || isString(v), 'a path or null'),
    },
    state: {
      historyBlocks: pick(state, 'historyBlocks', d.state.historyBlocks, 'state.', isPositiveInt, 'a positive integer'),
      archive: pick(state, 'archive', d.state.archive, 'state.', isBoolean, 'true or false'),
      valueCacheMB: pick(state, 'valueCacheMB', d.state.valueCacheMB, 'state.', isPositiveInt, 'a positive integer'),
      nodeCacheMB: pick(state, 'nodeCacheMB', d.state.nodeCacheMB, 'state.', isPositiveInt, 'a positive integer'),
      strictAccess: pick(state, 'strictAccess', d.state.strictAccess, 'state.', isBoolean, 'true or false'),
    },
    verify: { workers: pick(verify, 'workers', d.verify.workers, 'verify.', (v) => v === null || isPositiveInt(v), 'a positive integer or null') },
    transitions: pick(json, 'transitions', d.transitions, '', Array.isArray, 'an array of transitions'),
  };
}

function parseTls(grpc: Json): NodeConfig['grpc']['tls'] {
  if (!Object.hasOwn(grpc, 'tls') || grpc.tls === null) return null;
  const t = grpc.tls;
  if (!isObject(t)) throw invalid('grpc.tls', 'expected null or { certFile, keyFile, clientCaFile }');
  for (const k of Object.keys(t))
    if (!['certFile', 'keyFile', 'clientCaFile'].includes(k)) throw invalid(`grpc.tls.${k}`, 'unknown field (known: certFile, keyFile, clientCaFile)');
  for (const k of ['certFile', 'keyFile']) if (!Object.hasOwn(t, k)) throw invalid(`grpc.tls.${k}`, 'required with TLS');
  return {
    certFile: pick(t, 'certFile', '', 'grpc.tls.', isString, 'a path (PEM certificate chain)'),
    keyFile: pick(t, 'keyFile', '', 'grpc.tls.', isString, 'a path (PEM private key)'),
    clientCaFile: pick(t, 'clientCaFile', null, 'grpc.tls.', (v) => v === null || isString(v), 'a path (PEM CA of client certificates: mutual TLS) or null'),
  };
}

export function loadConfig(home: string): NodeConfig {
  const file = join(home, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new JouleError(ErrorCode.CONFIG_INVALID, `cannot read ${file}: is this a node home? (create one with \`joule init\`)`, 'home');
  }
  return parseConfigText(text, file);
}

/** A config file's text (read from `file`); CONFIG_INVALID naming the field otherwise. */
export function parseConfigText(text: string, file: string): NodeConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new JouleError(ErrorCode.CONFIG_INVALID, `${file} is not valid JSON (${(e as Error).message})`, 'config');
  }
  return parseConfig(json);
}

export function resolveIn(home: string, path: string): string {
  return isAbsolute(path) ? path : join(home, path);
}

/**
 * A server that cannot bind is a configuration problem, named by its field: `listen
 * EADDRINUSE` alone does not tell an operator which of four ports to change.
 */
export function bindError(e: unknown, section: 'rpc' | 'metrics' | 'grpc' | 'p2p', where: string): JouleError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? '';
  const detail = (e as Error | undefined)?.message ?? String(e);
  const field = section === 'p2p' ? 'p2p.listen' : code === 'EADDRINUSE' || code === 'EACCES' ? `${section}.port` : `${section}.host`;
  const why =
    code === 'EADDRINUSE'
      ? `${where} is already in use (another node, or another program, listens there)`
      : code === 'EACCES'
        ? `no permission to listen on ${where} (ports below 1024 need privileges)`
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? `${where}: no such local address on this machine`
          : `cannot listen on ${where} (${detail})`;
  return invalid(field, why);
}
