// f32_gemm_{nn,nt,tn} and f32_dense_fwd on every build against the float64 reference, swept over
// tile edges (MR = 4, NR = 8, KC = 512 cut into equal K blocks, MC = 120, NC = 1024), primes, batch
// 1–4 (B read in place) and the MLP's own shapes.
import { describe, expect, it } from 'vitest';
import { ACT } from '../../src/kernels.js';
import type { Engine } from '../../src/wasm.js';
import { assertClose } from '../util/close.js';
import { ALL_ISAS, engineFor, get, put } from '../util/engines.js';
import { actRef, denseFwdRef, gemmRef, type GemmVariant } from '../util/ref.js';
import { rng, uniform } from '../util/rng.js';

// 1, 2, 3; tile−1, tile, tile+1 and 2·tile+3 for MR = 4 (3, 4, 5, 11) and NR = 8 (7, 8, 9, 19); a prime.
const SMALL = [1, 2, 3, 4, 5, 7, 8, 9, 11, 19, 37];
const LARGE: [number, number, number][] = [
  [128, 784, 256], [128, 256, 128], [128, 128, 10], [784, 128, 256], [256, 128, 128], [128, 128, 256],
  [128, 10, 128], [37, 784, 37], [1, 784, 128], [128, 257, 9], [121, 255, 1025], [2, 513, 3],
  [3, 1025, 17], [4, 511, 9], [9, 512, 8], [119, 1031, 31], [1, 1024, 1024],
];
const VARIANTS: GemmVariant[] = ['nn', 'nt', 'tn'];
// f32 dot products of length K with inputs in [−1, 1]: error grows with K.
const tol = (K: number) => ({ atol: 1e-6 + 4e-7 * K, rtol: 1e-5 });

function runGemm(e: Engine, name: string, v: GemmVariant, M: number, K: number, N: number, seed: number, accumulate: boolean) {
  const r = rng(seed);
  const a = uniform(r, M * K), b = uniform(r, K * N), c0 = uniform(r, M * N);
  const pa = put(e, a), pb = put(e, b), pc = put(e, c0);
  const k = e.k as unknown as Record<string, (...x: number[]) => void>;
  k[name](pc, pa, pb, M, K, N, accumulate ? 1 : 0);
  const got = get(e, pc, M * N);
  for (const p of [pa, pb, pc]) e.release(p);
  const { atol, rtol } = tol(K);
  assertClose(got, gemmRef(v, a, b, M, K, N, accumulate ? c0 : undefined), atol, rtol, `${name} ${M}×${K}×${N} acc=${accumulate}`);
}

describe.each(ALL_ISAS)('gemm on the %s build', (isa) => {
  const e = engineFor(isa);
  for (const v of VARIANTS) {
    for (const kernel of [`f32_gemm_${v}`, `f32_gemm_${v}_scalar`]) {
      it(`${kernel} › all M, K, N in {${SMALL.join(',')}}, C = and C +=`, () => {
        let seed = 1;
        for (const M of SMALL) for (const K of SMALL) for (const N of SMALL) {
          runGemm(e, kernel, v, M, K, N, seed++, seed % 2 === 0);
        }
      });
      it(`${kernel} › MLP shapes and block edges`, () => {
        for (const [M, K, N] of LARGE) {
          runGemm(e, kernel, v, M, K, N, M * K + N, false);
          runGemm(e, kernel, v, M, K, N, M + K * N, true);
        }
      });
    }
  }

  for (const kernel of ['f32_dense_fwd', 'f32_dense_fwd_scalar']) {
    it(`${kernel} › identity and relu, z kept, sizes across tiles`, () => {
      const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [4, 8, 8], [5, 9, 9], [37, 37, 37], [128, 784, 256], [128, 128, 10], [121, 300, 1030]];
      for (const act of ['identity', 'relu'] as const) {
        for (const [M, K, N] of shapes) {
          const r = rng(M * 7 + N);
          const a = uniform(r, M * K), w = uniform(r, K * N), bias = uniform(r, N);
          const pa = put(e, a), pw = put(e, w), pb = put(e, bias);
          const po = e.alloc(M * N * 4), pz = e.alloc(M * N * 4);
          (e.k as unknown as Record<string, (...x: number[]) => void>)[kernel](po, pa, pw, pb, M, K, N, ACT[act], 0, pz);
          const ref = denseFwdRef(a, w, bias, M, K, N, actRef[act]);
          const { atol, rtol } = tol(K);
          assertClose(get(e, po, M * N), ref.out, atol, rtol, `${kernel} ${act} ${M}×${K}×${N} out`);
          assertClose(get(e, pz, M * N), ref.z, atol, rtol, `${kernel} ${act} ${M}×${K}×${N} z`);
          for (const p of [pa, pw, pb, po, pz]) e.release(p);
        }
      }
    });
  }

  it('operands flush against the end of memory: no over-read or over-write', () => {
    // Each operand in turn is placed so that its last byte is the last byte of wasm memory;
    // a read or write past it would trap (RangeError: memory access out of bounds).
    for (const v of VARIANTS) {
      for (const [M, K, N] of [[5, 7, 9], [37, 19, 13], [1, 1, 1], [9, 257, 11]] as const) {
        for (const last of [0, 1, 2]) {
          const r = rng(M + K + N + last);
          const arrays = [uniform(r, M * K), uniform(r, K * N), new Float32Array(M * N)];
          const ptrs: number[] = [];
          const order = [0, 1, 2].filter((i) => i !== last).concat([last]);
          const filler: number[] = [];
          for (const i of order) {
            const bytes = arrays[i].byteLength;
            if (i === last) {
              const probe = e.alloc(16);
              const room = e.memoryBytes - probe - 16;
              const size = Math.ceil(bytes / 16) * 16;
              filler.push(probe, e.alloc(room - size));
              const p = e.alloc(size);
              expect(p + size).toBe(e.memoryBytes);
              ptrs[i] = p + size - bytes;
              e.f32.set(arrays[i], ptrs[i] >> 2);
            } else {
              ptrs[i] = put(e, arrays[i]);
            }
          }
          (e.k as unknown as Record<string, (...x: number[]) => void>)[`f32_gemm_${v}`](ptrs[2], ptrs[0], ptrs[1], M, K, N, 0);
          const { atol, rtol } = tol(K);
          assertClose(get(e, ptrs[2], M * N), gemmRef(v, arrays[0], arrays[1], M, K, N), atol, rtol, `flush ${v} ${M}×${K}×${N} last=${last}`);
          for (const p of e['live'].keys()) if (p !== e.gemmWorkspace) e.release(p);
        }
      }
    }
  });
});
