// Optimizer step kernels (assembly/optim.ts) on every build against the float64 references of
// test/util/ref_optim.ts: 10 steps from random θ with fresh random gradients each step, θ and every
// state array compared after each step, over sizes across the f32x4 width, for each optimizer
// variant × {plain, clipValue, clipNorm, l1, l2, weightDecay, all at once}. Plus kink/extreme
// inputs and buffers flush against the end of memory. (f32_sumsq and f32_count_nonfinite, which
// feed a step: reduce.test.ts.)
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/wasm.js';
import { l1l2PenaltyRef } from '../../src/reference.js';
import { assertClose } from '../util/close.js';
import { ALL_ISAS, engineFor, get, put } from '../util/engines.js';
import {
  adadeltaRef, adagradRef, adamaxRef, adamRef, geffRef, gscaleRef, lionRef, nadamMu, nadamRef, NO_EXTRAS, rmspropRef, sgdRef, sumsqRef,
  type Common, type State,
} from '../util/ref_optim.js';
import { rng, uniform } from '../util/rng.js';

const f = Math.fround;
const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 37, 128, 784, 1000];
const STEPS = 10;
// f32 kernel vs f64 reference over 10 steps. atol is relative to the largest magnitude the array
// has held so far, so that small states (Adadelta's E[Δ²] ~ 1e-6) are held to the same relative
// standard as θ, and an EMA that cancels to near 0 (m of random-sign g) is judged on its scale.
const RTOL = 1e-5;
const ATOL_REL = 1e-6;

type K = Record<string, (...a: number[]) => number>;
type Hp = Record<string, number | boolean>;

interface Spec {
  kernel: string;
  lr: number;
  variants: Record<string, Hp>;
  states(hp: Hp): string[];
  /** Calls the kernel; st maps state names to pointers (absent → 0). */
  call(k: K, p: number, g: number, st: Record<string, number>, hp: Hp, n: number, c: Common, t: number): void;
  ref(theta: Float64Array, grad: ArrayLike<number>, s: State, hp: Hp, c: Common, t: number): void;
}

const b = (x: number | boolean) => (x ? 1 : 0);
const tail = (n: number, c: Common) => [n, c.lr, c.l1, c.l2, c.wd, c.clip, c.gscale];

const SPECS: Spec[] = [
  {
    kernel: 'f32_sgd_step', lr: 0.1,
    variants: {
      plain: { momentum: 0, nesterov: false }, momentum: { momentum: f(0.9), nesterov: false }, nesterov: { momentum: f(0.9), nesterov: true },
      proximal: { momentum: 0, nesterov: false, proximal: true }, 'proximal+momentum': { momentum: f(0.9), nesterov: false, proximal: true },
    },
    states: (hp) => (hp.momentum ? ['v'] : []),
    call: (k, p, g, st, hp, n, c) => k.f32_sgd_step(p, g, st.v ?? 0, hp.momentum as number, b(hp.nesterov), b(hp.proximal ?? false), ...tail(n, c)),
    ref: (th, g, s, hp, c) => sgdRef(th, g, s, hp as never, c),
  },
  {
    kernel: 'f32_adagrad_step', lr: 0.1,
    variants: { default: { eps: f(1e-10) } },
    states: () => ['acc'],
    call: (k, p, g, st, hp, n, c) => k.f32_adagrad_step(p, g, st.acc, hp.eps as number, ...tail(n, c)),
    ref: (th, g, s, hp, c) => adagradRef(th, g, s, hp as never, c),
  },
  {
    kernel: 'f32_adadelta_step', lr: 1,
    variants: { default: { rho: f(0.9), eps: f(1e-6) } },
    states: () => ['accG', 'accD'],
    call: (k, p, g, st, hp, n, c) => k.f32_adadelta_step(p, g, st.accG, st.accD, hp.rho as number, hp.eps as number, ...tail(n, c)),
    ref: (th, g, s, hp, c) => adadeltaRef(th, g, s, hp as never, c),
  },
  {
    kernel: 'f32_rmsprop_step', lr: 0.01,
    variants: {
      plain: { rho: f(0.99), momentum: 0, eps: f(1e-8), centered: false },
      momentum: { rho: f(0.9), momentum: f(0.9), eps: f(1e-8), centered: false },
      centered: { rho: f(0.99), momentum: 0, eps: f(1e-8), centered: true },
      'centered+momentum': { rho: f(0.9), momentum: f(0.5), eps: f(1e-8), centered: true },
    },
    states: (hp) => ['ms', ...(hp.momentum ? ['mom'] : []), ...(hp.centered ? ['mg'] : [])],
    call: (k, p, g, st, hp, n, c) => k.f32_rmsprop_step(p, g, st.ms, st.mom ?? 0, st.mg ?? 0, hp.rho as number,
      hp.momentum as number, hp.eps as number, b(hp.centered), ...tail(n, c)),
    ref: (th, g, s, hp, c) => rmspropRef(th, g, s, hp as never, c),
  },
  {
    kernel: 'f32_adam_step', lr: 0.01,
    variants: {
      plain: { beta1: f(0.9), beta2: f(0.999), eps: f(1e-8), amsgrad: false },
      amsgrad: { beta1: f(0.9), beta2: f(0.999), eps: f(1e-8), amsgrad: true },
      'beta1=0': { beta1: 0, beta2: f(0.99), eps: f(1e-7), amsgrad: false },
    },
    states: (hp) => (hp.amsgrad ? ['m', 'v', 'vmax'] : ['m', 'v']),
    call: (k, p, g, st, hp, n, c, t) => k.f32_adam_step(p, g, st.m, st.v, st.vmax ?? 0, hp.beta1 as number, hp.beta2 as number,
      hp.eps as number, t, b(hp.amsgrad), ...tail(n, c)),
    ref: (th, g, s, hp, c, t) => adamRef(th, g, s, hp as never, c, t),
  },
  {
    kernel: 'f32_adamax_step', lr: 0.02,
    variants: { default: { beta1: f(0.9), beta2: f(0.999), eps: f(1e-8) } },
    states: () => ['m', 'u'],
    call: (k, p, g, st, hp, n, c, t) => k.f32_adamax_step(p, g, st.m, st.u, hp.beta1 as number, hp.beta2 as number,
      hp.eps as number, t, ...tail(n, c)),
    ref: (th, g, s, hp, c, t) => adamaxRef(th, g, s, hp as never, c, t),
  },
  {
    // muProduct: Π_{i ≤ t} μ_i in f64 from the f32 β1 and ψ the kernel receives (the facade's Nadam.muProduct).
    kernel: 'f32_nadam_step', lr: 0.01,
    variants: {
      default: { beta1: f(0.9), beta2: f(0.999), eps: f(1e-8), momentumDecay: f(4e-3) },
      'momentumDecay=0.5': { beta1: f(0.8), beta2: f(0.99), eps: f(1e-7), momentumDecay: f(0.5) },
    },
    states: () => ['m', 'v'],
    call: (k, p, g, st, hp, n, c, t) => {
      let prod = 1;
      for (let i = 1; i <= t; i++) prod *= nadamMu(hp as never, i);
      k.f32_nadam_step(p, g, st.m, st.v, hp.beta1 as number, hp.beta2 as number, hp.eps as number, hp.momentumDecay as number, t, prod, ...tail(n, c));
    },
    ref: (th, g, s, hp, c, t) => {
      s.prod ??= Float64Array.of(1);
      if (t === 1) s.prod[0] = 1;
      nadamRef(th, g, s, hp as never, c, t);
    },
  },
  {
    kernel: 'f32_lion_step', lr: 0.01,
    variants: { default: { beta1: f(0.9), beta2: f(0.99) }, 'beta1=0': { beta1: 0, beta2: f(0.9) } },
    states: () => ['m'],
    call: (k, p, g, st, hp, n, c) => k.f32_lion_step(p, g, st.m, hp.beta1 as number, hp.beta2 as number, ...tail(n, c)),
    ref: (th, g, s, hp, c) => lionRef(th, g, s, hp as never, c),
  },
];

/** The common extras; clipNorm is the global-norm threshold as a multiple of √n (0: off). */
interface Extras { l1: number; l2: number; wd: number; clip: number; clipNorm: number }
const EXTRAS: Record<string, Extras> = {
  plain: { l1: 0, l2: 0, wd: 0, clip: 0, clipNorm: 0 },
  clipValue: { l1: 0, l2: 0, wd: 0, clip: f(0.5), clipNorm: 0 },
  clipNorm: { l1: 0, l2: 0, wd: 0, clip: 0, clipNorm: 0.3 },
  l1: { l1: f(0.01), l2: 0, wd: 0, clip: 0, clipNorm: 0 },
  l2: { l1: 0, l2: f(0.05), wd: 0, clip: 0, clipNorm: 0 },
  weightDecay: { l1: 0, l2: 0, wd: f(0.1), clip: 0, clipNorm: 0 },
  all: { l1: f(0.01), l2: f(0.05), wd: f(0.1), clip: f(0.5), clipNorm: 0.3 },
};

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

interface RunOpts { gradAt?: (step: number, i: number) => number; thetaAt?: (i: number) => number; flush?: string }

/** Runs `steps` steps of one kernel and its reference side by side, asserting after each. */
function runCase(e: Engine, spec: Spec, hp: Hp, ex: Extras, n: number, seed: number, what: string, opts: RunOpts = {}) {
  const r = rng(seed);
  const k = e.k as unknown as K;
  const theta0 = opts.thetaAt ? Float32Array.from({ length: n }, (_, i) => opts.thetaAt!(i)) : uniform(r, n);
  const names = spec.states(hp);
  const hold: number[] = [];
  const order = ['p', 'g', ...names].filter((x) => x !== opts.flush).concat(opts.flush ? [opts.flush] : []);
  const ptr: Record<string, number> = {};
  for (const name of order) {
    const data = name === 'p' ? theta0 : new Float32Array(n);
    if (name === opts.flush) ptr[name] = putFlush(e, data, hold);
    else hold.push((ptr[name] = put(e, data)));
  }
  const st: Record<string, number> = {};
  for (const s of names) st[s] = ptr[s];
  const theta = Float64Array.from(theta0);
  const state: State = {};
  for (const s of names) state[s] = new Float64Array(n);
  const scale: Record<string, number> = { p: Math.max(1, maxAbs(theta)) };
  for (const s of names) scale[s] = 0;
  try {
    for (let t = 1; t <= STEPS; t++) {
      const grad = opts.gradAt ? Float32Array.from({ length: n }, (_, i) => opts.gradAt!(t, i)) : uniform(r, n);
      e.f32.set(grad, ptr.g >> 2);
      let gk = 1, gr = 1;
      if (ex.clipNorm > 0) {
        const maxNorm = ex.clipNorm * Math.sqrt(n);
        const ss = k.f32_sumsq(ptr.g, n);
        assertClose([ss], [sumsqRef(grad)], 0, 1e-12, `${what} f32_sumsq`);
        const norm = Math.sqrt(ss);
        gk = norm > maxNorm ? maxNorm / norm : 1;
        gr = gscaleRef(grad, maxNorm);
      }
      const base = { lr: f(spec.lr), l1: ex.l1, l2: ex.l2, wd: ex.wd, clip: ex.clip };
      spec.call(k, ptr.p, ptr.g, st, hp, n, { ...base, gscale: gk }, t);
      spec.ref(theta, grad, state, hp, { ...base, gscale: gr }, t);
      const at = `${what} n=${n} step ${t}`;
      const gotTheta = get(e, ptr.p, n);
      scale.p = Math.max(scale.p, maxAbs(theta));
      assertClose(gotTheta, theta, ATOL_REL * scale.p, RTOL, `${at} θ`);
      for (const s of names) {
        scale[s] = Math.max(scale[s], maxAbs(state[s]));
        assertClose(get(e, st[s], n), state[s], ATOL_REL * scale[s] + 1e-30, RTOL, `${at} ${s}`);
      }
      assertClose(get(e, ptr.g, n), grad, 0, 0, `${at} gradient untouched`);
    }
    return get(e, ptr.p, n);
  } finally {
    for (const p of hold.reverse()) e.release(p);
  }
}

/** Places data so that its last byte is the last byte of wasm memory; pushes every block it takes. */
function putFlush(e: Engine, data: Float32Array, hold: number[]): number {
  const bytes = data.byteLength;
  const size = Math.max(16, Math.ceil(bytes / 16) * 16);
  for (;;) {
    const probe = e.alloc(16);
    hold.push(probe);
    const room = e.memoryBytes - probe - 16;
    if (room === size || room - size >= 16) {
      if (room > size) hold.push(e.alloc(room - size));
      const p = e.alloc(size);
      hold.push(p);
      expect(p + size).toBe(e.memoryBytes);
      const ptr = p + size - bytes;
      e.f32.set(data, ptr >> 2);
      return ptr;
    }
    hold.push(e.alloc(room + 16)); // spill into a fresh page and try again
  }
}

describe('optimizer references (float64)', () => {
  it('penalty gradient l1·sign(θ) + 2·l2·θ matches central differences of l1·Σ|θ| + l2·Σθ²', () => {
    const r = rng(7);
    const theta = Array.from({ length: 50 }, () => (r() < 0.5 ? -1 : 1) * (0.05 + 2 * r()));
    const c: Common = { lr: 0, l1: 0.03, l2: 0.2, wd: 0, clip: 0, gscale: 1 };
    const h = 1e-6;
    const numeric = theta.map((_, i) => {
      const up = theta.slice(), dn = theta.slice();
      up[i] += h;
      dn[i] -= h;
      return (l1l2PenaltyRef(up, c.l1, c.l2) - l1l2PenaltyRef(dn, c.l1, c.l2)) / (2 * h);
    });
    assertClose(theta.map((th) => geffRef(0, th, c)), numeric, 1e-9, 1e-6, 'penalty gradient');
    // NOTE: |θ| has a kink at 0; the kernels use the subgradient sign(0) = 0.
    expect(geffRef(0, 0, c)).toBe(0);
  });

  it('first step by hand: Adam, Adagrad, Adamax move θ by lr·sign(g); RMSprop by lr·sign(g)/√(1−ρ)', () => {
    const c = { ...NO_EXTRAS, lr: 0.01 };
    const g = [0.5, -2, 1e-3];
    const expectStep = (name: string, run: (th: Float64Array) => void, size: number) => {
      const th = new Float64Array(3).fill(1);
      run(th);
      assertClose(th, g.map((x) => 1 - size * Math.sign(x)), 1e-9, 1e-6, name);
    };
    const z = () => new Float64Array(3);
    expectStep('adamRef', (th) => adamRef(th, g, { m: z(), v: z() }, { beta1: 0.9, beta2: 0.999, eps: 1e-12, amsgrad: false }, c, 1), 0.01);
    expectStep('adagradRef', (th) => adagradRef(th, g, { acc: z() }, { eps: 1e-12 }, c), 0.01);
    expectStep('adamaxRef', (th) => adamaxRef(th, g, { m: z(), u: z() }, { beta1: 0.9, beta2: 0.999, eps: 1e-12 }, c, 1), 0.01);
    expectStep('rmspropRef', (th) => rmspropRef(th, g, { ms: z() }, { rho: 0.99, momentum: 0, eps: 1e-12, centered: false }, c), 0.1);
    // Adadelta: Δ = √eps/√((1−ρ)g² + eps)·g ≈ √(eps/(1−ρ))·sign(g) for g² ≫ eps/(1−ρ).
    const th = new Float64Array(1).fill(1);
    adadeltaRef(th, [3], { accG: z(), accD: z() }, { rho: 0.9, eps: 1e-6 }, { ...NO_EXTRAS, lr: 1 });
    assertClose(th, [1 - (Math.sqrt(1e-6) / Math.sqrt(0.1 * 9 + 1e-6)) * 3], 1e-15, 1e-12, 'adadeltaRef');
  });
});

describe('Nadam and Lion references by hand', () => {
  it('nadamRef step 1: θ −= lr·((1−μ1)/(1−μ1)·g + μ2/(1−μ1μ2)·(1−β1)g)/(|g| + eps), μ_t = β1(1 − ½·0.96^(tψ))', () => {
    const hp = { beta1: 0.9, beta2: 0.999, eps: 0, momentumDecay: 0.004 };
    const mu1 = 0.9 * (1 - 0.5 * 0.96 ** 0.004), mu2 = 0.9 * (1 - 0.5 * 0.96 ** 0.008);
    const th = Float64Array.of(1, 1), g = [0.5, -2];
    nadamRef(th, g, { m: new Float64Array(2), v: new Float64Array(2), prod: Float64Array.of(1) }, hp, { ...NO_EXTRAS, lr: 0.1 }, 1);
    // v̂ = g² at t = 1, so g/d = sign(g) and m/d = (1 − β1)·sign(g)
    const size = 0.1 * (1 + (mu2 / (1 - mu1 * mu2)) * 0.1);
    assertClose(th, [1 - size, 1 + size], 1e-15, 1e-12, 'nadam step 1');
  });
  it('lionRef: every element moves by exactly lr·sign(c), 0 where c = 0', () => {
    const th = Float64Array.of(0, 0, 0), s = { m: Float64Array.of(1, -1, 0) };
    lionRef(th, [-5, 5, 0], s, { beta1: 0.9, beta2: 0.99 }, { ...NO_EXTRAS, lr: 0.01 });
    // c = 0.9·m + 0.1·g = 0.4, −0.4, 0
    expect(Array.from(th)).toEqual([-0.01, 0.01, 0]);
    assertClose(s.m, [0.99 - 0.05, -0.99 + 0.05, 0], 1e-15, 1e-12, 'lion m');
  });
});

describe.each(ALL_ISAS)('optimizer kernels on the %s build', (isa) => {
  const e = engineFor(isa);

  it('f32_sgd_step › proximal: weights within lr·l1 of 0 become exactly 0, the others shrink by lr·l1; not so without it', () => {
    // θ = [0.05, −0.05, 1, −1, 0, 0.3, 0.08, −0.07, 2], g = 0, lr = 1, l1 = 0.1: soft threshold at 0.1.
    const theta = Float32Array.of(0.05, -0.05, 1, -1, 0, 0.3, 0.08, -0.07, 2), n = theta.length;
    const pp = put(e, theta), pg = put(e, new Float32Array(n));
    e.k.f32_sgd_step(pp, pg, 0, 0, 0, 1, n, 1, f(0.1), 0, 0, 0, 1);
    const got = Array.from(get(e, pp, n));
    expect(got.map((v) => v === 0)).toEqual([true, true, false, false, true, false, true, true, false]);
    assertClose(got, [0, 0, 0.9, -0.9, 0, 0.2, 0, 0, 1.9], 1e-7, 1e-6, 'soft threshold');
    e.f32.set(theta, pp >> 2);
    e.k.f32_sgd_step(pp, pg, 0, 0, 0, 0, n, 1, f(0.1), 0, 0, 0, 1);
    // the subgradient step overshoots: 0.05 − 0.1 = −0.05, never exactly 0 (except θ = 0, where sign = 0)
    expect(Array.from(get(e, pp, n)).filter((v) => v === 0).length).toBe(1);
    e.release(pp);
    e.release(pg);
  });

  for (const spec of SPECS) {
    for (const [vname, hp] of Object.entries(spec.variants)) {
      for (const [xname, ex] of Object.entries(EXTRAS)) {
        it(`${spec.kernel} › ${vname} › ${xname} › n ∈ {${SIZES.join(',')}}, ${STEPS} steps`, () => {
          let seed = 1;
          for (const n of SIZES) runCase(e, spec, hp, ex, n, 1000 * n + seed++, `${isa} ${spec.kernel} ${vname} ${xname}`);
        });
      }
    }

    it(`${spec.kernel} › kink and extreme values: θ ∈ {−1, 0, 1}, g ∈ {±300, ±1, 0}: finite and as the reference`, () => {
      const G = [-300, -1, 0, 1, 300];
      for (const [vname, hp] of Object.entries(spec.variants)) {
        for (const ex of [EXTRAS.plain, EXTRAS.all]) {
          for (const n of [5, 37]) {
            const theta = runCase(e, spec, hp, ex, n, n, `${isa} ${spec.kernel} ${vname} kinks`, {
              thetaAt: (i) => [-1, 0, 1][i % 3],
              gradAt: (t, i) => G[(i + t) % 5],
            });
            expect(theta.every(Number.isFinite)).toBe(true);
          }
        }
      }
    });

    it(`${spec.kernel} › state that decays below 2^-126 (g = 0) is flushed to exactly 0, never left subnormal`, () => {
      // Subnormal state makes every later step ~20× slower on x86 (assembly/optim.ts, ftz).
      const n = 37, isSub = (x: number) => x !== 0 && Math.abs(x) < 2 ** -126;
      const c: Common = { lr: spec.lr, l1: 0, l2: 0, wd: 0, clip: 0, gscale: 1 };
      for (const [vname, hp] of Object.entries(spec.variants)) {
        const names = spec.states(hp);
        const pp = put(e, Float32Array.from({ length: n }, (_, i) => 0.5 - i / n)), pg = put(e, new Float32Array(n));
        // Just above 2^-126: every decay factor ≤ 0.999 takes it below within the 30 steps.
        const st = Object.fromEntries(names.map((s) => [s, put(e, Float32Array.from({ length: n }, (_, i) => 1.1760e-38 * (1 + i / n / 100)))]));
        for (let t = 1; t <= 30; t++) spec.call(e.k as unknown as K, pp, pg, st, hp, n, c, t);
        for (const s of names) expect(Array.from(get(e, st[s], n)).filter(isSub), `${vname} ${s}`).toEqual([]);
        for (const p of [pp, pg, ...Object.values(st)]) e.release(p);
      }
    });

    it(`${spec.kernel} › every buffer in turn flush against the end of memory: no over-read or over-write`, () => {
      const variants = Object.values(spec.variants);
      const hp = variants[variants.length - 1]; // the variant using the most state
      for (const n of [1, 5, 37]) {
        for (const flush of ['p', 'g', ...spec.states(hp)]) {
          runCase(e, spec, hp, EXTRAS.all, n, 3 * n, `${isa} ${spec.kernel} flush ${flush}`, { flush });
        }
      }
    });
  }
});
