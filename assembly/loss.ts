// Losses, forward and backward fused in one pass. Each returns the batch-mean loss (f64; sums
// are kept in f64) and, when dpred ≠ 0, WRITES (=) dpred = ∂(returned loss)/∂pred, so the 1/M
// (or 1/(M·N)) scaling is already in it. dpred may alias pred: each element is read before it
// is written. M·N ≤ 0 returns 0 and writes nothing.
//
// Sample weights (Keras's sample_weight, SUM_OVER_BATCH_SIZE): sampleWeights is M f32 or 0 (all
// 1); row i's loss is multiplied by sw[i] and the sum is still divided by the batch size M (not
// by Σ sw). Class weights multiply in (w = cw[class]·sw[i]), as Keras turns class_weight into
// sample weights. The divisor of every mean is batch_inv below: one place.
import { exp_shifted_row, sigmoidf } from './activation';
import { row_argmax } from './reduce';
import { OP_MUL, map_c } from './simd';

// The one divisor of a batch mean: 1/count (count = M rows, or M·N elements).
@inline function batch_inv(count: i32): f64 {
  return 1.0 / <f64>count;
}

@inline function sample_weight(sampleWeights: usize, r: i32): f64 {
  return sampleWeights != 0 ? <f64>load<f32>(sampleWeights + (<usize>r << 2)) : 1.0;
}

// ---- regression and element-wise losses: mean over all M·N elements ------------------------

const MSE: i32 = 0;
const MAE: i32 = 1;
const BCE_LOGITS: i32 = 2;
const BCE_PROBS: i32 = 3;

// mean sw_i·(pred − target)²; dpred = 2·sw_i·(pred − target)/(MN). (PyTorch/Keras convention: no ½.)
export function f32_mse(dpred: usize, pred: usize, target: usize, M: i32, N: i32, sampleWeights: usize): f64 {
  return element_loss(MSE, dpred, pred, target, M, N, sampleWeights, 0, 0);
}

// mean sw_i·|pred − target|; dpred = sw_i·sign(pred − target)/(MN), 0 where pred = target.
export function f32_mae(dpred: usize, pred: usize, target: usize, M: i32, N: i32, sampleWeights: usize): f64 {
  return element_loss(MAE, dpred, pred, target, M, N, sampleWeights, 0, 0);
}

// Binary cross-entropy on logits z: mean of sw_i·(max(z,0) − z·t + log1p(exp(−|z|))); dpred =
// sw_i·(σ(z) − t)/(MN). Label smoothing ε (Keras): t ← t·(1 − ε) + ε/2 first.
// NOTE: the log-sum-exp form log(1 + e^z) − z·t never overflows: finite loss and gradient at ±300.
export function f32_bce_logits(dpred: usize, z: usize, target: usize, M: i32, N: i32, sampleWeights: usize,
                               smoothing: f32): f64 {
  return element_loss(BCE_LOGITS, dpred, z, target, M, N, sampleWeights, smoothing, 0);
}

// Binary cross-entropy on probabilities p, clamped to [eps, 1 − eps] (eps > 0):
// mean of −sw_i·(t·log p + (1 − t)·log(1 − p)); dpred = sw_i·(p − t)/(p(1 − p))/(MN) on the
// clamped p, and 0 where the clamp is active (p < eps or p > 1 − eps: the clamped expression is
// constant there). Label smoothing as in f32_bce_logits.
export function f32_bce_probs(dpred: usize, p: usize, target: usize, M: i32, N: i32, sampleWeights: usize,
                              smoothing: f32, eps: f32): f64 {
  return element_loss(BCE_PROBS, dpred, p, target, M, N, sampleWeights, smoothing, eps);
}

// One loop for the four: `kind` is a constant at each call, so each export keeps only its branch.
@inline function element_loss(kind: i32, dpred: usize, pred: usize, target: usize, M: i32, N: i32,
                              sampleWeights: usize, smoothing: f32, eps: f32): f64 {
  if (M <= 0 || N <= 0) return 0;
  const inv = batch_inv(M * N);
  const lo = <f64>eps, hi = 1.0 - <f64>eps;
  const keepT = 1.0 - <f64>smoothing, addT = 0.5 * <f64>smoothing;
  let total: f64 = 0;
  for (let r = 0; r < M; r++) {
    const w = sample_weight(sampleWeights, r);
    const g = <f32>((kind == MSE ? 2.0 : 1.0) * w * inv);
    let s: f64 = 0;
    for (let j = 0; j < N; j++) {
      const o = (<usize>r * <usize>N + <usize>j) << 2;
      const x = load<f32>(pred + o);
      const t = load<f32>(target + o);
      let d: f32;
      if (kind == MSE || kind == MAE) {
        const e = x - t;
        s += kind == MSE ? <f64>e * <f64>e : Math.abs(<f64>e);
        d = kind == MSE ? e * g : e > 0 ? g : e < 0 ? -g : 0;
      } else if (kind == BCE_LOGITS) {
        const z = <f64>x, tt = <f64>t * keepT + addT;
        s += (z > 0 ? z : 0) - z * tt + Math.log1p(Math.exp(-Math.abs(z)));
        d = (sigmoidf(x) - <f32>tt) * g;
      } else {
        const p = <f64>x, tt = <f64>t * keepT + addT;
        const q = p < lo ? lo : p > hi ? hi : p;
        s -= tt * Math.log(q) + (1.0 - tt) * Math.log(1.0 - q);
        d = p < lo || p > hi ? 0 : <f32>((q - tt) / (q * (1.0 - q)) * w * inv);
      }
      if (dpred != 0) store<f32>(dpred + o, d);
    }
    total += w * s;
  }
  return total * inv;
}

// ---- classification: mean over the M rows ----------------------------------------------------
// Targets are i32 labels (M) or, in the _soft exports, a distribution per row (M×N f32: one-hot
// or probabilities). Label smoothing ε (Keras): t ← t·(1 − ε) + ε/N. A soft row's class (for its
// class weight and for `correct`) is the first argmax of the target.

const SOFTMAX_XENT: i32 = 0;
const NLL: i32 = 1;
const CCE_PROBS: i32 = 2;

@inline function clamp_label(y: i32, N: i32): i32 {
  return y < 0 ? 0 : y >= N ? N - 1 : y;
}

// Softmax cross-entropy on logits (M×N) with i32 labels (M): l_i = w_i·(Σt·logsumexp(z_i) − Σ_j t_j z_ij)
// (t the smoothed one-hot of y_i, Σt = 1), returns Σ_i l_i / M (Keras: divided by M, not by Σ w).
// dlogits (if ≠ 0) = w_i·(Σt·softmax(z_i) − t)/M, written; may alias logits. w_i = cw[y_i]·sw[i];
// classWeights: N f32 or 0 (all 1); sampleWeights: M f32 or 0. correct (if ≠ 0): *correct =
// number of rows whose first argmax equals the label (i32, written).
// NOTE: per row one pass for max/argmax/z[y], one for Σ exp(z − max) (the SIMD softmax row of
// activation.ts, exp kept in dlogits), one to scale: p − onehot never materialises a one-hot.
// Labels outside [0, N) are the facade's to reject; here they read the clamped column and never
// count as correct.
export function f32_softmax_xent(dlogits: usize, logits: usize, labels: usize, M: i32, N: i32,
                                 classWeights: usize, sampleWeights: usize, correct: usize, smoothing: f32): f64 {
  return class_loss(SOFTMAX_XENT, false, dlogits, logits, labels, M, N, classWeights, sampleWeights, correct, smoothing, 0);
}

// f32_softmax_xent with a target distribution per row (M×N f32); Σt may differ from 1 (Keras's
// −Σ t·log softmax(z) is kept as is, not renormalised).
export function f32_softmax_xent_soft(dlogits: usize, logits: usize, target: usize, M: i32, N: i32,
                                      classWeights: usize, sampleWeights: usize, correct: usize, smoothing: f32): f64 {
  return class_loss(SOFTMAX_XENT, true, dlogits, logits, target, M, N, classWeights, sampleWeights, correct, smoothing, 0);
}

// Negative log-likelihood on log-probabilities (M×N): l_i = −w_i·Σ_j t_j·logp_ij, returns Σ l_i / M.
// dlogp (if ≠ 0) written: −w_i·t_j/M; may alias logp. Weights, smoothing, correct as in f32_softmax_xent.
export function f32_nll(dlogp: usize, logp: usize, labels: usize, M: i32, N: i32,
                        classWeights: usize, sampleWeights: usize, correct: usize, smoothing: f32): f64 {
  return class_loss(NLL, false, dlogp, logp, labels, M, N, classWeights, sampleWeights, correct, smoothing, 0);
}
export function f32_nll_soft(dlogp: usize, logp: usize, target: usize, M: i32, N: i32,
                             classWeights: usize, sampleWeights: usize, correct: usize, smoothing: f32): f64 {
  return class_loss(NLL, true, dlogp, logp, target, M, N, classWeights, sampleWeights, correct, smoothing, 0);
}

// Categorical cross-entropy on probabilities (a softmax output; not renormalised):
// l_i = −w_i·Σ_j t_j·log(clamp(p_ij, eps, 1 − eps)); dp written: −w_i·t_j/(M·p_ij) (0 where the
// clamp is active or t_j = 0); weights, smoothing, correct as in f32_softmax_xent.
export function f32_cce_probs(dp: usize, p: usize, labels: usize, M: i32, N: i32,
                              classWeights: usize, sampleWeights: usize, correct: usize, smoothing: f32, eps: f32): f64 {
  return class_loss(CCE_PROBS, false, dp, p, labels, M, N, classWeights, sampleWeights, correct, smoothing, eps);
}
export function f32_cce_probs_soft(dp: usize, p: usize, target: usize, M: i32, N: i32,
                                   classWeights: usize, sampleWeights: usize, correct: usize, smoothing: f32, eps: f32): f64 {
  return class_loss(CCE_PROBS, true, dp, p, target, M, N, classWeights, sampleWeights, correct, smoothing, eps);
}

// One loop for the six: per row its class y (the label, or the target's argmax), its weight w and
// the prediction's argmax for `correct`, then the kind's loss and gradient row. `kind` and `soft`
// are constants at each call. A label row with smoothing ε is the soft row ε/N + (1 − ε)·[j = y],
// read through target_at without materialising it.
@inline function class_loss(kind: i32, soft: bool, dout: usize, pred: usize, target: usize, M: i32, N: i32,
                            classWeights: usize, sampleWeights: usize, correct: usize, smoothing: f32, eps: f32): f64 {
  if (M <= 0 || N <= 0) {
    if (correct != 0) store<i32>(correct, 0);
    return 0;
  }
  const invM = batch_inv(M);
  const keepT = 1.0 - <f64>smoothing, addT = <f64>smoothing / <f64>N;
  let total: f64 = 0;
  let hits: i32 = 0;
  for (let r = 0; r < M; r++) {
    const row = pred + <usize>r * <usize>N * 4;
    const trow = soft ? target + <usize>r * <usize>N * 4 : 0;
    const label = soft ? row_argmax(trow, N) : load<i32>(target + <usize>r * 4);
    const y = clamp_label(label, N);
    const arg = row_argmax(row, N);
    if (arg == label) hits++;
    let w = sample_weight(sampleWeights, r);
    if (classWeights != 0) w *= <f64>load<f32>(classWeights + <usize>y * 4);
    const dr = dout != 0 ? dout + <usize>r * <usize>N * 4 : 0;
    const plain = !soft && smoothing == 0; // one-hot: only column y matters
    if (kind == SOFTMAX_XENT) {
      const m = load<f32>(row + <usize>arg * 4);
      // Σ_j t_j and Σ_j t_j·z_j of the (smoothed) target row, read before dr (which may alias the row) is written
      let st: f64 = 1, stz: f64;
      if (plain) {
        stz = <f64>load<f32>(row + <usize>y * 4);
      } else {
        st = 0; stz = 0;
        for (let j = 0; j < N; j++) {
          const t = target_at(soft, trow, y, j, keepT, addT);
          st += t;
          stz += t * <f64>load<f32>(row + <usize>j * 4);
        }
      }
      const s = exp_shifted_row(dr, row, N, m);
      const lse = <f64>m + Math.log(s);
      total += w * (st * lse - stz);
      if (dr != 0) {
        map_c(OP_MUL, dr, dr, <f32>(w * invM * st / s), N);
        if (plain) {
          const oy = <usize>y * 4;
          store<f32>(dr + oy, load<f32>(dr + oy) - <f32>(w * invM));
        } else {
          for (let j = 0; j < N; j++) {
            const o = <usize>j * 4;
            store<f32>(dr + o, load<f32>(dr + o) - <f32>(w * invM * target_at(soft, trow, y, j, keepT, addT)));
          }
        }
      }
    } else if (plain) {
      const v = <f64>load<f32>(row + <usize>y * 4);
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
    } else {
      let s: f64 = 0;
      for (let j = 0; j < N; j++) {
        const o = <usize>j * 4;
        const t = target_at(soft, trow, y, j, keepT, addT);
        const v = <f64>load<f32>(row + o);
        let g: f64 = -w * invM * t;
        if (kind == CCE_PROBS) {
          const c = Math.min(Math.max(v, <f64>eps), 1.0 - <f64>eps);
          s -= t * Math.log(c);
          g = c == v && t != 0 ? g / v : 0;
        } else {
          s -= t * v;
        }
        if (dr != 0) store<f32>(dr + o, <f32>g);
      }
      total += w * s;
    }
  }
  if (correct != 0) store<i32>(correct, hits);
  return total * invM;
}

// Target probability of column j: the soft row's value, or the one-hot of y, smoothed.
@inline function target_at(soft: bool, trow: usize, y: i32, j: i32, keepT: f64, addT: f64): f64 {
  const t: f64 = soft ? <f64>load<f32>(trow + <usize>j * 4) : j == y ? 1.0 : 0.0;
  return t * keepT + addT;
}
