// Float64 reference maths for the facade's reference path (nn.gradCheck). Each wasm kernel has a
// float64 twin here or in test/util; these are the ones a whole model needs.

export const SELU_LAMBDA = 1.0507009873554805;
export const SELU_ALPHA = 1.6732632423543772;
const GELU_C = Math.sqrt(2 / Math.PI);

/** erf to ~1e-15 (series for small |x|, continued fraction for the tail). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf x = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = ax, sum = ax;
    for (let n = 1; n < 60; n++) {
      term *= -ax * ax / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc x = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) (Lentz-free backward evaluation)
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + (n / 2) / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Element-wise activations: value and derivative at z (alpha: leaky slope / ELU α). */
export const ACT_F64: Record<string, { f: (z: number, a: number) => number; df: (z: number, a: number) => number }> = {
  identity: { f: (z) => z, df: () => 1 },
  // NOTE: relu'(0) = 0 (as PyTorch and TF).
  relu: { f: (z) => (z > 0 ? z : 0), df: (z) => (z > 0 ? 1 : 0) },
  sigmoid: { f: sigmoid, df: (z) => sigmoid(z) * (1 - sigmoid(z)) },
  tanh: { f: Math.tanh, df: (z) => 1 - Math.tanh(z) ** 2 },
  leakyRelu: { f: (z, a) => (z > 0 ? z : a * z), df: (z, a) => (z > 0 ? 1 : a) },
  elu: { f: (z, a) => (z > 0 ? z : a * Math.expm1(z)), df: (z, a) => (z > 0 ? 1 : a * Math.exp(z)) },
  selu: {
    f: (z) => SELU_LAMBDA * (z > 0 ? z : SELU_ALPHA * Math.expm1(z)),
    df: (z) => SELU_LAMBDA * (z > 0 ? 1 : SELU_ALPHA * Math.exp(z)),
  },
  // NOTE: softplus(z) = max(z, 0) + log1p(e^−|z|) never overflows; its derivative is σ(z).
  softplus: { f: (z) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))), df: sigmoid },
  gelu: {
    f: (z) => 0.5 * z * (1 + Math.tanh(GELU_C * (z + 0.044715 * z ** 3))),
    df: (z) => {
      const u = GELU_C * (z + 0.044715 * z ** 3), t = Math.tanh(u);
      return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * z * z);
    },
  },
  geluErf: {
    f: (z) => 0.5 * z * (1 + erf(z / Math.SQRT2)),
    df: (z) => 0.5 * (1 + erf(z / Math.SQRT2)) + z * Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI),
  },
};

/** Row-wise softmax (log = true: log-softmax) of an M×N matrix, max-subtracted. */
export function softmaxRows(z: Float64Array, M: number, N: number, log = false): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    let m = -Infinity;
    for (let j = 0; j < N; j++) m = Math.max(m, z[i * N + j]);
    let s = 0;
    for (let j = 0; j < N; j++) s += Math.exp(z[i * N + j] - m);
    const lse = m + Math.log(s);
    for (let j = 0; j < N; j++) out[i * N + j] = log ? z[i * N + j] - lse : Math.exp(z[i * N + j] - lse);
  }
  return out;
}

/** C (M×N) = A (M×K) · B (K×N); with tA/tB the stored operand is transposed. */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number, tA = false, tB = false): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) {
    const aik = tA ? a[k * M + i] : a[i * K + k];
    if (aik === 0) continue;
    for (let j = 0; j < N; j++) c[i * N + j] += aik * (tB ? b[j * K + k] : b[k * N + j]);
  }
  return c;
}
