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
  // random (assembly/random.ts): one xoshiro128** stream per 16-byte state; same bits on every build.
  /** state (16 bytes) = xoshiro128** seeded from seed by splitmix64 */
  rng_seed(state: number, seed: number): void;
  /** next u32 of the stream (returned as a signed i32 by wasm: use `>>> 0`) */
  rng_next_u32(state: number): number;
  /** out[0..n) = lo + (hi − lo)·u, u uniform in [0, 1) (24 bits) */
  f32_fill_uniform(out: number, n: number, lo: number, hi: number, state: number): void;
  /** out[0..n) = mean + std·z, z standard normal (Box–Muller); truncated = 1 redraws |z| > 2 */
  f32_fill_normal(out: number, n: number, mean: number, std: number, truncated: number, state: number): void;
  /** out (i32) = a uniform permutation of 0..n−1 (Fisher–Yates) */
  i32_permutation(out: number, n: number, state: number): void;
  /** out (i32) = n uniform integers in [0, range), with replacement */
  i32_sample(out: number, n: number, range: number, state: number): void;
  /** inverted dropout: mask = keep ? 1/(1 − rate) : 0, out = x·mask; out may alias x */
  f32_dropout_fwd(out: number, mask: number, x: number, n: number, rate: number, state: number): void;
  /** dx = dy·mask (written); dx may alias dy */
  f32_dropout_bwd(dx: number, dy: number, mask: number, n: number): void;
  // norm (assembly/norm.ts): x is M×N, rows are samples; dgamma/dbeta added, dx written.
  /** batch statistics per column; writes out, xhat, mean, invstd; updates runMean/runVar (unbiased var) */
  f32_batchnorm_fwd_train(out: number, xhat: number, mean: number, invstd: number, x: number, gamma: number, beta: number,
                          runMean: number, runVar: number, M: number, N: number, momentum: number, eps: number): void;
  /** out = gamma·(x − runMean)/√(runVar + eps) + beta */
  f32_batchnorm_fwd_infer(out: number, x: number, gamma: number, beta: number, runMean: number, runVar: number,
                          M: number, N: number, eps: number): void;
  /** dgamma += Σ dy·xhat, dbeta += Σ dy (per column); dx = (invstd·gamma/M)·(M·dy − Σdy − xhat·Σdy·xhat) */
  f32_batchnorm_bwd(dx: number, dgamma: number, dbeta: number, dy: number, xhat: number, invstd: number, gamma: number,
                    M: number, N: number): void;
  /** statistics per row; writes out, xhat (M×N) and invstd (M); gamma, beta per column */
  f32_layernorm_fwd(out: number, xhat: number, invstd: number, x: number, gamma: number, beta: number,
                    M: number, N: number, eps: number): void;
  /** dgamma += Σ_i dy·xhat, dbeta += Σ_i dy; dx written */
  f32_layernorm_bwd(dx: number, dgamma: number, dbeta: number, dy: number, xhat: number, invstd: number, gamma: number,
                    M: number, N: number): void;
  /** out = a + b; out may alias a or b */
  f32_add(out: number, a: number, b: number, n: number): void;
  /** acc += x */
  f32_add_inplace(acc: number, x: number, n: number): void;
  /** out = s·x; out may alias x */
  f32_scale(out: number, x: number, s: number, n: number): void;
  /** out[j] += Σ_i x[i, j] (x is M×N) */
  f32_colsum_add(out: number, x: number, M: number, N: number): void;
  /** out[0..n) = v */
  f32_fill(out: number, v: number, n: number): void;
  /** l1·Σ|p| + l2·Σp² (f64 accumulation) */
  f32_l1l2_penalty(p: number, n: number, l1: number, l2: number): number;
  /** dy += scale·(l1·sign(y) + 2·l2·y), sign(0) = 0 */
  f32_activity_grad(dy: number, y: number, n: number, l1: number, l2: number, scale: number): void;
  // data (assembly/data.ts): batches gathered by row index.
  /** out[r, :] = src[idx[r], :] (f32) */
  f32_gather_rows(out: number, src: number, idx: number, rows: number, cols: number): void;
  /** out (f32) [r, :] = src (u8) [idx[r], :]·scale + shift */
  u8_gather_rows_scale(out: number, src: number, idx: number, rows: number, cols: number, scale: number, shift: number): void;
  /** out[i] = src[idx[i]] (i32) */
  i32_gather(out: number, src: number, idx: number, n: number): void;
  /** out[i] (i32) = argmax of row i of x (M×N), first on ties */
  f32_argmax_rows(out: number, x: number, M: number, N: number): void;
}
