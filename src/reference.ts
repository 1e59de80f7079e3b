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

export interface LossRef { loss: number; grad: Float64Array }

export function mseRef(p: Arr, t: Arr): LossRef {
  const n = p.length, grad = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = p[i] - t[i];
    s += d * d;
    grad[i] = (2 * d) / n;
  }
  return { loss: s / n, grad };
}

export function maeRef(p: Arr, t: Arr): LossRef {
  const n = p.length, grad = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = p[i] - t[i];
    s += Math.abs(d);
    grad[i] = Math.sign(d) / n;
  }
  return { loss: s / n, grad };
}

/** NOTE: from logits, max(z, 0) − z·t + log(1 + e^(−|z|)) (stable); gradient σ(z) − t. */
export function bceLogitsRef(z: Arr, t: Arr): LossRef {
  const n = z.length, grad = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    s += Math.max(z[i], 0) - z[i] * t[i] + Math.log1p(Math.exp(-Math.abs(z[i])));
    grad[i] = (sigmoid(z[i]) - t[i]) / n;
  }
  return { loss: s / n, grad };
}

/** p clamped to [eps, 1 − eps]; gradient 0 where the clamp is active. */
export function bceProbsRef(p: Arr, t: Arr, eps: number): LossRef {
  const n = p.length, grad = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const q = Math.min(Math.max(p[i], eps), 1 - eps);
    s -= t[i] * Math.log(q) + (1 - t[i]) * Math.log(1 - q);
    grad[i] = p[i] < eps || p[i] > 1 - eps ? 0 : (-t[i] / q + (1 - t[i]) / (1 - q)) / n;
  }
  return { loss: s / n, grad };
}

function argmax(z: Arr, i: number, N: number): number {
  let a = 0;
  for (let j = 1; j < N; j++) if (z[i * N + j] > z[i * N + a]) a = j;
  return a;
}

/** Σ_i w[y_i](lse(z_i) − z_i[y_i]) / M; grad w[y_i](softmax − onehot)/M; correct = #(argmax = y). */
export function softmaxXentRef(z: Arr, labels: Arr, M: number, N: number, w?: Arr): LossRef & { correct: number } {
  const grad = new Float64Array(M * N);
  let s = 0, correct = 0;
  for (let i = 0; i < M; i++) {
    const y = labels[i], wy = w ? w[y] : 1, l = lseRow(z, i, N);
    s += wy * (l - z[i * N + y]);
    for (let j = 0; j < N; j++) grad[i * N + j] = (wy * (Math.exp(z[i * N + j] - l) - (j === y ? 1 : 0))) / M;
    if (argmax(z, i, N) === y) correct++;
  }
  return { loss: s / M, grad, correct };
}

/** −Σ_i w[y_i]·logp[i, y_i] / M. */
export function nllRef(logp: Arr, labels: Arr, M: number, N: number, w?: Arr): LossRef & { correct: number } {
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
export function cceProbsRef(p: Arr, labels: Arr, M: number, N: number, eps: number, w?: Arr): LossRef & { correct: number } {
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
