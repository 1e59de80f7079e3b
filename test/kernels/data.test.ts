// assembly/data.ts on every build: gathers are exact copies, the u8 → f32 scaling is exactly
// f32(f32(v·scale) + shift) (and within 1 f32 ulp of the float64 reference), argmax takes the first
// maximum. Widths straddle the 16- and 4-byte vector steps (cols 1, 3, 4, 5, 15, 16, 17, 37, 784).
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/wasm.js';
import { assertClose } from '../util/close.js';
import { ALL_ISAS, engineFor, get, put } from '../util/engines.js';
import { argmaxRowsRef, gatherRowsRef, i32GatherRef, u8GatherScaleF32, u8GatherScaleRef } from '../util/ref_norm.js';
import { rng, uniform } from '../util/rng.js';

type K = Record<string, (...a: number[]) => number>;
const kern = (e: Engine) => e.k as unknown as K;
const COLS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 37, 128, 784];
const ROWS = [1, 2, 3, 5, 37, 128];
const SCALINGS: [string, number, number][] = [['[0,1]', 1 / 255, 0], ['[-1,1]', 1 / 127.5, -1], ['identity', 1, 0]];

function indices(r: () => number, rows: number, srcRows: number): Int32Array {
  // Random rows with repeats, plus the first and last source rows.
  const idx = Int32Array.from({ length: rows }, () => Math.floor(r() * srcRows));
  idx[0] = srcRows - 1;
  if (rows > 1) idx[rows - 1] = 0;
  return idx;
}
const putI = (e: Engine, a: Int32Array) => e.upload(a);
const putU8 = (e: Engine, a: Uint8Array) => e.upload(a);
const geti = (e: Engine, p: number, n: number) => e.i32.slice(p >> 2, (p >> 2) + n);
const bitsEqual = (got: Float32Array, ref: Float32Array, what: string) => {
  const g = new Uint32Array(got.buffer), r = new Uint32Array(ref.buffer);
  for (let i = 0; i < r.length; i++) if (g[i] !== r[i]) throw new Error(`${what}: index ${i}: ref ${ref[i]}, got ${got[i]}`);
};

describe.each(ALL_ISAS)('data kernels on the %s build', (isa) => {
  const e = engineFor(isa);

  it(`f32_gather_rows › rows {${ROWS.join(',')}} × cols {${COLS.join(',')}}: exact`, () => {
    for (const rows of ROWS) for (const cols of COLS) {
      const r = rng(rows * 1000 + cols);
      const srcRows = 41;
      const src = uniform(r, srcRows * cols, -300, 300), idx = indices(r, rows, srcRows);
      const ps = put(e, src), pi = putI(e, idx), po = e.alloc(rows * cols * 4);
      kern(e).f32_gather_rows(po, ps, pi, rows, cols);
      assertClose(get(e, po, rows * cols), gatherRowsRef(src, idx, rows, cols), 0, 0, `f32_gather_rows ${rows}×${cols}`);
      for (const p of [ps, pi, po]) e.release(p);
    }
  });

  it(`u8_gather_rows_scale › rows {${ROWS.join(',')}} × cols {${COLS.join(',')}}, [0,1], [−1,1], identity: exact f32`, () => {
    for (const rows of ROWS) for (const cols of COLS) {
      const r = rng(rows * 7 + cols * 3);
      const srcRows = 23;
      const src = Uint8Array.from({ length: srcRows * cols }, () => Math.floor(r() * 256));
      src[0] = 0; src[src.length - 1] = 255;
      const idx = indices(r, rows, srcRows);
      const ps = putU8(e, src), pi = putI(e, idx), po = e.alloc(rows * cols * 4);
      for (const [name, scale, shift] of SCALINGS) {
        kern(e).u8_gather_rows_scale(po, ps, pi, rows, cols, scale, shift);
        const got = get(e, po, rows * cols);
        const w = `u8_gather_rows_scale ${name} ${rows}×${cols}`;
        bitsEqual(got, u8GatherScaleF32(src, idx, rows, cols, scale, shift), w);
        // Two f32 roundings of values in [−1, 1] (or exact integers): within 1.2e-7 of float64.
        assertClose(got, u8GatherScaleRef(src, idx, rows, cols, scale, shift), 1.2e-7, 1.2e-7, `${w} vs float64`);
      }
      for (const p of [ps, pi, po]) e.release(p);
    }
  });

  it('u8_gather_rows_scale › 0 → lo and 255 → hi exactly for [0,1] and [−1,1]', () => {
    const src = Uint8Array.from([0, 255, 128, 0, 255]);
    const ps = putU8(e, src), pi = putI(e, Int32Array.from([0])), po = e.alloc(5 * 4);
    kern(e).u8_gather_rows_scale(po, ps, pi, 1, 5, 1 / 255, 0);
    expect(Array.from(get(e, po, 5))).toEqual([0, 1, Math.fround(Math.fround(128 * Math.fround(1 / 255))), 0, 1]);
    kern(e).u8_gather_rows_scale(po, ps, pi, 1, 5, 1 / 127.5, -1);
    const g = get(e, po, 5);
    expect([g[0], g[1], g[3], g[4]]).toEqual([-1, 1, -1, 1]);
    for (const p of [ps, pi, po]) e.release(p);
  });

  it('u8_gather_rows_scale › source row ending at the last byte of memory: no over-read (cols 1, 3, 17, 784)', () => {
    for (const cols of [1, 3, 17, 784]) {
      const r = rng(cols);
      const srcRows = 3;
      const src = Uint8Array.from({ length: srcRows * cols }, () => Math.floor(r() * 256));
      const idx = Int32Array.from([srcRows - 1, 0, srcRows - 1]);
      const pi = putI(e, idx), po = e.alloc(idx.length * cols * 4);
      // Place src so that its last byte is the last byte of wasm memory.
      const probe = e.alloc(16);
      const room = e.memoryBytes - probe - 16;
      const size = Math.ceil(src.length / 16) * 16;
      const filler = e.alloc(room - size);
      const block = e.alloc(size);
      expect(block + size).toBe(e.memoryBytes);
      const ps = block + size - src.length;
      e.u8.set(src, ps);
      kern(e).u8_gather_rows_scale(po, ps, pi, idx.length, cols, 1 / 255, 0);
      bitsEqual(get(e, po, idx.length * cols), u8GatherScaleF32(src, idx, idx.length, cols, 1 / 255, 0), `flush cols=${cols}`);
      for (const p of [pi, po, probe, filler, block]) e.release(p);
    }
  });

  it('i32_gather › n in {1, 2, 3, 37, 128, 784}: exact labels', () => {
    for (const n of [1, 2, 3, 37, 128, 784]) {
      const r = rng(n);
      const src = Int32Array.from({ length: 1000 }, () => Math.floor(r() * 10));
      const idx = indices(r, n, 1000);
      const ps = putI(e, src), pi = putI(e, idx), po = e.alloc(n * 4);
      kern(e).i32_gather(po, ps, pi, n);
      expect(Array.from(geti(e, po, n)), `i32_gather n=${n}`).toEqual(Array.from(i32GatherRef(src, idx)));
      for (const p of [ps, pi, po]) e.release(p);
    }
  });

  it(`f32_argmax_rows › M {${ROWS.join(',')}} × N {1,2,3,4,5,7,8,9,10,37,128}, ties give the first index`, () => {
    for (const M of ROWS) for (const N of [1, 2, 3, 4, 5, 7, 8, 9, 10, 37, 128]) {
      const r = rng(M * 31 + N);
      // Values on a coarse grid so that ties happen; one row all equal; extremes ±300.
      const x = Float32Array.from({ length: M * N }, () => Math.floor(r() * 5) - 2);
      if (N > 2) { x[1] = 300; x[2] = 300; }
      if (M > 1) x.fill(-300, N, 2 * N);
      const px = put(e, x), po = e.alloc(M * 4);
      kern(e).f32_argmax_rows(po, px, M, N);
      expect(Array.from(geti(e, po, M)), `f32_argmax_rows ${M}×${N}`).toEqual(Array.from(argmaxRowsRef(x, M, N)));
      for (const p of [px, po]) e.release(p);
    }
  });
});
