// safetensors (DESIGN §10): u64 little-endian header length, a JSON header mapping tensor names to
// { dtype, shape, data_offsets } plus a "__metadata__" map of strings, then the raw little-endian
// tensor bytes. The reader validates every number before it allocates anything.
import { ModelFormatError } from '../errors.js';

export interface StTensor { name: string; dtype: 'F32'; shape: number[]; data: Float32Array }

/** Largest header accepted (the JSON part). */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** Most tensors accepted in one file. */
export const MAX_TENSORS = 100_000;

const te = new TextEncoder();

/** Serialises tensors (in the order given) and string metadata. */
export function encodeSafetensors(tensors: { name: string; shape: number[]; data: Float32Array }[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = te.encode(JSON.stringify(header));
  // Pad the header with spaces to 8 bytes so the tensor data is aligned (as the format allows).
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

function fail(field: string, msg: string): never {
  throw new ModelFormatError(`safetensors: ${field}: ${msg}`);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One tensor of a parsed header: its name, shape and byte range in the data section. */
export interface StEntry { name: string; shape: number[]; begin: number; end: number }

/** The JSON header's length from the first 8 bytes of a file of `size` bytes, checked against the cap and the size. */
export function headerLength(first: Uint8Array, size: number): number {
  if (size < 8 || first.length < 8) fail('header length', `the file has ${size} bytes; at least 8 are needed`);
  const hlen = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (hlen > BigInt(MAX_HEADER_BYTES)) fail('header length', `${hlen} bytes exceeds the cap of ${MAX_HEADER_BYTES}`);
  const n = Number(hlen);
  if (8 + n > size) fail('header length', `${n} bytes but only ${size - 8} follow the length field`);
  return n;
}

/** Parses and validates the header JSON against the length of the data section that follows it. */
export function parseHeader(json: Uint8Array, dataLen: number): { entries: StEntry[]; metadata: Record<string, string> } {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    fail('header', `not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isObj(header)) fail('header', 'must be a JSON object');
  const metadata: Record<string, string> = Object.create(null);
  const entries: StEntry[] = [];
  const keys = Object.keys(header);
  if (keys.length > MAX_TENSORS + 1) fail('header', `${keys.length} entries exceeds the cap of ${MAX_TENSORS} tensors`);
  for (const name of keys) {
    const v = header[name];
    if (name === '__metadata__') {
      if (!isObj(v)) fail('__metadata__', 'must be an object of strings');
      for (const k of Object.keys(v)) {
        if (typeof v[k] !== 'string') fail(`__metadata__.${k}`, 'values must be strings');
        metadata[k] = v[k] as string;
      }
      continue;
    }
    if (!isObj(v)) fail(`tensor ${JSON.stringify(name)}`, 'must be an object');
    if (v.dtype !== 'F32') fail(`tensor ${JSON.stringify(name)}.dtype`, `${JSON.stringify(v.dtype)} is not supported; simdnn files hold F32`);
    const shape = v.shape;
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor ${JSON.stringify(name)}.shape`, `${JSON.stringify(shape)} must be up to 8 non-negative integers`);
    }
    let count = 1;
    for (const d of shape as number[]) {
      count *= d;
      if (count * 4 > dataLen) fail(`tensor ${JSON.stringify(name)}.shape`, `${JSON.stringify(shape)} needs more than the ${dataLen} data bytes of the file`);
    }
    const off = v.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor ${JSON.stringify(name)}.data_offsets`, `${JSON.stringify(off)} must be [begin, end] integers`);
    }
    const [begin, end] = off as number[];
    if (begin > end || end > dataLen) fail(`tensor ${JSON.stringify(name)}.data_offsets`, `[${begin}, ${end}] is outside the ${dataLen} data bytes`);
    if (end - begin !== count * 4) fail(`tensor ${JSON.stringify(name)}.data_offsets`, `[${begin}, ${end}] holds ${end - begin} bytes; shape ${JSON.stringify(shape)} of F32 needs ${count * 4}`);
    entries.push({ name, shape: shape as number[], begin, end });
  }
  // Offsets must tile the data section exactly: sorted, contiguous, no overlap, no gap, no tail.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const t of entries) {
    if (t.begin !== pos) fail(`tensor ${JSON.stringify(t.name)}.data_offsets`, t.begin < pos ? `overlaps the previous tensor (begins at ${t.begin}, previous ends at ${pos})` : `leaves a gap of ${t.begin - pos} bytes before it`);
    pos = t.end;
  }
  if (pos !== dataLen) fail('data', `${dataLen - pos} bytes after the last tensor are not described by the header`);
  return { entries, metadata };
}

/** The tensors of a parsed header (in data order), copied out of its data section. */
export function readTensors(entries: StEntry[], data: Uint8Array): StTensor[] {
  return entries.map((t) => {
    const out = new Float32Array((t.end - t.begin) / 4);
    new Uint8Array(out.buffer).set(data.subarray(t.begin, t.end));
    return { name: t.name, dtype: 'F32' as const, shape: t.shape, data: out };
  });
}

/** Parses and validates a safetensors file; returns tensors in data order and the metadata. */
export function decodeSafetensors(bytes: Uint8Array): { tensors: StTensor[]; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) fail('input', 'expected a Uint8Array');
  const n = headerLength(bytes, bytes.length);
  const { entries, metadata } = parseHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n);
  return { tensors: readTensors(entries, bytes.subarray(8 + n)), metadata };
}
