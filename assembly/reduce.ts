// Reductions: row helpers the other families share (sum, dot, max, argmax, centred sum of
// squares over one row of n floats) and the exported reductions over a whole buffer (column sums
// for bias gradients, Σp², L1/L2 penalty, count of non-finite values).
//
// Row helpers sum in f32 with four lanes, so SIMD builds add in a different order than the scalar
// build: results agree to rounding, not bit for bit. Σp² and the penalty sum in f64 (each f32
// square is exact there). Column sums are ADDED into their output (+=, DESIGN §1).
import { OP_ADD, hmax, hsum, map2 } from './simd';

// ---- row helpers ---------------------------------------------------------------------------

// Σ p[j] over j < n.
@inline export function row_sum(p: usize, n: i32): f32 {
  let j = 0;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let v = f32x4.splat(0);
    for (; j + 4 <= n; j += 4) v = f32x4.add(v, v128.load(p + (<usize>j << 2)));
    s = hsum(v);
  }
  for (; j < n; j++) s += load<f32>(p + (<usize>j << 2));
  return s;
}

// Σ (p[j] − mu)² over j < n.
@inline export function row_sumsq_dev(p: usize, n: i32, mu: f32): f32 {
  let j = 0;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    const vmu = f32x4.splat(mu);
    let v = f32x4.splat(0);
    for (; j + 4 <= n; j += 4) {
      const d = f32x4.sub(v128.load(p + (<usize>j << 2)), vmu);
      v = f32x4.add(v, f32x4.mul(d, d));
    }
    s = hsum(v);
  }
  for (; j < n; j++) {
    const d = load<f32>(p + (<usize>j << 2)) - mu;
    s += d * d;
  }
  return s;
}

// Σ a[j]·b[j] over j < n.
@inline export function row_dot(a: usize, b: usize, n: i32): f32 {
  let j = 0;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let v = f32x4.splat(0);
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v = f32x4.add(v, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    }
    s = hsum(v);
  }
  for (; j < n; j++) s += load<f32>(a + (<usize>j << 2)) * load<f32>(b + (<usize>j << 2));
  return s;
}

// max p[j] over j < n (−∞ for n ≤ 0; NaN propagates).
@inline export function row_max(p: usize, n: i32): f32 {
  let m: f32 = -Infinity;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    if (n >= 4) {
      let v = v128.load(p);
      for (j = 4; j + 4 <= n; j += 4) v = f32x4.max(v, v128.load(p + (<usize>j << 2)));
      m = hmax(v);
    }
  }
  for (; j < n; j++) m = Mathf.max(m, load<f32>(p + (<usize>j << 2)));
  return m;
}

// Index of the first maximum of p[0..n) (0 for n ≤ 0).
// NOTE: NaN never compares greater, so a NaN wins only in column 0.
@inline export function row_argmax(p: usize, n: i32): i32 {
  if (n <= 0) return 0;
  let m = load<f32>(p);
  let arg = 0;
  for (let j = 1; j < n; j++) {
    const v = load<f32>(p + (<usize>j << 2));
    if (v > m) {
      m = v;
      arg = j;
    }
  }
  return arg;
}

// ---- buffer reductions ---------------------------------------------------------------------

// out[j] += Σ_i x[i, j] over the M rows of x (M×N): the bias gradient.
export function f32_colsum_add(out: usize, x: usize, M: i32, N: i32): void {
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) map2(OP_ADD, out, out, x + <usize>i * rowBytes, N);
}

// Lanes 2 and 3 of x, widened to f64.
@inline function promote_high(x: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 2, 3));
}

// Σ p[i]² over n floats, in f64. For global-norm clipping: gscale = min(1, maxNorm/√sumsq).
export function f32_sumsq(p: usize, n: i32): f64 {
  let i = 0;
  let s: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const x = v128.load(p + (<usize>i << 2));
      const lo = f64x2.promote_low_f32x4(x), hi = promote_high(x);
      acc0 = f64x2.add(acc0, f64x2.mul(lo, lo));
      acc1 = f64x2.add(acc1, f64x2.mul(hi, hi));
    }
    const a = f64x2.add(acc0, acc1);
    s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  }
  for (; i < n; i++) {
    const x = <f64>load<f32>(p + (<usize>i << 2));
    s += x * x;
  }
  return s;
}

// l1·Σ|p| + l2·Σp² over p[0..n), in f64.
export function f32_l1l2_penalty(p: usize, n: i32, l1: f32, l2: f32): f64 {
  let i = 0;
  let sa: f64 = 0, sq: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let va = f64x2.splat(0), vq = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const x = f32x4.abs(v128.load(p + (<usize>i << 2)));
      const lo = f64x2.promote_low_f32x4(x), hi = promote_high(x);
      va = f64x2.add(va, f64x2.add(lo, hi));
      vq = f64x2.add(vq, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
    }
    sa = f64x2.extract_lane(va, 0) + f64x2.extract_lane(va, 1);
    sq = f64x2.extract_lane(vq, 0) + f64x2.extract_lane(vq, 1);
  }
  for (; i < n; i++) {
    const x = <f64>load<f32>(p + (<usize>i << 2));
    sa += Math.abs(x);
    sq += x * x;
  }
  return <f64>l1 * sa + <f64>l2 * sq;
}

// Number of NaN or ±∞ among p[0..n).
export function f32_count_nonfinite(p: usize, n: i32): i32 {
  let i = 0;
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    // NOTE: x − x is 0 for finite x and NaN for NaN and ±∞; NaN ≠ 0 gives a lane of −1.
    const zero = f32x4.splat(0);
    let acc = i32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const x = v128.load(p + (<usize>i << 2));
      acc = i32x4.sub(acc, f32x4.ne(f32x4.sub(x, x), zero));
    }
    c = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  }
  for (; i < n; i++) {
    if (!isFinite<f32>(load<f32>(p + (<usize>i << 2)))) c++;
  }
  return c;
}
