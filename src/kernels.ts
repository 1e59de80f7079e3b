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
  // @family optim
  // @family norm-random
}
