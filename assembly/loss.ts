// Losses, forward and backward fused in one pass. Each returns the batch-mean loss (f64; sums
// are kept in f64) and, when dpred ≠ 0, WRITES (=) dpred = ∂(returned loss)/∂pred, so the 1/M
// (or 1/(M·N)) scaling is already in it. dpred may alias pred: each element is read before it
// is written. M·N ≤ 0 returns 0 and writes nothing.
import { exp_shifted_row, sigmoidf } from './activation';
import { row_argmax } from './reduce';
import { OP_MUL, map_c } from './simd';

// ---- regression and element-wise losses: mean over all M·N elements ------------------------

const MSE: i32 = 0;
const MAE: i32 = 1;
const BCE_LOGITS: i32 = 2;
const BCE_PROBS: i32 = 3;

// mean (pred − target)²; dpred = 2(pred − target)/(MN). (PyTorch/Keras convention: no ½.)
export function f32_mse(dpred: usize, pred: usize, target: usize, M: i32, N: i32): f64 {
  return element_loss(MSE, dpred, pred, target, M, N, 0);
}

// mean |pred − target|; dpred = sign(pred − target)/(MN), 0 where pred = target.
export function f32_mae(dpred: usize, pred: usize, target: usize, M: i32, N: i32): f64 {
  return element_loss(MAE, dpred, pred, target, M, N, 0);
}

// Binary cross-entropy on logits z: mean of max(z,0) − z·t + log1p(exp(−|z|)); dpred = (σ(z) − t)/(MN).
// NOTE: the log-sum-exp form log(1 + e^z) − z·t never overflows: finite loss and gradient at ±300.
export function f32_bce_logits(dpred: usize, z: usize, target: usize, M: i32, N: i32): f64 {
  return element_loss(BCE_LOGITS, dpred, z, target, M, N, 0);
}

// Binary cross-entropy on probabilities p, clamped to [eps, 1 − eps] (eps > 0):
// mean of −(t·log p + (1 − t)·log(1 − p)); dpred = (p − t)/(p(1 − p))/(MN) on the clamped p,
// and 0 where the clamp is active (p < eps or p > 1 − eps: the clamped expression is constant there).
export function f32_bce_probs(dpred: usize, p: usize, target: usize, M: i32, N: i32, eps: f32): f64 {
  return element_loss(BCE_PROBS, dpred, p, target, M, N, eps);
}

// One loop for the four: `kind` is a constant at each call, so each export keeps only its branch.
@inline function element_loss(kind: i32, dpred: usize, pred: usize, target: usize, M: i32, N: i32, eps: f32): f64 {
  if (M <= 0 || N <= 0) return 0;
  const n = M * N;
  const inv = 1.0 / <f64>n;
  const g = <f32>(kind == MSE ? 2.0 * inv : inv);
  const lo = <f64>eps, hi = 1.0 - <f64>eps;
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i * 4;
    const x = load<f32>(pred + o);
    const t = load<f32>(target + o);
    let d: f32;
    if (kind == MSE || kind == MAE) {
      const e = x - t;
      s += kind == MSE ? <f64>e * <f64>e : Math.abs(<f64>e);
      d = kind == MSE ? e * g : e > 0 ? g : e < 0 ? -g : 0;
    } else if (kind == BCE_LOGITS) {
      const z = <f64>x;
      s += (z > 0 ? z : 0) - z * <f64>t + Math.log1p(Math.exp(-Math.abs(z)));
      d = (sigmoidf(x) - t) * g;
    } else {
      const p = <f64>x, tt = <f64>t;
      const q = p < lo ? lo : p > hi ? hi : p;
      s -= tt * Math.log(q) + (1.0 - tt) * Math.log(1.0 - q);
      d = p < lo || p > hi ? 0 : <f32>((q - tt) / (q * (1.0 - q)) * inv);
    }
    if (dpred != 0) store<f32>(dpred + o, d);
  }
  return s / <f64>n;
}

// ---- classification on integer labels: mean over the M rows --------------------------------

const SOFTMAX_XENT: i32 = 0;
const NLL: i32 = 1;
const CCE_PROBS: i32 = 2;

@inline function clamp_label(y: i32, N: i32): i32 {
  return y < 0 ? 0 : y >= N ? N - 1 : y;
}

// Softmax cross-entropy on logits (M×N) with i32 labels (M): l_i = w[y_i]·(logsumexp(z_i) − z_i[y_i]),
// returns Σ_i l_i / M (Keras: divided by M, not by Σ w). dlogits (if ≠ 0) = w[y_i]·(softmax(z_i) −
// onehot(y_i))/M, written; may alias logits. classWeights: N f32 or 0 (all 1). correct (if ≠ 0):
// *correct = number of rows whose first argmax equals the label (i32, written).
// NOTE: per row one pass for max/argmax/z[y], one for Σ exp(z − max) (the SIMD softmax row of
// activation.ts, exp kept in dlogits), one to scale: p − onehot never materialises a one-hot.
// Labels outside [0, N) are the facade's to reject; here they read the clamped column and never
// count as correct.
export function f32_softmax_xent(dlogits: usize, logits: usize, labels: usize, M: i32, N: i32,
                                 classWeights: usize, correct: usize): f64 {
  return label_loss(SOFTMAX_XENT, dlogits, logits, labels, M, N, classWeights, correct, 0);
}

// Negative log-likelihood on log-probabilities (M×N): l_i = −w[y_i]·logp[i, y_i], returns Σ l_i / M.
// dlogp (if ≠ 0) written: −w[y_i]/M at the label, 0 elsewhere; may alias logp. classWeights and
// correct as in f32_softmax_xent.
export function f32_nll(dlogp: usize, logp: usize, labels: usize, M: i32, N: i32,
                        classWeights: usize, correct: usize): f64 {
  return label_loss(NLL, dlogp, logp, labels, M, N, classWeights, correct, 0);
}

// Categorical cross-entropy on probabilities (a softmax output) with integer labels:
// l_i = −w[y_i]·log(clamp(p[i, y_i], eps, 1 − eps)); dp written: −w/(M·p) at the label (0 where
// the clamp is active), 0 elsewhere; *correct as for f32_nll.
export function f32_cce_probs(dp: usize, p: usize, labels: usize, M: i32, N: i32,
                              classWeights: usize, correct: usize, eps: f32): f64 {
  return label_loss(CCE_PROBS, dp, p, labels, M, N, classWeights, correct, eps);
}

// One loop for the three: per row the label's column y, its class weight w and the argmax for
// `correct`, then the kind's loss and gradient row. `kind` is a constant at each call.
@inline function label_loss(kind: i32, dout: usize, pred: usize, labels: usize, M: i32, N: i32,
                            classWeights: usize, correct: usize, eps: f32): f64 {
  if (M <= 0 || N <= 0) {
    if (correct != 0) store<i32>(correct, 0);
    return 0;
  }
  const invM = 1.0 / <f64>M;
  let total: f64 = 0;
  let hits: i32 = 0;
  for (let r = 0; r < M; r++) {
    const row = pred + <usize>r * <usize>N * 4;
    const label = load<i32>(labels + <usize>r * 4);
    const y = clamp_label(label, N);
    const arg = row_argmax(row, N);
    if (arg == label) hits++;
    const w: f64 = classWeights != 0 ? <f64>load<f32>(classWeights + <usize>y * 4) : 1.0;
    const v = <f64>load<f32>(row + <usize>y * 4);
    const dr = dout != 0 ? dout + <usize>r * <usize>N * 4 : 0;
    if (kind == SOFTMAX_XENT) {
      const m = load<f32>(row + <usize>arg * 4);
      const s = exp_shifted_row(dr, row, N, m);
      total += w * (<f64>m + Math.log(s) - v);
      if (dr != 0) {
        map_c(OP_MUL, dr, dr, <f32>(w * invM / s), N);
        const oy = <usize>y * 4;
        store<f32>(dr + oy, load<f32>(dr + oy) - <f32>(w * invM));
      }
    } else {
      let g: f64 = -w * invM;
      if (kind == CCE_PROBS) {
        const c = Math.min(Math.max(v, <f64>eps), 1.0 - <f64>eps);
        total -= w * Math.log(c);
        g = c == v ? g / v : 0;
      } else {
        total -= w * v;
      }
      if (dr != 0) {
        memory.fill(dr, 0, <usize>N * 4);
        store<f32>(dr + <usize>y * 4, <f32>g);
      }
    }
  }
  if (correct != 0) store<i32>(correct, hits);
  return total * invM;
}
