// The exported reductions of assembly/reduce.ts on every build against float64 references:
// column sums added into the output (the bias gradient), the L1/L2 penalty and Σp² (f64
// accumulation: only the summation order may differ), and the count of non-finite values.
// The row helpers (sum, dot, max, argmax) are covered through the kernels that use them.
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/wasm.js';
import { assertClose } from '../util/close.js';
import { ALL_ISAS, engineFor, put, get } from '../util/engines.js';
import { l1l2PenaltyRef } from '../../src/reference.js';
import { colsumAddRef } from '../util/ref_norm.js';
import { sumsqRef } from '../util/ref_optim.js';
import { rng, uniform } from '../util/rng.js';

const f = Math.fround;
const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 37, 128];
const NS = [1, 2, 3, 4, 5, 7, 8, 9, 37, 128, 784];

type K = Record<string, (...a: number[]) => number>;
const kern = (e: Engine) => e.k as unknown as K;

describe.each(ALL_ISAS)('reductions on the %s build', (isa) => {
  const e = engineFor(isa);

  it(`f32_colsum_add › all M, N in {${SIZES.join(',')}}`, () => {
    for (const M of SIZES) for (const N of [...SIZES, 784]) {
      const r = rng(M * 9 + N);
      const x = uniform(r, M * N), o0 = uniform(r, N);
      const px = put(e, x), po = put(e, o0);
      kern(e).f32_colsum_add(po, px, M, N);
      assertClose(get(e, po, N), colsumAddRef(o0, x, M, N), 1e-5, 1e-5, `f32_colsum_add ${M}×${N}`);
      for (const p of [px, po]) e.release(p);
    }
  });

  it(`f32_l1l2_penalty › n in {${NS.join(',')}}, extremes ±300`, () => {
    for (const n of [0, ...NS, 100_000]) {
      const r = rng(n + 1);
      const p = uniform(r, n, -1, 1);
      if (n > 2) { p[0] = 300; p[1] = -300; p[2] = 0; }
      const pp = put(e, p);
      for (const [l1, l2] of [[0.01, 0], [0, 0.001], [1e-4, 5e-4]]) {
        const got = kern(e).f32_l1l2_penalty(pp, n, l1, l2);
        const ref = l1l2PenaltyRef(p, Math.fround(l1), Math.fround(l2));
        // f64 accumulation of f32 inputs: only summation order differs.
        expect(Math.abs(got - ref)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(ref)));
      }
      e.release(pp);
    }
  });

  it('f32_sumsq › sizes 0…1000 against the float64 sum', () => {
    const k = e.k as unknown as K;
    for (const n of [0, ...NS, 1000]) {
      const x = uniform(rng(n + 11), n, -3, 3);
      const p = put(e, x);
      assertClose([k.f32_sumsq(p, n)], [sumsqRef(x)], 0, 1e-12, `${isa} f32_sumsq n=${n}`);
      e.release(p);
    }
    const big = new Float32Array(9).fill(3e38);
    const p = put(e, big);
    assertClose([k.f32_sumsq(p, 9)], [9 * f(3e38) ** 2], 0, 1e-12, `${isa} f32_sumsq no f32 overflow`);
    e.release(p);
  });

  it('f32_count_nonfinite › NaN, ±∞ at every position class; −0, subnormal and f32 max count as finite', () => {
    const k = e.k as unknown as K;
    for (const n of [...NS, 1000]) {
      const r = rng(n);
      const x = uniform(r, n);
      x[0] = -0;
      if (n > 1) x[1] = 1e-45;
      if (n > 2) x[2] = 3.4028234663852886e38;
      let want = 0;
      const bad = [NaN, Infinity, -Infinity];
      for (let i = 0; i < n; i++) {
        if (i === n - 1 || r() < 0.1) {
          x[i] = bad[want % 3];
          want++;
        }
      }
      const p = put(e, x);
      expect(k.f32_count_nonfinite(p, n), `${isa} n=${n}`).toBe(want);
      expect(k.f32_count_nonfinite(p, n - 1), `${isa} n−1=${n - 1}`).toBe(want - 1);
      e.release(p);
    }
  });});
