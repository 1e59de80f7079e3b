// Normalisation layers, forward and backward side by side: batch norm (statistics per column,
// over the batch) and layer norm (per row, over the features), plus the activity-regularizer
// gradient that the facade applies to a layer's output.
//
// Layout: x is M×N row-major, rows are samples, features along N. Parameter gradients
// (dgamma, dbeta) and dy of f32_activity_grad are ADDED into (+=, DESIGN §1); input gradients dx
// are WRITTEN. Reductions run in f32 (two passes for the variance); SIMD builds sum in a different
// order than the scalar build, so results agree to rounding, not bit for bit.
import { f32_colsum_add, row_sum, row_sumsq_dev } from './reduce';
import { hsum, vsign } from './simd';

// ---- batch norm ----------------------------------------------------------------------------

// Training forward. Written: mean (N), invstd (N) = 1/√(var + eps) with the biased batch variance,
// xhat (M×N) = (x − mean)·invstd, out (M×N) = gamma·xhat + beta. Updated in place:
// runMean = momentum·runMean + (1 − momentum)·mean, runVar likewise with the UNBIASED variance
// var·M/(M − 1). out may alias x.
// NOTE: for M = 1 the unbiased variance is undefined; the biased one (0) is used, so nothing is NaN
// and invstd = 1/√eps (xhat = 0, out = beta).
export function f32_batchnorm_fwd_train(out: usize, xhat: usize, mean: usize, invstd: usize, x: usize,
                                        gamma: usize, beta: usize, runMean: usize, runVar: usize,
                                        M: i32, N: i32, momentum: f32, eps: f32): void {
  if (M <= 0 || N <= 0) return;
  const rowBytes = <usize>N << 2;
  // Pass 1: column sums into mean.
  memory.fill(mean, 0, rowBytes);
  f32_colsum_add(mean, x, M, N);
  const invM: f32 = <f32>1 / <f32>M;
  for (let j = 0; j < N; j++) {
    const o = <usize>j << 2;
    store<f32>(mean + o, load<f32>(mean + o) * invM);
  }
  // Pass 2: Σ (x − mean)² into invstd.
  memory.fill(invstd, 0, rowBytes);
  for (let i = 0; i < M; i++) {
    const xr = x + <usize>i * rowBytes;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j << 2;
        const d = f32x4.sub(v128.load(xr + o), v128.load(mean + o));
        v128.store(invstd + o, f32x4.add(v128.load(invstd + o), f32x4.mul(d, d)));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j << 2;
      const d = load<f32>(xr + o) - load<f32>(mean + o);
      store<f32>(invstd + o, load<f32>(invstd + o) + d * d);
    }
  }
  // Per column: running statistics, then invstd.
  const unbias: f32 = M > 1 ? <f32>M / <f32>(M - 1) : 1;
  const keep = momentum;
  const take: f32 = 1 - momentum;
  for (let j = 0; j < N; j++) {
    const o = <usize>j << 2;
    const ss = load<f32>(invstd + o);
    const v = ss * invM;
    store<f32>(runMean + o, keep * load<f32>(runMean + o) + take * load<f32>(mean + o));
    store<f32>(runVar + o, keep * load<f32>(runVar + o) + take * (v * unbias));
    store<f32>(invstd + o, <f32>1 / Mathf.sqrt(v + eps));
  }
  // Pass 3: xhat and out.
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

// Backward of the training forward. Added: dgamma[j] += Σ_i dy·xhat, dbeta[j] += Σ_i dy.
// Written: dx = (invstd·gamma/M)·(M·dy − Σ_i dy − xhat·Σ_i dy·xhat). dx may alias dy.
// NOTE: the batch mean and variance depend on every row, hence the two column sums. Columns are
// processed in blocks of 8 (4 in the tail) whose sums stay in registers: one pass over the rows
// for the sums, a second (over the same, now cached, lines) for dx; no scratch memory.
export function f32_batchnorm_bwd(dx: usize, dgamma: usize, dbeta: usize, dy: usize, xhat: usize,
                                  invstd: usize, gamma: usize, M: i32, N: i32): void {
  if (M <= 0 || N <= 0) return;
  const rowBytes = <usize>N << 2;
  const fM: f32 = <f32>M;
  const invM: f32 = <f32>1 / fM;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const vM = f32x4.splat(fM);
    const vinvM = f32x4.splat(invM);
    for (; j + 8 <= N; j += 8) {
      const o = <usize>j << 2;
      let sdy0 = f32x4.splat(0), sdy1 = f32x4.splat(0);
      let sdh0 = f32x4.splat(0), sdh1 = f32x4.splat(0);
      let p = o;
      for (let i = 0; i < M; i++) {
        const g0 = v128.load(dy + p), g1 = v128.load(dy + p, 16);
        sdy0 = f32x4.add(sdy0, g0);
        sdy1 = f32x4.add(sdy1, g1);
        sdh0 = f32x4.add(sdh0, f32x4.mul(g0, v128.load(xhat + p)));
        sdh1 = f32x4.add(sdh1, f32x4.mul(g1, v128.load(xhat + p, 16)));
        p += rowBytes;
      }
      v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o), sdy0));
      v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o, 16), sdy1), 16);
      v128.store(dgamma + o, f32x4.add(v128.load(dgamma + o), sdh0));
      v128.store(dgamma + o, f32x4.add(v128.load(dgamma + o, 16), sdh1), 16);
      const c0 = f32x4.mul(f32x4.mul(v128.load(invstd + o), v128.load(gamma + o)), vinvM);
      const c1 = f32x4.mul(f32x4.mul(v128.load(invstd + o, 16), v128.load(gamma + o, 16)), vinvM);
      p = o;
      for (let i = 0; i < M; i++) {
        const t0 = f32x4.sub(f32x4.sub(f32x4.mul(vM, v128.load(dy + p)), sdy0), f32x4.mul(v128.load(xhat + p), sdh0));
        const t1 = f32x4.sub(f32x4.sub(f32x4.mul(vM, v128.load(dy + p, 16)), sdy1), f32x4.mul(v128.load(xhat + p, 16), sdh1));
        v128.store(dx + p, f32x4.mul(c0, t0));
        v128.store(dx + p, f32x4.mul(c1, t1), 16);
        p += rowBytes;
      }
    }
    for (; j + 4 <= N; j += 4) {
      const o = <usize>j << 2;
      let sdy = f32x4.splat(0), sdh = f32x4.splat(0);
      let p = o;
      for (let i = 0; i < M; i++) {
        const g = v128.load(dy + p);
        sdy = f32x4.add(sdy, g);
        sdh = f32x4.add(sdh, f32x4.mul(g, v128.load(xhat + p)));
        p += rowBytes;
      }
      v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o), sdy));
      v128.store(dgamma + o, f32x4.add(v128.load(dgamma + o), sdh));
      const c = f32x4.mul(f32x4.mul(v128.load(invstd + o), v128.load(gamma + o)), vinvM);
      p = o;
      for (let i = 0; i < M; i++) {
        const t = f32x4.sub(f32x4.sub(f32x4.mul(vM, v128.load(dy + p)), sdy), f32x4.mul(v128.load(xhat + p), sdh));
        v128.store(dx + p, f32x4.mul(c, t));
        p += rowBytes;
      }
    }
  }
  for (; j < N; j++) {
    const o = <usize>j << 2;
    let sdy: f32 = 0, sdh: f32 = 0;
    let p = o;
    for (let i = 0; i < M; i++) {
      const g = load<f32>(dy + p);
      sdy += g;
      sdh += g * load<f32>(xhat + p);
      p += rowBytes;
    }
    store<f32>(dbeta + o, load<f32>(dbeta + o) + sdy);
    store<f32>(dgamma + o, load<f32>(dgamma + o) + sdh);
    const c = load<f32>(invstd + o) * load<f32>(gamma + o) * invM;
    p = o;
    for (let i = 0; i < M; i++) {
      store<f32>(dx + p, c * (fM * load<f32>(dy + p) - sdy - load<f32>(xhat + p) * sdh));
      p += rowBytes;
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
