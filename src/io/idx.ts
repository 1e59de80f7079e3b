// IDX files (the MNIST format): magic 0x0000 + type byte + rank byte, big-endian u32 dimensions,
// then the data. Gzipped files are recognised by their magic. The header is read (or inflated)
// first and checked against the byte length and the cap before the data is read or allocated.
import { constants as zc, gunzipSync } from 'node:zlib';
import { DataFormatError } from '../errors.js';
import { withFile } from './fs.js';

export interface Idx { shape: number[]; data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array }

const be = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
/** Each type's name, width and decoder of its (owned) data bytes: 1-byte types are views, wider ones big-endian conversions. */
const TYPES: Record<number, { name: string; bytes: number; make: (b: Uint8Array, n: number) => Idx['data'] }> = {
  0x08: { name: 'u8', bytes: 1, make: (b) => new Uint8Array(b.buffer, b.byteOffset, b.length) },
  0x09: { name: 'i8', bytes: 1, make: (b) => new Int8Array(b.buffer, b.byteOffset, b.length) },
  0x0b: { name: 'i16', bytes: 2, make: (b, n) => { const dv = be(b); return Int16Array.from({ length: n }, (_, i) => dv.getInt16(2 * i)); } },
  0x0c: { name: 'i32', bytes: 4, make: (b, n) => { const dv = be(b); return Int32Array.from({ length: n }, (_, i) => dv.getInt32(4 * i)); } },
  0x0d: { name: 'f32', bytes: 4, make: (b, n) => { const dv = be(b); return Float32Array.from({ length: n }, (_, i) => dv.getFloat32(4 * i)); } },
  0x0e: { name: 'f64', bytes: 8, make: (b, n) => { const dv = be(b); return Float64Array.from({ length: n }, (_, i) => dv.getFloat64(8 * i)); } },
};

/** Maximum size accepted of an IDX file, raw or decompressed (1 GiB). */
export const IDX_MAX_BYTES = 1 << 30;
/** The longest IDX header: magic, type, rank 255 and 255 dimensions. */
const HEADER_MAX = 4 + 4 * 255;
/** Most bytes one inflation of a gzip prefix may give while looking for the header. */
const HEAD_INFLATE_MAX = 1 << 20;

interface Header { type: (typeof TYPES)[number]; shape: number[]; n: number; off: number; need: number }

/** Parses the header from the first bytes `b` of an IDX file (at least HEADER_MAX of them, or all). */
function parseHeader(b: Uint8Array, file: string): Header {
  if (b.length < 4) throw new DataFormatError(`${file}: ${b.length} bytes is too short for an IDX header (4 bytes)`);
  if (b[0] !== 0 || b[1] !== 0) throw new DataFormatError(`${file}: bad IDX magic ${b[0]}, ${b[1]}; the first two bytes must be 0`);
  const type = TYPES[b[2]];
  if (!type) throw new DataFormatError(`${file}: unknown IDX type byte 0x${b[2].toString(16)}; known: 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32, 0x0e f64`);
  const rank = b[3];
  if (rank < 1) throw new DataFormatError(`${file}: IDX rank is 0; at least one dimension is needed`);
  const off = 4 + 4 * rank;
  if (b.length < off) throw new DataFormatError(`${file}: header declares ${rank} dimensions (${off} bytes) but the file has ${b.length} bytes`);
  const dv = be(b);
  const shape: number[] = [];
  let n = 1;
  for (let i = 0; i < rank; i++) {
    shape.push(dv.getUint32(4 + 4 * i));
    n *= shape[i];
  }
  return { type, shape, n, off, need: n * type.bytes };
}

/** Throws unless the data after the header (`size` bytes in all) is exactly what the dimensions need. */
function checkLength(h: Header, size: number, file: string): void {
  if (h.need !== size - h.off) {
    throw new DataFormatError(`${file}: dimensions ${h.shape.join('×')} of ${h.type.name} need ${h.need} data bytes but the file has ${size - h.off}`);
  }
}

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

function corrupt(file: string, e: unknown): DataFormatError {
  return new DataFormatError(`${file}: gzip data is corrupt (${(e as Error).message})`);
}

/**
 * The first inflated bytes of gz: at least HEADER_MAX of them, or all. Inflates ever longer
 * prefixes (Z_SYNC_FLUSH accepts a cut stream), halving the step when one would give more than
 * HEAD_INFLATE_MAX: a bomb costs at most that much here.
 */
function inflatedHead(gz: Uint8Array, file: string): Uint8Array {
  let lo = 0, k = Math.min(64, gz.length);
  for (;;) {
    let out: Uint8Array;
    try {
      out = gunzipSync(gz.subarray(0, k), { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: HEAD_INFLATE_MAX });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE' || k - lo < 2) throw corrupt(file, e);
      k = lo + ((k - lo) >> 1);
      continue;
    }
    if (out.length >= HEADER_MAX || k >= gz.length) return out;
    lo = k;
    k = Math.min(2 * k, gz.length);
  }
}

/** Inflates a gzipped IDX file straight into one buffer of the size its header declares (capped); refuses more or less. */
function inflateIdx(gz: Uint8Array, file: string): Idx {
  const h = parseHeader(inflatedHead(gz, file), file);
  const total = h.off + h.need;
  if (total > IDX_MAX_BYTES) {
    throw new DataFormatError(`${file}: dimensions ${h.shape.join('×')} of ${h.type.name} need ${h.need} data bytes; an IDX file may hold at most ${IDX_MAX_BYTES} bytes`);
  }
  let b: Uint8Array;
  try {
    // NOTE: one output chunk of total + 1 bytes: zlib fills it in place (no chunk list to concatenate),
    // and maxOutputLength stops it at the first byte beyond what the header declares.
    b = gunzipSync(gz, { chunkSize: Math.max(64, total + 1), maxOutputLength: total });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataFormatError(`${file}: gzip data inflates to more than the ${total} bytes its IDX header declares (dimensions ${h.shape.join('×')} of ${h.type.name})`);
    }
    throw corrupt(file, e);
  }
  checkLength(h, b.length, file);
  return { shape: h.shape, data: h.type.make(b.subarray(h.off), h.n) };
}

/** Parses IDX bytes (raw or gzipped). `file` names the source in errors. */
export function parseIdx(bytes: Uint8Array, file = '<bytes>'): Idx {
  if (isGzip(bytes)) return inflateIdx(bytes, file);
  const h = parseHeader(bytes, file);
  checkLength(h, bytes.length, file);
  // A copy: the result must not alias the caller's bytes.
  return { shape: h.shape, data: h.type.make(bytes.slice(h.off), h.n) };
}

/** Reads an IDX file (raw or gzipped): the header first, then only the data it declares. */
export function readIdx(path: string): Idx {
  return withFile(path, (m) => new DataFormatError(`${path}: ${m}`), { maxBytes: IDX_MAX_BYTES, label: 'the file' }, (f) => {
    const head = f.read(0, Math.min(f.size, HEADER_MAX));
    if (isGzip(head)) return inflateIdx(f.read(0, f.size), path);
    const h = parseHeader(head, path);
    checkLength(h, f.size, path);
    return { shape: h.shape, data: h.type.make(f.read(h.off, h.need), h.n) };
  });
}
