/**
 * Decoded records remembered by the value bytes they were decoded from, at most `limit` of
 * them (the oldest forgotten first). State values are never changed in place (a write
 * stores new bytes), and the caches in front of the flat state hand out the same bytes
 * until the record changes; so a record read again and again within a few blocks (a
 * device and its meter cursor: checked by admission, re-validation after each block, the
 * block builder, block verification and execution) is decoded once. A record that changes
 * gets new bytes and is decoded again. Callers must treat what they get as immutable,
 * which the records' readonly types say.
 */
export class DecodedRecords<T> {
  private readonly byValue = new Map<Uint8Array, T>();
  private readonly decode: (raw: Uint8Array) => T;
  private readonly limit: number;

  constructor(decode: (raw: Uint8Array) => T, limit: number) {
    this.decode = decode;
    this.limit = limit;
  }

  of(raw: Uint8Array): T {
    let record = this.byValue.get(raw);
    if (record === undefined) {
      record = this.decode(raw);
      if (this.byValue.size >= this.limit) this.byValue.delete(this.byValue.keys().next().value!);
      this.byValue.set(raw, record);
    }
    return record;
  }

  get size(): number {
    return this.byValue.size;
  }
}
