// Normalisation layers, forward and backward side by side: batch norm (statistics per column,
// over the batch) and layer norm (per row, over the features), plus the activity-regularizer
// gradient that the facade applies to a layer's output.
//
// Layout: x is M×N row-major, rows are samples, features along N. Parameter gradients
// (dgamma, dbeta) and dy of f32_activity_grad are ADDED into (+=, DESIGN §1); input gradients dx
// are WRITTEN. Batch-norm statistics are f64 sums per slice of rows (see below); layer-norm
// reductions run in f32 (two passes for the variance). SIMD builds sum in a different order than
// the scalar build, so results agree to rounding, not bit for bit.
import { f32_colsum_add, row_sum, row_sumsq_dev } from './reduce';
import { hsum, vsign } from './simd';

// ---- batch norm ----------------------------------------------------------------------------

// Batch statistics are made of per-slice sums so that threads, each holding a slice of the batch
// rows, can share them (DESIGN §7): each slice writes its sums into its block of `parts`, a
// barrier follows, and every slice then reads all T blocks, summed in block order (the same bits
// in every thread; a fixed thread count is reproducible). Sums are f64: E[x²] − mean² does not
// cancel at f32 data in double precision. One slice (T = 1) is the single-thread case.

// The T slices' two sums of column j (blocks of 2N f64: first sums, then second sums), added in
// block order, into part0 and part1.
let part0: f64 = 0;
let part1: f64 = 0;
@inline function sum_parts(parts: usize, T: i32, N: i32, j: i32): void {
  const n2 = <usize>N << 3, block = n2 << 1;
  let a: f64 = 0, b: f64 = 0;
  for (let t = 0; t < T; t++) {
    const o = parts + <usize>t * block + (<usize>j << 3);
    a += load<f64>(o);
    b += load<f64>(o + n2);
  }
  part0 = a;
  part1 = b;
}

// part (2N f64) written: Σ_i x[i][j] for j < N, then Σ_i x[i][j]².
export function f64_batchnorm_stats(part: usize, x: usize, M: i32, N: i32): void {
  const n2 = <usize>N << 3;
  memory.fill(part, 0, n2 << 1);
  for (let i = 0; i < M; i++) {
    const xr = x + (<usize>i * <usize>N << 2);
    for (let j = 0; j < N; j++) {
      const v = <f64>load<f32>(xr + (<usize>j << 2));
      const o = part + (<usize>j << 3);
      store<f64>(o, load<f64>(o) + v);
      store<f64>(o + n2, load<f64>(o + n2) + v * v);
    }
  }
}

// Training forward of one slice of M rows, from the T slices' statistics (parts: T blocks of
// 2N f64 as f64_batchnorm_stats writes them; total = rows over all slices). Written: mean (N),
// invstd (N) = 1/√(var + eps) with the biased batch variance, xhat (M×N) = (x − mean)·invstd,
// out (M×N) = gamma·xhat + beta. When `running` ≠ 0 (one slice does it), updated in place:
// runMean = momentum·runMean + (1 − momentum)·mean, runVar likewise with the UNBIASED variance
// var·total/(total − 1). out may alias x.
// NOTE: for total = 1 the unbiased variance is undefined; the biased one (0) is used, so nothing
// is NaN and invstd = 1/√eps (xhat = 0, out = beta).
export function f32_batchnorm_fwd_train(out: usize, xhat: usize, mean: usize, invstd: usize, x: usize,
                                        gamma: usize, beta: usize, runMean: usize, runVar: usize,
                                        M: i32, N: i32, momentum: f32, eps: f32,
                                        parts: usize, T: i32, total: i32, running: i32): void {
  if (N <= 0 || total <= 0) return;
  const invT: f64 = 1.0 / <f64>total;
  const unbias: f64 = total > 1 ? <f64>total / <f64>(total - 1) : 1;
  for (let j = 0; j < N; j++) {
    sum_parts(parts, T, N, j);
    const mu = part0 * invT;
    const v = Math.max(part1 * invT - mu * mu, 0);
    const o = <usize>j << 2;
    store<f32>(mean + o, <f32>mu);
    store<f32>(invstd + o, <f32>(1.0 / Math.sqrt(v + <f64>eps)));
    if (running) {
      store<f32>(runMean + o, momentum * load<f32>(runMean + o) + (1 - momentum) * <f32>mu);
      store<f32>(runVar + o, momentum * load<f32>(runVar + o) + (1 - momentum) * <f32>(v * unbias));
    }
  }
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const off = <usize>i * rowBytes;
    const xr = x + off, hr = xhat + off, or = out + off;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        const h = f32x4.mul(f32x4.sub(v128.load(xr + o), v128.load(mean + o)), v128.load(invstd + o));
        v128.store(hr + o, h);
        v128.store(or + o, f32x4.add(f32x4.mul(v128.load(gamma + o), h), v128.load(beta + o)));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      const h = (load<f32>(xr + o) - load<f32>(mean + o)) * load<f32>(invstd + o);
      store<f32>(hr + o, h);
      store<f32>(or + o, load<f32>(gamma + o) * h + load<f32>(beta + o));
    }
  }
}

// Inference forward: out (M×N) = gamma·(x − runMean)/√(runVar + eps) + beta, written. out may
// alias x.
export function f32_batchnorm_fwd_infer(out: usize, x: usize, gamma: usize, beta: usize,
                                        runMean: usize, runVar: usize, M: i32, N: i32, eps: f32): void {
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const off = <usize>i * rowBytes;
    const xr = x + off, or = out + off;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const ve = f32x4.splat(eps);
      const one = f32x4.splat(1);
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        const is = f32x4.div(one, f32x4.sqrt(f32x4.add(v128.load(runVar + o), ve)));
        const h = f32x4.mul(f32x4.sub(v128.load(xr + o), v128.load(runMean + o)), is);
        v128.store(or + o, f32x4.add(f32x4.mul(v128.load(gamma + o), h), v128.load(beta + o)));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      const is = <f32>1 / Mathf.sqrt(load<f32>(runVar + o) + eps);
      const h = (load<f32>(xr + o) - load<f32>(runMean + o)) * is;
      store<f32>(or + o, load<f32>(gamma + o) * h + load<f32>(beta + o));
    }
  }
}

// Backward, in the same two halves. f64_batchnorm_bwd_sums: part (2N f64) written with this
// slice's Σ_i dy and Σ_i dy·xhat; the slice's share ADDED: dbeta[j] += Σ_i dy, dgamma[j] += Σ_i
// dy·xhat (threads add into their own gradient buffers, reduced later).
export function f64_batchnorm_bwd_sums(part: usize, dgamma: usize, dbeta: usize, dy: usize, xhat: usize,
                                       M: i32, N: i32): void {
  const n2 = <usize>N << 3;
  memory.fill(part, 0, n2 << 1);
  for (let i = 0; i < M; i++) {
    const off = <usize>i * <usize>N << 2;
    for (let j = 0; j < N; j++) {
      const g = <f64>load<f32>(dy + off + (<usize>j << 2));
      const o = part + (<usize>j << 3);
      store<f64>(o, load<f64>(o) + g);
      store<f64>(o + n2, load<f64>(o + n2) + g * <f64>load<f32>(xhat + off + (<usize>j << 2)));
    }
  }
  for (let j = 0; j < N; j++) {
    const o = <usize>j << 2, p = part + (<usize>j << 3);
    store<f32>(dbeta + o, load<f32>(dbeta + o) + <f32>load<f64>(p));
    store<f32>(dgamma + o, load<f32>(dgamma + o) + <f32>load<f64>(p + n2));
  }
}

// dx (M×N) of one slice, written, from the T slices' sums (parts as f64_batchnorm_bwd_sums writes
// them; total = rows over all slices): dx = (invstd·gamma/total)·(total·dy − Σdy − xhat·Σdy·xhat).
// dx may alias dy. scratch (2N f32) receives the summed Σdy, Σdy·xhat.
// NOTE: the batch mean and variance depend on every row of every slice, hence the two sums.
export function f32_batchnorm_bwd(dx: usize, dy: usize, xhat: usize, invstd: usize, gamma: usize, M: i32, N: i32,
                                  parts: usize, T: i32, total: i32, scratch: usize): void {
  if (N <= 0 || total <= 0) return;
  const rowBytes = <usize>N << 2;
  const fT: f32 = <f32>total;
  const invT: f32 = <f32>1 / fT;
  for (let j = 0; j < N; j++) {
    sum_parts(parts, T, N, j);
    store<f32>(scratch + (<usize>j << 2), <f32>part0);
    store<f32>(scratch + rowBytes + (<usize>j << 2), <f32>part1);
  }
  const sdyp = scratch, sdhp = scratch + rowBytes;
  for (let i = 0; i < M; i++) {
    const off = <usize>i * rowBytes;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const vT = f32x4.splat(fT), vinv = f32x4.splat(invT);
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        const c = f32x4.mul(f32x4.mul(v128.load(invstd + o), v128.load(gamma + o)), vinv);
        const t = f32x4.sub(f32x4.sub(f32x4.mul(vT, v128.load(dy + off + o)), v128.load(sdyp + o)),
          f32x4.mul(v128.load(xhat + off + o), v128.load(sdhp + o)));
        v128.store(dx + off + o, f32x4.mul(c, t));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      const c = load<f32>(invstd + o) * load<f32>(gamma + o) * invT;
      store<f32>(dx + off + o, c * (fT * load<f32>(dy + off + o) - load<f32>(sdyp + o) - load<f32>(xhat + off + o) * load<f32>(sdhp + o)));
    }
  }
}

// ---- layer norm ----------------------------------------------------------------------------

// Forward, statistics per row. Written: invstd (M) = 1/√(var + eps) (biased variance over the N
// features), xhat (M×N) = (x − mean)·invstd, out (M×N) = gamma·xhat + beta (gamma, beta per
// column). out may alias x.
export function f32_layernorm_fwd(out: usize, xhat: usize, invstd: usize, x: usize, gamma: usize,
                                  beta: usize, M: i32, N: i32, eps: f32): void {
  if (N <= 0) return;
  const rowBytes = <usize>N << 2;
  const invN: f32 = <f32>1 / <f32>N;
  for (let i = 0; i < M; i++) {
    const off = <usize>i * rowBytes;
    const xr = x + off, hr = xhat + off, or = out + off;
    const mu = row_sum(xr, N) * invN;
    const ss = row_sumsq_dev(xr, N, mu);
    const is: f32 = <f32>1 / Mathf.sqrt(ss * invN + eps);
    store<f32>(invstd + (<usize>i << 2), is);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const vmu = f32x4.splat(mu);
      const vis = f32x4.splat(is);
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        const h = f32x4.mul(f32x4.sub(v128.load(xr + o), vmu), vis);
        v128.store(hr + o, h);
        v128.store(or + o, f32x4.add(f32x4.mul(v128.load(gamma + o), h), v128.load(beta + o)));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      const h = (load<f32>(xr + o) - mu) * is;
      store<f32>(hr + o, h);
      store<f32>(or + o, load<f32>(gamma + o) * h + load<f32>(beta + o));
    }
  }
}

// Backward. Added: dgamma[j] += Σ_i dy·xhat, dbeta[j] += Σ_i dy. Written, per row with
// g = gamma·dy: dx = (invstd/N)·(N·g − Σ_j g − xhat·Σ_j g·xhat). dx may alias dy.
export function f32_layernorm_bwd(dx: usize, dgamma: usize, dbeta: usize, dy: usize, xhat: usize,
                                  invstd: usize, gamma: usize, M: i32, N: i32): void {
  if (N <= 0) return;
  const rowBytes = <usize>N << 2;
  const fN: f32 = <f32>N;
  for (let i = 0; i < M; i++) {
    const off = <usize>i * rowBytes;
    const gr = dy + off, hr = xhat + off, dr = dx + off;
    let j = 0;
    let sg: f32 = 0, sgh: f32 = 0;
    if (ASC_FEATURE_SIMD) {
      let vsg = f32x4.splat(0), vsgh = f32x4.splat(0);
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        const d = v128.load(gr + o), h = v128.load(hr + o);
        const g = f32x4.mul(v128.load(gamma + o), d);
        vsg = f32x4.add(vsg, g);
        vsgh = f32x4.add(vsgh, f32x4.mul(g, h));
        v128.store(dgamma + o, f32x4.add(v128.load(dgamma + o), f32x4.mul(d, h)));
        v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o), d));
      }
      sg = hsum(vsg);
      sgh = hsum(vsgh);
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      const d = load<f32>(gr + o), h = load<f32>(hr + o);
      const g = load<f32>(gamma + o) * d;
      sg += g;
      sgh += g * h;
      store<f32>(dgamma + o, load<f32>(dgamma + o) + d * h);
      store<f32>(dbeta + o, load<f32>(dbeta + o) + d);
    }
    const c: f32 = load<f32>(invstd + (<usize>i << 2)) / fN;
    j = 0;
    if (ASC_FEATURE_SIMD) {
      const vN = f32x4.splat(fN), vsg = f32x4.splat(sg), vsgh = f32x4.splat(sgh), vc = f32x4.splat(c);
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        const g = f32x4.mul(v128.load(gamma + o), v128.load(gr + o));
        const t = f32x4.sub(f32x4.sub(f32x4.mul(vN, g), vsg), f32x4.mul(v128.load(hr + o), vsgh));
        v128.store(dr + o, f32x4.mul(vc, t));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      const g = load<f32>(gamma + o) * load<f32>(gr + o);
      store<f32>(dr + o, c * (fN * g - sg - load<f32>(hr + o) * sgh));
    }
  }
}

// ---- activity regularizer -----------------------------------------------------------------

// Activity regularizer gradient: dy += scale·(l1·sign(y) + 2·l2·y), sign(0) = 0. dy may alias y
// only if the caller wants y replaced (it is read before dy is written).
// NOTE: the subgradient of |y| at 0 is taken as 0 (as TF/PyTorch).
export function f32_activity_grad(dy: usize, y: usize, n: i32, l1: f32, l2: f32, scale: f32): void {
  const a: f32 = scale * l1;
  const b: f32 = scale * 2 * l2;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const va = f32x4.splat(a), vb = f32x4.splat(b);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const v = v128.load(y + o);
      const g = f32x4.add(f32x4.mul(va, vsign(v)), f32x4.mul(vb, v));
      v128.store(dy + o, f32x4.add(v128.load(dy + o), g));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(y + o);
    const sgn: f32 = v > 0 ? 1 : v < 0 ? -1 : 0;
    store<f32>(dy + o, load<f32>(dy + o) + (a * sgn + b * v));
  }
}

// ---- per-column affine (preprocessing layers: normalization, rescaling) ---------------------

// out (M×N) = (x − shift[j])·scale[j] + offset[j], written; shift = 0 or offset = 0 means none.
// out may alias x. Normalization runs it with shift = mean, scale = 1/max(√var, eps), no offset;
// rescaling with no shift, scale and offset constant per column.
// NOTE: (x − mean)·s, not x·s − mean·s: a constant column (x = mean) gives exactly 0, and a large
// mean does not cancel catastrophically.
export function f32_col_affine_fwd(out: usize, x: usize, shift: usize, scale: usize, offset: usize, M: i32, N: i32): void {
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const off = <usize>i * rowBytes;
    const xr = x + off, or = out + off;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const zero = f32x4.splat(0);
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        const vc = shift ? v128.load(shift + o) : zero;
        const y = f32x4.mul(f32x4.sub(v128.load(xr + o), vc), v128.load(scale + o));
        v128.store(or + o, offset ? f32x4.add(y, v128.load(offset + o)) : y);
      }
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      const c: f32 = shift ? load<f32>(shift + o) : 0;
      const y = (load<f32>(xr + o) - c) * load<f32>(scale + o);
      store<f32>(or + o, offset ? y + load<f32>(offset + o) : y);
    }
  }
}

// dx (M×N) = dy·scale[j], written. dx may alias dy. (The affine map's parameters are not trained.)
export function f32_col_affine_bwd(dx: usize, dy: usize, scale: usize, M: i32, N: i32): void {
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const off = <usize>i * rowBytes;
    const dr = dy + off, xr = dx + off;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        v128.store(xr + o, f32x4.mul(v128.load(dr + o), v128.load(scale + o)));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      store<f32>(xr + o, load<f32>(dr + o) * load<f32>(scale + o));
    }
  }
}

// out[j] = 1/max(√var[j], eps) for j < n (Keras Normalization's divisor): the scale that
// f32_col_affine_fwd applies. out may alias var.
// NOTE: max, not √(var + eps): a zero-variance (constant) column is divided by eps and, being
// exactly its mean, maps to exactly 0.
export function f32_inv_std(out: usize, v: usize, n: i32, eps: f32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const ve = f32x4.splat(eps), one = f32x4.splat(1);
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.div(one, f32x4.max(f32x4.sqrt(v128.load(v + o)), ve)));
    }
  }
  for (; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(out + o, <f32>1 / max(Mathf.sqrt(load<f32>(v + o)), eps));
  }
}
