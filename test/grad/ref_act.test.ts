// The float64 references of test/util/ref_act.ts against central differences (in float64), away
// from kinks: each reference backward is the derivative of its own reference forward.
import { describe, it } from 'vitest';
import { assertClose } from '../util/close.js';
import {
  bceLogitsRef, bceProbsRef, logSoftmaxBwdRef, logSoftmaxRef, maeRef, mseRef, nllRef,
  preluBwdRef, preluFwdRef, softmaxBwdRef, softmaxRef, softmaxXentRef,
} from '../../src/reference.js';
import { ACT_NAMES, ACT_REF, erfc } from '../util/ref_act.js';
import { rng } from '../util/rng.js';

const H = 1e-5;
const ATOL = 1e-9;
const RTOL = 1e-6;

/** Central-difference gradient of a scalar function of x. */
function numGrad(f: (x: Float64Array) => number, x: Float64Array, h = H): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    x[i] = v + h; const fp = f(x);
    x[i] = v - h; const fm = f(x);
    x[i] = v;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

function uniform64(r: () => number, n: number, lo = -1, hi = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** Points away from the kink at 0 (|z| ≥ 1e-3), including −1, 1 and the tails. */
function actPoints(seed: number): Float64Array {
  const r = rng(seed);
  const pts = [-1, 1, -0.5, 0.5, -3, 3, -6, 6, 12, -12, 0.01, -0.01];
  for (let i = 0; i < 40; i++) {
    const z = -5 + 10 * r();
    pts.push(Math.abs(z) < 1e-3 ? 0.5 : z);
  }
  return Float64Array.from(pts);
}

describe('ref_act references against central differences', () => {
  it('erfc › matches tabulated values (erfc(0.5), erfc(1), erfc(2), erfc(3), erfc(5), erfc(−1))', () => {
    // Abramowitz & Stegun table 7.1 / high-precision values.
    const got = [erfc(0.5), erfc(1), erfc(2), erfc(3), erfc(5), erfc(-1), erfc(0)];
    const want = [0.4795001221869535, 0.15729920705028513, 0.004677734981047266, 2.209049699858544e-5,
      1.5374597944280349e-12, 1.8427007929497148, 1];
    assertClose(got, want, 0, 1e-12, 'erfc table');
  });

  for (const name of ACT_NAMES) {
    const alpha = name === 'leakyRelu' ? 0.1 : name === 'elu' ? 1.3 : 0;
    it(`act ${name} › df = central difference of f at ${actPoints(1).length} points`, () => {
      const z = actPoints(ACT_NAMES.indexOf(name) + 1);
      const got = new Float64Array(z.length), num = new Float64Array(z.length);
      for (let i = 0; i < z.length; i++) {
        got[i] = ACT_REF[name].df(z[i], alpha);
        num[i] = (ACT_REF[name].f(z[i] + H, alpha) - ACT_REF[name].f(z[i] - H, alpha)) / (2 * H);
      }
      assertClose(got, num, ATOL, RTOL, `${name} df`);
    });
  }

  it('act kinks › relu\'(0) = 0, leakyRelu\'(0) = alpha, elu\'(0) = alpha, selu\'(0) = λα', () => {
    assertClose([ACT_REF.relu.df(0, 0), ACT_REF.leakyRelu.df(0, 0.1), ACT_REF.elu.df(0, 1.3), ACT_REF.selu.df(0, 0)],
      [0, 0.1, 1.3, 1.0507009873554805 * 1.6732632423543772], 0, 1e-15, 'kinks');
  });

  it('softmax › softmaxBwdRef = ∇ Σ dy·softmax(z), 5×7', () => {
    const r = rng(11), M = 5, N = 7;
    const z = uniform64(r, M * N, -3, 3), dy = uniform64(r, M * N);
    const L = (x: Float64Array) => softmaxRef(x, M, N).reduce((s, v, i) => s + v * dy[i], 0);
    assertClose(softmaxBwdRef(dy, softmaxRef(z, M, N), M, N), numGrad(L, z), ATOL, RTOL, 'softmax bwd');
  });

  it('log-softmax › logSoftmaxBwdRef = ∇ Σ dy·logSoftmax(z), 5×7', () => {
    const r = rng(12), M = 5, N = 7;
    const z = uniform64(r, M * N, -3, 3), dy = uniform64(r, M * N);
    const L = (x: Float64Array) => logSoftmaxRef(x, M, N).reduce((s, v, i) => s + v * dy[i], 0);
    assertClose(logSoftmaxBwdRef(dy, logSoftmaxRef(z, M, N), M, N), numGrad(L, z), ATOL, RTOL, 'log-softmax bwd');
  });

  it('prelu › dx and dalpha = ∇ Σ dy·prelu(x, alpha), 6×5', () => {
    const r = rng(13), M = 6, N = 5;
    const x = uniform64(r, M * N).map((v) => (Math.abs(v) < 1e-3 ? 0.5 : v)), alpha = uniform64(r, N, 0, 0.5), dy = uniform64(r, M * N);
    const { dx, dalpha } = preluBwdRef(dy, x, alpha, M, N);
    const Lx = (v: Float64Array) => preluFwdRef(v, alpha, M, N).reduce((s, o, i) => s + o * dy[i], 0);
    const La = (a: Float64Array) => preluFwdRef(x, a, M, N).reduce((s, o, i) => s + o * dy[i], 0);
    assertClose(dx, numGrad(Lx, x), ATOL, RTOL, 'prelu dx');
    assertClose(dalpha, numGrad(La, alpha), ATOL, RTOL, 'prelu dalpha');
  });

  it('mse › grad = ∇ loss, 4×3', () => {
    const r = rng(14), p = uniform64(r, 12), t = uniform64(r, 12);
    assertClose(mseRef(p, t).grad, numGrad((v) => mseRef(v, t).loss, p), ATOL, RTOL, 'mse');
  });

  it('mae › grad = ∇ loss away from pred = target, 4×3', () => {
    const r = rng(15), p = uniform64(r, 12), t = p.map((v, i) => v + (i % 2 ? 0.3 : -0.2));
    assertClose(maeRef(p, t).grad, numGrad((v) => maeRef(v, t).loss, p), ATOL, RTOL, 'mae');
  });

  it('bce_logits › grad = ∇ loss, soft and hard targets, 4×5', () => {
    const r = rng(16), z = uniform64(r, 20, -6, 6), t = uniform64(r, 20, 0, 1).map((v, i) => (i % 3 === 0 ? Math.round(v) : v));
    assertClose(bceLogitsRef(z, t).grad, numGrad((v) => bceLogitsRef(v, t).loss, z), ATOL, RTOL, 'bce logits');
  });

  it('bce_probs › grad = ∇ loss inside [eps, 1 − eps], 4×5', () => {
    const r = rng(17), p = uniform64(r, 20, 0.02, 0.98), t = uniform64(r, 20, 0, 1);
    assertClose(bceProbsRef(p, t, 1e-3).grad, numGrad((v) => bceProbsRef(v, t, 1e-3).loss, p, 1e-6), ATOL, RTOL, 'bce probs');
  });

  it('softmax_xent › grad = ∇ loss, with and without class weights, 6×4', () => {
    const r = rng(18), M = 6, N = 4, z = uniform64(r, M * N, -3, 3);
    const labels = [0, 3, 1, 2, 3, 0], w = [0.5, 2, 1, 3];
    for (const cw of [undefined, w]) {
      assertClose(softmaxXentRef(z, labels, M, N, cw).grad, numGrad((v) => softmaxXentRef(v, labels, M, N, cw).loss, z),
        ATOL, RTOL, `softmax xent w=${cw ? 'yes' : 'no'}`);
    }
  });

  it('nll › grad = ∇ loss, with class weights; nll(logSoftmax(z)) = softmax_xent(z)', () => {
    const r = rng(19), M = 6, N = 4, z = uniform64(r, M * N, -3, 3), lp = logSoftmaxRef(z, M, N);
    const labels = [1, 1, 0, 2, 3, 2], w = [0.5, 2, 1, 3];
    assertClose(nllRef(lp, labels, M, N, w).grad, numGrad((v) => nllRef(v, labels, M, N, w).loss, lp), ATOL, RTOL, 'nll');
    assertClose([nllRef(lp, labels, M, N, w).loss], [softmaxXentRef(z, labels, M, N, w).loss], 0, 1e-12, 'nll = xent');
  });
});
