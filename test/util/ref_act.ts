// Test-only float64 helpers for the activation kernels (assembly/activation.ts): element-wise
// act/act' over arrays and the fused bias-gradient. The maths itself (activations, softmax, PReLU,
// losses) is src/reference.ts, which the tests import directly; checked against central
// differences in test/grad/ref_act.test.ts.
import { ACT, type ActivationName } from '../../src/kernels.js';

export { SELU_LAMBDA, SELU_ALPHA, erfc, sigmoid, ACT_F64 as ACT_REF } from '../../src/reference.js';
import { ACT_F64 as ACT_REF } from '../../src/reference.js';

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
