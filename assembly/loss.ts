// Losses, forward and backward fused in one pass. Each returns the batch-mean loss (f64; sums
// are kept in f64) and, when dpred ≠ 0, WRITES (=) dpred = ∂(returned loss)/∂pred, so the 1/M
// (or 1/(M·N)) scaling is already in it. dpred may alias pred: each element is read before it
// is written. M·N ≤ 0 returns 0 and writes nothing.
import { sigmoidf } from './activation';

// ---- regression and element-wise losses: mean over all M·N elements ------------------------

// mean (pred − target)²; dpred = 2(pred − target)/(MN). (PyTorch/Keras convention: no ½.)
export function f32_mse(dpred: usize, pred: usize, target: usize, M: i32, N: i32): f64 {
  const n = M * N;
  if (M <= 0 || N <= 0) return 0;
  const g = <f32>(2.0 / <f64>n);
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i * 4;
    const d = load<f32>(pred + o) - load<f32>(target + o);
    s += <f64>d * <f64>d;
    if (dpred != 0) store<f32>(dpred + o, d * g);
  }
  return s / <f64>n;
}

// mean |pred − target|; dpred = sign(pred − target)/(MN), 0 where pred = target.
export function f32_mae(dpred: usize, pred: usize, target: usize, M: i32, N: i32): f64 {
  const n = M * N;
  if (M <= 0 || N <= 0) return 0;
  const g = <f32>(1.0 / <f64>n);
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i * 4;
    const d = load<f32>(pred + o) - load<f32>(target + o);
    s += Math.abs(<f64>d);
    if (dpred != 0) store<f32>(dpred + o, d > 0 ? g : d < 0 ? -g : 0);
  }
  return s / <f64>n;
}

// Binary cross-entropy on logits z: mean of max(z,0) − z·t + log1p(exp(−|z|)); dpred = (σ(z) − t)/(MN).
// NOTE: the log-sum-exp form log(1 + e^z) − z·t never overflows: finite loss and gradient at ±300.
export function f32_bce_logits(dpred: usize, z: usize, target: usize, M: i32, N: i32): f64 {
  const n = M * N;
  if (M <= 0 || N <= 0) return 0;
  const g = <f32>(1.0 / <f64>n);
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i * 4;
    const zi = load<f32>(z + o);
    const t = load<f32>(target + o);
    const x = <f64>zi;
    s += (x > 0 ? x : 0) - x * <f64>t + Math.log1p(Math.exp(-Math.abs(x)));
    if (dpred != 0) store<f32>(dpred + o, (sigmoidf(zi) - t) * g);
  }
  return s / <f64>n;
}

// Binary cross-entropy on probabilities p, clamped to [eps, 1 − eps] (eps > 0):
// mean of −(t·log p + (1 − t)·log(1 − p)); dpred = (p − t)/(p(1 − p))/(MN) on the clamped p,
// and 0 where the clamp is active (p < eps or p > 1 − eps: the clamped expression is constant there).
export function f32_bce_probs(dpred: usize, p: usize, target: usize, M: i32, N: i32, eps: f32): f64 {
  const n = M * N;
  if (M <= 0 || N <= 0) return 0;
  const g = 1.0 / <f64>n;
  const lo = <f64>eps, hi = 1.0 - <f64>eps;
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i * 4;
    const pi = <f64>load<f32>(p + o);
    const t = <f64>load<f32>(target + o);
    const clamped = pi < lo || pi > hi;
    const q = pi < lo ? lo : pi > hi ? hi : pi;
    s -= t * Math.log(q) + (1.0 - t) * Math.log(1.0 - q);
    if (dpred != 0) store<f32>(dpred + o, clamped ? 0 : <f32>((q - t) / (q * (1.0 - q)) * g));
  }
  return s / <f64>n;
}

// ---- classification on integer labels: mean over the M rows --------------------------------

@inline function clamp_label(y: i32, N: i32): i32 {
  return y < 0 ? 0 : y >= N ? N - 1 : y;
}

// Softmax cross-entropy on logits (M×N) with i32 labels (M): l_i = w[y_i]·(logsumexp(z_i) − z_i[y_i]),
// returns Σ_i l_i / M (Keras: divided by M, not by Σ w). dlogits (if ≠ 0) = w[y_i]·(softmax(z_i) −
// onehot(y_i))/M, written; may alias logits. classWeights: N f32 or 0 (all 1). correct (if ≠ 0):
// *correct = number of rows whose first argmax equals the label (i32, written).
// NOTE: per row one pass for max/argmax/z[y], one for Σ exp(z − max) (exp kept in dlogits), one to
// scale: p − onehot never materialises a one-hot. Labels outside [0, N) are the facade's to
// reject; here they read the clamped column and never count as correct.
export function f32_softmax_xent(dlogits: usize, logits: usize, labels: usize, M: i32, N: i32,
                                 classWeights: usize, correct: usize): f64 {
  if (M <= 0 || N <= 0) {
    if (correct != 0) store<i32>(correct, 0);
    return 0;
  }
  const invM = 1.0 / <f64>M;
  let total: f64 = 0;
  let hits: i32 = 0;
  for (let r = 0; r < M; r++) {
    const zr = logits + <usize>r * <usize>N * 4;
    const label = load<i32>(labels + <usize>r * 4);
    const y = clamp_label(label, N);
    const arg = row_argmax(zr, N);
    const m = load<f32>(zr + <usize>arg * 4);
    if (arg == label) hits++;
    const zy = load<f32>(zr + <usize>y * 4);
    const w: f64 = classWeights != 0 ? <f64>load<f32>(classWeights + <usize>y * 4) : 1.0;
    let s: f64 = 0;
    if (dlogits != 0) {
      const dr = dlogits + <usize>r * <usize>N * 4;
      for (let j = 0; j < N; j++) {
        const e = Mathf.exp(load<f32>(zr + <usize>j * 4) - m);
        store<f32>(dr + <usize>j * 4, e);
        s += e;
      }
      const c = <f32>(w * invM / s);
      for (let j = 0; j < N; j++) {
        const o = <usize>j * 4;
        store<f32>(dr + o, load<f32>(dr + o) * c);
      }
      const oy = <usize>y * 4;
      store<f32>(dr + oy, load<f32>(dr + oy) - <f32>(w * invM));
    } else {
      for (let j = 0; j < N; j++) s += Mathf.exp(load<f32>(zr + <usize>j * 4) - m);
    }
    total += w * (<f64>m + Math.log(s) - <f64>zy);
  }
  if (correct != 0) store<i32>(correct, hits);
  return total * invM;
}

// Negative log-likelihood on log-probabilities (M×N): l_i = −w[y_i]·logp[i, y_i], returns Σ l_i / M.
// dlogp (if ≠ 0) written: −w[y_i]/M at the label, 0 elsewhere; may alias logp. classWeights and
// correct as in f32_softmax_xent.
export function f32_nll(dlogp: usize, logp: usize, labels: usize, M: i32, N: i32,
                        classWeights: usize, correct: usize): f64 {
  return picked_loss(dlogp, logp, labels, M, N, classWeights, correct, false, 0);
}

// Categorical cross-entropy on probabilities (a softmax output) with integer labels:
// l_i = −w[y_i]·log(clamp(p[i, y_i], eps, 1 − eps)); dp written: −w/(M·p) at the label (0 where
// the clamp is active), 0 elsewhere; *correct as for f32_nll.
export function f32_cce_probs(dp: usize, p: usize, labels: usize, M: i32, N: i32,
                              classWeights: usize, correct: usize, eps: f32): f64 {
  return picked_loss(dp, p, labels, M, N, classWeights, correct, true, eps);
}

// Index of the first maximum of a row of N floats.
@inline function row_argmax(row: usize, N: i32): i32 {
  let m: f32 = load<f32>(row);
  let arg = 0;
  for (let j = 1; j < N; j++) {
    const v = load<f32>(row + <usize>j * 4);
    if (v > m) { m = v; arg = j; }
  }
  return arg;
}

// The loss of the label's entry of each row: −w·v (log-probabilities) or −w·log(clamp(v)).
@inline function picked_loss(dout: usize, pred: usize, labels: usize, M: i32, N: i32,
                             classWeights: usize, correct: usize, probs: bool, eps: f32): f64 {
  if (M <= 0 || N <= 0) {
    if (correct != 0) store<i32>(correct, 0);
    return 0;
  }
  const invM = 1.0 / <f64>M;
  let total: f64 = 0;
  let hits: i32 = 0;
  for (let r = 0; r < M; r++) {
    const lr = pred + <usize>r * <usize>N * 4;
    const label = load<i32>(labels + <usize>r * 4);
    const y = clamp_label(label, N);
    if (row_argmax(lr, N) == label) hits++;
    const w: f64 = classWeights != 0 ? <f64>load<f32>(classWeights + <usize>y * 4) : 1.0;
    const v = <f64>load<f32>(lr + <usize>y * 4);
    let g: f64 = -w * invM;
    if (probs) {
      const c = Math.min(Math.max(v, <f64>eps), 1.0 - <f64>eps);
      total -= w * Math.log(c);
      g = c == v ? g / v : 0;
    } else {
      total -= w * v;
    }
    if (dout != 0) {
      const dr = dout + <usize>r * <usize>N * 4;
      memory.fill(dr, 0, <usize>N * 4);
      store<f32>(dr + <usize>y * 4, <f32>g);
    }
  }
  if (correct != 0) store<i32>(correct, hits);
  return total * invM;
}
