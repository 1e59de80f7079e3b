// Float64 references of the activation and loss kernels (assembly/activation.ts, assembly/loss.ts):
// the test oracle. Row-major, plain loops, written for clarity, checked against central
// differences in test/grad/ref_act.test.ts.
import { ACT, type ActivationName } from '../../src/kernels.js';

export { SELU_LAMBDA, SELU_ALPHA, erfc, sigmoid, ACT_F64 as ACT_REF } from '../../src/reference.js';
import { sigmoid, ACT_F64 as ACT_REF } from '../../src/reference.js';

export const ACT_NAMES = Object.keys(ACT) as ActivationName[];

/** out = act(z) element-wise. */
export function actFwdRef(name: ActivationName, z: ArrayLike<number>, alpha: number): Float64Array {
  const out = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) out[i] = ACT_REF[name].f(z[i], alpha);
  return out;
}

/** dz = dy ⊙ act'(z) (M×N), and db = Σ_i dz[i, ·] (+ db0). */
export function actBwdRef(name: ActivationName, dy: ArrayLike<number>, z: ArrayLike<number>, M: number, N: number, alpha: number,
                          db0?: ArrayLike<number>): { dz: Float64Array; db: Float64Array } {
  const dz = new Float64Array(M * N);
  const db = new Float64Array(N);
  if (db0) for (let j = 0; j < N; j++) db[j] = db0[j];
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      dz[i * N + j] = dy[i * N + j] * ACT_REF[name].df(z[i * N + j], alpha);
      db[j] += dz[i * N + j];
    }
  }
  return { dz, db };
}

/** Row-wise log-sum-exp of z (M×N). */
function lse(z: ArrayLike<number>, i: number, N: number): number {
  let m = -Infinity;
  for (let j = 0; j < N; j++) m = Math.max(m, z[i * N + j]);
  let s = 0;
  for (let j = 0; j < N; j++) s += Math.exp(z[i * N + j] - m);
  return m + Math.log(s);
}

export function logSoftmaxRef(z: ArrayLike<number>, M: number, N: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    const l = lse(z, i, N);
    for (let j = 0; j < N; j++) out[i * N + j] = z[i * N + j] - l;
  }
  return out;
}

export function softmaxRef(z: ArrayLike<number>, M: number, N: number): Float64Array {
  return logSoftmaxRef(z, M, N).map(Math.exp);
}

/** dz = y ⊙ (dy − Σ_j dy_j y_j) per row, y = softmax(z). */
export function softmaxBwdRef(dy: ArrayLike<number>, y: ArrayLike<number>, M: number, N: number): Float64Array {
  const dz = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    let c = 0;
    for (let j = 0; j < N; j++) c += dy[i * N + j] * y[i * N + j];
    for (let j = 0; j < N; j++) dz[i * N + j] = y[i * N + j] * (dy[i * N + j] - c);
  }
  return dz;
}

/** dz = dy − exp(y)·Σ_j dy_j per row, y = log-softmax(z). */
export function logSoftmaxBwdRef(dy: ArrayLike<number>, y: ArrayLike<number>, M: number, N: number): Float64Array {
  const dz = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    let s = 0;
    for (let j = 0; j < N; j++) s += dy[i * N + j];
    for (let j = 0; j < N; j++) dz[i * N + j] = dy[i * N + j] - Math.exp(y[i * N + j]) * s;
  }
  return dz;
}

/** out = x > 0 ? x : alpha[j]·x. */
export function preluFwdRef(x: ArrayLike<number>, alpha: ArrayLike<number>, M: number, N: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    const v = x[i * N + j];
    out[i * N + j] = v > 0 ? v : alpha[j] * v;
  }
  return out;
}

/** dx = dy·(x > 0 ? 1 : alpha[j]); dalpha = dalpha0 + Σ_i dy·x·[x < 0]. */
export function preluBwdRef(dy: ArrayLike<number>, x: ArrayLike<number>, alpha: ArrayLike<number>, M: number, N: number,
                            dalpha0?: ArrayLike<number>): { dx: Float64Array; dalpha: Float64Array } {
  const dx = new Float64Array(M * N);
  const dalpha = new Float64Array(N);
  if (dalpha0) for (let j = 0; j < N; j++) dalpha[j] = dalpha0[j];
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    const v = x[i * N + j], g = dy[i * N + j];
    dx[i * N + j] = v > 0 ? g : alpha[j] * g;
    if (v < 0) dalpha[j] += g * v;
  }
  return { dx, dalpha };
}

// ---- losses: each returns { loss (batch mean), grad = ∂loss/∂pred } -------------------------

export interface LossRef { loss: number; grad: Float64Array }

export function mseRef(p: ArrayLike<number>, t: ArrayLike<number>): LossRef {
  const n = p.length, grad = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = p[i] - t[i];
    s += d * d;
    grad[i] = (2 * d) / n;
  }
  return { loss: s / n, grad };
}

export function maeRef(p: ArrayLike<number>, t: ArrayLike<number>): LossRef {
  const n = p.length, grad = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = p[i] - t[i];
    s += Math.abs(d);
    grad[i] = Math.sign(d) / n;
  }
  return { loss: s / n, grad };
}

export function bceLogitsRef(z: ArrayLike<number>, t: ArrayLike<number>): LossRef {
  const n = z.length, grad = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    s += Math.max(z[i], 0) - z[i] * t[i] + Math.log1p(Math.exp(-Math.abs(z[i])));
    grad[i] = (sigmoid(z[i]) - t[i]) / n;
  }
  return { loss: s / n, grad };
}

/** p clamped to [eps, 1 − eps]; gradient 0 where the clamp is active. */
export function bceProbsRef(p: ArrayLike<number>, t: ArrayLike<number>, eps: number): LossRef {
  const n = p.length, grad = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const q = Math.min(Math.max(p[i], eps), 1 - eps);
    s -= t[i] * Math.log(q) + (1 - t[i]) * Math.log(1 - q);
    grad[i] = p[i] < eps || p[i] > 1 - eps ? 0 : (-t[i] / q + (1 - t[i]) / (1 - q)) / n;
  }
  return { loss: s / n, grad };
}

function argmax(z: ArrayLike<number>, i: number, N: number): number {
  let a = 0;
  for (let j = 1; j < N; j++) if (z[i * N + j] > z[i * N + a]) a = j;
  return a;
}

/** Σ_i w[y_i](lse(z_i) − z_i[y_i]) / M; grad w[y_i](softmax − onehot)/M; correct = #(argmax = y). */
export function softmaxXentRef(z: ArrayLike<number>, labels: ArrayLike<number>, M: number, N: number,
                               w?: ArrayLike<number>): LossRef & { correct: number } {
  const grad = new Float64Array(M * N);
  let s = 0, correct = 0;
  for (let i = 0; i < M; i++) {
    const y = labels[i], wy = w ? w[y] : 1, l = lse(z, i, N);
    s += wy * (l - z[i * N + y]);
    for (let j = 0; j < N; j++) grad[i * N + j] = (wy * (Math.exp(z[i * N + j] - l) - (j === y ? 1 : 0))) / M;
    if (argmax(z, i, N) === y) correct++;
  }
  return { loss: s / M, grad, correct };
}

/** −Σ_i w[y_i]·logp[i, y_i] / M. */
export function nllRef(logp: ArrayLike<number>, labels: ArrayLike<number>, M: number, N: number,
                       w?: ArrayLike<number>): LossRef & { correct: number } {
  const grad = new Float64Array(M * N);
  let s = 0, correct = 0;
  for (let i = 0; i < M; i++) {
    const y = labels[i], wy = w ? w[y] : 1;
    s -= wy * logp[i * N + y];
    grad[i * N + y] = -wy / M;
    if (argmax(logp, i, N) === y) correct++;
  }
  return { loss: s / M, grad, correct };
}

/** −Σ_i w[y_i]·log(clamp(p[i, y_i], eps, 1 − eps)) / M; grad −w/(M·p) at the label, 0 where clamped. */
export function cceProbsRef(p: ArrayLike<number>, labels: ArrayLike<number>, M: number, N: number, eps: number,
                            w?: ArrayLike<number>): LossRef & { correct: number } {
  const grad = new Float64Array(M * N);
  let s = 0, correct = 0;
  for (let i = 0; i < M; i++) {
    const y = labels[i], wy = w ? w[y] : 1, v = p[i * N + y], c = Math.min(Math.max(v, eps), 1 - eps);
    s -= wy * Math.log(c);
    grad[i * N + y] = c === v ? -wy / (M * v) : 0;
    if (argmax(p, i, N) === y) correct++;
  }
  return { loss: s / M, grad, correct };
}
