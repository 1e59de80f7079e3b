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
