// Float64 references of every kernel: the test oracle (STYLE.md). Row-major, plain loops.

export type GemmVariant = 'nn' | 'nt' | 'tn';

/** C (M×N) = [C0 +] op(A)·op(B): nn A M×K, B K×N; nt B N×K; tn A K×M. */
export function gemmRef(v: GemmVariant, a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number,
                        c0?: ArrayLike<number>): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = c0 ? c0[i * N + j] : 0;
      for (let k = 0; k < K; k++) {
        const aik = v === 'tn' ? a[k * M + i] : a[i * K + k];
        const bkj = v === 'nt' ? b[j * K + k] : b[k * N + j];
        s += aik * bkj;
      }
      c[i * N + j] = s;
    }
  }
  return c;
}

export const actRef: Record<string, (z: number) => number> = {
  identity: (z) => z,
  relu: (z) => (z > 0 ? z : 0),
};

/** out = act(A·W + bias), and z = A·W + bias. */
export function denseFwdRef(a: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number>, M: number, K: number, N: number,
                            act: (z: number) => number): { out: Float64Array; z: Float64Array } {
  const z = gemmRef('nn', a, w, M, K, N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) z[i * N + j] += bias[j];
  return { out: z.map(act), z };
}
