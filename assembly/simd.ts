// SIMD building blocks: the f32x4 register helpers every kernel family uses (multiply-add fused or
// not per build, horizontal sum and max, sign) and the element-wise array kernels built on them
// (a ∘ b, x ∘ c, fill), each a vector loop plus its scalar tail. Outputs are WRITTEN; out may
// alias an input. Nothing reads or writes past n elements.
//
// The three builds (DESIGN §6, the targets of asconfig.json) differ only in two compile-time
// flags: ASC_FEATURE_SIMD is false in the scalar build, which then runs only the scalar tails, and
// ASC_FEATURE_RELAXED_SIMD turns madd into one f32x4.relaxed_madd.

// ---- register helpers ----------------------------------------------------------------------

// a·b + c per lane.
// NOTE: the relaxed build fuses (one rounding), so its results differ from simd in the last bits.
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// (v0 + v1) + (v2 + v3), in f32.
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) +
         (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// (v0 + v1) + (v2 + v3), each lane widened to f64 first.
@inline export function hsum_f64(v: v128): f64 {
  return (<f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1)) +
         (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3));
}

// max(v0, v1, v2, v3) (NaN-propagating, as Mathf.max).
@inline export function hmax(v: v128): f32 {
  return Mathf.max(Mathf.max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
                   Mathf.max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// sign(x) per lane: 1, −1, or 0 for ±0 and NaN.
@inline export function vsign(x: v128): v128 {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  return f32x4.sub(v128.and(f32x4.gt(x, zero), one), v128.and(f32x4.lt(x, zero), one));
}

// ---- element-wise loops --------------------------------------------------------------------

// The operator of map2 / map_c; a constant at every call, so the choice folds away.
export const OP_ADD: i32 = 0;
export const OP_MUL: i32 = 1;

// out[i] = a[i] ∘ b[i] for i < n.
@inline export function map2(op: i32, out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const va = v128.load(a + o), vb = v128.load(b + o);
      v128.store(out + o, op == OP_ADD ? f32x4.add(va, vb) : f32x4.mul(va, vb));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const x = load<f32>(a + o), y = load<f32>(b + o);
    store<f32>(out + o, op == OP_ADD ? x + y : x * y);
  }
}

// out[i] = x[i] ∘ c for i < n.
@inline export function map_c(op: i32, out: usize, x: usize, c: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vc = f32x4.splat(c);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const vx = v128.load(x + o);
      v128.store(out + o, op == OP_ADD ? f32x4.add(vx, vc) : f32x4.mul(vx, vc));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(out + o, op == OP_ADD ? v + c : v * c);
  }
}

// out = a + b (residual add).
export function f32_add(out: usize, a: usize, b: usize, n: i32): void {
  map2(OP_ADD, out, a, b, n);
}

// acc += x (gradient fan-in).
export function f32_add_inplace(acc: usize, x: usize, n: i32): void {
  map2(OP_ADD, acc, acc, x, n);
}

// out = s·x.
export function f32_scale(out: usize, x: usize, s: f32, n: i32): void {
  map_c(OP_MUL, out, x, s, n);
}

// out[0..n) = v.
export function f32_fill(out: usize, v: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vv = f32x4.splat(v);
    for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), vv);
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), v);
}
