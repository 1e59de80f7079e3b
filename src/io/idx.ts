// IDX files (the MNIST format): magic 0x0000 + type byte + rank byte, big-endian u32 dimensions,
// then the data. Gzipped files are recognised by their magic. Everything is validated against the
// byte length before anything is allocated.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataFormatError } from '../errors.js';

export interface Idx { shape: number[]; data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array }

const TYPES: Record<number, { name: string; bytes: number; make: (b: ArrayBuffer, n: number, off: number, dv: DataView) => Idx['data'] }> = {
  0x08: { name: 'u8', bytes: 1, make: (b, n, off) => new Uint8Array(b.slice(off, off + n)) },
  0x09: { name: 'i8', bytes: 1, make: (b, n, off) => new Int8Array(b.slice(off, off + n)) },
  0x0b: { name: 'i16', bytes: 2, make: (_b, n, off, dv) => Int16Array.from({ length: n }, (_, i) => dv.getInt16(off + 2 * i)) },
  0x0c: { name: 'i32', bytes: 4, make: (_b, n, off, dv) => Int32Array.from({ length: n }, (_, i) => dv.getInt32(off + 4 * i)) },
  0x0d: { name: 'f32', bytes: 4, make: (_b, n, off, dv) => Float32Array.from({ length: n }, (_, i) => dv.getFloat32(off + 4 * i)) },
  0x0e: { name: 'f64', bytes: 8, make: (_b, n, off, dv) => Float64Array.from({ length: n }, (_, i) => dv.getFloat64(off + 8 * i)) },
};

/** Maximum decompressed size accepted from a gzipped IDX file (1 GiB). */
export const IDX_MAX_BYTES = 1 << 30;

/** Parses IDX bytes (raw or gzipped). `file` names the source in errors. */
export function parseIdx(bytes: Uint8Array, file = '<bytes>'): Idx {
  let b = bytes;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      b = gunzipSync(b, { maxOutputLength: IDX_MAX_BYTES });
    } catch (e) {
      throw new DataFormatError(`${file}: gzip data is corrupt or larger than ${IDX_MAX_BYTES} bytes (${(e as Error).message})`);
    }
  }
  if (b.length < 4) throw new DataFormatError(`${file}: ${b.length} bytes is too short for an IDX header (4 bytes)`);
  if (b[0] !== 0 || b[1] !== 0) throw new DataFormatError(`${file}: bad IDX magic ${b[0]}, ${b[1]}; the first two bytes must be 0`);
  const type = TYPES[b[2]];
  if (!type) throw new DataFormatError(`${file}: unknown IDX type byte 0x${b[2].toString(16)}; known: 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32, 0x0e f64`);
  const rank = b[3];
  if (rank < 1) throw new DataFormatError(`${file}: IDX rank is 0; at least one dimension is needed`);
  const off = 4 + 4 * rank;
  if (b.length < off) throw new DataFormatError(`${file}: header declares ${rank} dimensions (${off} bytes) but the file has ${b.length} bytes`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const shape: number[] = [];
  let n = 1;
  for (let i = 0; i < rank; i++) {
    const d = dv.getUint32(4 + 4 * i);
    shape.push(d);
    n *= d;
  }
  const need = n * type.bytes;
  if (need !== b.length - off) {
    throw new DataFormatError(`${file}: dimensions ${shape.join('×')} of ${type.name} need ${need} data bytes but the file has ${b.length - off}`);
  }
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  return { shape, data: type.make(ab, n, off, new DataView(ab)) };
}

export function readIdx(path: string): Idx {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DataFormatError(`${path}: cannot read (${(e as Error).message})`);
  }
  return parseIdx(bytes, path);
}
