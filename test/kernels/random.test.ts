// assembly/random.ts: every kernel bit-for-bit against the TypeScript model of test/util/ref_norm.ts
// (so all three builds agree with each other), plus statistical checks within 5σ and the
// structural ones (permutation is a permutation, dropout rate 0 is the identity).
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/wasm.js';
import { assertClose } from '../util/close.js';
import { ALL_ISAS, engineFor, get, put } from '../util/engines.js';
import { RngRef } from '../util/ref_norm.js';
import { rng, uniform } from '../util/rng.js';

type K = Record<string, (...a: number[]) => number>;
const kern = (e: Engine) => e.k as unknown as K;

function seeded(e: Engine, seed: number): number {
  const st = e.alloc(16);
  kern(e).rng_seed(st, seed);
  return st;
}
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
function sameBits(got: Float32Array, ref: Float32Array, what: string) {
  const g = bits(got), r = bits(ref);
  expect(g.length, what).toBe(r.length);
  for (let i = 0; i < r.length; i++) {
    if (g[i] !== r[i]) throw new Error(`${what}: index ${i}: ref ${ref[i]}, got ${got[i]}`);
  }
}
function sameInts(got: Int32Array, ref: Int32Array, what: string) {
  expect(got.length, what).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) if (got[i] !== ref[i]) throw new Error(`${what}: index ${i}: ref ${ref[i]}, got ${got[i]}`);
}
const geti = (e: Engine, p: number, n: number) => e.i32.slice(p >> 2, (p >> 2) + n);
function moments(a: ArrayLike<number>) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const mean = s / a.length;
  let q = 0;
  for (let i = 0; i < a.length; i++) q += (a[i] - mean) ** 2;
  return { mean, variance: q / a.length };
}
// Per-build draws of each kernel with the same seeds, compared across builds at the end.
const perBuild = new Map<string, Map<string, Uint32Array>>();
function record(isa: string, name: string, a: Float32Array | Int32Array) {
  if (!perBuild.has(isa)) perBuild.set(isa, new Map());
  perBuild.get(isa)!.set(name, new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
}

describe.each(ALL_ISAS)('random kernels on the %s build', (isa) => {
  const e = engineFor(isa);

  it('rng_seed + rng_next_u32 › 1000 draws equal the xoshiro128** model for 6 seeds; seeds differ', () => {
    const firsts = new Set<string>();
    for (const seed of [0, 1, 2, 42, 0x7fffffff, 0xffffffff]) {
      const st = seeded(e, seed);
      const ref = new RngRef(seed);
      const got = Uint32Array.from({ length: 1000 }, () => kern(e).rng_next_u32(st) >>> 0);
      const want = Uint32Array.from({ length: 1000 }, () => ref.next());
      sameInts(new Int32Array(got.buffer), new Int32Array(want.buffer), `seed ${seed}`);
      firsts.add(Array.from(got.slice(0, 8)).join(','));
      record(isa, `u32 ${seed}`, new Int32Array(got.buffer));
      e.release(st);
    }
    expect(firsts.size).toBe(6);
  });

  it('rng_seed › a reseed restarts the stream; state is per pointer', () => {
    const a = seeded(e, 7), b = seeded(e, 7);
    const xs = Array.from({ length: 5 }, () => kern(e).rng_next_u32(a));
    kern(e).rng_next_u32(b); // b one ahead of where a started
    kern(e).rng_seed(a, 7);
    expect(Array.from({ length: 5 }, () => kern(e).rng_next_u32(a))).toEqual(xs);
    expect(kern(e).rng_next_u32(b)).toBe(xs[1]);
    e.release(a); e.release(b);
  });

  it('f32_fill_uniform › bit-exact against the model for n in {1, 3, 4, 5, 37, 784}; state advances', () => {
    for (const [lo, hi] of [[0, 1], [-1, 1], [-0.05, 0.05], [3, 7]]) {
      const st = seeded(e, 11);
      const ref = new RngRef(11);
      for (const n of [1, 3, 4, 5, 37, 784]) {
        const p = e.alloc(n * 4);
        kern(e).f32_fill_uniform(p, n, lo, hi, st);
        const got = get(e, p, n);
        sameBits(got, ref.uniform(n, lo, hi), `uniform [${lo}, ${hi}) n=${n}`);
        record(isa, `uniform ${lo} ${hi} ${n}`, got);
        e.release(p);
      }
      e.release(st);
    }
  });

  it('f32_fill_uniform › n = 1e5: in [lo, hi], mean and variance within 5σ', () => {
    const n = 100_000, lo = -2, hi = 3;
    const st = seeded(e, 2024), p = e.alloc(n * 4);
    kern(e).f32_fill_uniform(p, n, lo, hi, st);
    const x = get(e, p, n);
    for (const v of x) if (!(v >= lo && v <= hi)) throw new Error(`uniform value ${v} outside [${lo}, ${hi}]`);
    const { mean, variance } = moments(x);
    const w = hi - lo, v = (w * w) / 12, mu4 = w ** 4 / 80;
    expect(Math.abs(mean - (lo + hi) / 2)).toBeLessThan(5 * Math.sqrt(v / n));
    expect(Math.abs(variance - v)).toBeLessThan(5 * Math.sqrt((mu4 - v * v) / n));
    e.release(p); e.release(st);
  });

  it('f32_fill_normal › plain and truncated against the model (f32 rounding of f64 Box–Muller), odd n', () => {
    for (const truncated of [0, 1]) {
      const st = seeded(e, 5);
      const ref = new RngRef(5);
      for (const n of [1, 2, 3, 37, 784]) {
        const p = e.alloc(n * 4);
        kern(e).f32_fill_normal(p, n, 0.5, 2, truncated, st);
        const got = get(e, p, n);
        // JS and AssemblyScript log/cos/sin may differ in the last f64 bit: allow 1 f32 ulp.
        assertClose(got, ref.normal(n, 0.5, 2, truncated === 1), 0, 2.4e-7, `normal truncated=${truncated} n=${n}`);
        record(isa, `normal ${truncated} ${n}`, got);
        e.release(p);
      }
      e.release(st);
    }
  });

  it('f32_fill_normal › n = 1e5: mean and std within 5σ; truncated stays within 2 std', () => {
    const n = 100_000, mean = 1.5, std = 0.75;
    // Standard normal truncated to [−2, 2]: Z = Φ(2) − Φ(−2), φ(2) = e^(−2)/√(2π);
    // Var = 1 − 4φ(2)/Z, E z⁴ = 3 − 2φ(2)·(2³ + 3·2)/Z.
    const Z = 0.9544997361036416, phi2 = Math.exp(-2) / Math.sqrt(2 * Math.PI);
    const truncVar = 1 - (4 * phi2) / Z, truncM4 = 3 - (2 * phi2 * 14) / Z;
    for (const truncated of [0, 1]) {
      const st = seeded(e, 99 + truncated), p = e.alloc(n * 4);
      kern(e).f32_fill_normal(p, n, mean, std, truncated, st);
      const x = get(e, p, n);
      const { mean: m, variance } = moments(x);
      const v = (truncated ? truncVar : 1) * std * std;
      const m4 = (truncated ? truncM4 : 3) * std ** 4;
      expect(Math.abs(m - mean)).toBeLessThan(5 * Math.sqrt(v / n));
      expect(Math.abs(variance - v)).toBeLessThan(5 * Math.sqrt((m4 - v * v) / n));
      if (truncated) for (const y of x) if (!(Math.abs(y - mean) <= 2 * std * (1 + 1e-6))) throw new Error(`truncated value ${y}`);
      e.release(p); e.release(st);
    }
  });

  it('i32_permutation › n in {0, 1, 2, 37, 60000}: a permutation, equal to the model', () => {
    const st = seeded(e, 3);
    const ref = new RngRef(3);
    for (const n of [0, 1, 2, 37, 60000]) {
      const p = e.alloc(n * 4);
      kern(e).i32_permutation(p, n, st);
      const got = geti(e, p, n);
      const sorted = Int32Array.from(got).sort();
      for (let i = 0; i < n; i++) if (sorted[i] !== i) throw new Error(`n=${n}: not a permutation at ${i}`);
      sameInts(got, ref.permutation(n), `permutation n=${n}`);
      record(isa, `perm ${n}`, got);
      e.release(p);
    }
    e.release(st);
  });

  it('i32_permutation › n = 3: each of the 6 orders within 5σ of 1/6 over 60000 draws', () => {
    const st = seeded(e, 8), p = e.alloc(16);
    const counts = new Map<string, number>();
    const draws = 60000;
    for (let t = 0; t < draws; t++) {
      kern(e).i32_permutation(p, 3, st);
      const k = geti(e, p, 3).join('');
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    const sd = Math.sqrt(draws * (1 / 6) * (5 / 6));
    for (const [k, c] of counts) expect(Math.abs(c - draws / 6), k).toBeLessThan(5 * sd);
    e.release(p); e.release(st);
  });

  it('i32_sample › in range, equal to the model (incl. range 3·2²⁹ where 25% of draws are rejected), uniform buckets', () => {
    const st = seeded(e, 17);
    const ref = new RngRef(17);
    for (const [n, range] of [[1, 1], [37, 10], [784, 60000], [1000, 3 * 2 ** 29], [1000, 2 ** 31 - 1]]) {
      const p = e.alloc(n * 4);
      kern(e).i32_sample(p, n, range, st);
      const got = geti(e, p, n);
      for (const v of got) if (!(v >= 0 && v < range)) throw new Error(`sample ${v} outside [0, ${range})`);
      sameInts(got, ref.sample(n, range), `sample n=${n} range=${range}`);
      record(isa, `sample ${n} ${range}`, got);
      e.release(p);
    }
    const n = 100_000, range = 10, p = e.alloc(n * 4);
    kern(e).i32_sample(p, n, range, st);
    const counts = new Array(range).fill(0);
    for (const v of geti(e, p, n)) counts[v]++;
    const sd = Math.sqrt(n * 0.1 * 0.9);
    for (const c of counts) expect(Math.abs(c - n / range)).toBeLessThan(5 * sd);
    // range ≤ 0 writes zeros and leaves the stream alone.
    kern(e).rng_seed(st, 17);
    e.i32.fill(7, p >> 2, (p >> 2) + 5);
    kern(e).i32_sample(p, 5, 0, st);
    expect(Array.from(geti(e, p, 5))).toEqual([0, 0, 0, 0, 0]);
    expect(kern(e).rng_next_u32(st) >>> 0).toBe(new RngRef(17).next());
    e.release(p); e.release(st);
  });

  it('f32_dropout_rows_fwd › bit-exact mask and output against the model, rates 0.1, 0.5, 0.8; out aliasing x; the state is not advanced', () => {
    for (const rate of [0.1, 0.5, 0.8]) {
      for (const [M, N] of [[1, 1], [1, 5], [3, 4], [7, 37], [2, 784]]) {
        const n = M * N, x = uniform(rng(n), n, -300, 300);
        for (const alias of [false, true]) {
          const st = seeded(e, n), px = put(e, x), pm = e.alloc(n * 4);
          const state = new Uint32Array(e.u8.buffer.slice(st, st + 16));
          const ref = RngRef.dropoutRows(state, x, M, N, rate, 11, 2);
          const po = alias ? px : e.alloc(n * 4);
          kern(e).f32_dropout_rows_fwd(po, pm, px, M, N, rate, st, 11, 2);
          const mask = get(e, pm, n), out = get(e, po, n);
          sameBits(mask, ref.mask, `dropout mask rate ${rate} ${M}×${N}`);
          sameBits(out, ref.out, `dropout out rate ${rate} ${M}×${N} alias ${alias}`);
          expect(Array.from(new Uint32Array(e.u8.buffer.slice(st, st + 16)))).toEqual(Array.from(state));
          if (!alias) record(isa, `dropout ${rate} ${M}×${N}`, mask);
          for (const p of new Set([st, px, pm, po])) e.release(p);
        }
      }
    }
  });

  it('f32_dropout_rows_fwd › a row\'s mask does not depend on the slice that holds it; other salts and states give other masks', () => {
    const M = 9, N = 13, n = M * N, x = uniform(rng(5), n, -1, 1);
    const st = seeded(e, 5), px = put(e, x), pm = e.alloc(n * 4), po = e.alloc(n * 4), pm2 = e.alloc(n * 4);
    kern(e).f32_dropout_rows_fwd(po, pm, px, M, N, 0.5, st, 0, 1);
    // Rows 0–3 and 4–8 as two slices, as two threads would run them.
    kern(e).f32_dropout_rows_fwd(po, pm2, px, 4, N, 0.5, st, 0, 1);
    kern(e).f32_dropout_rows_fwd(po + 4 * N * 4, pm2 + 4 * N * 4, px + 4 * N * 4, 5, N, 0.5, st, 4, 1);
    sameBits(get(e, pm2, n), get(e, pm, n), 'sliced mask');
    kern(e).f32_dropout_rows_fwd(po, pm2, px, M, N, 0.5, st, 0, 2);
    expect(Buffer.from(get(e, pm2, n).buffer).equals(Buffer.from(get(e, pm, n).buffer))).toBe(false);
    kern(e).rng_next_u32(st);
    kern(e).f32_dropout_rows_fwd(po, pm2, px, M, N, 0.5, st, 0, 1);
    expect(Buffer.from(get(e, pm2, n).buffer).equals(Buffer.from(get(e, pm, n).buffer))).toBe(false);
    for (const p of [st, px, pm, po, pm2]) e.release(p);
  });

  it('f32_dropout_rows_fwd › 1e5 values: keeps ≈ 1 − rate (5σ), kept values scaled by 1/(1 − rate); rate 0 identity, rate 1 drops all', () => {
    const M = 100, N = 1000, n = M * N;
    const x = uniform(rng(1), n, -1, 1);
    const px = put(e, x), pm = e.alloc(n * 4), po = e.alloc(n * 4), st = seeded(e, 31);
    for (const rate of [0.2, 0.5, 0.9]) {
      kern(e).f32_dropout_rows_fwd(po, pm, px, M, N, rate, st, 0, 1);
      const mask = get(e, pm, n), out = get(e, po, n);
      const s = Math.fround(1 / (1 - Math.fround(rate)));
      let kept = 0;
      for (let i = 0; i < n; i++) {
        if (mask[i] !== 0) {
          kept++;
          if (mask[i] !== s || out[i] !== Math.fround(x[i] * s)) throw new Error(`rate ${rate} index ${i}: mask ${mask[i]}, out ${out[i]}`);
        } else if (out[i] !== 0) throw new Error(`rate ${rate} index ${i}: dropped but out ${out[i]}`);
      }
      expect(Math.abs(kept - n * (1 - rate))).toBeLessThan(5 * Math.sqrt(n * rate * (1 - rate)));
    }
    kern(e).f32_dropout_rows_fwd(po, pm, px, M, N, 0, st, 0, 1);
    sameBits(get(e, po, n), x, 'rate 0 out');
    sameBits(get(e, pm, n), new Float32Array(n).fill(1), 'rate 0 mask');
    kern(e).f32_dropout_rows_fwd(po, pm, px, M, N, 1, st, 0, 1);
    for (const v of get(e, pm, n)) if (v !== 0) throw new Error('rate 1 kept a value');
    for (const p of [px, pm, po, st]) e.release(p);
  });

  it('f32_dropout_bwd › dx = dy·mask exactly, n in {1, 3, 4, 5, 37, 784}, dx aliasing dy', () => {
    for (const n of [1, 3, 4, 5, 37, 784]) {
      const r = rng(n + 5);
      const dy = uniform(r, n), mask = Float32Array.from({ length: n }, () => (r() < 0.3 ? 0 : 1.25));
      const want = Float32Array.from(dy, (v, i) => v * mask[i]);
      for (const alias of [false, true]) {
        const pdy = put(e, dy), pm = put(e, mask), pdx = alias ? pdy : e.alloc(n * 4);
        kern(e).f32_dropout_bwd(pdx, pdy, pm, n);
        sameBits(get(e, pdx, n), want, `f32_dropout_bwd n=${n} alias ${alias}`);
        for (const p of new Set([pdy, pm, pdx])) e.release(p);
      }
    }
  });
});

describe('random kernels › all builds give the same bits', () => {
  it('every recorded draw is identical on relaxed, simd and scalar', () => {
    const builds = [...perBuild.keys()];
    expect(builds.length).toBe(ALL_ISAS.length);
    const first = perBuild.get(builds[0])!;
    expect(first.size).toBeGreaterThan(40);
    for (const isa of builds.slice(1)) {
      const other = perBuild.get(isa)!;
      expect([...other.keys()]).toEqual([...first.keys()]);
      for (const [name, a] of first) {
        const b = other.get(name)!;
        expect(b.length, name).toBe(a.length);
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error(`${name}: ${builds[0]} and ${isa} differ at ${i}`);
      }
    }
  });
});
