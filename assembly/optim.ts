// Optimizer steps (SGD with momentum/Nesterov/proximal L1, AdaGrad, AdaDelta, RMSProp, Adam/AdamW,
// Adamax, Nadam, Lion):
// one pass over a contiguous range of n parameters, updating θ (p) and the optimizer state in
// place from the gradient g, which is read, never written. Nothing aliases. The reductions that
// feed a step (Σg² for global-norm clipping, the non-finite check) are in reduce.ts.
//
// Every step kernel ends with the same arguments (n, lr, l1, l2, wd, clip, gscale) and does, per
// element, in this order (DESIGN §4: optimizer + L1/L2 + clipping in one pass):
//   1. g ← g·gscale                         global-norm clipping factor min(1, maxNorm/‖g‖), 1 when off
//   2. g ← clamp(g, −clip, clip)            only when clip > 0
//   3. g ← g + l1·sign(θ) + 2·l2·θ          Keras penalties: l1·Σ|θ| + l2·Σθ² added to the loss; sign(0) = 0
//   4. θ ← θ·(1 − lr·wd)                    decoupled weight decay, on the pre-update θ (PyTorch AdamW order:
//                                           decay first, then the update, which does not depend on θ)
//   5. the optimizer's update with the effective g.
// With gscale = 1, clip = 0, l1 = l2 = wd = 0 steps 1–4 change nothing (exact ×1, +0).
// Hyperparameters arrive as f32; bias corrections are computed once per call in f64.
// NOTE: clipping acts on the data gradient only; the penalty terms of step 3 are never clipped.
import { vsign } from './simd';


// Effective gradient, scalar form. `hi` is clip (or +∞ when off), `l2x2` is 2·l2.
// NOTE: written with compares so that a NaN gradient stays NaN (as f32x4.pmin/pmax do below).
@inline function geff(g: f32, th: f32, gscale: f32, hi: f32, l1: f32, l2x2: f32): f32 {
  let x = g * gscale;
  if (hi < x) x = hi;
  if (x < -hi) x = -hi;
  const s: f32 = th > 0 ? 1 : th < 0 ? -1 : 0;
  return x + l1 * s + l2x2 * th;
}

// Effective gradient of four lanes; same arithmetic as geff. The settings arrive as scalars: their
// splats are loop-invariant, and V8 hoists them out of the loop (measured: no cost).
// `pure` (no scaling, clipping or penalty: the common case) returns g: the arithmetic would change
// nothing for finite θ but costs more than the update itself. It is compiled out only where
// `pure` is a constant (the two loop copies of SGD and Adam); elsewhere it becomes a select.
@inline function geff4(pure: bool, g: v128, th: v128, gscale: f32, hi: f32, l1: f32, l2x2: f32): v128 {
  if (pure) return g;
  let x = f32x4.mul(g, f32x4.splat(gscale));
  x = f32x4.pmin(x, f32x4.splat(hi)); // hi < x ? hi : x
  x = f32x4.pmax(x, f32x4.splat(-hi)); // x < −hi ? −hi : x
  return f32x4.add(f32x4.add(x, f32x4.mul(f32x4.splat(l1), vsign(th))), f32x4.mul(f32x4.splat(l2x2), th));
}

// State that decays (momentum, moment estimates) is flushed to 0 below the smallest normal f32,
// 2^-126: a parameter whose gradient stays 0 (a pixel that is always blank) would otherwise
// carry subnormal state, and x86 arithmetic on subnormals is about 20× slower (measured: an SGD
// momentum step over 100k subnormal velocities, 1.2 ms against 0.06 ms). TensorFlow's CPU
// kernels flush the same way. NaN and ±∞ pass unchanged.
const TINY: f32 = 1.17549435e-38;
@inline function ftz(x: f32): f32 {
  return Mathf.abs(x) < TINY ? 0 : x;
}
@inline function ftz4(x: v128): v128 {
  // Bits of |x| above those of the largest subnormal (NaN and ±∞ are above too).
  return v128.and(x, i32x4.gt_s(v128.and(x, i32x4.splat(0x7fffffff)), i32x4.splat(0x007fffff)));
}

// Moment estimate at q updated in place and returned: *q ← ρ·*q + take·x (take = 1 − ρ), flushed;
// one float, or four lanes.
@inline function ema(q: usize, x: f32, rho: f32, take: f32): f32 {
  const a = ftz(rho * load<f32>(q) + take * x);
  store<f32>(q, a);
  return a;
}
@inline function ema4(q: usize, x: v128, vrho: v128, vtake: v128): v128 {
  const a = ftz4(f32x4.add(f32x4.mul(vrho, v128.load(q)), f32x4.mul(vtake, x)));
  v128.store(q, a);
  return a;
}

@inline function isPure(gscale: f32, clip: f32, l1: f32, l2: f32): bool {
  return gscale == 1 && clip <= 0 && l1 == 0 && l2 == 0;
}

@inline function clipHi(clip: f32): f32 {
  return clip > 0 ? clip : Infinity;
}

@inline function keepFactor(lr: f32, wd: f32): f32 {
  return wd > 0 ? <f32>(1.0 - <f64>lr * <f64>wd) : 1;
}

// θ (p) and velocity v updated in place from g. momentum 0: θ ← θ − lr·g (v unused, may be 0).
// Otherwise v ← γv − lr·g; θ ← θ + v, or with nesterov (Keras form) θ ← θ + γv − lr·g.
// proximal ≠ 0: the L1 term leaves the gradient (step 3 without l1) and acts as its proximal
// operator after the update, θ ← sign(θ)·max(|θ| − lr·l1, 0) (soft threshold: weights that cross
// 0 within a step land exactly on 0 and stay there while |g| ≤ l1).
export function f32_sgd_step(p: usize, g: usize, v: usize, momentum: f32, nesterov: i32, proximal: i32,
                             n: i32, lr: f32, l1: f32, l2: f32, wd: f32, clip: f32, gscale: f32): void {
  const hi = clipHi(clip), l2x2: f32 = l2 + l2, keep = keepFactor(lr, wd);
  const plain = momentum == 0;
  const nest = nesterov != 0;
  const prox = proximal != 0;
  const thr: f32 = prox ? lr * l1 : 0;
  const gl1: f32 = prox ? 0 : l1;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // Two copies of the loop: in the common one (`pure`) the effective-gradient arithmetic is
    // compiled out (inside one loop Binaryen turns the choice into a select that computes both).
    i = isPure(gscale, clip, gl1, l2)
      ? sgd_pure(p, g, v, momentum, plain, nest, prox, thr, n, lr, gl1, l2x2, keep, hi, gscale)
      : sgd_any(p, g, v, momentum, plain, nest, prox, thr, n, lr, gl1, l2x2, keep, hi, gscale);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const th = load<f32>(p + o);
    const step = lr * geff(load<f32>(g + o), th, gscale, hi, gl1, l2x2);
    const kth = th * keep;
    let x: f32;
    if (plain) {
      x = kth - step;
    } else {
      const vel = ftz(momentum * load<f32>(v + o) - step);
      store<f32>(v + o, vel);
      x = nest ? kth + momentum * vel - step : kth + vel;
    }
    if (prox) x = x > thr ? x - thr : x < -thr ? x + thr : 0;
    store<f32>(p + o, x);
  }
}

// The two copies of sgd_simd (not inlined: inside f32_sgd_step Binaryen merges them into one loop that computes both).
@noinline function sgd_pure(p: usize, g: usize, v: usize, momentum: f32, plain: bool, nest: bool, prox: bool, thr: f32, n: i32,
                            lr: f32, l1: f32, l2x2: f32, keep: f32, hi: f32, gscale: f32): i32 {
  return sgd_simd(true, p, g, v, momentum, plain, nest, prox, thr, n, lr, l1, l2x2, keep, hi, gscale);
}
@noinline function sgd_any(p: usize, g: usize, v: usize, momentum: f32, plain: bool, nest: bool, prox: bool, thr: f32, n: i32,
                           lr: f32, l1: f32, l2x2: f32, keep: f32, hi: f32, gscale: f32): i32 {
  return sgd_simd(false, p, g, v, momentum, plain, nest, prox, thr, n, lr, l1, l2x2, keep, hi, gscale);
}

// The f32x4 loop of f32_sgd_step over the first n & ~3 elements; returns where it stopped.
@inline function sgd_simd(pure: bool, p: usize, g: usize, v: usize, momentum: f32, plain: bool, nest: bool,
                          prox: bool, thr: f32, n: i32, lr: f32, l1: f32, l2x2: f32, keep: f32, hi: f32, gscale: f32): i32 {
  const vkeep = f32x4.splat(keep), vlr = f32x4.splat(lr), vmu = f32x4.splat(momentum);
  const vthr = f32x4.splat(thr), zero = f32x4.splat(0), vsignbit = i32x4.splat(0x80000000);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const th = v128.load(p + o);
    const ge = geff4(pure, v128.load(g + o), th, gscale, hi, l1, l2x2);
    const step = f32x4.mul(vlr, ge);
    const kth = f32x4.mul(th, vkeep);
    let x: v128;
    if (plain) {
      x = f32x4.sub(kth, step);
    } else {
      const vel = ftz4(f32x4.sub(f32x4.mul(vmu, v128.load(v + o)), step));
      v128.store(v + o, vel);
      x = nest ? f32x4.sub(f32x4.add(kth, f32x4.mul(vmu, vel)), step) : f32x4.add(kth, vel);
    }
    if (prox) {
      // sign(x)·max(|x| − thr, 0): the magnitude shrunk, then x's sign bit put back (0 where shrunk to 0).
      const mag = f32x4.max(f32x4.sub(f32x4.abs(x), vthr), zero);
      x = v128.and(v128.or(mag, v128.and(x, vsignbit)), f32x4.gt(mag, zero));
    }
    v128.store(p + o, x);
  }
  return i;
}

// θ and accumulator acc updated in place: acc ← acc + g²; θ ← θ − lr·g/(√acc + eps).
export function f32_adagrad_step(p: usize, g: usize, acc: usize, eps: f32,
                                 n: i32, lr: f32, l1: f32, l2: f32, wd: f32, clip: f32, gscale: f32): void {
  const hi = clipHi(clip), l2x2: f32 = l2 + l2, keep = keepFactor(lr, wd);
  const pure = isPure(gscale, clip, l1, l2);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vkeep = f32x4.splat(keep), vlr = f32x4.splat(lr), veps = f32x4.splat(eps);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const th = v128.load(p + o);
      const ge = geff4(pure, v128.load(g + o), th, gscale, hi, l1, l2x2);
      const a = f32x4.add(v128.load(acc + o), f32x4.mul(ge, ge));
      v128.store(acc + o, a);
      const upd = f32x4.div(f32x4.mul(vlr, ge), f32x4.add(f32x4.sqrt(a), veps));
      v128.store(p + o, f32x4.sub(f32x4.mul(th, vkeep), upd));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const th = load<f32>(p + o);
    const ge = geff(load<f32>(g + o), th, gscale, hi, l1, l2x2);
    const a = load<f32>(acc + o) + ge * ge;
    store<f32>(acc + o, a);
    store<f32>(p + o, th * keep - (lr * ge) / (Mathf.sqrt(a) + eps));
  }
}

// θ, accG (E[g²]) and accD (E[Δ²]) updated in place (Zeiler 2012, PyTorch form):
// accG ← ρ·accG + (1−ρ)g²; Δ = √(accD + eps)/√(accG + eps)·g; accD ← ρ·accD + (1−ρ)Δ²; θ ← θ − lr·Δ.
export function f32_adadelta_step(p: usize, g: usize, accG: usize, accD: usize, rho: f32, eps: f32,
                                  n: i32, lr: f32, l1: f32, l2: f32, wd: f32, clip: f32, gscale: f32): void {
  const hi = clipHi(clip), l2x2: f32 = l2 + l2, keep = keepFactor(lr, wd);
  const pure = isPure(gscale, clip, l1, l2);
  const orho: f32 = 1 - rho;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vkeep = f32x4.splat(keep), vlr = f32x4.splat(lr), veps = f32x4.splat(eps);
    const vrho = f32x4.splat(rho), vorho = f32x4.splat(orho);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const th = v128.load(p + o);
      const ge = geff4(pure, v128.load(g + o), th, gscale, hi, l1, l2x2);
      const ag = ema4(accG + o, f32x4.mul(ge, ge), vrho, vorho);
      const ad = v128.load(accD + o);
      const d = f32x4.mul(f32x4.div(f32x4.sqrt(f32x4.add(ad, veps)), f32x4.sqrt(f32x4.add(ag, veps))), ge);
      ema4(accD + o, f32x4.mul(d, d), vrho, vorho);
      v128.store(p + o, f32x4.sub(f32x4.mul(th, vkeep), f32x4.mul(vlr, d)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const th = load<f32>(p + o);
    const ge = geff(load<f32>(g + o), th, gscale, hi, l1, l2x2);
    const ag = ema(accG + o, ge * ge, rho, orho);
    const ad = load<f32>(accD + o);
    const d = (Mathf.sqrt(ad + eps) / Mathf.sqrt(ag + eps)) * ge;
    ema(accD + o, d * d, rho, orho);
    store<f32>(p + o, th * keep - lr * d);
  }
}

// θ, ms (E[g²]), mom (momentum buffer) and mg (E[g], centered) updated in place; PyTorch RMSprop
// with eps outside the square root: ms ← ρ·ms + (1−ρ)g²; centered: mg ← ρ·mg + (1−ρ)g and
// d = √(ms − mg²) + eps, else d = √ms + eps; momentum > 0: mom ← μ·mom + lr·g/d, θ ← θ − mom;
// otherwise θ ← θ − lr·g/d. mom (momentum 0) and mg (not centered) are unused and may be 0.
// NOTE: ms − mg² ≥ 0 in exact arithmetic (an EMA of g² dominates the square of the EMA of g);
// f32 rounding can make it slightly negative, so it is clamped at 0 (PyTorch would give NaN).
// NOTE: lr sits inside the momentum buffer (Keras/TF form); equal to PyTorch's μ·b + g/d, θ −= lr·b
// while lr is constant.
export function f32_rmsprop_step(p: usize, g: usize, ms: usize, mom: usize, mg: usize,
                                 rho: f32, momentum: f32, eps: f32, centered: i32,
                                 n: i32, lr: f32, l1: f32, l2: f32, wd: f32, clip: f32, gscale: f32): void {
  const hi = clipHi(clip), l2x2: f32 = l2 + l2, keep = keepFactor(lr, wd);
  const pure = isPure(gscale, clip, l1, l2);
  const orho: f32 = 1 - rho;
  const cen = centered != 0;
  const useMom = momentum > 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vkeep = f32x4.splat(keep), vlr = f32x4.splat(lr), veps = f32x4.splat(eps);
    const vrho = f32x4.splat(rho), vorho = f32x4.splat(orho), vmu = f32x4.splat(momentum);
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const th = v128.load(p + o);
      const ge = geff4(pure, v128.load(g + o), th, gscale, hi, l1, l2x2);
      const s = ema4(ms + o, f32x4.mul(ge, ge), vrho, vorho);
      let var_ = s;
      if (cen) {
        const a = ema4(mg + o, ge, vrho, vorho);
        var_ = f32x4.pmax(f32x4.sub(s, f32x4.mul(a, a)), zero);
      }
      const upd = f32x4.div(f32x4.mul(vlr, ge), f32x4.add(f32x4.sqrt(var_), veps));
      const kth = f32x4.mul(th, vkeep);
      if (useMom) {
        const b = ftz4(f32x4.add(f32x4.mul(vmu, v128.load(mom + o)), upd));
        v128.store(mom + o, b);
        v128.store(p + o, f32x4.sub(kth, b));
      } else {
        v128.store(p + o, f32x4.sub(kth, upd));
      }
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const th = load<f32>(p + o);
    const ge = geff(load<f32>(g + o), th, gscale, hi, l1, l2x2);
    const s = ema(ms + o, ge * ge, rho, orho);
    let var_ = s;
    if (cen) {
      const a = ema(mg + o, ge, rho, orho);
      var_ = s - a * a;
      if (var_ < 0) var_ = 0;
    }
    const upd = (lr * ge) / (Mathf.sqrt(var_) + eps);
    if (useMom) {
      const b = ftz(momentum * load<f32>(mom + o) + upd);
      store<f32>(mom + o, b);
      store<f32>(p + o, th * keep - b);
    } else {
      store<f32>(p + o, th * keep - upd);
    }
  }
}

// θ, m, v (and vmax with amsgrad, else unused and may be 0) updated in place; PyTorch Adam at step
// t ≥ 1: m ← β1·m + (1−β1)g; v ← β2·v + (1−β2)g²; amsgrad: vmax ← max(vmax, v), used for v;
// θ ← θ − lr/(1−β1^t) · m/(√v/√(1−β2^t) + eps). AdamW is this kernel with wd > 0.
export function f32_adam_step(p: usize, g: usize, m: usize, v: usize, vmax: usize,
                              beta1: f32, beta2: f32, eps: f32, t: i32, amsgrad: i32,
                              n: i32, lr: f32, l1: f32, l2: f32, wd: f32, clip: f32, gscale: f32): void {
  const hi = clipHi(clip), l2x2: f32 = l2 + l2, keep = keepFactor(lr, wd);
  const ob1: f32 = 1 - beta1, ob2: f32 = 1 - beta2;
  // NOTE: bias corrections in f64 from the f32 betas the moments use, so that at t = 1
  // m̂ = g and v̂ = g² up to rounding (1 − β2 is tiny and loses digits if mixed precisions).
  const stepSize = <f32>(<f64>lr / (1.0 - Math.pow(<f64>beta1, <f64>t)));
  const rbc2 = <f32>(1.0 / Math.sqrt(1.0 - Math.pow(<f64>beta2, <f64>t)));
  const ams = amsgrad != 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // Two copies of the loop, as in f32_sgd_step.
    i = isPure(gscale, clip, l1, l2)
      ? adam_pure(p, g, m, v, vmax, beta1, beta2, eps, ams, stepSize, rbc2, n, l1, l2x2, keep, hi, gscale)
      : adam_any(p, g, m, v, vmax, beta1, beta2, eps, ams, stepSize, rbc2, n, l1, l2x2, keep, hi, gscale);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const th = load<f32>(p + o);
    const ge = geff(load<f32>(g + o), th, gscale, hi, l1, l2x2);
    const mm = ema(m + o, ge, beta1, ob1);
    let vv = ema(v + o, ge * ge, beta2, ob2);
    if (ams) {
      vv = Mathf.max(load<f32>(vmax + o), vv);
      store<f32>(vmax + o, vv);
    }
    store<f32>(p + o, th * keep - (stepSize * mm) / (Mathf.sqrt(vv) * rbc2 + eps));
  }
}

// The two copies of adam_simd (not inlined, as sgd_pure and sgd_any).
@noinline function adam_pure(p: usize, g: usize, m: usize, v: usize, vmax: usize, beta1: f32, beta2: f32, eps: f32, ams: bool,
                             stepSize: f32, rbc2: f32, n: i32, l1: f32, l2x2: f32, keep: f32, hi: f32, gscale: f32): i32 {
  return adam_simd(true, p, g, m, v, vmax, beta1, beta2, eps, ams, stepSize, rbc2, n, l1, l2x2, keep, hi, gscale);
}
@noinline function adam_any(p: usize, g: usize, m: usize, v: usize, vmax: usize, beta1: f32, beta2: f32, eps: f32, ams: bool,
                            stepSize: f32, rbc2: f32, n: i32, l1: f32, l2x2: f32, keep: f32, hi: f32, gscale: f32): i32 {
  return adam_simd(false, p, g, m, v, vmax, beta1, beta2, eps, ams, stepSize, rbc2, n, l1, l2x2, keep, hi, gscale);
}

// The f32x4 loop of f32_adam_step over the first n & ~3 elements; returns where it stopped.
@inline function adam_simd(pure: bool, p: usize, g: usize, m: usize, v: usize, vmax: usize, beta1: f32, beta2: f32,
                           eps: f32, ams: bool, stepSize: f32, rbc2: f32, n: i32, l1: f32, l2x2: f32, keep: f32,
                           hi: f32, gscale: f32): i32 {
  const vkeep = f32x4.splat(keep), veps = f32x4.splat(eps);
  const vb1 = f32x4.splat(beta1), vob1 = f32x4.splat(1 - beta1), vb2 = f32x4.splat(beta2), vob2 = f32x4.splat(1 - beta2);
  const vstep = f32x4.splat(stepSize), vrbc2 = f32x4.splat(rbc2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const th = v128.load(p + o);
    const ge = geff4(pure, v128.load(g + o), th, gscale, hi, l1, l2x2);
    const mm = ema4(m + o, ge, vb1, vob1);
    let vv = ema4(v + o, f32x4.mul(ge, ge), vb2, vob2);
    if (ams) {
      vv = f32x4.max(v128.load(vmax + o), vv);
      v128.store(vmax + o, vv);
    }
    const den = f32x4.add(f32x4.mul(f32x4.sqrt(vv), vrbc2), veps);
    v128.store(p + o, f32x4.sub(f32x4.mul(th, vkeep), f32x4.div(f32x4.mul(vstep, mm), den)));
  }
  return i;
}

// θ, m and u (exponentially weighted infinity norm) updated in place; PyTorch Adamax at step t ≥ 1:
// m ← β1·m + (1−β1)g; u ← max(β2·u, |g| + eps); θ ← θ − lr/(1−β1^t) · m/u.
export function f32_adamax_step(p: usize, g: usize, m: usize, u: usize, beta1: f32, beta2: f32, eps: f32, t: i32,
                                n: i32, lr: f32, l1: f32, l2: f32, wd: f32, clip: f32, gscale: f32): void {
  const hi = clipHi(clip), l2x2: f32 = l2 + l2, keep = keepFactor(lr, wd);
  const pure = isPure(gscale, clip, l1, l2);
  const ob1: f32 = 1 - beta1;
  const stepSize = <f32>(<f64>lr / (1.0 - Math.pow(<f64>beta1, <f64>t)));
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vkeep = f32x4.splat(keep), veps = f32x4.splat(eps);
    const vb1 = f32x4.splat(beta1), vob1 = f32x4.splat(ob1), vb2 = f32x4.splat(beta2);
    const vstep = f32x4.splat(stepSize);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const th = v128.load(p + o);
      const ge = geff4(pure, v128.load(g + o), th, gscale, hi, l1, l2x2);
      const mm = ema4(m + o, ge, vb1, vob1);
      const uu = f32x4.max(f32x4.mul(vb2, v128.load(u + o)), f32x4.add(f32x4.abs(ge), veps));
      v128.store(u + o, uu);
      v128.store(p + o, f32x4.sub(f32x4.mul(th, vkeep), f32x4.div(f32x4.mul(vstep, mm), uu)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const th = load<f32>(p + o);
    const ge = geff(load<f32>(g + o), th, gscale, hi, l1, l2x2);
    const mm = ema(m + o, ge, beta1, ob1);
    const uu = Mathf.max(beta2 * load<f32>(u + o), Mathf.abs(ge) + eps);
    store<f32>(u + o, uu);
    store<f32>(p + o, th * keep - (stepSize * mm) / uu);
  }
}

// θ, m and v updated in place; Dozat's Nadam as torch.optim.NAdam (its foreach path; see
// pytorch#92699) at step t ≥ 1 with momentum decay ψ: μ_t = β1·(1 − ½·0.96^(tψ)); muProduct is
// Π_{i ≤ t} μ_i (the facade keeps it: it depends on every step so far);
// m ← β1·m + (1−β1)g; v ← β2·v + (1−β2)g²; d = √v/√(1−β2^t) + eps;
// θ ← θ − lr·(1−μ_t)/(1−Π_t) · g/d − lr·μ_{t+1}/(1−Π_t·μ_{t+1}) · m/d.
export function f32_nadam_step(p: usize, g: usize, m: usize, v: usize, beta1: f32, beta2: f32, eps: f32,
                               momentumDecay: f32, t: i32, muProduct: f64,
                               n: i32, lr: f32, l1: f32, l2: f32, wd: f32, clip: f32, gscale: f32): void {
  const hi = clipHi(clip), l2x2: f32 = l2 + l2, keep = keepFactor(lr, wd);
  const pure = isPure(gscale, clip, l1, l2);
  const ob1: f32 = 1 - beta1, ob2: f32 = 1 - beta2;
  // NOTE: the schedule and both step sizes in f64, once per call (as torch computes them in Python floats).
  const b1 = <f64>beta1, psi = <f64>momentumDecay;
  const mu = b1 * (1.0 - 0.5 * Math.pow(0.96, <f64>t * psi));
  const muNext = b1 * (1.0 - 0.5 * Math.pow(0.96, <f64>(t + 1) * psi));
  const cg = <f32>(<f64>lr * (1.0 - mu) / (1.0 - muProduct));
  const cm = <f32>(<f64>lr * muNext / (1.0 - muProduct * muNext));
  const rbc2 = <f32>(1.0 / Math.sqrt(1.0 - Math.pow(<f64>beta2, <f64>t)));
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vkeep = f32x4.splat(keep), veps = f32x4.splat(eps), vrbc2 = f32x4.splat(rbc2);
    const vb1 = f32x4.splat(beta1), vob1 = f32x4.splat(ob1), vb2 = f32x4.splat(beta2), vob2 = f32x4.splat(ob2);
    const vcg = f32x4.splat(cg), vcm = f32x4.splat(cm);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const th = v128.load(p + o);
      const ge = geff4(pure, v128.load(g + o), th, gscale, hi, l1, l2x2);
      const mm = ema4(m + o, ge, vb1, vob1);
      const vv = ema4(v + o, f32x4.mul(ge, ge), vb2, vob2);
      const den = f32x4.add(f32x4.mul(f32x4.sqrt(vv), vrbc2), veps);
      const upd = f32x4.div(f32x4.add(f32x4.mul(vcg, ge), f32x4.mul(vcm, mm)), den);
      v128.store(p + o, f32x4.sub(f32x4.mul(th, vkeep), upd));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const th = load<f32>(p + o);
    const ge = geff(load<f32>(g + o), th, gscale, hi, l1, l2x2);
    const mm = ema(m + o, ge, beta1, ob1);
    const vv = ema(v + o, ge * ge, beta2, ob2);
    const den = Mathf.sqrt(vv) * rbc2 + eps;
    store<f32>(p + o, th * keep - (cg * ge + cm * mm) / den);
  }
}

// θ and m updated in place; Lion (Chen et al. 2023, "Symbolic Discovery of Optimization
// Algorithms", Algorithm 2): c = β1·m + (1−β1)g; θ ← θ − lr·sign(c) (sign(0) = 0);
// m ← β2·m + (1−β2)g. Decoupled weight decay is step 4, as in the paper.
export function f32_lion_step(p: usize, g: usize, m: usize, beta1: f32, beta2: f32,
                              n: i32, lr: f32, l1: f32, l2: f32, wd: f32, clip: f32, gscale: f32): void {
  const hi = clipHi(clip), l2x2: f32 = l2 + l2, keep = keepFactor(lr, wd);
  const pure = isPure(gscale, clip, l1, l2);
  const ob1: f32 = 1 - beta1, ob2: f32 = 1 - beta2;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vkeep = f32x4.splat(keep), vlr = f32x4.splat(lr);
    const vb1 = f32x4.splat(beta1), vob1 = f32x4.splat(ob1), vb2 = f32x4.splat(beta2), vob2 = f32x4.splat(ob2);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const th = v128.load(p + o);
      const ge = geff4(pure, v128.load(g + o), th, gscale, hi, l1, l2x2);
      const mo = v128.load(m + o);
      const c = f32x4.add(f32x4.mul(vb1, mo), f32x4.mul(vob1, ge));
      v128.store(p + o, f32x4.sub(f32x4.mul(th, vkeep), f32x4.mul(vlr, vsign(c))));
      v128.store(m + o, ftz4(f32x4.add(f32x4.mul(vb2, mo), f32x4.mul(vob2, ge))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const th = load<f32>(p + o);
    const ge = geff(load<f32>(g + o), th, gscale, hi, l1, l2x2);
    const mo = load<f32>(m + o);
    const c = beta1 * mo + ob1 * ge;
    const s: f32 = c > 0 ? 1 : c < 0 ? -1 : 0;
    store<f32>(p + o, th * keep - lr * s);
    store<f32>(m + o, ftz(beta2 * mo + ob2 * ge));
  }
}
