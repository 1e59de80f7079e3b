// The wasm exports, typed (one signature per export, no logic). Pointers and sizes are numbers;
// booleans cross as 0/1. See assembly/ for each kernel's contract.

/** Activation codes shared with assembly/activation.ts. */
export const ACT = { identity: 0, relu: 1, sigmoid: 2, tanh: 3, leakyRelu: 4, elu: 5, selu: 6, softplus: 7, gelu: 8, geluErf: 9 } as const;
export type ActivationName = keyof typeof ACT;

type Gemm = (c: number, a: number, b: number, M: number, K: number, N: number, accumulate: number) => void;
type DenseFwd = (out: number, a: number, w: number, bias: number, M: number, K: number, N: number,
                 act: number, alpha: number, z: number) => void;

/** (out, in, N, H, W, C, kh, kw, sh, sw, dh, dw, pt, pl, Ho, Wo) */
type ConvGeom = (out: number, x: number, N: number, H: number, W: number, C: number, kh: number, kw: number,
                 sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, Ho: number, Wo: number) => void;
/** N, H, W, C, ph, pw, sh, sw, pt, pl, Ho, Wo */
type PoolArgs = [N: number, H: number, W: number, C: number, ph: number, pw: number, sh: number, sw: number,
                 pt: number, pl: number, Ho: number, Wo: number];

/** (dpred or 0, pred, target, M, N, sampleWeights or 0) → batch-mean loss */
type ElementLoss = (dpred: number, pred: number, target: number, M: number, N: number, sampleWeights: number) => number;
/**
 * (dlogits or 0, logits, labels i32 (or, _soft, M×N f32 targets), M, N, classWeights or 0,
 * sampleWeights or 0, correct i32 or 0, labelSmoothing) → batch-mean loss
 */
type ClassLoss = (dlogits: number, logits: number, target: number, M: number, N: number,
                  classWeights: number, sampleWeights: number, correct: number, smoothing: number) => number;

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
  // Losses (assembly/loss.ts): row i's loss times sampleWeights[i] (0 = all 1), divided by the batch size.
  /** mean sw·(pred − target)²; dpred (≠ 0) = 2·sw·(pred − target)/(MN), written */
  f32_mse: ElementLoss;
  /** mean sw·|pred − target|; dpred (≠ 0) = sw·sign(pred − target)/(MN), written */
  f32_mae: ElementLoss;
  /** mean BCE on logits z, targets smoothed t(1 − ε) + ε/2; dpred (≠ 0) = sw·(σ(z) − t)/(MN), written */
  f32_bce_logits(dpred: number, z: number, target: number, M: number, N: number, sampleWeights: number, smoothing: number): number;
  /** mean BCE on probabilities clamped to [eps, 1 − eps], targets smoothed; dpred (≠ 0) written, 0 where clamped */
  f32_bce_probs(dpred: number, p: number, target: number, M: number, N: number, sampleWeights: number, smoothing: number, eps: number): number;
  /** Σ_i w_i·(Σt·lse(z_i) − t·z_i) / M, t the smoothed one-hot of y_i; dlogits (≠ 0) = w(Σt·softmax − t)/M, written; *correct = #argmax hits */
  f32_softmax_xent: ClassLoss;
  /** f32_softmax_xent with a target distribution per row (M×N f32) */
  f32_softmax_xent_soft: ClassLoss;
  /** −Σ_i w_i·Σ_j t_j·logp_ij / M; dlogp (≠ 0) = −w·t/M, written; *correct */
  f32_nll: ClassLoss;
  f32_nll_soft: ClassLoss;
  /** −Σ_i w_i·Σ_j t_j·log(clamp(p_ij, eps, 1 − eps)) / M; dp (≠ 0) = −w·t/(M·p) (0 where clamped), written; *correct */
  f32_cce_probs(dp: number, p: number, labels: number, M: number, N: number, classWeights: number, sampleWeights: number,
                correct: number, smoothing: number, eps: number): number;
  f32_cce_probs_soft(dp: number, p: number, target: number, M: number, N: number, classWeights: number, sampleWeights: number,
                     correct: number, smoothing: number, eps: number): number;
  // Optimizer steps (assembly/optim.ts): θ and state updated in place over n floats; g is read only.
  // Trailing arguments of every step: n, lr, l1, l2, wd (decoupled), clip (0 = off), gscale (1 = off).
  /** momentum 0: θ −= lr·g; else v = γv − lr·g, θ += v (nesterov: θ += γv − lr·g); proximal: L1 as a soft threshold after */
  f32_sgd_step(p: number, g: number, v: number, momentum: number, nesterov: number, proximal: number,
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
  /** torch.optim.NAdam at step t ≥ 1; muProduct = Π_{i ≤ t} μ_i (f64) */
  f32_nadam_step(p: number, g: number, m: number, v: number, beta1: number, beta2: number, eps: number, momentumDecay: number,
                 t: number, muProduct: number, n: number, lr: number, l1: number, l2: number, wd: number, clip: number, gscale: number): void;
  /** Lion: θ −= lr·sign(β1·m + (1−β1)g); m = β2·m + (1−β2)g */
  f32_lion_step(p: number, g: number, m: number, beta1: number, beta2: number,
                n: number, lr: number, l1: number, l2: number, wd: number, clip: number, gscale: number): void;
  /** Σ p[i]² in f64 */
  f32_sumsq(p: number, n: number): number;
  /** count of NaN and ±∞ in p[0..n) */
  f32_count_nonfinite(p: number, n: number): number;
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
  /** inverted dropout, one stream per global row row0 + i (state read, not advanced): mask = keep ? 1/(1 − rate) : 0, out = x·mask */
  f32_dropout_rows_fwd(out: number, mask: number, x: number, M: number, N: number, rate: number, state: number, row0: number, salt: number): void;
  f32_dropout_bwd(dx: number, dy: number, mask: number, n: number): void;
  // norm (assembly/norm.ts): x is M×N, rows are samples; dgamma/dbeta added, dx written.
  /** one slice's batch statistics: part (2N f64) = Σ_i x, then Σ_i x² per column */
  f64_batchnorm_stats(part: number, x: number, M: number, N: number): void;
  /** from T slices' statistics (parts, total rows): writes out, xhat, mean, invstd of this slice; updates runMean/runVar (unbiased var) when running ≠ 0 */
  f32_batchnorm_fwd_train(out: number, xhat: number, mean: number, invstd: number, x: number, gamma: number, beta: number,
                          runMean: number, runVar: number, M: number, N: number, momentum: number, eps: number,
                          parts: number, T: number, total: number, running: number): void;
  /** out = gamma·(x − runMean)/√(runVar + eps) + beta */
  f32_batchnorm_fwd_infer(out: number, x: number, gamma: number, beta: number, runMean: number, runVar: number,
                          M: number, N: number, eps: number): void;
  /** one slice: part (2N f64) = Σ_i dy, Σ_i dy·xhat; dbeta += Σ dy, dgamma += Σ dy·xhat */
  f64_batchnorm_bwd_sums(part: number, dgamma: number, dbeta: number, dy: number, xhat: number, M: number, N: number): void;
  /** dx = (invstd·gamma/total)·(total·dy − Σdy − xhat·Σdy·xhat) from T slices' sums; scratch 2N f32 */
  f32_batchnorm_bwd(dx: number, dy: number, xhat: number, invstd: number, gamma: number, M: number, N: number,
                    parts: number, T: number, total: number, scratch: number): void;
  /** statistics per row; writes out, xhat (M×N) and invstd (M); gamma, beta per column */
  f32_layernorm_fwd(out: number, xhat: number, invstd: number, x: number, gamma: number, beta: number,
                    M: number, N: number, eps: number): void;
  /** dgamma += Σ_i dy·xhat, dbeta += Σ_i dy; dx written */
  f32_layernorm_bwd(dx: number, dgamma: number, dbeta: number, dy: number, xhat: number, invstd: number, gamma: number,
                    M: number, N: number): void;
  /** out (M×N) = (x − shift[j])·scale[j] + offset[j], written; shift or offset 0 = none; out may alias x */
  f32_col_affine_fwd(out: number, x: number, shift: number, scale: number, offset: number, M: number, N: number): void;
  /** dx (M×N) = dy·scale[j], written; dx may alias dy */
  f32_col_affine_bwd(dx: number, dy: number, scale: number, M: number, N: number): void;
  /** out[j] = 1/max(√var[j], eps); out may alias var */
  f32_inv_std(out: number, v: number, n: number, eps: number): void;
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
  // conv (assembly/conv.ts): NHWC images; geometry (N, H, W, C, kernel or window kh×kw, strides sh×sw,
  // [dilation dh×dw,] padding above pt and left pl, output Ho×Wo); backward kernels add into dx.
  /** cols (N·Ho·Wo × kh·kw·C) = every output position's input patch, (i, j, c) order, 0 outside the image */
  f32_im2col: ConvGeom;
  /** dx (N×H×W×C) += dcols scattered back to the patches (the transpose of f32_im2col) */
  f32_col2im_add: ConvGeom;
  /** out = max over each window per channel, argmax (i32) = its element index in x; both written */
  f32_maxpool_fwd(out: number, argmax: number, x: number, ...geom: PoolArgs): void;
  /** dx[argmax[k]] += dy[k] for k < n */
  f32_maxpool_bwd(dx: number, dy: number, argmax: number, n: number): void;
  /** out = mean over each window's taps inside the image (padding not counted), written */
  f32_avgpool_fwd(out: number, x: number, ...geom: PoolArgs): void;
  /** dx += dy/count over each window's taps inside the image */
  f32_avgpool_bwd(dx: number, dy: number, ...geom: PoolArgs): void;
}
