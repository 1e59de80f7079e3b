// Element-wise activations, softmax / log-softmax and PReLU, forward and backward side by side,
// with the vector exp/expm1/sigmoid they are built on; exp_shifted_row is also the softmax of the
// fused softmax cross-entropy (loss.ts). Row-major, sizes in elements. Forward kernels WRITE their
// output. Backward kernels WRITE the input gradient (dz = …, so it may alias dy); only parameter
// gradients (dbias, dalpha) are ADDED (+=), so fan-in and micro-batch accumulation stay free
// (DESIGN §1).
import { row_dot, row_max, row_sum } from './reduce';
import { OP_ADD, OP_MUL, hsum_f64, madd, map2, map_c } from './simd';

// Codes (mirrored by ACT in src/kernels.ts). `alpha` is the slope of leakyRelu for z < 0 and the α
// of elu; the other codes ignore it.
export const ACT_IDENTITY: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_SIGMOID: i32 = 2;
export const ACT_TANH: i32 = 3;
export const ACT_LEAKY_RELU: i32 = 4;
export const ACT_ELU: i32 = 5;
export const ACT_SELU: i32 = 6;
export const ACT_SOFTPLUS: i32 = 7;
export const ACT_GELU: i32 = 8;
export const ACT_GELU_ERF: i32 = 9;

const SELU_LAMBDA: f32 = 1.0507009873554805;
const SELU_ALPHA: f32 = 1.6732632423543772;
const GELU_C: f32 = 0.7978845608028654; // √(2/π)
const GELU_K: f32 = 0.044715;
const SQRT1_2: f64 = 0.7071067811865476; // 1/√2
const INV_SQRT_2PI: f64 = 0.3989422804014327; // 1/√(2π)

// ---- scalar maths (the scalar build's path and every SIMD loop's tail) ----------------------

// NOTE: the sigmoid tail: with e = exp(−|z|) ∈ (0, 1] nothing overflows; σ(z) = 1/(1+e) for
// z ≥ 0 and e/(1+e) for z < 0 (no 1 − tiny cancellation on the negative side).
@inline export function sigmoidf(z: f32): f32 {
  const e = Mathf.exp(-Mathf.abs(z));
  const r: f32 = 1 / (1 + e);
  return z >= 0 ? r : e * r;
}

// erfc(x), fractional error < 1.2e-7 everywhere (Numerical Recipes `erfcc`, a Chebyshev fit).
// NOTE: GELU uses 1 + erf(x) = erfc(−x): no cancellation in the negative tail, where
// A&S 7.1.26 (abs. error 1.5e-7) would lose all relative precision.
@inline function erfc64(x: f64): f64 {
  const z = Math.abs(x);
  const t = 1.0 / (1.0 + 0.5 * z);
  const ans = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? ans : 2.0 - ans;
}

// ---- vector maths (simd builds) -------------------------------------------------------------

// exp and expm1 for lanes x ≤ 0, in three steps shared by both: x = n·ln2 + r with |r| ≲ ln2/2
// (Cody–Waite split of ln2: n·LN2_HI is exact for |n| ≤ 127), q = e^r − 1 by a degree-7 Taylor
// polynomial (relative error < 2e-8), 2^n built in the exponent bits.
// NOTE: the shifter 1.5·2^23 + 127 rounds x·log2e to an integer n and leaves n + 127 in the low
// mantissa bits, so 2^n is one shift (no nearest/trunc_sat). Lanes below −87 are reduced at −87
// (2^n stays a normal f32); vexp flushes them to 0.
const EXP_SHIFTER: f32 = 12583039.0; // 0x4B40007F
@inline function vexp_j(vx: v128): v128 {
  return madd(vx, f32x4.splat(1.4426950408889634), f32x4.splat(EXP_SHIFTER));
}
@inline function vexp_q(vx: v128, vn: v128): v128 {
  let vr = madd(vn, f32x4.splat(-0.693359375), vx);
  vr = madd(vn, f32x4.splat(2.12194440e-4), vr);
  let vp = f32x4.splat(1.0 / 5040.0);
  vp = madd(vp, vr, f32x4.splat(1.0 / 720.0));
  vp = madd(vp, vr, f32x4.splat(1.0 / 120.0));
  vp = madd(vp, vr, f32x4.splat(1.0 / 24.0));
  vp = madd(vp, vr, f32x4.splat(1.0 / 6.0));
  vp = madd(vp, vr, f32x4.splat(0.5));
  vp = madd(vp, vr, f32x4.splat(1.0));
  return f32x4.mul(vp, vr);
}

// exp(x) for lanes x ≤ 0 (0 below −87, where the true value is < 1.7e-38); NaN stays NaN.
@inline function vexp(x: v128): v128 {
  const vx = f32x4.max(x, f32x4.splat(-87.0));
  const vj = vexp_j(vx);
  const vn = f32x4.sub(vj, f32x4.splat(EXP_SHIFTER));
  const vs = i32x4.shl(vj, 23);
  return v128.andnot(madd(vs, vexp_q(vx, vn), vs), f32x4.lt(x, f32x4.splat(-87.0)));
}

// expm1(x) = (2^n − 1) + 2^n·q for lanes x ≤ 0: exact near 0 (n = 0), −1 in the far tail.
@inline function vexpm1(x: v128): v128 {
  const vx = f32x4.max(x, f32x4.splat(-87.0));
  const vj = vexp_j(vx);
  const vn = f32x4.sub(vj, f32x4.splat(EXP_SHIFTER));
  const vs = i32x4.shl(vj, 23);
  return madd(vs, vexp_q(vx, vn), f32x4.sub(vs, f32x4.splat(1.0)));
}

// −|x|
@inline function vnegabs(x: v128): v128 {
  return v128.or(x, f32x4.splat(-0.0));
}

// σ(x) with e = exp(−|x|): 1/(1+e) where x ≥ 0, e/(1+e) elsewhere.
@inline function vsigmoid(x: v128): v128 {
  const ve = vexp(vnegabs(x));
  const vr = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), ve));
  return v128.bitselect(vr, f32x4.mul(ve, vr), f32x4.ge(x, f32x4.splat(0)));
}

// act(z) for four lanes: relu, leakyRelu, sigmoid, tanh, elu, selu, gelu (softplus and geluErf
// stay scalar: log1p and erfc).
@inline function act_vec(vz: v128, act: i32, alpha: f32): v128 {
  const vzero = f32x4.splat(0);
  if (act == ACT_RELU) return f32x4.max(vz, vzero);
  if (act == ACT_LEAKY_RELU) return v128.bitselect(vz, f32x4.mul(vz, f32x4.splat(alpha)), f32x4.gt(vz, vzero));
  if (act == ACT_SIGMOID) return vsigmoid(vz);
  if (act == ACT_TANH) {
    // tanh|z| = −m/(2 + m), m = expm1(−2|z|) ∈ [−1, 0]: no cancellation near 0; sign of z.
    const vm = vexpm1(f32x4.mul(vnegabs(vz), f32x4.splat(2)));
    const vt = f32x4.div(f32x4.neg(vm), f32x4.add(f32x4.splat(2), vm));
    return v128.or(vt, v128.and(vz, f32x4.splat(-0.0)));
  }
  if (act == ACT_ELU || act == ACT_SELU) {
    const va = f32x4.splat(act == ACT_ELU ? alpha : SELU_ALPHA);
    const vy = v128.bitselect(vz, f32x4.mul(va, vexpm1(f32x4.min(vz, vzero))), f32x4.gt(vz, vzero));
    return act == ACT_ELU ? vy : f32x4.mul(vy, f32x4.splat(SELU_LAMBDA));
  }
  // ACT_GELU: z·σ(2u)
  const vz2 = f32x4.mul(vz, vz);
  const vu = f32x4.mul(f32x4.splat(2 * GELU_C), madd(f32x4.mul(vz2, vz), f32x4.splat(GELU_K), vz));
  return f32x4.mul(vz, vsigmoid(vu));
}

// act'(z) for four lanes (same codes as act_vec).
@inline function dact_vec(vz: v128, act: i32, alpha: f32): v128 {
  const vzero = f32x4.splat(0);
  const vone = f32x4.splat(1);
  const vpos = f32x4.gt(vz, vzero);
  if (act == ACT_RELU) return v128.and(vone, vpos);
  if (act == ACT_LEAKY_RELU) return v128.bitselect(vone, f32x4.splat(alpha), vpos);
  if (act == ACT_SIGMOID || act == ACT_TANH) {
    // σ' = e/(1+e)², e = exp(−|z|); tanh' = 4e/(1+e)², e = exp(−2|z|)
    const vneg = act == ACT_SIGMOID ? vnegabs(vz) : f32x4.mul(vnegabs(vz), f32x4.splat(2));
    const ve = vexp(vneg);
    const vr = f32x4.div(vone, f32x4.add(vone, ve));
    const vd = f32x4.mul(ve, f32x4.mul(vr, vr));
    return act == ACT_SIGMOID ? vd : f32x4.mul(vd, f32x4.splat(4));
  }
  if (act == ACT_ELU) return v128.bitselect(vone, f32x4.mul(f32x4.splat(alpha), vexp(f32x4.min(vz, vzero))), vpos);
  if (act == ACT_SELU) {
    return v128.bitselect(f32x4.splat(SELU_LAMBDA),
      f32x4.mul(f32x4.splat(SELU_LAMBDA * SELU_ALPHA), vexp(f32x4.min(vz, vzero))), vpos);
  }
  // ACT_GELU: s + 2z·s(1−s)·u', s = σ(2u); the limit (1 or 0) beyond |z| = 10, as in dact_scalar.
  const vz2 = f32x4.mul(vz, vz);
  const vu = f32x4.mul(f32x4.splat(2 * GELU_C), madd(f32x4.mul(vz2, vz), f32x4.splat(GELU_K), vz));
  const vs = vsigmoid(vu);
  const vdu = f32x4.mul(f32x4.splat(2 * GELU_C), madd(vz2, f32x4.splat(3 * GELU_K), vone));
  const vd = madd(f32x4.mul(vz, f32x4.mul(vs, f32x4.sub(vone, vs))), vdu, vs);
  return v128.bitselect(v128.and(vone, vpos), vd, f32x4.gt(f32x4.abs(vz), f32x4.splat(10)));
}

// out[0..i) = act(z[0..i)) for the largest i ≤ n that is a multiple of 4; returns i.
@inline function act_fwd_vec(out: usize, z: usize, n: i32, act: i32, alpha: f32): i32 {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    v128.store(out + o, act_vec(v128.load(z + o), act, alpha));
  }
  return i;
}

// dz[0..i) = dy ⊙ act'(z) over whole vectors; returns i.
@inline function act_bwd_vec(dz: usize, dy: usize, z: usize, n: i32, act: i32, alpha: f32): i32 {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    v128.store(dz + o, f32x4.mul(v128.load(dy + o), dact_vec(v128.load(z + o), act, alpha)));
  }
  return i;
}

// act(z) for one element.
function act_scalar(z: f32, act: i32, alpha: f32): f32 {
  switch (act) {
    case ACT_RELU: return z > 0 ? z : 0;
    case ACT_SIGMOID: return sigmoidf(z);
    case ACT_TANH: return Mathf.tanh(z); // musl tanhf: ±1 beyond |z| > 9, never NaN
    case ACT_LEAKY_RELU: return z > 0 ? z : alpha * z;
    case ACT_ELU: return z > 0 ? z : alpha * Mathf.expm1(z);
    case ACT_SELU: return SELU_LAMBDA * (z > 0 ? z : SELU_ALPHA * Mathf.expm1(z));
    case ACT_SOFTPLUS: return (z > 0 ? z : 0) + Mathf.log1p(Mathf.exp(-Mathf.abs(z)));
    case ACT_GELU: {
      // NOTE: 0.5z(1 + tanh u) = z·σ(2u) = z / (1 + exp(−2u)): exp(−2u) = ∞ gives −0, not NaN.
      const u = GELU_C * (z + GELU_K * z * z * z);
      return z / (1 + Mathf.exp(-2 * u));
    }
    case ACT_GELU_ERF: return <f32>(0.5 * <f64>z * erfc64(-<f64>z * SQRT1_2));
    default: return z;
  }
}

// act'(z) for one element, from z alone.
// NOTE: relu'(0) = 0; leakyRelu'(0) = elu'(0) = alpha (the z ≤ 0 branch), selu'(0) = λα.
function dact_scalar(z: f32, act: i32, alpha: f32): f32 {
  switch (act) {
    case ACT_RELU: return z > 0 ? 1 : 0;
    case ACT_SIGMOID: {
      // σ' = e/(1+e)², e = exp(−|z|): symmetric and exact in both tails.
      const e = Mathf.exp(-Mathf.abs(z));
      const r: f32 = 1 / (1 + e);
      return e * r * r;
    }
    case ACT_TANH: {
      // tanh' = 1 − tanh² = 4e/(1+e)², e = exp(−2|z|): no 1 − tanh² cancellation in the tails.
      const e = Mathf.exp(-2 * Mathf.abs(z));
      const r: f32 = 1 / (1 + e);
      return 4 * e * r * r;
    }
    case ACT_LEAKY_RELU: return z > 0 ? 1 : alpha;
    case ACT_ELU: return z > 0 ? 1 : alpha * Mathf.exp(z);
    case ACT_SELU: return z > 0 ? SELU_LAMBDA : SELU_LAMBDA * SELU_ALPHA * Mathf.exp(z);
    case ACT_SOFTPLUS: return sigmoidf(z);
    case ACT_GELU: {
      // d/dz z·s with s = σ(2u): s + 2z·s(1−s)·u', u' = √(2/π)(1 + 3·0.044715 z²).
      // Beyond |z| = 10, s(1−s) < 1e-37: return the limit (avoids 0·∞ when z² overflows).
      if (Mathf.abs(z) > 10) return z > 0 ? 1 : 0;
      const u = GELU_C * (z + GELU_K * z * z * z);
      const s = sigmoidf(2 * u);
      const du = GELU_C * (1 + 3 * GELU_K * z * z);
      return s + 2 * z * s * (1 - s) * du;
    }
    case ACT_GELU_ERF: {
      // Φ(z) + z·φ(z)
      const x = <f64>z;
      return <f32>(0.5 * erfc64(-x * SQRT1_2) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x));
    }
    default: return 1;
  }
}

// ---- element-wise forward -------------------------------------------------------------------

// out[0..n) = act(z[0..n)); out may alias z.
export function f32_act_fwd(out: usize, z: usize, n: i32, act: i32, alpha: f32): void {
  let i = 0;
  if (act == ACT_IDENTITY) {
    if (out != z) memory.copy(out, z, <usize>n * 4);
    return;
  }
  if (ASC_FEATURE_SIMD) {
    // One loop per code, each inlined with a constant code (the dispatch folds away).
    if (act == ACT_RELU) i = act_fwd_vec(out, z, n, ACT_RELU, alpha);
    else if (act == ACT_LEAKY_RELU) i = act_fwd_vec(out, z, n, ACT_LEAKY_RELU, alpha);
    else if (act == ACT_SIGMOID) i = act_fwd_vec(out, z, n, ACT_SIGMOID, alpha);
    else if (act == ACT_TANH) i = act_fwd_vec(out, z, n, ACT_TANH, alpha);
    else if (act == ACT_ELU) i = act_fwd_vec(out, z, n, ACT_ELU, alpha);
    else if (act == ACT_SELU) i = act_fwd_vec(out, z, n, ACT_SELU, alpha);
    else if (act == ACT_GELU) i = act_fwd_vec(out, z, n, ACT_GELU, alpha);
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    store<f32>(out + o, act_scalar(load<f32>(z + o), act, alpha));
  }
}

// p[0..n) = act(p[0..n)) in place (the fused epilogue of f32_dense_fwd).
export function act_fwd_inplace(p: usize, n: i32, act: i32, alpha: f32): void {
  f32_act_fwd(p, p, n, act, alpha);
}

// ---- element-wise backward ------------------------------------------------------------------

// dz[0..n) = dy ⊙ act'(z) for one row; y = act(z) is used for sigmoid and tanh when y ≠ 0.
function act_bwd_row(dz: usize, dy: usize, z: usize, y: usize, n: i32, act: i32, alpha: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vzero = f32x4.splat(0);
    const vone = f32x4.splat(1);
    if (act == ACT_IDENTITY) {
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i * 4;
        v128.store(dz + o, v128.load(dy + o));
      }
    } else if (act == ACT_RELU) {
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i * 4;
        v128.store(dz + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(z + o), vzero)));
      }
    } else if (act == ACT_LEAKY_RELU) {
      const valpha = f32x4.splat(alpha);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i * 4;
        const vdy = v128.load(dy + o);
        v128.store(dz + o, v128.bitselect(vdy, f32x4.mul(vdy, valpha), f32x4.gt(v128.load(z + o), vzero)));
      }
    } else if (act == ACT_SIGMOID && y != 0) {
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i * 4;
        const vy = v128.load(y + o);
        v128.store(dz + o, f32x4.mul(v128.load(dy + o), f32x4.mul(vy, f32x4.sub(vone, vy))));
      }
    } else if (act == ACT_TANH && y != 0) {
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i * 4;
        const vy = v128.load(y + o);
        v128.store(dz + o, f32x4.mul(v128.load(dy + o), f32x4.sub(vone, f32x4.mul(vy, vy))));
      }
    } else if (act == ACT_SIGMOID) i = act_bwd_vec(dz, dy, z, n, ACT_SIGMOID, alpha);
    else if (act == ACT_TANH) i = act_bwd_vec(dz, dy, z, n, ACT_TANH, alpha);
    else if (act == ACT_ELU) i = act_bwd_vec(dz, dy, z, n, ACT_ELU, alpha);
    else if (act == ACT_SELU) i = act_bwd_vec(dz, dy, z, n, ACT_SELU, alpha);
    else if (act == ACT_GELU) i = act_bwd_vec(dz, dy, z, n, ACT_GELU, alpha);
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const g = load<f32>(dy + o);
    const zi = load<f32>(z + o);
    let d: f32;
    if (act == ACT_IDENTITY) d = g;
    else if (act == ACT_RELU) d = zi > 0 ? g : 0;
    else if (act == ACT_LEAKY_RELU) d = zi > 0 ? g : g * alpha;
    else if (act == ACT_SIGMOID && y != 0) {
      const yi = load<f32>(y + o);
      d = g * (yi * (1 - yi));
    } else if (act == ACT_TANH && y != 0) {
      const yi = load<f32>(y + o);
      d = g * (1 - yi * yi);
    } else d = g * dact_scalar(zi, act, alpha);
    store<f32>(dz + o, d);
  }
}

// dz (M×N) = dy ⊙ act'(z), written; y = act(z) (may be 0: then computed from z) is read for
// sigmoid and tanh. dz may alias dy. If dbias ≠ 0: dbias[j] += Σ_i dz[i,j] (row by row while the
// row is in L1: the fused "δ and db" step of a dense layer's backward).
export function f32_act_bwd(dz: usize, dy: usize, z: usize, y: usize, M: i32, N: i32,
                            act: i32, alpha: f32, dbias: usize): void {
  for (let r = 0; r < M; r++) {
    const off = <usize>r * <usize>N * 4;
    act_bwd_row(dz + off, dy + off, z + off, y != 0 ? y + off : 0, N, act, alpha);
    if (dbias != 0) map2(OP_ADD, dbias, dbias, dz + off, N);
  }
}

// ---- softmax / log-softmax ------------------------------------------------------------------

// Σ_j exp(z[j] − m) over one row (f32 lanes, f64 total); out[j] = exp(z[j] − m) when out ≠ 0.
// m ≥ every z[j] keeps the argument in vexp's range; out may alias z.
export function exp_shifted_row(out: usize, z: usize, n: i32, m: f32): f64 {
  let s: f64 = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const vm = f32x4.splat(m);
    let vs = f32x4.splat(0);
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j * 4;
      const ve = vexp(f32x4.sub(v128.load(z + o), vm));
      if (out != 0) v128.store(out + o, ve);
      vs = f32x4.add(vs, ve);
    }
    s = hsum_f64(vs);
  }
  for (; j < n; j++) {
    const o = <usize>j * 4;
    const e = Mathf.exp(load<f32>(z + o) - m);
    if (out != 0) store<f32>(out + o, e);
    s += e;
  }
  return s;
}

// out (M×N) = softmax of each row of z, max-subtracted (exact at ±300); out may alias z.
export function f32_softmax_fwd(out: usize, z: usize, M: i32, N: i32): void {
  for (let r = 0; r < M; r++) {
    const off = <usize>r * <usize>N * 4;
    const zr = z + off, orow = out + off;
    const m = row_max(zr, N);
    const s = exp_shifted_row(orow, zr, N, m);
    map_c(OP_MUL, orow, orow, <f32>(1.0 / s), N);
  }
}

// out (M×N) = log-softmax of each row: z − max − log Σ exp(z − max); out may alias z.
export function f32_log_softmax_fwd(out: usize, z: usize, M: i32, N: i32): void {
  for (let r = 0; r < M; r++) {
    const off = <usize>r * <usize>N * 4;
    const zr = z + off, orow = out + off;
    const m = row_max(zr, N);
    const s = exp_shifted_row(0, zr, N, m);
    const shift = <f32>(<f64>m + Math.log(s));
    map_c(OP_ADD, orow, zr, -shift, N); // z − shift
  }
}

// dz (M×N) = y ⊙ (dy − Σ_j dy_j·y_j) per row, written; y is the softmax output; dz may alias dy.
export function f32_softmax_bwd(dz: usize, dy: usize, y: usize, M: i32, N: i32): void {
  for (let r = 0; r < M; r++) {
    const off = <usize>r * <usize>N * 4;
    const dzr = dz + off, dyr = dy + off, yr = y + off;
    const c = row_dot(dyr, yr, N);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const vc = f32x4.splat(c);
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j * 4;
        v128.store(dzr + o, f32x4.mul(v128.load(yr + o), f32x4.sub(v128.load(dyr + o), vc)));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j * 4;
      store<f32>(dzr + o, load<f32>(yr + o) * (load<f32>(dyr + o) - c));
    }
  }
}

// dz (M×N) = dy − exp(y)·Σ_j dy_j per row, written; y is the log-softmax output; dz may alias dy.
export function f32_log_softmax_bwd(dz: usize, dy: usize, y: usize, M: i32, N: i32): void {
  for (let r = 0; r < M; r++) {
    const off = <usize>r * <usize>N * 4;
    const dzr = dz + off, dyr = dy + off, yr = y + off;
    const s = row_sum(dyr, N);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const vs = f32x4.splat(s);
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j * 4;
        // y ≤ 0 (log-probabilities): the range of vexp
        v128.store(dzr + o, f32x4.sub(v128.load(dyr + o), f32x4.mul(vexp(v128.load(yr + o)), vs)));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j * 4;
      store<f32>(dzr + o, load<f32>(dyr + o) - Mathf.exp(load<f32>(yr + o)) * s);
    }
  }
}

// ---- PReLU (one learned slope per column) ---------------------------------------------------

// out (M×N) = x > 0 ? x : alpha[j]·x; out may alias x.
export function f32_prelu_fwd(out: usize, x: usize, alpha: usize, M: i32, N: i32): void {
  for (let r = 0; r < M; r++) {
    const off = <usize>r * <usize>N * 4;
    const xr = x + off, orow = out + off;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const vzero = f32x4.splat(0);
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j * 4;
        const vx = v128.load(xr + o);
        v128.store(orow + o, v128.bitselect(vx, f32x4.mul(vx, v128.load(alpha + o)), f32x4.gt(vx, vzero)));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j * 4;
      const v = load<f32>(xr + o);
      store<f32>(orow + o, v > 0 ? v : load<f32>(alpha + o) * v);
    }
  }
}

// dx (M×N) = dy·(x > 0 ? 1 : alpha[j]), written; dalpha[j] += Σ_i dy·x·[x < 0]. dx may alias dy.
// NOTE: the slope at x = 0 is alpha (the x ≤ 0 branch); x = 0 adds nothing to dalpha either way.
export function f32_prelu_bwd(dx: usize, dalpha: usize, dy: usize, x: usize, alpha: usize, M: i32, N: i32): void {
  for (let r = 0; r < M; r++) {
    const off = <usize>r * <usize>N * 4;
    const xr = x + off, dyr = dy + off, dxr = dx + off;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const vzero = f32x4.splat(0);
      for (; j + 4 <= N; j += 4) {
        const o = <usize>j * 4;
        const vx = v128.load(xr + o);
        const vdy = v128.load(dyr + o);
        const pos = f32x4.gt(vx, vzero);
        v128.store(dxr + o, v128.bitselect(vdy, f32x4.mul(vdy, v128.load(alpha + o)), pos));
        // x·dy where x ≤ 0, else 0 (x = 0 contributes 0).
        const vda = v128.andnot(f32x4.mul(vdy, vx), pos);
        v128.store(dalpha + o, f32x4.add(v128.load(dalpha + o), vda));
      }
    }
    for (; j < N; j++) {
      const o = <usize>j * 4;
      const v = load<f32>(xr + o);
      const g = load<f32>(dyr + o);
      if (v > 0) {
        store<f32>(dxr + o, g);
      } else {
        store<f32>(dxr + o, g * load<f32>(alpha + o));
        store<f32>(dalpha + o, load<f32>(dalpha + o) + g * v);
      }
    }
  }
}
