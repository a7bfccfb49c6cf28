/**
 * Minimal protocol buffers: a schema-less writer (the wire types the ONNX messages pier writes need:
 * varint, length-delimited, 32-bit) and a reader that walks a message's fields without copying, so
 * that reading a model's inputs and outputs skips its weights. No protobuf runtime, no generated code.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

export class ProtoWriter {
  #chunks: Uint8Array[] = [];
  #scratch: number[] = [];
  #length = 0;

  get length(): number {
    return this.#length + this.#scratch.length;
  }

  #flushScratch(): void {
    if (this.#scratch.length === 0) return;
    this.#chunks.push(Uint8Array.from(this.#scratch));
    this.#length += this.#scratch.length;
    this.#scratch = [];
  }

  #rawVarint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    if (typeof value === "number" && value >= 0 && value <= 0x7fffffff) {
      let n = value;
      while (n > 0x7f) {
        this.#scratch.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      this.#scratch.push(n);
      return;
    }
    while (v > 0x7fn) {
      this.#scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#scratch.push(Number(v));
  }

  #tag(field: number, wireType: number): void {
    this.#rawVarint((field << 3) | wireType);
  }

  #rawBytes(bytes: Uint8Array): void {
    this.#flushScratch();
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  /** int32/int64/enum/bool field; negative values take ten bytes, as protobuf requires. */
  int(field: number, value: number | bigint): this {
    if (!Number.isInteger(Number(value)))
      throw new RangeError(`protobuf field ${field}: ${value} is not an integer`);
    this.#tag(field, WIRE_VARINT);
    this.#rawVarint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.#tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#rawBytes(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, WIRE_LENGTH_DELIMITED);
    this.#rawVarint(value.length);
    this.#rawBytes(value);
    return this;
  }

  /** Bytes that already are encoded fields, copied as they are. */
  raw(bytes: Uint8Array): this {
    this.#rawBytes(bytes);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  message(field: number, build: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.#rawVarint(v);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: ArrayLike<number>): this {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
    return this.bytes(field, bytes);
  }

  packedDoubles(field: number, values: ArrayLike<number>): this {
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
    return this.bytes(field, bytes);
  }

  finish(): Uint8Array {
    this.#flushScratch();
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

const WIRE_FIXED64 = 1;

/** One field of a message as it lies in the buffer. */
export interface ProtoField {
  field: number;
  wire: number;
  /** A varint's value (int64 fields keep their sign); 0 for other wire types. */
  varint: bigint;
  /** A length-delimited field's payload (a view, not a copy); empty for other wire types. */
  bytes: Uint8Array;
  /** The whole field, tag included: [start, end) in the message. */
  start: number;
  end: number;
}

const textDecoder = new TextDecoder();

/** Thrown for bytes that are not a well-formed protobuf message. */
export class ProtoDecodeError extends Error {}

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const byte = buf[i]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [BigInt.asIntN(64, result), i + 1];
    shift += 7n;
  }
  throw new ProtoDecodeError(`truncated varint at byte ${pos}`);
}

/** The fields of one message, in order. Throws ProtoDecodeError for malformed bytes. */
export function* readFields(buf: Uint8Array): Generator<ProtoField> {
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(buf, pos);
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field <= 0) throw new ProtoDecodeError(`field number ${field} at byte ${start}`);
    let varint = 0n;
    let bytes: Uint8Array = EMPTY;
    if (wire === WIRE_VARINT) [varint, pos] = readVarint(buf, afterTag);
    else if (wire === WIRE_FIXED64) pos = afterTag + 8;
    else if (wire === WIRE_FIXED32) pos = afterTag + 4;
    else if (wire === WIRE_LENGTH_DELIMITED) {
      const [length, afterLength] = readVarint(buf, afterTag);
      pos = afterLength + Number(length);
      if (length < 0n || pos > buf.length)
        throw new ProtoDecodeError(`field ${field} at byte ${start} runs past the end`);
      bytes = buf.subarray(afterLength, pos);
    } else throw new ProtoDecodeError(`wire type ${wire} at byte ${start}`);
    if (pos > buf.length) throw new ProtoDecodeError(`field ${field} at byte ${start} runs past the end`);
    yield { field, wire, varint, bytes, start, end: pos };
  }
}

const EMPTY = new Uint8Array(0);

export const decodeString = (bytes: Uint8Array): string => textDecoder.decode(bytes);

/** A repeated integer field's values, whether packed (one length-delimited field) or not. */
export function intValues(field: ProtoField): bigint[] {
  if (field.wire === WIRE_VARINT) return [field.varint];
  const values: bigint[] = [];
  for (let pos = 0; pos < field.bytes.length; ) {
    const [value, next] = readVarint(field.bytes, pos);
    values.push(value);
    pos = next;
  }
  return values;
}
