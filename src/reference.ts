// Float64 reference maths, one place: the layers' and losses' reference path (nn.gradCheck) and the
// kernel tests' oracle. Row-major M×N, rows are samples; plain loops written for clarity.

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

type Arr = ArrayLike<number>;

/** log Σ_j exp(z[i, j]) of row i of an M×N matrix, max-subtracted. */
export function lseRow(z: Arr, i: number, N: number): number {
  let m = -Infinity;
  for (let j = 0; j < N; j++) m = Math.max(m, z[i * N + j]);
  let s = 0;
  for (let j = 0; j < N; j++) s += Math.exp(z[i * N + j] - m);
  return m + Math.log(s);
}

/** Row-wise log-softmax of an M×N matrix. */
export function logSoftmaxRef(z: Arr, M: number, N: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    const l = lseRow(z, i, N);
    for (let j = 0; j < N; j++) out[i * N + j] = z[i * N + j] - l;
  }
  return out;
}

/** Row-wise softmax of an M×N matrix. */
export function softmaxRef(z: Arr, M: number, N: number): Float64Array {
  return logSoftmaxRef(z, M, N).map(Math.exp);
}

/** dz = y ⊙ (dy − Σ_j dy_j y_j) per row, y = softmax(z). */
export function softmaxBwdRef(dy: Arr, y: Arr, M: number, N: number): Float64Array {
  const dz = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    let c = 0;
    for (let j = 0; j < N; j++) c += dy[i * N + j] * y[i * N + j];
    for (let j = 0; j < N; j++) dz[i * N + j] = y[i * N + j] * (dy[i * N + j] - c);
  }
  return dz;
}

/** dz = dy − exp(y)·Σ_j dy_j per row, y = log-softmax(z). */
export function logSoftmaxBwdRef(dy: Arr, y: Arr, M: number, N: number): Float64Array {
  const dz = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    let s = 0;
    for (let j = 0; j < N; j++) s += dy[i * N + j];
    for (let j = 0; j < N; j++) dz[i * N + j] = dy[i * N + j] - Math.exp(y[i * N + j]) * s;
  }
  return dz;
}

/** out = x > 0 ? x : alpha[j]·x. */
export function preluFwdRef(x: Arr, alpha: Arr, M: number, N: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    const v = x[i * N + j];
    out[i * N + j] = v > 0 ? v : alpha[j] * v;
  }
  return out;
}

/** dx = dy·(x > 0 ? 1 : alpha[j]); dalpha = dalpha0 + Σ_i dy·x·[x < 0]. */
export function preluBwdRef(dy: Arr, x: Arr, alpha: Arr, M: number, N: number, dalpha0?: Arr): { dx: Float64Array; dalpha: Float64Array } {
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

// ---- normalisation ---------------------------------------------------------------------------

export interface BatchnormTrain {
  out: Float64Array; xhat: Float64Array; mean: Float64Array; invstd: Float64Array;
  runMean: Float64Array; runVar: Float64Array;
}

/** Training forward: batch statistics per column; running stats with the unbiased variance (M > 1). */
export function batchnormTrainRef(x: Arr, gamma: Arr, beta: Arr, runMean: Arr, runVar: Arr, M: number, N: number,
                                  momentum: number, eps: number): BatchnormTrain {
  const mean = new Float64Array(N), invstd = new Float64Array(N);
  const rm = new Float64Array(N), rv = new Float64Array(N);
  const xhat = new Float64Array(M * N), out = new Float64Array(M * N);
  for (let j = 0; j < N; j++) {
    let s = 0;
    for (let i = 0; i < M; i++) s += x[i * N + j];
    const mu = s / M;
    let ss = 0;
    for (let i = 0; i < M; i++) ss += (x[i * N + j] - mu) ** 2;
    const v = ss / M;
    mean[j] = mu;
    invstd[j] = 1 / Math.sqrt(v + eps);
    rm[j] = momentum * runMean[j] + (1 - momentum) * mu;
    rv[j] = momentum * runVar[j] + (1 - momentum) * (M > 1 ? ss / (M - 1) : v);
    for (let i = 0; i < M; i++) {
      const h = (x[i * N + j] - mu) * invstd[j];
      xhat[i * N + j] = h;
      out[i * N + j] = gamma[j] * h + beta[j];
    }
  }
  return { out, xhat, mean, invstd, runMean: rm, runVar: rv };
}

/** Inference forward with running statistics. */
export function batchnormInferRef(x: Arr, gamma: Arr, beta: Arr, runMean: Arr, runVar: Arr, M: number, N: number, eps: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) out[i * N + j] = gamma[j] * (x[i * N + j] - runMean[j]) / Math.sqrt(runVar[j] + eps) + beta[j];
  }
  return out;
}

/** Backward of the training forward: dx, and the column sums dgamma = Σ dy·xhat, dbeta = Σ dy. */
export function batchnormBwdRef(dy: Arr, xhat: Arr, invstd: Arr, gamma: Arr, M: number, N: number):
  { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const dx = new Float64Array(M * N), dgamma = new Float64Array(N), dbeta = new Float64Array(N);
  for (let j = 0; j < N; j++) {
    let sdy = 0, sdh = 0;
    for (let i = 0; i < M; i++) {
      sdy += dy[i * N + j];
      sdh += dy[i * N + j] * xhat[i * N + j];
    }
    dbeta[j] = sdy;
    dgamma[j] = sdh;
    // NOTE: dx = γ·invstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)): the batch mean and variance depend on x.
    const c = invstd[j] * gamma[j] / M;
    for (let i = 0; i < M; i++) dx[i * N + j] = c * (M * dy[i * N + j] - sdy - xhat[i * N + j] * sdh);
  }
  return { dx, dgamma, dbeta };
}

/** Layer-norm forward with statistics per row; gamma, beta per column. */
export function layernormFwdRef(x: Arr, gamma: Arr, beta: Arr, M: number, N: number, eps: number):
  { out: Float64Array; xhat: Float64Array; invstd: Float64Array } {
  const out = new Float64Array(M * N), xhat = new Float64Array(M * N), invstd = new Float64Array(M);
  for (let i = 0; i < M; i++) {
    let s = 0;
    for (let j = 0; j < N; j++) s += x[i * N + j];
    const mu = s / N;
    let ss = 0;
    for (let j = 0; j < N; j++) ss += (x[i * N + j] - mu) ** 2;
    invstd[i] = 1 / Math.sqrt(ss / N + eps);
    for (let j = 0; j < N; j++) {
      const h = (x[i * N + j] - mu) * invstd[i];
      xhat[i * N + j] = h;
      out[i * N + j] = gamma[j] * h + beta[j];
    }
  }
  return { out, xhat, invstd };
}

/** Layer-norm backward: dx per row with g = gamma·dy (batch norm's formula over one sample's features); dgamma = Σ_i dy·xhat, dbeta = Σ_i dy. */
export function layernormBwdRef(dy: Arr, xhat: Arr, invstd: Arr, gamma: Arr, M: number, N: number):
  { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const dx = new Float64Array(M * N), dgamma = new Float64Array(N), dbeta = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    let sg = 0, sgh = 0;
    for (let j = 0; j < N; j++) {
      const g = gamma[j] * dy[i * N + j];
      sg += g;
      sgh += g * xhat[i * N + j];
      dgamma[j] += dy[i * N + j] * xhat[i * N + j];
      dbeta[j] += dy[i * N + j];
    }
    for (let j = 0; j < N; j++) dx[i * N + j] = invstd[i] / N * (N * gamma[j] * dy[i * N + j] - sg - xhat[i * N + j] * sgh);
  }
  return { dx, dgamma, dbeta };
}

// ---- penalties -------------------------------------------------------------------------------

/** l1·Σ|p| + l2·Σp² (Keras regularizers). */
export function l1l2PenaltyRef(p: Arr, l1: number, l2: number): number {
  let a = 0, q = 0;
  for (let i = 0; i < p.length; i++) {
    a += Math.abs(p[i]);
    q += p[i] * p[i];
  }
  return l1 * a + l2 * q;
}
/** dy0 + scale·(l1·sign(y) + 2·l2·y), sign(0) = 0: the gradient of scale·l1l2Penalty(y). */
export function activityGradRef(dy0: Arr, y: Arr, l1: number, l2: number, scale: number): Float64Array {
  return Float64Array.from(dy0, (d, i) => d + scale * (l1 * Math.sign(y[i]) + 2 * l2 * y[i]));
}

// ---- losses: each returns { loss (batch mean), grad = ∂loss/∂pred } ---------------------------
// Options of every loss: sw, one weight per row (Keras sample_weight: row i's loss × sw[i], the
// sum still divided by the batch size); smoothing ε, Keras label smoothing (binary targets
// t(1 − ε) + ε/2, class targets t(1 − ε) + ε/K).

export interface LossRef { loss: number; grad: Float64Array }
export interface LossOpts { sw?: Arr; smoothing?: number }

/** Element-wise loss f(x, t) → [value, ∂value/∂x] averaged over all elements, row i weighted by sw[i]. */
function elementRef(p: Arr, t: Arr, o: LossOpts, binary: boolean, f: (x: number, t: number) => [number, number]): LossRef {
  const n = p.length, grad = new Float64Array(n), rows = o.sw ? o.sw.length : 1, N = n / rows, e = o.smoothing ?? 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const w = o.sw ? o.sw[Math.floor(i / N)] : 1;
    const [v, d] = f(p[i], binary ? t[i] * (1 - e) + e / 2 : t[i]);
    s += w * v;
    grad[i] = (w * d) / n;
  }
  return { loss: s / n, grad };
}

export function mseRef(p: Arr, t: Arr, o: LossOpts = {}): LossRef {
  return elementRef(p, t, o, false, (x, y) => [(x - y) ** 2, 2 * (x - y)]);
}

export function maeRef(p: Arr, t: Arr, o: LossOpts = {}): LossRef {
  return elementRef(p, t, o, false, (x, y) => [Math.abs(x - y), Math.sign(x - y)]);
}

/** NOTE: from logits, max(z, 0) − z·t + log(1 + e^(−|z|)) (stable); gradient σ(z) − t. */
export function bceLogitsRef(z: Arr, t: Arr, o: LossOpts = {}): LossRef {
  return elementRef(z, t, o, true, (x, y) => [Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x))), sigmoid(x) - y]);
}

/** p clamped to [eps, 1 − eps]; gradient 0 where the clamp is active. */
export function bceProbsRef(p: Arr, t: Arr, eps: number, o: LossOpts = {}): LossRef {
  return elementRef(p, t, o, true, (x, y) => {
    const q = Math.min(Math.max(x, eps), 1 - eps);
    return [-(y * Math.log(q) + (1 - y) * Math.log(1 - q)), x < eps || x > 1 - eps ? 0 : -y / q + (1 - y) / (1 - q)];
  });
}

function argmax(z: Arr, i: number, N: number): number {
  let a = 0;
  for (let j = 1; j < N; j++) if (z[i * N + j] > z[i * N + a]) a = j;
  return a;
}

/** Class-loss options: cw per class, soft = targets are M×N distributions (else M integer labels). */
export interface ClassLossOpts extends LossOpts { cw?: Arr; soft?: boolean }

/**
 * Row i's target distribution t (the one-hot of its label, or its soft row, smoothed), its class
 * (label or the target's first argmax) and weight w = cw[class]·sw[i]; `row` gives the loss of
 * the row and its gradient ∂/∂pred_ij given t. Returns the batch mean and correct (argmax hits).
 */
function classRef(pred: Arr, target: Arr, M: number, N: number, o: ClassLossOpts,
                  row: (i: number, t: Float64Array) => { loss: number; grad: Float64Array }): LossRef & { correct: number } {
  const grad = new Float64Array(M * N), e = o.smoothing ?? 0;
  let s = 0, correct = 0;
  for (let i = 0; i < M; i++) {
    const y = o.soft ? argmax(target, i, N) : target[i];
    const t = Float64Array.from({ length: N }, (_, j) => (o.soft ? target[i * N + j] : j === y ? 1 : 0) * (1 - e) + e / N);
    const w = (o.cw ? o.cw[y] : 1) * (o.sw ? o.sw[i] : 1);
    const r = row(i, t);
    s += w * r.loss;
    for (let j = 0; j < N; j++) grad[i * N + j] = (w * r.grad[j]) / M;
    if (argmax(pred, i, N) === y) correct++;
  }
  return { loss: s / M, grad, correct };
}

/** Σ_i w_i·(Σt·lse(z_i) − Σ_j t_j z_ij) / M (= −Σ t·log softmax); grad w_i(Σt·softmax − t)/M; correct = #(argmax = class). */
export function softmaxXentRef(z: Arr, labels: Arr, M: number, N: number, w?: Arr, o: ClassLossOpts = {}): LossRef & { correct: number } {
  return classRef(z, labels, M, N, { ...o, cw: w ?? o.cw }, (i, t) => {
    const l = lseRow(z, i, N), st = t.reduce((a, b) => a + b, 0);
    let loss = 0;
    const grad = new Float64Array(N);
    for (let j = 0; j < N; j++) {
      loss += t[j] * (l - z[i * N + j]);
      grad[j] = st * Math.exp(z[i * N + j] - l) - t[j];
    }
    return { loss, grad };
  });
}

/** −Σ_i w_i·Σ_j t_j·logp_ij / M. */
export function nllRef(logp: Arr, labels: Arr, M: number, N: number, w?: Arr, o: ClassLossOpts = {}): LossRef & { correct: number } {
  return classRef(logp, labels, M, N, { ...o, cw: w ?? o.cw }, (i, t) => {
    let loss = 0;
    for (let j = 0; j < N; j++) loss -= t[j] * logp[i * N + j];
    return { loss, grad: t.map((v) => -v) };
  });
}

/** −Σ_i w_i·Σ_j t_j·log(clamp(p_ij, eps, 1 − eps)) / M; grad −w·t/(M·p), 0 where clamped. */
export function cceProbsRef(p: Arr, labels: Arr, M: number, N: number, eps: number, w?: Arr, o: ClassLossOpts = {}): LossRef & { correct: number } {
  return classRef(p, labels, M, N, { ...o, cw: w ?? o.cw }, (i, t) => {
    let loss = 0;
    const grad = new Float64Array(N);
    for (let j = 0; j < N; j++) {
      const v = p[i * N + j], c = Math.min(Math.max(v, eps), 1 - eps);
      if (t[j] !== 0) loss -= t[j] * Math.log(c);
      grad[j] = c === v && t[j] !== 0 ? -t[j] / v : 0;
    }
    return { loss, grad };
  });
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

// ── Preprocessing (normalization, rescaling) ────────────────────────────────────────────────

/** Keras Normalization's smallest divisor: (x − mean)/max(√var, NORM_EPS). */
export const NORM_EPS = 1e-7;

/** out (M×N) = (x − shift[j])·scale[j] + offset[j]; an absent shift or offset is 0. */
export function colAffineRef(x: Arr, shift: Arr | undefined, scale: Arr, offset: Arr | undefined, M: number, N: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    out[i * N + j] = (x[i * N + j] - (shift ? shift[j] : 0)) * scale[j] + (offset ? offset[j] : 0);
  }
  return out;
}
/** dx (M×N) = dy·scale[j]. */
export function colAffineBwdRef(dy: Arr, scale: Arr, M: number, N: number): Float64Array {
  return Float64Array.from({ length: M * N }, (_, k) => dy[k] * scale[k % N]);
}
/** 1/max(√var[j], eps) per column. */
export function invStdRef(v: Arr, eps = NORM_EPS): Float64Array {
  return Float64Array.from(v, (x) => 1 / Math.max(Math.sqrt(x), eps));
}
/**
 * Mean and population variance per column of x (M×N), accumulated in float64 (two passes: the
 * variance is Σ(x − mean)²/M, never negative, exactly 0 for a constant column).
 */
export function columnStatsRef(x: Arr, M: number, N: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(N), variance = new Float64Array(N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) mean[j] += x[i * N + j];
  for (let j = 0; j < N; j++) mean[j] /= M;
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) variance[j] += (x[i * N + j] - mean[j]) ** 2;
  for (let j = 0; j < N; j++) variance[j] /= M;
  return { mean, variance };
}

// ---- convolution and pooling (NHWC), direct loops ----------------------------------------------

/**
 * Where an image layer reads: input N×H×W×C, kernel or window kh×kw, strides sh×sw, dilation
 * dh×dw (1 for pooling), padding pt above and pl to the left, output Ho×Wo. Output (oh, ow) and
 * tap (i, j) read input (oh·sh − pt + i·dh, ow·sw − pl + j·dw).
 */
export interface ImageGeometry {
  N: number; H: number; W: number; C: number; kh: number; kw: number; sh: number; sw: number;
  dh: number; dw: number; pt: number; pl: number; Ho: number; Wo: number;
}

/** Calls f(outIndex, inIndex − c, tap) for every output position and every tap inside the image (inIndex of channel 0). */
function forTaps(g: ImageGeometry, f: (o: number, at: number, tap: number) => void): void {
  for (let n = 0; n < g.N; n++) for (let oh = 0; oh < g.Ho; oh++) for (let ow = 0; ow < g.Wo; ow++) {
    const o = (n * g.Ho + oh) * g.Wo + ow;
    for (let i = 0; i < g.kh; i++) for (let j = 0; j < g.kw; j++) {
      const ih = oh * g.sh - g.pt + i * g.dh, iw = ow * g.sw - g.pl + j * g.dw;
      if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) f(o, ((n * g.H + ih) * g.W + iw) * g.C, i * g.kw + j);
    }
  }
}

/** z (N×Ho×Wo×cout) = bias + Σ_{i,j,c} x[n, ih, iw, c]·w[i, j, c, co]; taps outside the image are 0. */
export function conv2dRef(x: Arr, w: Arr, bias: Arr | undefined, g: ImageGeometry, cout: number): Float64Array {
  const z = new Float64Array(g.N * g.Ho * g.Wo * cout);
  if (bias) for (let k = 0; k < z.length; k++) z[k] = bias[k % cout];
  forTaps(g, (o, at, tap) => {
    for (let c = 0; c < g.C; c++) for (let co = 0; co < cout; co++) z[o * cout + co] += x[at + c] * w[(tap * g.C + c) * cout + co];
  });
  return z;
}

/** Gradients of conv2dRef from dz: dx (N×H×W×C), dw (kh×kw×C×cout), db (cout). */
export function conv2dBwdRef(dz: Arr, x: Arr, w: Arr, g: ImageGeometry, cout: number): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(g.N * g.H * g.W * g.C), dw = new Float64Array(g.kh * g.kw * g.C * cout), db = new Float64Array(cout);
  for (let k = 0; k < dz.length; k++) db[k % cout] += dz[k];
  forTaps(g, (o, at, tap) => {
    for (let c = 0; c < g.C; c++) for (let co = 0; co < cout; co++) {
      const wi = (tap * g.C + c) * cout + co, d = dz[o * cout + co];
      dx[at + c] += d * w[wi];
      dw[wi] += d * x[at + c];
    }
  });
  return { dx, dw, db };
}

/** Max pooling: out (N×Ho×Wo×C) and, per output, the x index of the first largest tap (NaN wins). */
export function maxPool2dRef(x: Arr, g: ImageGeometry): { out: Float64Array; argmax: Int32Array } {
  const n = g.N * g.Ho * g.Wo * g.C, out = new Float64Array(n).fill(-Infinity), argmax = new Int32Array(n).fill(-1);
  forTaps(g, (o, at) => {
    for (let c = 0; c < g.C; c++) {
      const k = o * g.C + c, v = x[at + c], m = out[k];
      if (argmax[k] < 0 || ((v > m || Number.isNaN(v)) && !Number.isNaN(m))) { out[k] = v; argmax[k] = at + c; }
    }
  });
  return { out, argmax };
}

/** dx (N×H×W×C) of max pooling: dy routed to each window's argmax. */
export function maxPool2dBwdRef(dy: Arr, x: Arr, g: ImageGeometry): Float64Array {
  const dx = new Float64Array(g.N * g.H * g.W * g.C), { argmax } = maxPool2dRef(x, g);
  for (let k = 0; k < argmax.length; k++) dx[argmax[k]] += dy[k];
  return dx;
}

/** Taps inside the image per output position (padding is not counted, Keras 'same'). */
function tapCounts(g: ImageGeometry): Float64Array {
  const count = new Float64Array(g.N * g.Ho * g.Wo);
  forTaps(g, (o) => count[o]++);
  return count;
}

/** Average pooling: out (N×Ho×Wo×C) = mean over each window's taps inside the image. */
export function avgPool2dRef(x: Arr, g: ImageGeometry): Float64Array {
  const out = new Float64Array(g.N * g.Ho * g.Wo * g.C), count = tapCounts(g);
  forTaps(g, (o, at) => { for (let c = 0; c < g.C; c++) out[o * g.C + c] += x[at + c] / count[o]; });
  return out;
}

/** dx (N×H×W×C) of average pooling: dy/count to every tap of its window. */
export function avgPool2dBwdRef(dy: Arr, g: ImageGeometry): Float64Array {
  const dx = new Float64Array(g.N * g.H * g.W * g.C), count = tapCounts(g);
  forTaps(g, (o, at) => { for (let c = 0; c < g.C; c++) dx[at + c] += dy[o * g.C + c] / count[o]; });
  return dx;
}
