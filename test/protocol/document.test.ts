import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode, type Encodable } from '../../core/codec.ts';
import { parseAddress } from '../../core/keys.ts';
import { Domain } from '../../core/domain.ts';
import { ErrorCode } from '../../core/errors.ts';
import { DEFAULT_PARAMS } from '../../core/params.ts';
import { KIND_NAMES } from '../../core/signed-core.ts';
import { MAX_EVIDENCE_BODY_BYTES } from '../../core/tx/evidence.ts';
import { decodeTx, MAX_TX_BYTES } from '../../core/tx.ts';
import { errorOf } from '../../core/testing/errors.ts';
import { registeredTxTypes } from '../../vm/registry.ts';
import { MAX_OPEN_VOTES } from '../../vm/validator-vote.ts';
import { validateTx } from '../../vm/validity.ts';
import { hex, unhex } from './notation.ts';
import { vectorChain } from './vector-chain.ts';
import { type ProtocolVectors, VECTORS_FILE } from './vectors.ts';

/**
 * docs/protocol.md against the code and the vector file: what the code defines is named in
 * the document, what the document cites exists, and what its layout tables and hex dumps
 * say is what the bytes are. The document's own "How this document is kept true" lists
 * these rules; a failure here names the line of the document to fix.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const DOC_FILE = 'docs/protocol.md';
const doc = readFileSync(join(ROOT, DOC_FILE), 'utf8');
const vectorText = readFileSync(join(ROOT, VECTORS_FILE), 'utf8');
const file = JSON.parse(vectorText) as ProtocolVectors;
const lines = doc.split('\n');

interface Entry {
  readonly name: string;
}
const SECTIONS: Record<string, readonly Entry[]> = {
  'encoding.valid': file.encoding.valid,
  'encoding.rejected': file.encoding.rejected,
  'transactions.valid': file.transactions.valid,
  'transactions.invalid': file.transactions.invalid,
  signing: file.signing,
  headers: file.headers,
  certificates: file.certificates,
  hashes: file.hashes,
  merkleRoots: file.merkleRoots,
  keys: file.keys,
  deviceKeys: file.deviceKeys,
  telemetry: file.telemetry,
};

/** `section/name[/property.path]` -> the entry and the value at the property path (the entry itself without one). */
function resolve(ref: string): { entry: Entry; value: unknown } {
  const [section, name, property] = ref.split('/');
  const entry = SECTIONS[section!]?.find((e) => e.name === name);
  if (entry === undefined) throw new Error(`${DOC_FILE} cites ${ref}: no vector ${name} in ${section}`);
  let value: unknown = entry;
  for (const key of property === undefined ? [] : property.split('.')) {
    value = (value as Record<string, unknown> | undefined)?.[key];
    if (value === undefined) throw new Error(`${DOC_FILE} cites ${ref}: ${name} has no ${property}`);
  }
  return { entry, value };
}

const REFERENCE = new RegExp(
  `\`((?:${Object.keys(SECTIONS)
    .map((s) => s.replace('.', '\\.'))
    .join('|')})/[^\`\\s]+)\``,
  'g',
);
const references = [...doc.matchAll(REFERENCE)].map((m) => m[1]!);

/** The table row whose first cell is `code`, e.g. the domain tag table's row of a tag. */
function rowOf(firstCell: string): string | undefined {
  return lines.find((l) => l.startsWith(`| \`${firstCell}\` |`) || l.startsWith(`| ${firstCell} |`));
}

describe(`${DOC_FILE} names everything the code defines`, () => {
  it('every domain tag, with its signing vector, or marked reserved when nothing signs it yet', () => {
    for (const tag of Object.values(Domain)) {
      const row = rowOf(tag);
      expect(row, `a row for ${tag} in the domain tag table`).toBeDefined();
      // A reading's signing bytes are a fixed binary layout of their own, with vectors of their own.
      const vectors =
        tag === Domain.telemetry
          ? file.telemetry.map((v) => ({ name: v.name, section: 'telemetry' }))
          : file.signing.filter((v) => v.domain === tag).map((v) => ({ name: v.name, section: 'signing' }));
      if (vectors.length === 0) expect(row, `${tag} has no signing vector: its row must say it is reserved`).toMatch(/reserved .*not in use/);
      for (const v of vectors) expect(row, `${tag}'s row cites ${v.section}/${v.name}`).toContain(`\`${v.section}/${v.name}\``);
    }
  });

  it('every registered tx type: its row (id, name, tier), its section, and a layout table of its body', () => {
    const types = registeredTxTypes();
    for (const h of types) {
      const row = `| ${h.type} | \`${h.name}\` | \`${h.tier}\` |`;
      expect(
        lines.some((l) => l.startsWith(row)),
        `the tx type table row ${row}`,
      ).toBe(true);
      expect(doc).toContain(`### Type ${h.type}: \`${h.name}\``);
      const bodyLayouts = [...doc.matchAll(/<!-- layout: transactions\.valid\/([^/\s]+)\/body -->/g)].map((m) => resolve(`transactions.valid/${m[1]}`).entry);
      expect(
        bodyLayouts.some((v) => (v as { typeName?: string }).typeName === h.name),
        `a body layout table of ${h.name}`,
      ).toBe(true);
    }
    const documented = [...doc.matchAll(/^### Type (\d+): `([^`]+)`/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(documented).toEqual(types.map((h) => `${h.type} ${h.name}`));
  });

  it('every consensus message kind', () => {
    KIND_NAMES.forEach((name, kind) => expect(doc, name).toContain(`| ${kind} | \`${name}\` |`));
  });

  it('every error code a client can receive for a transaction, a device or its readings', () => {
    const clientCodes = Object.values(ErrorCode).filter((c) => /^(CODEC|TX|MEMPOOL|DEVICE|TELEMETRY|COMMAND|ENERGY)_/.test(c));
    for (const code of clientCodes) expect(rowOf(code), `a row for ${code} in the error table`).toBeDefined();
    for (const v of file.transactions.invalid) expect(doc, `${v.name}'s code`).toContain(`\`${v.error.code}\``);
  });

  it('the limits and defaults it quotes', () => {
    const n = (x: number | bigint) => x.toLocaleString('en-US');
    const quoted = [
      `default ${n(DEFAULT_PARAMS.maxTxBytes)} bytes`,
      `never\nmore than ${n(MAX_TX_BYTES)}`,
      `at most\n${n(MAX_EVIDENCE_BODY_BYTES)} bytes`,
      `at most ${MAX_OPEN_VOTES} open votes`,
      `a minimum fee of ${DEFAULT_PARAMS.minFee}`,
      ...DEFAULT_PARAMS.tiers.map((t) => `\`${t.name}\`\n${t.baseFee}`),
    ];
    const flat = (s: string) => s.replace(/\s+/g, ' ');
    for (const q of quoted) expect(flat(doc), q).toContain(flat(q));
  });
});

describe(`${DOC_FILE} cites what exists`, () => {
  it('every vector reference resolves', () => {
    expect(references.length).toBeGreaterThan(50);
    for (const ref of references) expect(() => resolve(ref), ref).not.toThrow();
  });

  it('every valid transaction, signed payload, header, certificate, hash and Merkle vector is cited', () => {
    const cited = new Set(references.map((r) => r.split('/').slice(0, 2).join('/')));
    for (const section of ['transactions.valid', 'signing', 'telemetry', 'headers', 'certificates', 'hashes', 'merkleRoots']) {
      for (const e of SECTIONS[section]!) expect(cited, `${section}/${e.name}`).toContain(`${section}/${e.name}`);
    }
  });

  it('every long hex literal occurs in the vector file', () => {
    for (const [literal] of doc.matchAll(/0x[0-9a-f]{16,}/g)) expect(vectorText, literal).toContain(literal.slice(2));
  });
});

/** A wire value against the vector file's JSON of it: hex for bytes, decimal or number for integers, objects in field order for arrays. */
function matches(wire: Encodable, json: unknown): boolean {
  if (wire === null || typeof wire === 'boolean' || typeof wire === 'string') return json === wire;
  if (typeof wire === 'number' || typeof wire === 'bigint') return (typeof json === 'number' || typeof json === 'string') && String(json) === String(wire);
  if (wire instanceof Uint8Array) return json === hex(wire);
  const values = Array.isArray(json) ? json : json !== null && typeof json === 'object' ? Object.values(json) : undefined;
  return values !== undefined && values.length === wire.length && wire.every((w, i) => matches(w, values[i]));
}

/** What a layout marker's path stands for: the bytes, and the named fields they must hold. */
function layoutOf(path: string): { bytes: string; fields: Record<string, unknown> } {
  const [section, name, part] = path.split('/');
  const { entry } = resolve(`${section}/${name}`);
  const e = entry as Record<string, any>; // the shapes of vectors.ts, read by name
  if (section === 'transactions.valid') {
    const { body: _decoded, ...envelope } = e.fields;
    if (part === undefined) return { bytes: e.encodedTx, fields: { ...envelope, body: e.encodedBody, signature: e.signature } };
    if (part === 'body') return { bytes: e.encodedBody, fields: e.fields.body };
    if (part === 'signingPayload') return { bytes: e.signingPayload, fields: { tag: file.domains.tx, ...envelope, body: e.encodedBody } };
  }
  if (section === 'signing' && part === 'payload') return { bytes: e.payload, fields: { tag: e.domain, chainId: file.context.chainId, ...e.fields } };
  if (section === 'signing' && part === 'encoded') return { bytes: e.encoded, fields: e.fields };
  if ((section === 'headers' || section === 'certificates') && part === undefined) return { bytes: e.encoded, fields: e.fields };
  throw new Error(`${DOC_FILE}: no layout rule for ${path}`);
}

describe(`${DOC_FILE} says what the bytes are`, () => {
  const markers = lines.flatMap((l, i) => {
    const m = /^<!-- layout: (\S+) -->$/.exec(l);
    return m === null ? [] : [{ path: m[1]!, line: i + 1 }];
  });

  it('has layout tables of the envelope, a header and a certificate', () => {
    const paths = markers.map((m) => m.path);
    expect(paths.some((p) => /^transactions\.valid\/[^/]+$/.test(p))).toBe(true);
    expect(paths.some((p) => p.startsWith('headers/'))).toBe(true);
    expect(paths.some((p) => p.startsWith('certificates/'))).toBe(true);
  });

  for (const { path, line } of markers) {
    it(`the table at line ${line} lists the fields of ${path} in wire order`, () => {
      const table: string[] = [];
      for (let i = line; i < lines.length && lines[i]!.startsWith('|'); i++) table.push(lines[i]!);
      const rows = table.slice(2).map((r) => /^\| `([^`]+)` \|/.exec(r)?.[1]);
      expect(rows.length, 'rows under the marker').toBeGreaterThan(0);
      expect(rows, 'every row starts with a field name in backticks').not.toContain(undefined);
      const { bytes, fields } = layoutOf(path);
      const wire = decode(unhex(bytes)) as readonly Encodable[];
      expect(rows.length, `the fields of ${path}`).toBe(wire.length);
      rows.forEach((name, i) => {
        expect(Object.keys(fields), `field ${name} (row ${i + 1})`).toContain(name);
        expect(matches(wire[i]!, fields[name!]), `row ${i + 1}, ${name}, is field ${i} of the bytes`).toBe(true);
      });
    });
  }

  const dumps = [...doc.matchAll(/```hex\n([\s\S]*?)```/g)].map((m) => m[1]!.split('\n'));
  it('has annotated hex dumps', () => expect(dumps.length).toBeGreaterThanOrEqual(3));
  for (const dump of dumps) {
    const ref = /^# (\S+)$/.exec(dump[0]!)?.[1];
    it(`the hex dump of ${ref} adds up to it`, () => {
      expect(ref, 'a hex block starts with "# section/name/property"').toBeDefined();
      const joined = dump
        .slice(1)
        .map((l) => l.replace(/#.*/, '').replace(/\s+/g, ''))
        .join('');
      expect(joined).toMatch(/^[0-9a-f]+$/);
      expect(`0x${joined}`).toBe(resolve(ref!).value);
    });
  }
});

describe(`${DOC_FILE}'s JSON-RPC example`, () => {
  const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, any>);
  const transfer = file.transactions.valid.find((v) => v.name === 'transfer')!;

  it('submits the worked example and is answered with its hash', () => {
    const request = examples.find((e) => e.method === 'joule_sendRawTransaction');
    expect(request?.params).toEqual([transfer.encodedTx]);
    expect(examples.find((e) => e.result !== undefined)?.result).toEqual({ hash: transfer.txHash });
  });

  it("shows the node's answer to the same transaction once included", () => {
    const { state, chain } = vectorChain(file.context, file.keys, file.deviceKeys);
    const alice = file.context.accounts.find((a) => a.key === 'alice')!;
    state.setAccount(parseAddress(alice.address), { balance: BigInt(alice.balance), nonce: 1 });
    const e = errorOf(() => validateTx(state, decodeTx(unhex(transfer.encodedTx)), chain, { allowFutureNonce: true }));
    const answer = examples.find((x) => x.error !== undefined);
    expect(answer?.error).toEqual({ code: -32000, message: e.message, data: e.toJSON() });
  });
});
