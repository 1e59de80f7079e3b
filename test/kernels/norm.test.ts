// assembly/norm.ts on every build against the float64 references of test/util/ref_norm.ts:
// batch norm (train, infer, backward), layer norm (forward, backward) over M, N ∈ SIZES², running
// statistics over 3 steps, aliasing, kink values and extremes; the activity-regularizer gradient
// over n up to 784. (The element-wise kernels and reductions that lived here: simd.test.ts,
// reduce.test.ts.)
import { describe, it } from 'vitest';
import type { Engine } from '../../src/wasm.js';
import { assertClose } from '../util/close.js';
import { ALL_ISAS, engineFor, get, put } from '../util/engines.js';
import {
  activityGradRef, batchnormBwdRef, batchnormInferRef, batchnormTrainRef, layernormBwdRef, layernormFwdRef,
} from '../../src/reference.js';
import { rng, uniform } from '../util/rng.js';

const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 37, 128];
const NS = [1, 2, 3, 4, 5, 7, 8, 9, 37, 128, 784];
// Tolerances (inputs O(1), eps = 1e-3): f32 column/row sums of up to 784 terms, then one division
// by a standard deviation ≥ √eps. Backward: M·dy − Σdy − xhat·Σ(dy·xhat) cancels, so an absolute
// term proportional to the sums' size.
const FWD = { atol: 2e-5, rtol: 1e-5 };
const BWD = { atol: 4e-5, rtol: 1e-4 };

type K = Record<string, (...a: number[]) => number>;
const kern = (e: Engine) => e.k as unknown as K;
const finite = (a: ArrayLike<number>, what: string) => {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new Error(`${what}: index ${i} is ${a[i]}`);
};

/** Runs f64_batchnorm_stats + f32_batchnorm_fwd_train on one slice (T = 1); returns everything they wrote. */
function bnTrain(e: Engine, x: Float32Array, gamma: Float32Array, beta: Float32Array, rm: Float32Array, rv: Float32Array,
                 M: number, N: number, momentum: number, eps: number, aliasOut = false) {
  const px = put(e, x), pg = put(e, gamma), pb = put(e, beta), prm = put(e, rm), prv = put(e, rv);
  const po = aliasOut ? px : e.alloc(M * N * 4), ph = e.alloc(M * N * 4), pmu = e.alloc(N * 4), pis = e.alloc(N * 4);
  const parts = e.alloc(N * 16);
  kern(e).f64_batchnorm_stats(parts, px, M, N);
  kern(e).f32_batchnorm_fwd_train(po, ph, pmu, pis, px, pg, pb, prm, prv, M, N, momentum, eps, parts, 1, M, 1);
  e.release(parts);
  const res = {
    out: get(e, po, M * N), xhat: get(e, ph, M * N), mean: get(e, pmu, N), invstd: get(e, pis, N),
    runMean: get(e, prm, N), runVar: get(e, prv, N),
  };
  for (const p of new Set([px, pg, pb, prm, prv, po, ph, pmu, pis])) e.release(p);
  return res;
}

function bnBwd(e: Engine, dy: Float32Array, xhat: Float32Array, invstd: Float32Array, gamma: Float32Array,
               dg0: Float32Array, db0: Float32Array, M: number, N: number, aliasDx = false) {
  const pdy = put(e, dy), ph = put(e, xhat), pis = put(e, invstd), pg = put(e, gamma), pdg = put(e, dg0), pdb = put(e, db0);
  const pdx = aliasDx ? pdy : e.alloc(M * N * 4), parts = e.alloc(N * 16), scratch = e.alloc(N * 8);
  kern(e).f64_batchnorm_bwd_sums(parts, pdg, pdb, pdy, ph, M, N);
  kern(e).f32_batchnorm_bwd(pdx, pdy, ph, pis, pg, M, N, parts, 1, M, scratch);
  e.release(parts); e.release(scratch);
  const res = { dx: get(e, pdx, M * N), dgamma: get(e, pdg, N), dbeta: get(e, pdb, N) };
  for (const p of new Set([pdy, ph, pis, pg, pdg, pdb, pdx])) e.release(p);
  return res;
}

function lnFwd(e: Engine, x: Float32Array, gamma: Float32Array, beta: Float32Array, M: number, N: number, eps: number,
               aliasOut = false) {
  const px = put(e, x), pg = put(e, gamma), pb = put(e, beta);
  const po = aliasOut ? px : e.alloc(M * N * 4), ph = e.alloc(M * N * 4), pis = e.alloc(M * 4);
  kern(e).f32_layernorm_fwd(po, ph, pis, px, pg, pb, M, N, eps);
  const res = { out: get(e, po, M * N), xhat: get(e, ph, M * N), invstd: get(e, pis, M) };
  for (const p of new Set([px, pg, pb, po, ph, pis])) e.release(p);
  return res;
}

function lnBwd(e: Engine, dy: Float32Array, xhat: Float32Array, invstd: Float32Array, gamma: Float32Array,
               dg0: Float32Array, db0: Float32Array, M: number, N: number, aliasDx = false) {
  const pdy = put(e, dy), ph = put(e, xhat), pis = put(e, invstd), pg = put(e, gamma), pdg = put(e, dg0), pdb = put(e, db0);
  const pdx = aliasDx ? pdy : e.alloc(M * N * 4);
  kern(e).f32_layernorm_bwd(pdx, pdg, pdb, pdy, ph, pis, pg, M, N);
  const res = { dx: get(e, pdx, M * N), dgamma: get(e, pdg, N), dbeta: get(e, pdb, N) };
  for (const p of new Set([pdy, ph, pis, pg, pdg, pdb, pdx])) e.release(p);
  return res;
}

const plus = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]);

describe.each(ALL_ISAS)('norm kernels on the %s build', (isa) => {
  const e = engineFor(isa);

  it(`f32_batchnorm_fwd_train › all M, N in {${SIZES.join(',')}}`, () => {
    for (const M of SIZES) for (const N of SIZES) {
      const r = rng(M * 1000 + N);
      const x = uniform(r, M * N, -1, 2), gamma = uniform(r, N, 0.5, 1.5), beta = uniform(r, N);
      const rm = uniform(r, N), rv = uniform(r, N, 0.5, 2);
      const got = bnTrain(e, x, gamma, beta, rm, rv, M, N, 0.99, 1e-3);
      const ref = batchnormTrainRef(x, gamma, beta, rm, rv, M, N, 0.99, 1e-3);
      const w = `f32_batchnorm_fwd_train ${M}×${N}`;
      for (const k of ['out', 'xhat', 'mean', 'invstd', 'runMean', 'runVar'] as const) {
        assertClose(got[k], ref[k], FWD.atol, FWD.rtol, `${w} ${k}`);
      }
    }
  });

  it('f32_batchnorm_fwd_train › eps 1e-5 and an offset column mean (cancellation), M ≥ 8', () => {
    for (const [M, N] of [[8, 9], [37, 37], [128, 128], [128, 784]]) {
      const r = rng(M + N);
      const x = uniform(r, M * N, 4, 6), gamma = uniform(r, N, 0.5, 1.5), beta = uniform(r, N);
      const rm = new Float32Array(N), rv = new Float32Array(N).fill(1);
      const got = bnTrain(e, x, gamma, beta, rm, rv, M, N, 0.9, 1e-5);
      const ref = batchnormTrainRef(x, gamma, beta, rm, rv, M, N, 0.9, 1e-5);
      for (const k of ['out', 'xhat', 'mean', 'invstd', 'runMean', 'runVar'] as const) {
        assertClose(got[k], ref[k], 1e-4, 1e-4, `f32_batchnorm_fwd_train ${M}×${N} eps 1e-5 ${k}`);
      }
    }
  });

  it('f32_batchnorm_fwd_train › M = 1: no NaN, invstd = 1/√eps, out = beta, runVar finite', () => {
    for (const N of [1, 3, 4, 9, 784]) {
      const r = rng(N);
      const x = uniform(r, N, -300, 300), gamma = uniform(r, N), beta = uniform(r, N);
      const got = bnTrain(e, x, gamma, beta, new Float32Array(N), new Float32Array(N).fill(1), 1, N, 0.99, 1e-3);
      for (const k of ['out', 'xhat', 'mean', 'invstd', 'runMean', 'runVar'] as const) finite(got[k], `M = 1, N = ${N}, ${k}`);
      assertClose(got.invstd, new Float64Array(N).fill(1 / Math.sqrt(Math.fround(1e-3))), 0, 1e-6, `M = 1 invstd`);
      assertClose(got.out, beta, 0, 0, `M = 1 out`);
      // runVar = 0.99·1 + 0.01·0.
      assertClose(got.runVar, new Float64Array(N).fill(0.99), 1e-7, 0, `M = 1 runVar`);
    }
  });

  it('f32_batchnorm_fwd_train › running statistics after 3 steps, momentum 0.99 and 0.9', () => {
    for (const momentum of [0.99, 0.9]) {
      for (const [M, N] of [[2, 3], [5, 7], [37, 9], [128, 128]]) {
        const r = rng(M * N + 3);
        const gamma = uniform(r, N, 0.5, 1.5), beta = uniform(r, N);
        let rm: Float32Array = new Float32Array(N), rv: Float32Array = new Float32Array(N).fill(1);
        let refM: ArrayLike<number> = rm, refV: ArrayLike<number> = rv;
        for (let step = 0; step < 3; step++) {
          const x = uniform(r, M * N, -1 + step, 2 + step);
          const got = bnTrain(e, x, gamma, beta, rm, rv, M, N, momentum, 1e-3);
          const ref = batchnormTrainRef(x, gamma, beta, refM, refV, M, N, momentum, 1e-3);
          rm = got.runMean; rv = got.runVar; refM = ref.runMean; refV = ref.runVar;
        }
        assertClose(rm, refM, 1e-5, 1e-5, `running mean after 3 steps ${M}×${N} momentum ${momentum}`);
        assertClose(rv, refV, 1e-5, 1e-5, `running var after 3 steps ${M}×${N} momentum ${momentum}`);
      }
    }
  });

  it(`f32_batchnorm_fwd_infer › all M, N in {${SIZES.join(',')}}, out aliasing x`, () => {
    for (const M of SIZES) for (const N of SIZES) {
      const r = rng(M * 77 + N);
      const x = uniform(r, M * N, -2, 2), gamma = uniform(r, N, 0.5, 1.5), beta = uniform(r, N);
      const rm = uniform(r, N), rv = uniform(r, N, 0, 2);
      const ref = batchnormInferRef(x, gamma, beta, rm, rv, M, N, 1e-3);
      for (const alias of [false, true]) {
        const px = put(e, x), pg = put(e, gamma), pb = put(e, beta), prm = put(e, rm), prv = put(e, rv);
        const po = alias ? px : e.alloc(M * N * 4);
        kern(e).f32_batchnorm_fwd_infer(po, px, pg, pb, prm, prv, M, N, 1e-3);
        assertClose(get(e, po, M * N), ref, FWD.atol, FWD.rtol, `f32_batchnorm_fwd_infer ${M}×${N} alias ${alias}`);
        for (const p of new Set([px, pg, pb, prm, prv, po])) e.release(p);
      }
    }
  });

  it(`f32_batchnorm_bwd › all M, N in {${SIZES.join(',')}}, dgamma/dbeta added`, () => {
    for (const M of SIZES) for (const N of SIZES) {
      const r = rng(M * 13 + N * 1001);
      const x = uniform(r, M * N, -1, 2), gamma = uniform(r, N, 0.5, 1.5), beta = uniform(r, N);
      const f = bnTrain(e, x, gamma, beta, new Float32Array(N), new Float32Array(N), M, N, 0.99, 1e-3);
      const dy = uniform(r, M * N), dg0 = uniform(r, N), db0 = uniform(r, N);
      const got = bnBwd(e, dy, f.xhat, f.invstd, gamma, dg0, db0, M, N);
      const ref = batchnormBwdRef(dy, f.xhat, f.invstd, gamma, M, N);
      const w = `f32_batchnorm_bwd ${M}×${N}`;
      assertClose(got.dx, ref.dx, BWD.atol, BWD.rtol, `${w} dx`);
      assertClose(got.dgamma, plus(dg0, ref.dgamma), BWD.atol, BWD.rtol, `${w} dgamma`);
      assertClose(got.dbeta, plus(db0, ref.dbeta), BWD.atol, BWD.rtol, `${w} dbeta`);
    }
  });

  it('f32_batchnorm_fwd_train + f32_batchnorm_bwd › out aliasing x, dx aliasing dy', () => {
    for (const [M, N] of [[1, 1], [3, 5], [8, 12], [37, 19], [128, 36]]) {
      const r = rng(M * N);
      const x = uniform(r, M * N), gamma = uniform(r, N, 0.5, 1.5), beta = uniform(r, N), dy = uniform(r, M * N);
      const z = new Float32Array(N);
      const a = bnTrain(e, x, gamma, beta, z, z, M, N, 0.99, 1e-3, false);
      const b = bnTrain(e, x, gamma, beta, z, z, M, N, 0.99, 1e-3, true);
      assertClose(b.out, a.out, 0, 0, `fwd alias ${M}×${N}`);
      const c = bnBwd(e, dy, a.xhat, a.invstd, gamma, z, z, M, N, false);
      const d = bnBwd(e, dy, a.xhat, a.invstd, gamma, z, z, M, N, true);
      assertClose(d.dx, c.dx, 0, 0, `bwd alias ${M}×${N}`);
    }
  });

  it('f32_batchnorm_* › kink values −1, 0, 1 and extremes ±300 give finite outputs and gradients', () => {
    for (const N of [1, 4, 5, 9]) {
      const vals = [-1, 0, 1, 300, -300, 0, 1];
      const M = vals.length;
      const x = Float32Array.from({ length: M * N }, (_, k) => vals[(k + Math.floor(k / N)) % M]);
      const gamma = new Float32Array(N).fill(1), beta = new Float32Array(N);
      const f = bnTrain(e, x, gamma, beta, new Float32Array(N), new Float32Array(N).fill(1), M, N, 0.99, 1e-3);
      const ref = batchnormTrainRef(x, gamma, beta, new Float32Array(N), new Float32Array(N).fill(1), M, N, 0.99, 1e-3);
      assertClose(f.out, ref.out, 1e-5, 1e-5, `kinks fwd ${M}×${N}`);
      const dy = Float32Array.from(x, (v) => v / 300);
      const g = bnBwd(e, dy, f.xhat, f.invstd, gamma, new Float32Array(N), new Float32Array(N), M, N);
      const gr = batchnormBwdRef(dy, f.xhat, f.invstd, gamma, M, N);
      finite(g.dx, 'kinks dx');
      assertClose(g.dx, gr.dx, 1e-5, 1e-4, `kinks bwd dx ${M}×${N}`);
      assertClose(g.dgamma, gr.dgamma, 1e-5, 1e-4, `kinks bwd dgamma ${M}×${N}`);
      // Inference with a constant extreme input.
      const px = put(e, new Float32Array(M * N).fill(-300)), pg = put(e, gamma), pb = put(e, beta);
      const prm = put(e, new Float32Array(N)), prv = put(e, new Float32Array(N));
      kern(e).f32_batchnorm_fwd_infer(px, px, pg, pb, prm, prv, M, N, 1e-3);
      finite(get(e, px, M * N), 'infer −300, runVar 0');
      for (const p of [px, pg, pb, prm, prv]) e.release(p);
    }
  });

  it(`f32_layernorm_fwd › all M, N in {${SIZES.join(',')}} and N = 784`, () => {
    for (const M of SIZES) for (const N of [...SIZES, 784]) {
      if (M * N > 128 * 128) continue;
      const r = rng(M * 3 + N * 5);
      const x = uniform(r, M * N, -1, 2), gamma = uniform(r, N, 0.5, 1.5), beta = uniform(r, N);
      const got = lnFwd(e, x, gamma, beta, M, N, 1e-3);
      const ref = layernormFwdRef(x, gamma, beta, M, N, 1e-3);
      for (const k of ['out', 'xhat', 'invstd'] as const) {
        assertClose(got[k], ref[k], FWD.atol, FWD.rtol, `f32_layernorm_fwd ${M}×${N} ${k}`);
      }
    }
  });

  it(`f32_layernorm_bwd › all M, N in {${SIZES.join(',')}} and N = 784, dgamma/dbeta added`, () => {
    for (const M of SIZES) for (const N of [...SIZES, 784]) {
      if (M * N > 128 * 128) continue;
      const r = rng(M * 11 + N * 17);
      const x = uniform(r, M * N, -1, 2), gamma = uniform(r, N, 0.5, 1.5), beta = uniform(r, N);
      const f = lnFwd(e, x, gamma, beta, M, N, 1e-3);
      const dy = uniform(r, M * N), dg0 = uniform(r, N), db0 = uniform(r, N);
      const got = lnBwd(e, dy, f.xhat, f.invstd, gamma, dg0, db0, M, N);
      const ref = layernormBwdRef(dy, f.xhat, f.invstd, gamma, M, N);
      const w = `f32_layernorm_bwd ${M}×${N}`;
      assertClose(got.dx, ref.dx, BWD.atol, BWD.rtol, `${w} dx`);
      assertClose(got.dgamma, plus(dg0, ref.dgamma), BWD.atol, BWD.rtol, `${w} dgamma`);
      assertClose(got.dbeta, plus(db0, ref.dbeta), BWD.atol, BWD.rtol, `${w} dbeta`);
    }
  });

  it('f32_layernorm_fwd + f32_layernorm_bwd › aliasing, N = 1 (xhat = 0), kinks and ±300', () => {
    for (const [M, N] of [[1, 1], [5, 1], [3, 5], [9, 12], [4, 784]]) {
      const r = rng(M + 7 * N);
      const vals = [-1, 0, 1, 300, -300];
      const x = Float32Array.from({ length: M * N }, (_, k) => (k % 3 === 0 ? vals[k % 5] : r() * 2 - 1));
      const gamma = uniform(r, N, 0.5, 1.5), beta = uniform(r, N), dy = uniform(r, M * N);
      const z = new Float32Array(N);
      const a = lnFwd(e, x, gamma, beta, M, N, 1e-3, false);
      const b = lnFwd(e, x, gamma, beta, M, N, 1e-3, true);
      const ref = layernormFwdRef(x, gamma, beta, M, N, 1e-3);
      assertClose(a.out, ref.out, 1e-5, 1e-5, `kinks ln fwd ${M}×${N}`);
      assertClose(b.out, a.out, 0, 0, `ln fwd alias ${M}×${N}`);
      if (N === 1) assertClose(a.xhat, new Float64Array(M), 0, 0, 'N = 1 xhat');
      const c = lnBwd(e, dy, a.xhat, a.invstd, gamma, z, z, M, N, false);
      const d = lnBwd(e, dy, a.xhat, a.invstd, gamma, z, z, M, N, true);
      finite(c.dx, 'ln dx');
      assertClose(c.dx, layernormBwdRef(dy, a.xhat, a.invstd, gamma, M, N).dx, 1e-5, 1e-4, `kinks ln bwd ${M}×${N}`);
      assertClose(d.dx, c.dx, 0, 0, `ln bwd alias ${M}×${N}`);
    }
  });

  it(`f32_activity_grad › n in {${NS.join(',')}}, kinks −1, 0, 1 and ±300, dy added`, () => {
    for (const n of NS) {
      const r = rng(n + 2);
      const y = uniform(r, n, -2, 2);
      [-1, 0, 1, 300, -300].forEach((v, k) => { if (k < n) y[(k * 7) % n] = v; });
      const dy0 = uniform(r, n);
      const py = put(e, y), pdy = put(e, dy0);
      kern(e).f32_activity_grad(pdy, py, n, 0.01, 0.003, 0.125);
      const got = get(e, pdy, n);
      finite(got, 'activity grad');
      assertClose(got, activityGradRef(dy0, y, Math.fround(0.01), Math.fround(0.003), 0.125), 1e-6, 1e-6, `f32_activity_grad n=${n}`);
      for (const p of [py, pdy]) e.release(p);
    }
    // sign(0) = 0 exactly: with l2 = 0 a zero activation adds nothing.
    const py = put(e, new Float32Array(9)), pdy = put(e, new Float32Array(9).fill(1));
    kern(e).f32_activity_grad(pdy, py, 9, 0.5, 0, 1);
    assertClose(get(e, pdy, 9), new Float64Array(9).fill(1), 0, 0, 'f32_activity_grad y = 0');
    for (const p of [py, pdy]) e.release(p);
  });
});
