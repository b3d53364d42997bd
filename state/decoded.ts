/**
 * Decoded records remembered by the value bytes they were decoded from. State values are
 * never changed in place (a write stores new bytes), and the caches in front of the flat
 * state hand out the same bytes until the record changes; so a record read again and
 * again (a device and its meter cursor: checked by admission, re-validation after each
 * block, the block builder, block verification and execution) is decoded once. A record
 * that changes gets new bytes and is decoded again; bytes nothing holds any more are
 * collected with their decoding. Callers must treat what they get as immutable, which the
 * records' readonly types say.
 */
export class DecodedRecords<T extends object> {
  private readonly byValue = new WeakMap<Uint8Array, T>();
  private readonly decode: (raw: Uint8Array) => T;

  constructor(decode: (raw: Uint8Array) => T) {
    this.decode = decode;
  }

  of(raw: Uint8Array): T {
    let record = this.byValue.get(raw);
    if (record === undefined) {
      record = this.decode(raw);
      this.byValue.set(raw, record);
    }
    return record;
  }
}
