// Float64 reference maths: nn.gradCheck's reference path and the activation tests' oracle (one place).

export const SELU_LAMBDA = 1.0507009873554805;
export const SELU_ALPHA = 1.6732632423543772;
const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_K = 0.044715;

/** erfc(x) to ~1e-14 relative: a series of positive terms below 3, Laplace continued fraction above. */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 3) {
    // erf x = 2x·e^(−x²)/√π · Σ_n (2x²)^n / (1·3·…·(2n+1)): no cancellation (A&S 7.1.6).
    const x2 = 2 * x * x;
    let term = 1, sum = 1;
    for (let n = 1; n < 400; n++) {
      term *= x2 / (2 * n + 1);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return 1 - ((2 * x * Math.exp(-x * x)) / Math.sqrt(Math.PI)) * sum;
  }
  // erfc x = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  let f = x;
  for (let k = 80; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

export const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** act(z) and act'(z) for each code; `a` is the alpha parameter (leakyRelu slope, elu α). */
export const ACT_F64: Record<string, { f: (z: number, a: number) => number; df: (z: number, a: number) => number }> = {
  identity: { f: (z) => z, df: () => 1 },
  // NOTE: relu'(0) = 0.
  relu: { f: (z) => (z > 0 ? z : 0), df: (z) => (z > 0 ? 1 : 0) },
  sigmoid: { f: sigmoid, df: (z) => sigmoid(z) * sigmoid(-z) },
  tanh: { f: Math.tanh, df: (z) => 1 / Math.cosh(z) ** 2 },
  // NOTE: leakyRelu'(0) = alpha, elu'(0) = alpha, selu'(0) = λα: the z ≤ 0 branch.
  leakyRelu: { f: (z, a) => (z > 0 ? z : a * z), df: (z, a) => (z > 0 ? 1 : a) },
  elu: { f: (z, a) => (z > 0 ? z : a * Math.expm1(z)), df: (z, a) => (z > 0 ? 1 : a * Math.exp(z)) },
  selu: {
    f: (z) => SELU_LAMBDA * (z > 0 ? z : SELU_ALPHA * Math.expm1(z)),
    df: (z) => SELU_LAMBDA * (z > 0 ? 1 : SELU_ALPHA * Math.exp(z)),
  },
  softplus: { f: (z) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))), df: sigmoid },
  gelu: {
    f: (z) => 0.5 * z * (1 + Math.tanh(GELU_C * (z + GELU_K * z ** 3))),
    df: (z) => {
      const t = Math.tanh(GELU_C * (z + GELU_K * z ** 3));
      return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * GELU_C * (1 + 3 * GELU_K * z * z);
    },
  },
  // 0.5z(1 + erf(z/√2)) = 0.5z·erfc(−z/√2); derivative Φ(z) + z·φ(z).
  geluErf: {
    f: (z) => 0.5 * z * erfc(-z / Math.SQRT2),
    df: (z) => 0.5 * erfc(-z / Math.SQRT2) + (z * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI),
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
