// IDX files for the loader tests: type byte, big-endian u32 dimensions, data bytes.
export function idx(type: number, dims: number[], data: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 + 4 * dims.length + data.length);
  const dv = new DataView(b.buffer);
  b[2] = type; b[3] = dims.length;
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d >>> 0));
  b.set(data, 4 + 4 * dims.length);
  return b;
}
