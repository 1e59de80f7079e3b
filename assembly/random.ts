// The one seeded PRNG (DESIGN §8): initialisation, shuffling/sampling and dropout masks all draw
// from it. xoshiro128** (Blackman & Vigna), state = 4 × u32 = 16 bytes at a pointer the facade
// owns, so each model has its own stream; seeded through splitmix64. Kernels: seeding, uniform
// and normal fills, permutations, sampling with replacement, inverted dropout forward and backward.
//
// Every kernel here is integer arithmetic plus IEEE f32/f64 operations in a fixed order (no
// relaxed FMA, no lane-order-dependent reductions, host Math never used), so all three builds
// produce the same bits for the same seed. Each kernel loads the state, advances it once per draw
// and stores it back — except dropout, whose per-row streams read the state without advancing it.
import { OP_MUL, map2 } from './simd';

// Working copy of the state while a kernel runs (module globals: one set per instance/thread).
let s0: u32 = 0;
let s1: u32 = 0;
let s2: u32 = 0;
let s3: u32 = 0;

@inline function load_state(state: usize): void {
  s0 = load<u32>(state);
  s1 = load<u32>(state, 4);
  s2 = load<u32>(state, 8);
  s3 = load<u32>(state, 12);
}

@inline function store_state(state: usize): void {
  store<u32>(state, s0);
  store<u32>(state, s1, 4);
  store<u32>(state, s2, 8);
  store<u32>(state, s3, 12);
}

// One xoshiro128** step on the working state.
@inline function next(): u32 {
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  return result;
}

// Uniform integer in [0, range), range ≥ 1, without bias.
// NOTE: Lemire's multiply-shift with rejection: the high 32 bits of x·range are uniform once the
// low 32 bits fall at or above 2³² mod range (rejection probability < range / 2³²).
@inline function bounded(range: u32): u32 {
  let m = <u64>next() * <u64>range;
  let lo = <u32>m;
  if (lo < range) {
    const threshold: u32 = (<u32>0 - range) % range;
    while (lo < threshold) {
      m = <u64>next() * <u64>range;
      lo = <u32>m;
    }
  }
  return <u32>(m >> 32);
}

// Uniform f32 in [0, 1): the top 24 bits of one draw, exact in f32.
@inline function unit_f32(): f32 {
  return <f32>(next() >> 8) * (<f32>1.0 / <f32>16777216.0);
}

@inline function splitmix64(x: u64): u64 {
  let z = x;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

// state (16 bytes) written: xoshiro128** state seeded from `seed` by splitmix64.
export function rng_seed(state: usize, seed: u32): void {
  const g = 0x9e3779b97f4a7c15;
  const a = splitmix64(<u64>seed + g);
  const b = splitmix64(<u64>seed + g + g);
  s0 = <u32>a;
  s1 = <u32>(a >> 32);
  s2 = <u32>b;
  s3 = <u32>(b >> 32);
  // NOTE: the all-zero state is the one fixed point of xoshiro; splitmix64 is a bijection, so
  // this cannot happen for two consecutive inputs, but guard anyway.
  if ((s0 | s1 | s2 | s3) == 0) s0 = 1;
  store_state(state);
}

// Returns the next u32 of the stream; advances state.
export function rng_next_u32(state: usize): u32 {
  load_state(state);
  const r = next();
  store_state(state);
  return r;
}

// out[0..n) written: uniform f32 lo + (hi − lo)·u, u in [0, 1) with 24-bit resolution (f32
// rounding can land exactly on hi). Advances state by n draws.
export function f32_fill_uniform(out: usize, n: i32, lo: f32, hi: f32, state: usize): void {
  load_state(state);
  const w = hi - lo;
  for (let i = 0; i < n; i++) {
    store<f32>(out + (<usize>i << 2), lo + w * unit_f32());
  }
  store_state(state);
}

// out[0..n) written: normal(mean, std) by Box–Muller in f64 (both values of each pair used);
// truncated = 1 redraws values with |z| > 2 (Keras truncated normal). An odd tail discards the
// pair's second value.
export function f32_fill_normal(out: usize, n: i32, mean: f32, std: f32, truncated: i32, state: usize): void {
  load_state(state);
  const m = <f64>mean;
  const s = <f64>std;
  const twoPi: f64 = 6.283185307179586;
  const inv32: f64 = 1.0 / 4294967296.0;
  let i = 0;
  while (i < n) {
    // u1 in (0, 1] so log(u1) is finite; u2 in [0, 1).
    const u1 = (<f64>next() + 1.0) * inv32;
    const u2 = <f64>next() * inv32;
    const r = Math.sqrt(-2.0 * Math.log(u1));
    const th = twoPi * u2;
    const z0 = r * Math.cos(th);
    const z1 = r * Math.sin(th);
    if (truncated == 0 || Math.abs(z0) <= 2.0) {
      store<f32>(out + (<usize>i << 2), <f32>(m + s * z0));
      i++;
    }
    if (i < n && (truncated == 0 || Math.abs(z1) <= 2.0)) {
      store<f32>(out + (<usize>i << 2), <f32>(m + s * z1));
      i++;
    }
  }
  store_state(state);
}

// out[0..n) (i32) written: a uniformly random permutation of 0..n−1 (Fisher–Yates, unbiased).
export function i32_permutation(out: usize, n: i32, state: usize): void {
  for (let i = 0; i < n; i++) store<i32>(out + (<usize>i << 2), i);
  load_state(state);
  for (let i = n - 1; i > 0; i--) {
    const j = <i32>bounded(<u32>(i + 1));
    const pi = out + (<usize>i << 2);
    const pj = out + (<usize>j << 2);
    const t = load<i32>(pi);
    store<i32>(pi, load<i32>(pj));
    store<i32>(pj, t);
  }
  store_state(state);
}

// out[0..n) (i32) written: n uniform integers in [0, range), with replacement (range ≤ 0 writes
// zeros and draws nothing).
export function i32_sample(out: usize, n: i32, range: i32, state: usize): void {
  if (range <= 0) {
    if (n > 0) memory.fill(out, 0, <usize>n << 2);
    return;
  }
  load_state(state);
  for (let i = 0; i < n; i++) {
    store<i32>(out + (<usize>i << 2), <i32>bounded(<u32>range));
  }
  store_state(state);
}

// Inverted dropout with one stream per row (DESIGN §7: a row's mask does not depend on which
// thread runs it). Rows are global rows row0 … row0 + M − 1 of the batch; element (r, j) is kept
// iff u32(r, j) ≥ ⌈rate·2³²⌉, where u32 is the top half of splitmix64 over a counter keyed by the
// model's PRNG state, `salt` (one per dropout layer) and r. The state is READ, not advanced: the
// facade advances it once per training step. mask (M×N, f32) = 1/(1 − rate) if kept else 0 and
// out = x·mask, written; out may alias x. rate ≤ 0 keeps all, rate ≥ 1 drops all.
export function f32_dropout_rows_fwd(out: usize, mask: usize, x: usize, M: i32, N: i32, rate: f32,
                                     state: usize, row0: i32, salt: i32): void {
  let thr: u64 = 0;
  let scale: f32 = 1;
  if (rate >= 1) {
    thr = 0x100000000;
    scale = 0;
  } else if (rate > 0) {
    thr = <u64>Math.ceil(<f64>rate * 4294967296.0);
    scale = <f32>(1.0 / (1.0 - <f64>rate));
  }
  const key = splitmix64(load<u64>(state) ^ rotl<u64>(load<u64>(state, 8), 29) ^ (<u64><u32>salt << 32));
  const g: u64 = 0x9e3779b97f4a7c15;
  for (let i = 0; i < M; i++) {
    let c = splitmix64(key ^ (<u64><u32>(row0 + i) * 0xd1b54a32d192ed03));
    const base = <usize>i * <usize>N << 2;
    for (let j = 0; j < N; j++) {
      c += g;
      const o = base + (<usize>j << 2);
      const m: f32 = (splitmix64(c) >> 32) >= thr ? scale : 0;
      store<f32>(mask + o, m);
      store<f32>(out + o, load<f32>(x + o) * m);
    }
  }
}

// dx[i] = dy[i]·mask[i] written (not added: dropout's input gradient has one consumer). dx may
// alias dy.
export function f32_dropout_bwd(dx: usize, dy: usize, mask: usize, n: i32): void {
  map2(OP_MUL, dx, dy, mask, n);
}
