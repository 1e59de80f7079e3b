// f32_act_fwd / f32_act_bwd (all ten codes), softmax / log-softmax and PReLU on every build
// against the float64 references of test/util/ref_act.ts, swept over SIMD edges (4 lanes),
// primes and the MLP's own shapes, with the kinks −1, 0, 1 and the extremes ±300 mixed in.
import { describe, expect, it } from 'vitest';
import { ACT, type ActivationName } from '../../src/kernels.js';
import type { Engine } from '../../src/wasm.js';
import { assertClose } from '../util/close.js';
import { ALL_ISAS, engineFor, get, put } from '../util/engines.js';
import { logSoftmaxBwdRef, logSoftmaxRef, preluBwdRef, preluFwdRef, softmaxBwdRef, softmaxRef } from '../../src/reference.js';
import { ACT_NAMES, ACT_REF, actBwdRef, actFwdRef } from '../util/ref_act.js';
import { denseFwdRef } from '../util/ref.js';
import { rng, uniform } from '../util/rng.js';

const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 37, 128, 784];
const ROWS = [1, 2, 3, 5, 37];
const COLS = [1, 2, 3, 4, 5, 7, 8, 9, 37, 784];
const BIG: [number, number][] = [[128, 784], [128, 256], [128, 10], [784, 9]];
const SHAPES: [number, number][] = [...ROWS.flatMap((M) => COLS.map((N) => [M, N] as [number, number])), ...BIG];
const SPECIAL = [0, -1, 1, 300, -300, 0.5, -0.5, 1e-3, -1e-3, 20, -20, 5, -5, 3, -3];
// The alpha each code is tested with (ignored by the codes without a parameter).
const ALPHA: Record<ActivationName, number> = {
  identity: 0.3, relu: 0.3, sigmoid: 0.3, tanh: 0.3, leakyRelu: 0.1, elu: 1.3, selu: 0, softplus: 0, gelu: 0, geluErf: 0,
};
// f32 element-wise maths against float64: a few ulp of the output, plus an absolute floor for
// values that are tiny differences (1 − y² near ±1, tails near 0).
const ACT_TOL = { atol: 2e-6, rtol: 1e-5 };

/** n values in [−4, 4] with the kinks and extremes at positions that hit both SIMD body and tail. */
function zValues(seed: number, n: number): Float32Array {
  const z = uniform(rng(seed), n, -4, 4);
  for (let i = 0; i < n; i += 3) z[i] = SPECIAL[(i / 3) % SPECIAL.length];
  return z;
}

function release(e: Engine, ...ptrs: number[]) {
  for (const p of ptrs) e.release(p);
}

describe.each(ALL_ISAS)('activations on the %s build', (isa) => {
  const e = engineFor(isa);

  for (const name of ACT_NAMES) {
    const act = ACT[name], alpha = ALPHA[name];

    it(`f32_act_fwd › ${name} › n in {${SIZES.join(',')}}, out separate and out = z`, () => {
      for (const n of SIZES) {
        const z = zValues(n + act, n);
        const ref = actFwdRef(name, z, alpha);
        const pz = put(e, z), po = e.alloc(n * 4);
        e.k.f32_act_fwd(po, pz, n, act, alpha);
        const got = get(e, po, n);
        assertClose(got, ref, ACT_TOL.atol, ACT_TOL.rtol, `f32_act_fwd ${name} n=${n}`);
        e.k.f32_act_fwd(pz, pz, n, act, alpha);
        expect(get(e, pz, n)).toEqual(got);
        release(e, pz, po);
      }
    });

    it(`f32_act_bwd › ${name} › M×N over ${SHAPES.length} shapes, y given, dbias += onto a pre-filled buffer`, () => {
      for (const [M, N] of SHAPES) {
        const r = rng(M * 1000 + N + act);
        const z = zValues(M * 31 + N, M * N), dy = uniform(r, M * N), db0 = uniform(r, N);
        const y = Float32Array.from(actFwdRef(name, z, alpha));
        const ref = actBwdRef(name, dy, z, M, N, alpha, db0);
        const pdz = e.alloc(M * N * 4), pdy = put(e, dy), pz = put(e, z), py = put(e, y), pdb = put(e, db0);
        e.k.f32_act_bwd(pdz, pdy, pz, py, M, N, act, alpha, pdb);
        assertClose(get(e, pdz, M * N), ref.dz, ACT_TOL.atol, ACT_TOL.rtol, `f32_act_bwd ${name} ${M}×${N} dz`);
        // f32 sums of M terms in [−1, 1]
        assertClose(get(e, pdb, N), ref.db, 1e-6 * (M + 1), 1e-5, `f32_act_bwd ${name} ${M}×${N} dbias`);
        release(e, pdz, pdy, pz, py, pdb);
      }
    });

    it(`f32_act_bwd › ${name} › y = 0 (from z), dz = dy aliased, dbias = 0`, () => {
      for (const [M, N] of [[1, 1], [3, 5], [5, 9], [37, 37], [128, 10]] as const) {
        const r = rng(M + N * 7 + act);
        const z = zValues(M + N, M * N), dy = uniform(r, M * N);
        const ref = actBwdRef(name, dy, z, M, N, alpha);
        const pdy = put(e, dy), pz = put(e, z);
        e.k.f32_act_bwd(pdy, pdy, pz, 0, M, N, act, alpha, 0);
        assertClose(get(e, pdy, M * N), ref.dz, ACT_TOL.atol, ACT_TOL.rtol, `f32_act_bwd ${name} ${M}×${N} aliased`);
        release(e, pdy, pz);
      }
    });

    it(`f32_act_fwd/bwd › ${name} › extremes ±300, ±3e38, ±1e-30 give finite outputs and gradients`, () => {
      const z = Float32Array.from([300, -300, 3e38, -3e38, 1e-30, -1e-30, 88, -88, 89, -89, 0, -0, 10, -10, 11, -11]);
      const n = z.length;
      const pz = put(e, z), po = e.alloc(n * 4), pdz = e.alloc(n * 4), pdy = put(e, new Float32Array(n).fill(1));
      e.k.f32_act_fwd(po, pz, n, act, alpha);
      const y = get(e, po, n);
      e.k.f32_act_bwd(pdz, pdy, pz, po, 1, n, act, alpha, 0);
      const dz = get(e, pdz, n);
      e.k.f32_act_bwd(pdz, pdy, pz, 0, 1, n, act, alpha, 0);
      const dz0 = get(e, pdz, n);
      for (let i = 0; i < n; i++) {
        expect(Number.isFinite(y[i]) && Number.isFinite(dz[i]) && Number.isFinite(dz0[i]), `${name} at z=${z[i]}: y ${y[i]}, dz ${dz[i]}, ${dz0[i]}`).toBe(true);
      }
      // Away from f32 overflow of the reference itself, the values match it.
      const idx = [0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
      const pick = (a: ArrayLike<number>) => idx.map((i) => a[i]);
      assertClose(pick(y), pick(actFwdRef(name, z, alpha)), ACT_TOL.atol, ACT_TOL.rtol, `${name} extremes y`);
      const dref = pick(z).map((v) => ACT_REF[name].df(v, alpha));
      assertClose(pick(dz0), dref, ACT_TOL.atol, ACT_TOL.rtol, `${name} extremes dz (from z)`);
      assertClose(pick(dz), dref, ACT_TOL.atol, ACT_TOL.rtol, `${name} extremes dz (from y)`);
      release(e, pz, po, pdz, pdy);
    });
  }

  it('f32_act_bwd › kinks › relu\'(0) = 0, leakyRelu\'(0) = alpha, elu\'(0) = alpha, at −1, 0, 1 in body and tail', () => {
    const z = Float32Array.from([-1, 0, 1, 0, -1, 0, 1]);
    const dy = new Float32Array(7).fill(2);
    const pz = put(e, z), pdy = put(e, dy), pdz = e.alloc(28);
    const run = (act: number, alpha: number) => {
      e.k.f32_act_bwd(pdz, pdy, pz, 0, 1, 7, act, alpha, 0);
      return Array.from(get(e, pdz, 7));
    };
    expect(run(ACT.relu, 0)).toEqual([0, 0, 2, 0, 0, 0, 2]);
    assertClose(run(ACT.leakyRelu, 0.25), [0.5, 0.5, 2, 0.5, 0.5, 0.5, 2], 0, 1e-7, 'leakyRelu kinks');
    assertClose(run(ACT.elu, 1.5), [3 * Math.exp(-1), 3, 2, 3, 3 * Math.exp(-1), 3, 2], 0, 1e-6, 'elu kinks');
    release(e, pz, pdy, pdz);
  });

  it('f32_dense_fwd › every activation through the fused epilogue, 37×19×37 and 5×8×9', () => {
    for (const name of ACT_NAMES) {
      for (const [M, K, N] of [[37, 19, 37], [5, 8, 9]] as const) {
        const r = rng(M + K + N + ACT[name]);
        const a = uniform(r, M * K, -2, 2), w = uniform(r, K * N), b = uniform(r, N);
        const pa = put(e, a), pw = put(e, w), pb = put(e, b), po = e.alloc(M * N * 4), pz = e.alloc(M * N * 4);
        e.k.f32_dense_fwd(po, pa, pw, pb, M, K, N, ACT[name], ALPHA[name], pz);
        const ref = denseFwdRef(a, w, b, M, K, N, (z) => ACT_REF[name].f(z, ALPHA[name]));
        assertClose(get(e, po, M * N), ref.out, 1e-5, 1e-4, `f32_dense_fwd ${name} ${M}×${K}×${N}`);
        release(e, pa, pw, pb, po, pz);
      }
    }
  });

  // ---- softmax / log-softmax ----

  for (const [kernel, ref] of [['f32_softmax_fwd', softmaxRef], ['f32_log_softmax_fwd', logSoftmaxRef]] as const) {
    it(`${kernel} › M×N over ${SHAPES.length} shapes, out separate and out = z`, () => {
      for (const [M, N] of SHAPES) {
        const z = uniform(rng(M * 13 + N), M * N, -8, 8);
        const want = ref(z, M, N);
        const pz = put(e, z), po = e.alloc(M * N * 4);
        e.k[kernel](po, pz, M, N);
        const got = get(e, po, M * N);
        assertClose(got, want, 1e-6, 1e-5, `${kernel} ${M}×${N}`);
        e.k[kernel](pz, pz, M, N);
        expect(get(e, pz, M * N)).toEqual(got);
        release(e, pz, po);
      }
    });
  }

  it('f32_softmax_fwd › rows at ±300 are finite and sum to 1; log-softmax finite', () => {
    for (const N of [1, 2, 3, 4, 5, 9, 37]) {
      const M = 4;
      const z = new Float32Array(M * N);
      for (let i = 0; i < M * N; i++) z[i] = [300, -300, 0, 299, -1, 1][i % 6] * (i % 4 === 3 ? -1 : 1);
      for (let j = 0; j < N; j++) z[j] = 300; // row 0: all +300 → uniform
      const pz = put(e, z), po = e.alloc(M * N * 4);
      e.k.f32_softmax_fwd(po, pz, M, N);
      const p = get(e, po, M * N);
      for (let i = 0; i < M; i++) {
        const row = Array.from(p.subarray(i * N, (i + 1) * N));
        expect(row.every(Number.isFinite)).toBe(true);
        assertClose([row.reduce((s, v) => s + v, 0)], [1], 1e-6, 0, `softmax ±300 N=${N} row ${i} sum`);
      }
      assertClose(p, softmaxRef(z, M, N), 1e-6, 1e-5, `softmax ±300 N=${N}`);
      e.k.f32_log_softmax_fwd(po, pz, M, N);
      assertClose(get(e, po, M * N), logSoftmaxRef(z, M, N), 1e-5, 1e-5, `log-softmax ±300 N=${N}`);
      release(e, pz, po);
    }
  });

  for (const [kernel, fwd, bwd] of [
    ['f32_softmax_bwd', softmaxRef, softmaxBwdRef], ['f32_log_softmax_bwd', logSoftmaxRef, logSoftmaxBwdRef],
  ] as const) {
    it(`${kernel} › M×N over ${SHAPES.length} shapes, dz separate and dz = dy`, () => {
      for (const [M, N] of SHAPES) {
        const r = rng(M * 17 + N);
        const z = uniform(r, M * N, -4, 4), dy = uniform(r, M * N);
        const y = Float32Array.from(fwd(z, M, N));
        const want = bwd(dy, y, M, N);
        const pdy = put(e, dy), py = put(e, y), pdz = e.alloc(M * N * 4);
        e.k[kernel](pdz, pdy, py, M, N);
        // a row sum of N products enters every element
        const atol = 1e-6 * Math.sqrt(N + 1);
        assertClose(get(e, pdz, M * N), want, atol, 1e-5, `${kernel} ${M}×${N}`);
        e.k[kernel](pdy, pdy, py, M, N);
        assertClose(get(e, pdy, M * N), want, atol, 1e-5, `${kernel} ${M}×${N} aliased`);
        release(e, pdy, py, pdz);
      }
    });
  }

  // ---- PReLU ----

  it(`f32_prelu_fwd / f32_prelu_bwd › M×N over ${SHAPES.length} shapes, dalpha += onto a pre-filled buffer`, () => {
    for (const [M, N] of SHAPES) {
      const r = rng(M * 19 + N);
      const x = zValues(M * 3 + N, M * N), alpha = uniform(r, N, 0, 0.5), dy = uniform(r, M * N), da0 = uniform(r, N);
      const px = put(e, x), pa = put(e, alpha), pdy = put(e, dy), pda = put(e, da0), po = e.alloc(M * N * 4);
      e.k.f32_prelu_fwd(po, px, pa, M, N);
      assertClose(get(e, po, M * N), preluFwdRef(x, alpha, M, N), 1e-6, 1e-6, `f32_prelu_fwd ${M}×${N}`);
      const ref = preluBwdRef(dy, x, alpha, M, N, da0);
      e.k.f32_prelu_bwd(po, pda, pdy, px, pa, M, N);
      assertClose(get(e, po, M * N), ref.dx, 1e-6, 1e-6, `f32_prelu_bwd ${M}×${N} dx`);
      // x reaches ±300: sums of M terms up to 300
      assertClose(get(e, pda, N), ref.dalpha, 1e-6 * (M + 1) * 300, 1e-5, `f32_prelu_bwd ${M}×${N} dalpha`);
      // dx = dy aliased
      e.k.f32_prelu_bwd(pdy, pda, pdy, px, pa, M, N);
      assertClose(get(e, pdy, M * N), ref.dx, 1e-6, 1e-6, `f32_prelu_bwd ${M}×${N} dx aliased`);
      release(e, px, pa, pdy, pda, po);
    }
  });

  it('f32_prelu_bwd › at x = 0 the slope is alpha and dalpha gets nothing', () => {
    const px = put(e, new Float32Array([0, 0, 0, 0, 0])), pa = put(e, new Float32Array([0.25, 0.5, 0.75, 1, 2]));
    const pdy = put(e, new Float32Array([1, 1, 1, 1, 1])), pda = put(e, new Float32Array(5)), pdx = e.alloc(20);
    e.k.f32_prelu_bwd(pdx, pda, pdy, px, pa, 1, 5);
    expect(Array.from(get(e, pdx, 5))).toEqual([0.25, 0.5, 0.75, 1, 2]);
    expect(Array.from(get(e, pda, 5)).map(Math.abs)).toEqual([0, 0, 0, 0, 0]);
    release(e, px, pa, pdy, pda, pdx);
  });
});
