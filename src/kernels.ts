// The wasm exports, typed (one signature per export, no logic). Pointers and sizes are numbers;
// booleans cross as 0/1. See assembly/ for each kernel's contract.

/** Activation codes shared with assembly/activation.ts. */
export const ACT = { identity: 0, relu: 1, sigmoid: 2, tanh: 3, leakyRelu: 4, elu: 5, selu: 6, softplus: 7, gelu: 8, geluErf: 9 } as const;
export type ActivationName = keyof typeof ACT;

type Gemm = (c: number, a: number, b: number, M: number, K: number, N: number, accumulate: number) => void;
type DenseFwd = (out: number, a: number, w: number, bias: number, M: number, K: number, N: number,
                 act: number, alpha: number, z: number) => void;

/** (dpred or 0, pred, target, M, N) → batch-mean loss */
type ElementLoss = (dpred: number, pred: number, target: number, M: number, N: number) => number;
/** (dlogits or 0, logits, labels i32, M, N, classWeights or 0, correct i32 or 0) → batch-mean loss */
type LabelLoss = (dlogits: number, logits: number, labels: number, M: number, N: number,
                  classWeights: number, correct: number) => number;

export interface Kernels {
  heap_base(): number;
  gemm_workspace_bytes(): number;
  gemm_set_workspace(ptr: number): void;
  /** c (M×N) [+]= a (M×K) · b (K×N) */
  f32_gemm_nn: Gemm;
  /** c (M×N) [+]= a (M×K) · bᵀ, b is N×K */
  f32_gemm_nt: Gemm;
  /** c (M×N) [+]= aᵀ · b, a is K×M, b is K×N */
  f32_gemm_tn: Gemm;
  /** out = act(a·w + bias); z keeps a·w + bias when z ≠ 0 */
  f32_dense_fwd: DenseFwd;
  /** General strided gemm: A(i,k) at a+(i·rsA+k·csA)·4, B(k,j) at b+(k·rsB+j·csB)·4; C row stride N. */
  f32_gemm_ex(c: number, a: number, b: number, M: number, K: number, N: number, rsA: number, csA: number,
              rsB: number, csB: number, accumulate: number, bias: number, act: number, alpha: number, z: number): void;
  f32_gemm_nn_scalar: Gemm;
  f32_gemm_nt_scalar: Gemm;
  f32_gemm_tn_scalar: Gemm;
  f32_dense_fwd_scalar: DenseFwd;
  /** out (n) = act(z); out may alias z */
  f32_act_fwd(out: number, z: number, n: number, act: number, alpha: number): void;
  /** dz (M×N) = dy ⊙ act'(z), written (y = act(z) or 0; dz may alias dy); dbias (N) += Σ_i dz when ≠ 0 */
  f32_act_bwd(dz: number, dy: number, z: number, y: number, M: number, N: number, act: number, alpha: number, dbias: number): void;
  /** out (M×N) = row-wise softmax(z); out may alias z */
  f32_softmax_fwd(out: number, z: number, M: number, N: number): void;
  /** out (M×N) = row-wise log-softmax(z); out may alias z */
  f32_log_softmax_fwd(out: number, z: number, M: number, N: number): void;
  /** dz = y ⊙ (dy − Σ_j dy_j y_j) per row, written (y = softmax output); dz may alias dy */
  f32_softmax_bwd(dz: number, dy: number, y: number, M: number, N: number): void;
  /** dz = dy − exp(y)·Σ_j dy_j per row, written (y = log-softmax output); dz may alias dy */
  f32_log_softmax_bwd(dz: number, dy: number, y: number, M: number, N: number): void;
  /** out (M×N) = x > 0 ? x : alpha[j]·x; out may alias x */
  f32_prelu_fwd(out: number, x: number, alpha: number, M: number, N: number): void;
  /** dx = dy·(x > 0 ? 1 : alpha[j]), written; dalpha[j] += Σ_i dy·x·[x < 0] */
  f32_prelu_bwd(dx: number, dalpha: number, dy: number, x: number, alpha: number, M: number, N: number): void;
  /** mean (pred − target)²; dpred (≠ 0) = 2(pred − target)/(MN), written */
  f32_mse: ElementLoss;
  /** mean |pred − target|; dpred (≠ 0) = sign(pred − target)/(MN), written */
  f32_mae: ElementLoss;
  /** mean BCE on logits z; dpred (≠ 0) = (σ(z) − t)/(MN), written */
  f32_bce_logits: ElementLoss;
  /** mean BCE on probabilities clamped to [eps, 1 − eps]; dpred (≠ 0) written, 0 where clamped */
  f32_bce_probs(dpred: number, p: number, target: number, M: number, N: number, eps: number): number;
  /** Σ_i w[y_i]·(lse(z_i) − z_i[y_i]) / M; dlogits (≠ 0) = w(softmax − onehot)/M, written; *correct = #argmax hits */
  f32_softmax_xent: LabelLoss;
  /** −Σ_i w[y_i]·logp[i, y_i] / M; dlogp (≠ 0) = −w/M at the label, 0 elsewhere; *correct = #argmax hits */
  f32_nll: LabelLoss;
  // Optimizer steps (assembly/optim.ts): θ and state updated in place over n floats; g is read only.
  // Trailing arguments of every step: n, lr, l1, l2, wd (decoupled), clip (0 = off), gscale (1 = off).
  /** momentum 0: θ −= lr·g; else v = γv − lr·g, θ += v (nesterov: θ += γv − lr·g) */
  f32_sgd_step(p: number, g: number, v: number, momentum: number, nesterov: number,
               n: number, lr: number, l1: number, l2: number, wd: number, clip: number, gscale: number): void;
  /** acc += g²; θ −= lr·g/(√acc + eps) */
  f32_adagrad_step(p: number, g: number, acc: number, eps: number,
                   n: number, lr: number, l1: number, l2: number, wd: number, clip: number, gscale: number): void;
  /** Zeiler/PyTorch Adadelta; accG = E[g²], accD = E[Δ²] */
  f32_adadelta_step(p: number, g: number, accG: number, accD: number, rho: number, eps: number,
                    n: number, lr: number, l1: number, l2: number, wd: number, clip: number, gscale: number): void;
  /** PyTorch RMSprop (eps outside √); mom used when momentum > 0, mg when centered = 1 */
  f32_rmsprop_step(p: number, g: number, ms: number, mom: number, mg: number, rho: number, momentum: number, eps: number,
                   centered: number, n: number, lr: number, l1: number, l2: number, wd: number, clip: number, gscale: number): void;
  /** PyTorch Adam at step t ≥ 1 (vmax used when amsgrad = 1); AdamW with wd > 0 */
  f32_adam_step(p: number, g: number, m: number, v: number, vmax: number, beta1: number, beta2: number, eps: number,
                t: number, amsgrad: number, n: number, lr: number, l1: number, l2: number, wd: number, clip: number, gscale: number): void;
  /** PyTorch Adamax at step t ≥ 1: u = max(β2·u, |g| + eps) */
  f32_adamax_step(p: number, g: number, m: number, u: number, beta1: number, beta2: number, eps: number, t: number,
                  n: number, lr: number, l1: number, l2: number, wd: number, clip: number, gscale: number): void;
  /** Σ p[i]² in f64 */
  f32_sumsq(p: number, n: number): number;
  /** count of NaN and ±∞ in p[0..n) */
  f32_count_nonfinite(p: number, n: number): number;
  // @family norm-random
}
