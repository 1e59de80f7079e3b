// The fused loss kernels (assembly/loss.ts) on every build against the float64 references of
// src/reference.ts: returned batch-mean loss, written gradient (already scaled by 1/M or
// 1/(M·N)), dpred = 0 (loss only), dpred aliasing pred, kinks and extremes.
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/wasm.js';
import { assertClose } from '../util/close.js';
import { ALL_ISAS, engineFor, get, put } from '../util/engines.js';
import { bceLogitsRef, cceProbsRef, bceProbsRef, type LossRef, maeRef, mseRef, nllRef, softmaxRef, softmaxXentRef } from '../../src/reference.js';
import { rng, uniform } from '../util/rng.js';

const ROWS = [1, 2, 3, 5, 37, 128];
const COLS = [1, 2, 3, 4, 5, 7, 8, 9, 10, 37];
const SHAPES: [number, number][] = [...ROWS.flatMap((M) => COLS.map((N) => [M, N] as [number, number])), [128, 784], [784, 10]];
// Loss values: f32 inputs, f64 sums. Gradients are O(1/n): tolerance relative to that scale.
const LOSS_TOL = { atol: 1e-6, rtol: 1e-5 };
const gradAtol = (n: number) => 1e-6 / n;

function release(e: Engine, ...ptrs: number[]) {
  for (const p of ptrs) e.release(p);
}

type ElementKernel = 'f32_mse' | 'f32_mae' | 'f32_bce_logits' | 'f32_bce_probs';
const EPS = Math.fround(1e-7);

interface ElementCase {
  kernel: ElementKernel;
  pred: (r: () => number, n: number) => Float32Array;
  target: (r: () => number, n: number, pred: Float32Array) => Float32Array;
  ref: (p: Float32Array, t: Float32Array) => LossRef;
}

const ELEMENT: ElementCase[] = [
  { kernel: 'f32_mse', pred: (r, n) => uniform(r, n, -3, 3), target: (r, n) => uniform(r, n, -3, 3), ref: mseRef },
  {
    // every fifth target equals its prediction: the kink, where the gradient is 0
    kernel: 'f32_mae', pred: (r, n) => uniform(r, n, -3, 3),
    target: (r, n, p) => uniform(r, n, -3, 3).map((v, i) => (i % 5 === 0 ? p[i] : v)), ref: maeRef,
  },
  {
    kernel: 'f32_bce_logits',
    pred: (r, n) => uniform(r, n, -8, 8).map((v, i) => [300, -300, 0, 1, -1][i % 7] ?? v),
    target: (r, n) => uniform(r, n, 0, 1).map((v, i) => (i % 3 === 0 ? Math.round(v) : v)), ref: bceLogitsRef,
  },
  {
    // p hits 0, 1, eps and values inside: the clamp and its edges
    kernel: 'f32_bce_probs',
    pred: (r, n) => uniform(r, n, 0.001, 0.999).map((v, i) => [0, 1, EPS, 1e-9, 0.99999994][i % 9] ?? v),
    target: (r, n) => uniform(r, n, 0, 1).map((v, i) => (i % 2 === 0 ? Math.round(v) : v)),
    ref: (p, t) => bceProbsRef(p, t, EPS),
  },
];

describe.each(ALL_ISAS)('losses on the %s build', (isa) => {
  const e = engineFor(isa);
  // sw: sample weights pointer (0 = none); ls: label smoothing (binary losses only).
  const call = (kernel: ElementKernel, d: number, p: number, t: number, M: number, N: number, sw = 0, ls = 0) =>
    kernel === 'f32_bce_probs' ? e.k.f32_bce_probs(d, p, t, M, N, sw, ls, EPS)
      : kernel === 'f32_bce_logits' ? e.k.f32_bce_logits(d, p, t, M, N, sw, ls) : e.k[kernel](d, p, t, M, N, sw);

  for (const c of ELEMENT) {
    it(`${c.kernel} › M×N over ${SHAPES.length} shapes; dpred written, dpred = 0, dpred = pred`, () => {
      for (const [M, N] of SHAPES) {
        const n = M * N, r = rng(M * 101 + N);
        const p = c.pred(r, n), t = c.target(r, n, p);
        const want = c.ref(p, t);
        const pp = put(e, p), pt = put(e, t), pd = put(e, new Float32Array(n).fill(NaN));
        const loss = call(c.kernel, pd, pp, pt, M, N);
        expect(Number.isFinite(loss)).toBe(true);
        assertClose([loss], [want.loss], LOSS_TOL.atol, LOSS_TOL.rtol, `${c.kernel} ${M}×${N} loss`);
        const grad = get(e, pd, n);
        assertClose(grad, want.grad, gradAtol(n), 1e-5, `${c.kernel} ${M}×${N} dpred`);
        expect(call(c.kernel, 0, pp, pt, M, N)).toBe(loss);
        expect(call(c.kernel, pp, pp, pt, M, N)).toBe(loss);
        expect(get(e, pp, n)).toEqual(grad);
        release(e, pp, pt, pd);
      }
    });
  }

  it('f32_mse › hand case: pred [1, 2], target [0, 0] → (1 + 4)/2 = 2.5, grad 2d/2 = [1, 2]', () => {
    const pp = put(e, new Float32Array([1, 2])), pt = put(e, new Float32Array([0, 0])), pd = e.alloc(8);
    expect(e.k.f32_mse(pd, pp, pt, 1, 2, 0)).toBe(2.5);
    expect(Array.from(get(e, pd, 2))).toEqual([1, 2]);
    release(e, pp, pt, pd);
  });

  it('f32_mae › kink: pred = target gives gradient 0; signs ±1/n elsewhere', () => {
    const pp = put(e, new Float32Array([1, 2, -1, 0])), pt = put(e, new Float32Array([1, 0, 0, 0])), pd = e.alloc(16);
    expect(e.k.f32_mae(pd, pp, pt, 2, 2, 0)).toBe(0.75);
    expect(Array.from(get(e, pd, 4))).toEqual([0, 0.25, -0.25, 0]);
    release(e, pp, pt, pd);
  });

  it('f32_bce_logits › z = ±300 with t ∈ {0, ½, 1}: finite loss and gradient', () => {
    const z = Float32Array.from([300, 300, 300, -300, -300, -300, 0]);
    const t = Float32Array.from([0, 0.5, 1, 0, 0.5, 1, 0.5]);
    const pz = put(e, z), pt = put(e, t), pd = e.alloc(28);
    const loss = e.k.f32_bce_logits(pd, pz, pt, 1, 7, 0, 0);
    // per element: 300, 150, 0, 0, 150, 300, ln 2
    assertClose([loss], [(900 + Math.LN2) / 7], 1e-9, 1e-9, 'bce ±300 loss');
    assertClose(get(e, pd, 7), [1, 0.5, 0, 0, -0.5, -1, 0].map((v) => v / 7), 1e-9, 1e-6, 'bce ±300 grad');
    release(e, pz, pt, pd);
  });

  it('f32_bce_probs › clamped p (0, 1, below eps) has gradient 0 and a finite loss', () => {
    const p = Float32Array.from([0, 1, 1e-9, 0.5]), t = Float32Array.from([1, 0, 0.5, 1]);
    const pp = put(e, p), pt = put(e, t), pd = e.alloc(16);
    const loss = e.k.f32_bce_probs(pd, pp, pt, 1, 4, 0, 0, EPS);
    assertClose([loss], [bceProbsRef(p, t, EPS).loss], 1e-9, 1e-9, 'bce_probs clamp loss');
    const g = Array.from(get(e, pd, 4));
    expect(g.slice(0, 3)).toEqual([0, 0, 0]);
    assertClose([g[3]], [-2 / 4], 1e-9, 1e-6, 'bce_probs p = ½, t = 1: −t/p/n');
    release(e, pp, pt, pd);
  });

  // ---- integer labels ----

  for (const kernel of ['f32_softmax_xent', 'f32_nll'] as const) {
    const ref = kernel === 'f32_softmax_xent' ? softmaxXentRef : nllRef;
    it(`${kernel} › M×N over ${SHAPES.length} shapes, with and without class weights; loss, dlogits, correct`, () => {
      for (const [M, N] of SHAPES) {
        const r = rng(M * 7 + N * 3);
        let x = uniform(r, M * N, -5, 5);
        if (kernel === 'f32_nll') x = Float32Array.from(softmaxRef(x, M, N).map(Math.log));
        const labels = Int32Array.from({ length: M }, () => Math.floor(r() * N));
        // make some rows correct: put the label at the max
        for (let i = 0; i < M; i += 2) x[i * N + labels[i]] = 6;
        const w = uniform(r, N, 0.1, 3);
        const px = put(e, x), pl = e.upload(labels), pw = put(e, w), pd = e.alloc(M * N * 4), pc = e.upload(Int32Array.of(-7));
        for (const weighted of [false, true]) {
          const want = ref(x, labels, M, N, weighted ? w : undefined);
          const loss = e.k[kernel](pd, px, pl, M, N, weighted ? pw : 0, 0, pc, 0);
          const what = `${kernel} ${M}×${N} weighted=${weighted}`;
          assertClose([loss], [want.loss], LOSS_TOL.atol, LOSS_TOL.rtol, `${what} loss`);
          assertClose(get(e, pd, M * N), want.grad, gradAtol(M), 1e-5, `${what} dlogits`);
          expect(e.i32[pc >> 2], `${what} correct`).toBe(want.correct);
          expect(e.k[kernel](0, px, pl, M, N, weighted ? pw : 0, 0, 0, 0)).toBe(loss);
        }
        // dlogits = logits aliased
        const grad = get(e, pd, M * N);
        const loss = e.k[kernel](px, px, pl, M, N, pw, 0, 0, 0);
        assertClose([loss], [ref(x, labels, M, N, w).loss], LOSS_TOL.atol, LOSS_TOL.rtol, `${kernel} ${M}×${N} aliased loss`);
        expect(get(e, px, M * N)).toEqual(grad);
        release(e, px, pl, pw, pd, pc);
      }
    });
  }

  it(`f32_cce_probs › M×N over ${SHAPES.length} shapes on softmax outputs, with and without class weights`, () => {
    for (const [M, N] of SHAPES) {
      const r = rng(M * 5 + N);
      const p = Float32Array.from(softmaxRef(uniform(r, M * N, -4, 4), M, N));
      const labels = Int32Array.from({ length: M }, () => Math.floor(r() * N));
      const w = uniform(r, N, 0.1, 3);
      const pp = put(e, p), pl = e.upload(labels), pw = put(e, w), pd = e.alloc(M * N * 4), pc = e.alloc(4);
      for (const weighted of [false, true]) {
        const want = cceProbsRef(p, labels, M, N, EPS, weighted ? w : undefined);
        const loss = e.k.f32_cce_probs(pd, pp, pl, M, N, weighted ? pw : 0, 0, pc, 0, EPS);
        const what = `f32_cce_probs ${M}×${N} weighted=${weighted}`;
        assertClose([loss], [want.loss], LOSS_TOL.atol, LOSS_TOL.rtol, `${what} loss`);
        assertClose(get(e, pd, M * N), want.grad, gradAtol(M), 1e-5, `${what} dp`);
        expect(e.i32[pc >> 2], `${what} correct`).toBe(want.correct);
      }
      release(e, pp, pl, pw, pd, pc);
    }
  });

  it('f32_cce_probs › p = 0 and p = 1 are clamped: finite loss, gradient 0 where clamped', () => {
    // row 0: p_y = 0 → −log(eps), gradient 0 (clamped); row 1: p_y = ½ → ln 2, gradient −1/(2·½) = −1.
    const pp = put(e, Float32Array.of(0, 1, 0.5, 0.5)), pl = e.upload(Int32Array.of(0, 1)), pd = e.alloc(16);
    const loss = e.k.f32_cce_probs(pd, pp, pl, 2, 2, 0, 0, 0, 0, EPS);
    assertClose([loss], [(-Math.log(EPS) + Math.LN2) / 2], 1e-6, 1e-6, 'cce clamp loss');
    expect(Array.from(get(e, pd, 4))).toEqual([0, 0, 0, -1]);
    release(e, pp, pl, pd);
  });

  it('f32_softmax_xent › hand case: logits [0, 0], label 0, M = 2 → ln 2, gradient [−0.25, 0.25] per row', () => {
    // softmax([0, 0]) = [½, ½]; l = logsumexp − z_0 = ln(e⁰ + e⁰) − 0 = ln 2 per row, mean ln 2.
    // ∂L/∂z = (softmax − onehot)/M = ([½, ½] − [1, 0])/2 = [−0.25, 0.25] for each of the 2 rows.
    const pz = put(e, new Float32Array(4)), pl = e.upload(Int32Array.of(0, 0)), pd = e.alloc(16), pc = e.alloc(4);
    const loss = e.k.f32_softmax_xent(pd, pz, pl, 2, 2, 0, 0, pc, 0);
    assertClose([loss], [Math.LN2], 1e-12, 1e-12, 'ln 2');
    expect(Array.from(get(e, pd, 4))).toEqual([-0.25, 0.25, -0.25, 0.25]);
    expect(e.i32[pc >> 2]).toBe(1 * 2); // ties: the first max (index 0) is the label in both rows
    release(e, pz, pl, pd, pc);
  });

  it('f32_softmax_xent › class weights: w[y]·(lse − z_y) summed and divided by M, not by Σ w', () => {
    // rows: logits [0, 0] label 1 (w = 3), logits [0, 0] label 0 (w = 0.5) → (3 + 0.5)·ln 2 / 2
    const pz = put(e, new Float32Array(4)), pl = e.upload(Int32Array.of(1, 0)), pw = put(e, Float32Array.of(0.5, 3));
    const pd = e.alloc(16);
    const loss = e.k.f32_softmax_xent(pd, pz, pl, 2, 2, pw, 0, 0, 0);
    assertClose([loss], [(3.5 * Math.LN2) / 2], 1e-9, 1e-7, 'weighted loss');
    // row 0: 3·([½, ½] − [0, 1])/2 = [0.75, −0.75]; row 1: 0.5·([½, ½] − [1, 0])/2 = [−0.125, 0.125]
    expect(Array.from(get(e, pd, 4))).toEqual([0.75, -0.75, -0.125, 0.125]);
    release(e, pz, pl, pw, pd);
  });

  it('f32_softmax_xent › logits at ±300: finite loss and gradient, matches the reference', () => {
    const M = 3, N = 5;
    const z = Float32Array.from([300, -300, 0, 300, -300, -300, -300, -300, -300, -300, 300, 299, -300, 0, 1]);
    const labels = Int32Array.of(1, 4, 0);
    const pz = put(e, z), pl = e.upload(labels), pd = e.alloc(M * N * 4), pc = e.alloc(4);
    const loss = e.k.f32_softmax_xent(pd, pz, pl, M, N, 0, 0, pc, 0);
    const want = softmaxXentRef(z, labels, M, N);
    expect(Number.isFinite(loss)).toBe(true);
    assertClose([loss], [want.loss], 1e-6, 1e-6, 'xent ±300 loss');
    const g = get(e, pd, M * N);
    expect(Array.from(g).every(Number.isFinite)).toBe(true);
    assertClose(g, want.grad, 1e-7, 1e-5, 'xent ±300 grad');
    expect(e.i32[pc >> 2]).toBe(want.correct);
    release(e, pz, pl, pd, pc);
  });

  for (const kernel of ['f32_softmax_xent', 'f32_nll'] as const) {
    it(`${kernel} › labels −1 and N read inside the row (clamped), give finite results and never count as correct`, () => {
      const M = 2, N = 3;
      const x = Float32Array.from([-1, -2, -3, -3, -2, -1]);
      const pz = put(e, x), pl = e.upload(Int32Array.of(-1, 3)), pd = e.alloc(M * N * 4), pc = e.alloc(4);
      const loss = e.k[kernel](pd, pz, pl, M, N, 0, 0, pc, 0);
      expect(Number.isFinite(loss)).toBe(true);
      expect(Array.from(get(e, pd, M * N)).every(Number.isFinite)).toBe(true);
      expect(e.i32[pc >> 2]).toBe(0);
      release(e, pz, pl, pd, pc);
    });
  }

  it('f32_nll › hand case: logp row [ln ½, ln ½] label 1, weights [1, 4] → 4·ln 2, grad [0, −4]', () => {
    const pz = put(e, Float32Array.of(-Math.LN2, -Math.LN2)), pl = e.upload(Int32Array.of(1)), pw = put(e, Float32Array.of(1, 4));
    const pd = put(e, Float32Array.of(9, 9));
    const loss = e.k.f32_nll(pd, pz, pl, 1, 2, pw, 0, 0, 0);
    assertClose([loss], [4 * Math.LN2], 1e-6, 1e-6, 'nll hand');
    expect(Array.from(get(e, pd, 2))).toEqual([0, -4]);
    release(e, pz, pl, pw, pd);
  });
});

// ---- sample weights, label smoothing, distribution targets (issue 15) ----

/** Central differences of f at p (float64). */
function numGrad(f: (p: Float64Array) => number, p: ArrayLike<number>, h = 1e-6): Float64Array {
  const x = Float64Array.from(p);
  return x.map((v, i) => {
    x[i] = v + h; const up = f(x);
    x[i] = v - h; const dn = f(x);
    x[i] = v;
    return (up - dn) / (2 * h);
  });
}

/** A random distribution per row (rows sum to 1; some entries exactly 0). */
function distribution(r: () => number, M: number, N: number): Float32Array {
  const t = uniform(r, M * N, 0, 1).map((v, i) => (i % 3 === 1 ? 0 : v));
  for (let i = 0; i < M; i++) {
    let s = 0;
    for (let j = 0; j < N; j++) s += t[i * N + j];
    for (let j = 0; j < N; j++) t[i * N + j] = s > 0 ? t[i * N + j] / s : 1 / N;
  }
  return t;
}

describe('loss references with sample weights, smoothing and distributions (float64)', () => {
  const M = 5, N = 4, r = rng(15);
  const sw = uniform(r, M, 0, 3), cw = uniform(r, N, 0.2, 2);
  const z = uniform(r, M * N, -3, 3), t01 = uniform(r, M * N, 0, 1), labels = Int32Array.of(0, 3, 1, 1, 2);
  const probs = Float64Array.from(softmaxRef(z, M, N)), soft = distribution(r, M, N);
  const cases: [string, (p: Float64Array) => LossRef][] = [
    ['mse sw', (p) => mseRef(p, t01, { sw })],
    ['mae sw', (p) => maeRef(p, t01, { sw })],
    ['bce logits sw ε=0.2', (p) => bceLogitsRef(p, t01, { sw, smoothing: 0.2 })],
    ['bce probs sw ε=0.1', (p) => bceProbsRef(p, t01, 1e-7, { sw, smoothing: 0.1 })],
    ['softmax xent labels sw cw ε=0.1', (p) => softmaxXentRef(p, labels, M, N, cw, { sw, smoothing: 0.1 })],
    ['softmax xent soft sw cw ε=0.3', (p) => softmaxXentRef(p, soft, M, N, cw, { sw, smoothing: 0.3, soft: true })],
    ['nll soft sw', (p) => nllRef(p, soft, M, N, undefined, { sw, soft: true })],
    ['cce probs labels ε=0.1', (p) => cceProbsRef(p, labels, M, N, 1e-7, undefined, { sw, smoothing: 0.1 })],
    ['cce probs soft cw', (p) => cceProbsRef(p, soft, M, N, 1e-7, cw, { sw, soft: true })],
  ];
  for (const [name, f] of cases) {
    it(`${name} › grad = ∇ loss by central differences`, () => {
      const p = name.startsWith('cce') || name.startsWith('bce probs') ? probs.map((v) => 0.05 + 0.9 * v) : Float64Array.from(z);
      assertClose(f(p).grad, numGrad((v) => f(v).loss, p), 1e-8, 1e-6, name);
    });
  }
  it('Keras semantics by hand: mse with sample weights [2, 0] over 2 rows → (2·1 + 0·4)/2 = 1 (divided by the batch size, not Σw)', () => {
    // rows: pred 1 vs 0 (error² 1), pred 2 vs 0 (error² 4)
    expect(mseRef([1, 2], [0, 0], { sw: [2, 0] }).loss).toBe(1);
  });
  it('label smoothing by hand: softmax xent of logits [0, 0], label 0, ε = 0.2 → ln 2; gradient softmax − (0.9, 0.1)', () => {
    const r1 = softmaxXentRef([0, 0], [0], 1, 2, undefined, { smoothing: 0.2 });
    assertClose([r1.loss], [Math.LN2], 1e-15, 1e-12, 'ln 2');
    assertClose(r1.grad, [0.5 - 0.9, 0.5 - 0.1], 1e-15, 1e-12, 'grad');
  });
  it('a one-hot distribution gives the loss and gradient of its labels', () => {
    const oh = new Float32Array(M * N);
    labels.forEach((y, i) => (oh[i * N + y] = 1));
    for (const ls of [0, 0.1]) {
      const a = softmaxXentRef(z, labels, M, N, cw, { sw, smoothing: ls }), b = softmaxXentRef(z, oh, M, N, cw, { sw, smoothing: ls, soft: true });
      assertClose([b.loss], [a.loss], 1e-15, 1e-12, 'loss');
      assertClose(b.grad, a.grad, 1e-15, 1e-12, 'grad');
      expect(b.correct).toBe(a.correct);
    }
  });
});

describe.each(ALL_ISAS)('losses with sample weights, smoothing and distributions on the %s build', (isa) => {
  const e = engineFor(isa);
  const SUBSET: [number, number][] = [[1, 1], [1, 2], [3, 5], [5, 7], [37, 10], [128, 9], [2, 37]];

  for (const c of ELEMENT) {
    const smooths = c.kernel.startsWith('f32_bce') ? [0, 0.15] : [0];
    it(`${c.kernel} › sample weights (0, fractions, > 1) × smoothing ${smooths.join(', ')}: loss and dpred as the reference`, () => {
      for (const [M, N] of SUBSET) {
        const n = M * N, r = rng(M * 13 + N);
        const p = c.pred(r, n), t = c.target(r, n, p);
        const sw = uniform(r, M, 0, 3).map((v, i) => (i % 4 === 0 ? 0 : v));
        const pp = put(e, p), pt = put(e, t), psw = put(e, sw), pd = e.alloc(n * 4);
        for (const ls of smooths) {
          const o = { sw, smoothing: Math.fround(ls) };
          const want = c.kernel === 'f32_mse' ? mseRef(p, t, o) : c.kernel === 'f32_mae' ? maeRef(p, t, o)
            : c.kernel === 'f32_bce_logits' ? bceLogitsRef(p, t, o) : bceProbsRef(p, t, EPS, o);
          const loss = call(c.kernel, pd, pp, pt, M, N, psw, ls);
          assertClose([loss], [want.loss], LOSS_TOL.atol, LOSS_TOL.rtol, `${c.kernel} ${M}×${N} ε=${ls} loss`);
          assertClose(get(e, pd, n), want.grad, 3 * gradAtol(n), 1e-5, `${c.kernel} ${M}×${N} ε=${ls} dpred`);
        }
        release(e, pp, pt, psw, pd);
      }
    });
  }

  const call = (kernel: ElementKernel, d: number, p: number, t: number, M: number, N: number, sw: number, ls: number) =>
    kernel === 'f32_bce_probs' ? e.k.f32_bce_probs(d, p, t, M, N, sw, ls, EPS)
      : kernel === 'f32_bce_logits' ? e.k.f32_bce_logits(d, p, t, M, N, sw, ls) : e.k[kernel](d, p, t, M, N, sw);

  const CLASS = [
    { name: 'softmax_xent', ref: (p: Float32Array, t: ArrayLike<number>, M: number, N: number, cw: Float32Array | undefined, o: object) => softmaxXentRef(p, t, M, N, cw, o) },
    { name: 'nll', ref: (p: Float32Array, t: ArrayLike<number>, M: number, N: number, cw: Float32Array | undefined, o: object) => nllRef(p, t, M, N, cw, o) },
    { name: 'cce_probs', ref: (p: Float32Array, t: ArrayLike<number>, M: number, N: number, cw: Float32Array | undefined, o: object) => cceProbsRef(p, t, M, N, EPS, cw, o) },
  ] as const;
  for (const c of CLASS) {
    it(`f32_${c.name} and f32_${c.name}_soft › labels and distributions × class and sample weights × smoothing; dpred = pred aliased`, () => {
      for (const [M, N] of SUBSET) {
        const r = rng(M * 31 + N);
        const z = uniform(r, M * N, -4, 4);
        const x = c.name === 'softmax_xent' ? z : c.name === 'nll' ? Float32Array.from(softmaxRef(z, M, N).map(Math.log)) : Float32Array.from(softmaxRef(z, M, N));
        const labels = Int32Array.from({ length: M }, () => Math.floor(r() * N));
        const dist = distribution(r, M, N);
        const cw = uniform(r, N, 0.1, 3), sw = uniform(r, M, 0, 2).map((v, i) => (i % 5 === 2 ? 0 : v));
        const px = put(e, x), pl = e.upload(labels), pt = put(e, dist), pcw = put(e, cw), psw = put(e, sw), pd = e.alloc(M * N * 4), pc = e.alloc(4);
        for (const soft of [false, true]) {
          for (const ls of c.name === 'nll' ? [0] : [0, 0.1]) {
            for (const weighted of [false, true]) {
              const what = `f32_${c.name}${soft ? '_soft' : ''} ${M}×${N} ε=${ls} weighted=${weighted}`;
              const o = { soft, smoothing: Math.fround(ls), sw: weighted ? sw : undefined };
              const want = c.ref(x, soft ? dist : labels, M, N, weighted ? cw : undefined, o);
              const k = (d: number) => {
                const args = [d, px, soft ? pt : pl, M, N, weighted ? pcw : 0, weighted ? psw : 0, pc, ls] as const;
                if (c.name === 'cce_probs') return soft ? e.k.f32_cce_probs_soft(...args, EPS) : e.k.f32_cce_probs(...args, EPS);
                if (c.name === 'nll') return soft ? e.k.f32_nll_soft(...args) : e.k.f32_nll(...args);
                return soft ? e.k.f32_softmax_xent_soft(...args) : e.k.f32_softmax_xent(...args);
              };
              const loss = k(pd);
              assertClose([loss], [want.loss], LOSS_TOL.atol, LOSS_TOL.rtol, `${what} loss`);
              assertClose(get(e, pd, M * N), want.grad, 3 * gradAtol(M), 1e-5, `${what} dpred`);
              expect(e.i32[pc >> 2], `${what} correct`).toBe(want.correct);
              expect(k(0), `${what} loss only`).toBe(loss);
            }
          }
        }
        // dpred aliasing pred on the soft path with smoothing
        const grad = (() => {
          const a = [pd, px, pt, M, N, pcw, psw, pc, 0.1] as const;
          c.name === 'cce_probs' ? e.k.f32_cce_probs_soft(...a, EPS) : c.name === 'nll' ? e.k.f32_nll_soft(...a) : e.k.f32_softmax_xent_soft(...a);
          return get(e, pd, M * N);
        })();
        const a = [px, px, pt, M, N, pcw, psw, pc, 0.1] as const;
        c.name === 'cce_probs' ? e.k.f32_cce_probs_soft(...a, EPS) : c.name === 'nll' ? e.k.f32_nll_soft(...a) : e.k.f32_softmax_xent_soft(...a);
        expect(get(e, px, M * N), `f32_${c.name}_soft ${M}×${N} aliased`).toEqual(grad);
        release(e, px, pl, pt, pcw, psw, pd, pc);
      }
    });
  }

  it('f32_softmax_xent_soft › soft rows: the class weight and `correct` follow the target argmax', () => {
    // row 0: target (0.2, 0.8), logits (0, 1): argmax 1 = 1 → correct, weight cw[1] = 3
    // row 1: target (0.6, 0.4), logits (0, 1): argmax 1 ≠ 0 → not correct, weight cw[0] = 0.5
    const z = Float32Array.of(0, 1, 0, 1), t = Float32Array.of(0.2, 0.8, 0.6, 0.4), cw = Float32Array.of(0.5, 3);
    const pz = put(e, z), pt = put(e, t), pcw = put(e, cw), pc = e.alloc(4);
    const loss = e.k.f32_softmax_xent_soft(0, pz, pt, 2, 2, pcw, 0, pc, 0);
    const lse = Math.log(1 + Math.E);
    assertClose([loss], [(3 * (lse - 0.8) + 0.5 * (lse - 0.4)) / 2], 1e-7, 1e-6, 'weighted soft loss');
    expect(e.i32[pc >> 2]).toBe(1);
    release(e, pz, pt, pcw, pc);
  });
});
