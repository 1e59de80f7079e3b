// The wasm exports, typed (one signature per export, no logic). Pointers and sizes are numbers;
// booleans cross as 0/1. See assembly/ for each kernel's contract.

/** Activation codes shared with assembly/activation.ts. */
export const ACT = { identity: 0, relu: 1 } as const;
export type ActivationName = keyof typeof ACT;

type Gemm = (c: number, a: number, b: number, M: number, K: number, N: number, accumulate: number) => void;
type DenseFwd = (out: number, a: number, w: number, bias: number, M: number, K: number, N: number,
                 act: number, alpha: number, z: number) => void;

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
  // @family activation
  // @family loss
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
