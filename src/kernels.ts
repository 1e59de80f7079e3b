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
  f32_gemm_nn_scalar: Gemm;
  f32_gemm_nt_scalar: Gemm;
  f32_gemm_tn_scalar: Gemm;
  f32_dense_fwd_scalar: DenseFwd;
  // @family activation
  // @family loss
  // @family optim
  // @family norm-random
}
