// Float64 references of every kernel: the test oracle (STYLE.md). Row-major, plain loops.

import { ACT_F64, matmul } from '../../src/reference.js';

export type GemmVariant = 'nn' | 'nt' | 'tn';

/** C (M×N) = [C0 +] op(A)·op(B): nn A M×K, B K×N; nt B N×K; tn A K×M (src/reference.ts's matmul). */
export function gemmRef(v: GemmVariant, a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number,
                        c0?: ArrayLike<number>): Float64Array {
  const c = matmul(a, b, M, K, N, v === 'tn', v === 'nt');
  if (c0) for (let i = 0; i < M * N; i++) c[i] += c0[i];
  return c;
}

export const actRef: Record<string, (z: number) => number> = {
  identity: (z) => ACT_F64.identity.f(z, 0),
  relu: (z) => ACT_F64.relu.f(z, 0),
};

/** out = act(A·W + bias), and z = A·W + bias. */
export function denseFwdRef(a: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number>, M: number, K: number, N: number,
                            act: (z: number) => number): { out: Float64Array; z: Float64Array } {
  const z = gemmRef('nn', a, w, M, K, N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) z[i * N + j] += bias[j];
  return { out: z.map(act), z };
}
