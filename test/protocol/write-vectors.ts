/**
 * `npm run vectors`: writes docs/protocol-vectors.json from the code (fixed seeds, so the
 * same tree always writes the same file). Run it after a deliberate change to the wire
 * format, review the diff, and update docs/protocol.md with it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProtocolVectors, VECTORS_FILE, vectorsText } from './vectors.ts';

const vectors = buildProtocolVectors();
writeFileSync(join(import.meta.dirname, '..', '..', VECTORS_FILE), vectorsText(vectors));
console.log(
  `${VECTORS_FILE}: ${vectors.transactions.valid.length} valid and ${vectors.transactions.invalid.length} invalid transactions, ` +
    `${vectors.encoding.valid.length + vectors.encoding.rejected.length} encodings, ${vectors.signing.length} signed payloads`,
);
