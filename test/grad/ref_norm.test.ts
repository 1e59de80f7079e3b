// The float64 backward references of test/util/ref_norm.ts against central differences of
// L = Σ out·R for a random R (so dL/dout = R), in float64 (rtol 1e-6). The wasm kernels are then
// checked against these references in test/kernels/norm.test.ts.
import { describe, expect, it } from 'vitest';
import { assertClose } from '../util/close.js';
import { activityGradRef, batchnormBwdRef, batchnormTrainRef, l1l2PenaltyRef, layernormBwdRef, layernormFwdRef } from '../../src/reference.js';
import { rng } from '../util/rng.js';

const H = 1e-5;
const RTOL = 1e-6;
const ATOL = 1e-9;

function rand(r: () => number, n: number, lo = -1, hi = 1): Float64Array {
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * r());
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Central differences of f with respect to every entry of p (p is modified and restored). */
function numGrad(p: Float64Array, f: () => number): Float64Array {
  const g = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    const h = H * Math.max(1, Math.abs(v));
    p[i] = v + h;
    const fp = f();
    p[i] = v - h;
    const fm = f();
    p[i] = v;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

const SHAPES: [number, number][] = [[1, 1], [1, 3], [2, 1], [2, 3], [3, 4], [5, 7], [8, 9], [37, 5], [4, 37]];

describe('batchnormBwdRef against central differences', () => {
  for (const [M, N] of SHAPES) {
    for (const eps of [1e-3, 1e-5]) {
      it(`batchnormBwdRef › ${M}×${N}, eps ${eps}`, () => {
        const r = rng(M * 100 + N);
        const x = rand(r, M * N, -2, 3), gamma = rand(r, N, 0.5, 1.5), beta = rand(r, N), R = rand(r, M * N);
        const zeros = new Float64Array(N);
        const L = () => dot(batchnormTrainRef(x, gamma, beta, zeros, zeros, M, N, 0.99, eps).out, R);
        const f = batchnormTrainRef(x, gamma, beta, zeros, zeros, M, N, 0.99, eps);
        const g = batchnormBwdRef(R, f.xhat, f.invstd, gamma, M, N);
        assertClose(g.dx, numGrad(x, L), ATOL, RTOL, `batchnorm dx ${M}×${N}`);
        assertClose(g.dgamma, numGrad(gamma, L), ATOL, RTOL, `batchnorm dgamma ${M}×${N}`);
        assertClose(g.dbeta, numGrad(beta, L), ATOL, RTOL, `batchnorm dbeta ${M}×${N}`);
        for (const v of f.out) expect(Number.isFinite(v)).toBe(true);
      });
    }
  }

  it('batchnormBwdRef › hand-solved M = 2, eps = 0: dx = 0, dgamma = −1, dbeta = 1', () => {
    // Column x = (1, 3): mean 2, biased var 1, xhat = (−1, 1) whatever x is (for M = 2 and eps = 0
    // the normalised column is always (−1, +1)), so out does not depend on x and dx = 0.
    // dy = (1, 0): dbeta = Σ dy = 1, dgamma = Σ dy·xhat = −1;
    // dx = (1·1/2)·(2·(1, 0) − 1 − (−1, 1)·(−1)) = ½·((2, 0) − (1, 1) + (−1, 1)) = (0, 0).
    const f = batchnormTrainRef([1, 3], [1], [0], [0], [1], 2, 1, 0.9, 0);
    assertClose(f.xhat, [-1, 1], 0, 0, 'xhat');
    // Running stats: runMean = 0.9·0 + 0.1·2 = 0.2; runVar = 0.9·1 + 0.1·(unbiased var 2) = 1.1.
    assertClose(f.runMean, [0.2], 1e-15, 0, 'runMean');
    assertClose(f.runVar, [1.1], 1e-15, 0, 'runVar');
    const g = batchnormBwdRef([1, 0], f.xhat, f.invstd, [1], 2, 1);
    assertClose(g.dx, [0, 0], 1e-15, 0, 'dx');
    assertClose(g.dgamma, [-1], 0, 0, 'dgamma');
    assertClose(g.dbeta, [1], 0, 0, 'dbeta');
  });

  it('batchnormTrainRef › M = 1: variance 0, invstd = 1/√eps, out = beta, no NaN', () => {
    const f = batchnormTrainRef([5, -300, 300], [2, 2, 2], [0.5, -1, 0], [0, 0, 0], [1, 1, 1], 1, 3, 0.99, 1e-3);
    assertClose(f.invstd, [1 / Math.sqrt(1e-3), 1 / Math.sqrt(1e-3), 1 / Math.sqrt(1e-3)], 0, 1e-15, 'invstd');
    assertClose(f.out, [0.5, -1, 0], 0, 0, 'out');
    for (const v of f.runVar) expect(Number.isFinite(v)).toBe(true);
  });
});

describe('layernormBwdRef against central differences', () => {
  for (const [M, N] of SHAPES) {
    for (const eps of [1e-3, 1e-5]) {
      it(`layernormBwdRef › ${M}×${N}, eps ${eps}`, () => {
        const r = rng(M * 31 + N * 7);
        const x = rand(r, M * N, -2, 3), gamma = rand(r, N, 0.5, 1.5), beta = rand(r, N), R = rand(r, M * N);
        const L = () => dot(layernormFwdRef(x, gamma, beta, M, N, eps).out, R);
        const f = layernormFwdRef(x, gamma, beta, M, N, eps);
        const g = layernormBwdRef(R, f.xhat, f.invstd, gamma, M, N);
        assertClose(g.dx, numGrad(x, L), ATOL, RTOL, `layernorm dx ${M}×${N}`);
        assertClose(g.dgamma, numGrad(gamma, L), ATOL, RTOL, `layernorm dgamma ${M}×${N}`);
        assertClose(g.dbeta, numGrad(beta, L), ATOL, RTOL, `layernorm dbeta ${M}×${N}`);
      });
    }
  }

  it('layernormBwdRef › hand-solved N = 2, eps = 0: dx = 0', () => {
    // Row x = (0, 4): mean 2, var 4, xhat = (−1, 1) for any x; dy = (3, 1), gamma = (1, 1):
    // Σg = 4, Σg·xhat = −2, dx = (½/2)·(2·(3, 1) − 4 − (−1, 1)·(−2)) = ¼·((6, 2) − (4, 4) + (−2, 2)) = 0.
    const f = layernormFwdRef([0, 4], [1, 1], [0, 0], 1, 2, 0);
    assertClose(f.xhat, [-1, 1], 0, 0, 'xhat');
    const g = layernormBwdRef([3, 1], f.xhat, f.invstd, [1, 1], 1, 2);
    assertClose(g.dx, [0, 0], 1e-15, 0, 'dx');
    assertClose(g.dgamma, [-3, 1], 0, 0, 'dgamma');
    assertClose(g.dbeta, [3, 1], 0, 0, 'dbeta');
  });
});

describe('activityGradRef against central differences of scale·(l1·Σ|y| + l2·Σy²)', () => {
  it('activityGradRef › 37 values away from the kink, and sign(0) = 0 at the kink', () => {
    const r = rng(5);
    const y = rand(r, 37, -3, 3).map((v) => (Math.abs(v) < 0.01 ? 0.5 : v));
    const l1 = 0.01, l2 = 0.003, scale = 0.25;
    const g = activityGradRef(new Float64Array(37), y, l1, l2, scale);
    assertClose(g, numGrad(y, () => scale * l1l2PenaltyRef(y, l1, l2)), ATOL, RTOL, 'activity grad');
    // At y = 0 the subgradient of |y| is taken as 0: only the L2 term (also 0) remains.
    assertClose(activityGradRef([1, 1, 1], [0, 1, -1], l1, l2, scale), [1, 1 + scale * (l1 + 2 * l2), 1 - scale * (l1 + 2 * l2)], 1e-16, 0, 'kink');
  });
});
