// What a file that failed to decode as a `.simdnn` model is: cut short, or another format. The
// loader's error path calls diagnoseModelFile so the message says what happened
// (`m.simdnn is truncated (198,968 of 408,112 bytes)`) rather than which check of the decoder failed.
import { ModelFormatError } from '../errors.js';
import { MAX_HEADER_BYTES } from './safetensors.js';

const n = (v: number) => v.toLocaleString('en-US');

/** Reads `len` bytes at `pos` of a file (or buffer) of known size. */
export type ReadAt = (pos: number, len: number) => Uint8Array;

/**
 * Why the file `name` of `size` bytes is not a readable model, or undefined when the cause is
 * none of those recognised here (the decoder's own message then stands). Reads only its head.
 */
export function diagnoseModelFile(name: string, size: number, read: ReadAt): string | undefined {
  if (size === 0) return `${name} is empty (0 bytes); it is not a simdnn model`;
  const head = new TextDecoder('latin1').decode(read(0, Math.min(64, size))).trimStart();
  if (head.startsWith('{') || head.startsWith('[')) {
    const tfjs = /"modelTopology"|"weightsManifest"|"format"\s*:\s*"layers-model"/.test(new TextDecoder().decode(read(0, Math.min(4096, size))));
    return `${name} is not a simdnn model (it looks like JSON — ${tfjs ? 'a TF.js model.json' : 'a TF.js model.json?'}; `
      + 'use simdnn export/import or nn.io.importTfjs)';
  }
  if (head.startsWith('PK')) return `${name} is not a simdnn model (it looks like a zip archive — a Keras .keras file or a PyTorch .pt?)`;
  if (size < 8) return `${name} is truncated (${n(size)} bytes; a simdnn model starts with an 8-byte header length)`;
  const first = read(0, 8);
  const hlen = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  // A header over the cap is not a safetensors length field: some other format.
  if (hlen > BigInt(MAX_HEADER_BYTES)) {
    return `${name} is not a simdnn model (its first 8 bytes give a header length of ${n(Number(hlen))} bytes, over the cap of ${n(MAX_HEADER_BYTES)})`;
  }
  const h = Number(hlen);
  if (8 + h > size) return `${name} is truncated (${n(size)} of at least ${n(8 + h)} bytes: its header length is ${n(h)})`;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(read(8, h)));
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null) return undefined;
  // Truncation only when the header is self-consistent (each tensor's offsets span its shape's
  // bytes, packed end to end): then the file's length is known, and the bytes are short of it.
  let end = 0, sum = 0;
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    const { data_offsets: off, shape } = (v ?? {}) as { data_offsets?: unknown; shape?: unknown };
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0)) return undefined;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return undefined;
    const bytes4 = 4 * shape.reduce((p: number, d: number) => p * d, 1);
    if (off[1] - off[0] !== bytes4) return undefined;
    end = Math.max(end, off[1]);
    sum += bytes4;
  }
  if (sum !== end) return undefined;
  const total = 8 + h + end;
  if (total > size) return `${name} is truncated (${n(size)} of ${n(total)} bytes)`;
  return undefined;
}

/** The error to throw for a file that failed to decode: the diagnosis if there is one, else the decoder's error. */
export function modelFileError(where: string, name: string, size: number, read: ReadAt, e: unknown): unknown {
  const d = diagnoseModelFile(name, size, read);
  return d ? new ModelFormatError(`${where}: ${d}`) : e;
}
