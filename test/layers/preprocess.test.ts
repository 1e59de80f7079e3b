// Preprocessing layers: the per-column affine kernels (f32_col_affine_fwd/_bwd, f32_inv_std) on
// every build against the float64 references, the references against central differences, and
// nn.normalization / nn.rescaling as layers: adapt, Keras's formula, non-trainable weights, save
// and load, any position, refusals.
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import type { Engine } from '../../src/wasm.js';
import { NORM_EPS, colAffineBwdRef, colAffineRef, columnStatsRef, invStdRef } from '../../src/reference.js';
import { assertClose } from '../util/close.js';
import { ALL_ISAS, engineFor, get, put } from '../util/engines.js';
import { rng, uniform } from '../util/rng.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';

type K = Record<string, (...a: number[]) => number>;
const kern = (e: Engine) => e.k as unknown as K;
// Sizes: 1, the SIMD tile (4) ± 1, 2·tile + 3, a prime, and the model shapes (13 Boston features, 784 pixels).
const MS = [1, 2, 3, 37];
const NS = [1, 3, 4, 5, 8, 11, 13, 37, 784];
// One subtraction and one multiplication (and an addition) in f32: a few ulps.
const TOL = { atol: 1e-6, rtol: 4e-7 };

const models: nn.Sequential[] = [];
afterAll(() => models.forEach((m) => m.dispose()));
const keep = (m: nn.Sequential) => (models.push(m), m);

describe.each(ALL_ISAS)('per-column affine kernels (%s)', (isa) => {
  const e = engineFor(isa);
  it.each(MS)('f32_col_affine_fwd › M = %i, every N, with and without shift and offset, and aliased', (M) => {
    const r = rng(M);
    for (const N of NS) {
      const x = uniform(r, M * N, -50, 50), c = uniform(r, N, -20, 20), s = uniform(r, N, -3, 3), o = uniform(r, N, -1, 1);
      for (const [withShift, withOffset] of [[true, false], [false, true], [true, true], [false, false]]) {
        for (const alias of [false, true]) {
          const px = put(e, x), pc = put(e, c), ps = put(e, s), po = put(e, o), out = alias ? px : e.alloc(M * N * 4);
          kern(e).f32_col_affine_fwd(out, px, withShift ? pc : 0, ps, withOffset ? po : 0, M, N);
          const want = colAffineRef(x, withShift ? c : undefined, s, withOffset ? o : undefined, M, N);
          assertClose(get(e, out, M * N), want, TOL.atol * 50, TOL.rtol, `f32_col_affine_fwd_${isa} ${M}×${N} shift ${withShift} offset ${withOffset} alias ${alias}`);
          for (const p of new Set([px, pc, ps, po, out])) e.release(p);
        }
      }
    }
  });
  it.each(MS)('f32_col_affine_bwd › M = %i, every N (dx written, not added)', (M) => {
    const r = rng(100 + M);
    for (const N of NS) {
      const dy = uniform(r, M * N), s = uniform(r, N, -3, 3);
      const pdy = put(e, dy), ps = put(e, s), pdx = put(e, new Float32Array(M * N).fill(7));
      kern(e).f32_col_affine_bwd(pdx, pdy, ps, M, N);
      assertClose(get(e, pdx, M * N), colAffineBwdRef(dy, s, M, N), TOL.atol, TOL.rtol, `f32_col_affine_bwd_${isa} ${M}×${N}`);
      for (const p of [pdy, ps, pdx]) e.release(p);
    }
  });
  it('f32_inv_std › every N; variance 0, tiny and huge (the eps floor is a max, not a sum)', () => {
    const r = rng(9);
    for (const N of NS) {
      const v = uniform(r, N, 0, 10);
      v[0] = 0;
      if (N > 1) v[1] = 1e-20;
      if (N > 2) v[2] = 1e30;
      const pv = put(e, v), out = e.alloc(N * 4);
      kern(e).f32_inv_std(out, pv, N, NORM_EPS);
      const got = get(e, out, N);
      assertClose(got, invStdRef(v), 0, 2e-7, `f32_inv_std_${isa} N=${N}`);
      expect(got[0]).toBe(Math.fround(1 / NORM_EPS));
      e.release(pv); e.release(out);
    }
  });
  it('a constant column maps to exactly 0 (x − mean, then the scale)', () => {
    const M = 5, N = 6, c = Math.fround(0.1);
    const x = new Float32Array(M * N).fill(c);
    const st = columnStatsRef(x, M, N);
    expect(Array.from(st.variance)).toEqual(new Array(N).fill(0));
    const pm = put(e, Float32Array.from(st.mean)), pv = put(e, Float32Array.from(st.variance)), px = put(e, x), ps = e.alloc(N * 4), out = e.alloc(M * N * 4);
    kern(e).f32_inv_std(ps, pv, N, NORM_EPS);
    kern(e).f32_col_affine_fwd(out, px, pm, ps, 0, M, N);
    expect(Array.from(get(e, out, M * N))).toEqual(new Array(M * N).fill(0));
    for (const p of [pm, pv, px, ps, out]) e.release(p);
  });
});

describe('float64 references against central differences', () => {
  // L = Σ w ⊙ f(x): dL/dx by the backward reference, by (L(x + h) − L(x − h))/2h.
  it('colAffineBwdRef is the gradient of colAffineRef (and of normalization with its statistics fixed)', () => {
    const M = 3, N = 4, r = rng(5), h = 1e-6;
    const x = Float64Array.from(uniform(r, M * N, -2, 2)), w = Float64Array.from(uniform(r, M * N));
    const c = uniform(r, N), s = Float64Array.from(invStdRef(uniform(r, N, 0.1, 4))), o = uniform(r, N);
    const L = (xx: Float64Array) => colAffineRef(xx, c, s, o, M, N).reduce((a, v, i) => a + v * w[i], 0);
    const dx = colAffineBwdRef(w, s, M, N);
    for (let i = 0; i < M * N; i++) {
      const xp = x.slice(), xm = x.slice();
      xp[i] += h; xm[i] -= h;
      expect(Math.abs((L(xp) - L(xm)) / (2 * h) - dx[i])).toBeLessThan(1e-8);
    }
  });
  it('hand-solved: x = [1, 3] → mean 2, variance 1, y = [−1, 1]; dy = [1, 1] → dx = [1, 1]', () => {
    const st = columnStatsRef([1, 3], 2, 1);
    expect([st.mean[0], st.variance[0]]).toEqual([2, 1]);
    expect(Array.from(colAffineRef([1, 3], st.mean, invStdRef(st.variance), undefined, 2, 1))).toEqual([-1, 1]);
    expect(Array.from(colAffineBwdRef([1, 1], invStdRef(st.variance), 2, 1))).toEqual([1, 1]);
  });
});

/** Rows with per-column means far from 0 and spreads far from 1, one constant column. */
function raw(n: number, seed = 2): Float32Array {
  const r = rng(seed), x = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    x[i * 4] = 500 + 100 * r(); x[i * 4 + 1] = -3 + 0.01 * r(); x[i * 4 + 2] = 7; x[i * 4 + 3] = 1e4 * (r() - 0.5);
  }
  return x;
}

describe.each(ALL_ISAS)('nn.normalization (%s)', (isa) => {
  const engine = engineFor(isa);
  const x = raw(64);
  const st = columnStatsRef(x, 64, 4);
  // The formula on the statistics as the model holds them (float32 weights): with a spread of 0.003
  // about −3, the float32 rounding of the mean alone moves outputs by ~4e-5.
  const keras = (v: ArrayLike<number>, M: number) => colAffineRef(v, Float32Array.from(st.mean), invStdRef(Float32Array.from(st.variance)), undefined, M, 4);

  it('adapt (after the model is built) sets mean and population variance in float64; predict follows the Keras formula, the constant column gives 0', () => {
    const norm = nn.normalization();
    const m = keep(nn.sequential({ inputShape: [4], engine }, [norm]));
    norm.adapt(nn.tensor(x, [64, 4]));
    const w = m.getWeights();
    assertClose(w.get('normalization_1/mean')!, st.mean, 0, 1e-7, 'mean');
    assertClose(w.get('normalization_1/variance')!, st.variance, 0, 1e-7, 'variance');
    const y = m.predict(x).data;
    assertClose(y, keras(x, 64), 1e-5, 1e-5, `${isa} normalization forward`);
    for (let i = 0; i < 64; i++) expect(y[i * 4 + 2]).toBe(0);
    // Standardized: mean ≈ 0, population variance ≈ 1 on the data it was adapted on.
    const s2 = columnStatsRef(y, 64, 4);
    for (const j of [0, 1, 3]) { expect(Math.abs(s2.mean[j])).toBeLessThan(1e-4); expect(Math.abs(s2.variance[j] - 1)).toBeLessThan(1e-3); }
  });

  it('adapt before the layer is in a model (Keras style) gives the same model; so do mean/variance options (numbers broadcast)', () => {
    const a = nn.normalization().adapt(nn.tensor(x, [64, 4]));
    const m1 = keep(nn.sequential({ inputShape: [4], engine }, [a, nn.dense(2)]));
    const b = nn.normalization({ mean: Array.from(st.mean), variance: Array.from(st.variance) });
    const m2 = keep(nn.sequential({ inputShape: [4], engine }, [b, nn.dense(2)]));
    expect(Array.from(m1.predict(x).data)).toEqual(Array.from(m2.predict(x).data));
    const c = keep(nn.sequential({ inputShape: [4], engine }, [nn.normalization({ mean: 1, variance: 4 })]));
    assertClose(c.predict(x).data, Array.from(x, (v) => (v - 1) / 2), 1e-6, 1e-6, 'broadcast mean/variance');
  });

  it('on images [n, H, W, C] the statistics are per channel (Keras axis −1), adapted before or after the build; gradients pass through', () => {
    // The 64 rows of 4 features are 16 images of 2×2 positions with 4 channels: the same columns.
    const img = nn.tensor(x, [16, 2, 2, 4]);
    const before = nn.normalization().adapt(img), after = nn.normalization();
    const m1 = keep(nn.sequential({ inputShape: [2, 2, 4], engine }, [before]));
    const m2 = keep(nn.sequential({ inputShape: [2, 2, 4], engine }, [after]));
    after.adapt(img);
    for (const m of [m1, m2]) {
      const w = m.getWeights();
      const mean = [...w.entries()].find(([k]) => k.endsWith('/mean'))![1], variance = [...w.entries()].find(([k]) => k.endsWith('/variance'))![1];
      expect(mean.length).toBe(4);
      assertClose(mean, st.mean, 0, 1e-7, 'per-channel mean');
      assertClose(variance, st.variance, 0, 1e-7, 'per-channel variance');
      assertClose(m.predict(img).data, keras(x, 64), 1e-5, 1e-5, `${isa} normalization per channel`);
    }
    expect(() => nn.sequential({ inputShape: [2, 2, 4], engine }, [nn.normalization({ mean: new Float32Array(16), variance: new Float32Array(16).fill(1) })]))
      .toThrow(/mean has 16 values; the layer has 4 features \(the last axis of its input\)/);
    const g = keep(nn.sequential({ inputShape: [2, 2, 4], engine, seed: 3 }, [nn.conv2d(4, { kernelSize: 1 }), nn.normalization({ mean: Float32Array.of(0.1, 0, -0.2, 0.3), variance: Float32Array.of(2, 1, 0.5, 3) }), nn.flatten(), nn.dense(2)]));
    g.compile({ loss: 'mse', optimizer: nn.sgd({ lr: 0.1 }) });
    expect(nn.gradCheck(g, nn.tensor(x.subarray(0, 32), [2, 2, 2, 4]), new Float32Array(4).fill(0.5)).ok).toBe(true);
  });

  it('its weights are not trainable: no gradient, no optimizer state, unchanged by fit; gradients pass to the layers before it', async () => {
    const norm = nn.normalization();
    const m = keep(nn.sequential({ inputShape: [4], seed: 3, engine }, [nn.dense(5, { activation: 'tanh' }), norm, nn.dense(1)]));
    // Adapted on what the first dense layer gives (the layer's own inputs).
    const h = keep(nn.sequential({ inputShape: [4], seed: 3, engine }, [nn.dense(5, { activation: 'tanh' })]));
    const xs = Float32Array.from(x, (v, i) => (i % 4 === 3 ? v / 1e4 : v / 500));
    norm.adapt(h.predict(xs));
    m.compile({ loss: 'mse', optimizer: nn.adam({ lr: 0.01 }) });
    expect(m.trainableSize).toBe(4 * 5 + 5 + 5 + 1);
    expect(m.totalSize - m.trainableSize).toBe(10);
    const before = m.getWeights();
    const y = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i));
    const g = m.lossAndGrad(xs, y).grads;
    expect([...g.keys()].some((k) => k.startsWith('normalization'))).toBe(false);
    expect(g.get('dense_1/kernel')!.some((v) => v !== 0)).toBe(true);
    const chk = nn.gradCheck(m, xs.subarray(0, 32), y.subarray(0, 8));
    expect(chk.ok, JSON.stringify(chk.worst)).toBe(true);
    await m.fit(xs, y, { epochs: 2, batchSize: 16 });
    const after = m.getWeights();
    expect(after.get('normalization_1/mean')).toEqual(before.get('normalization_1/mean'));
    expect(after.get('normalization_1/variance')).toEqual(before.get('normalization_1/variance'));
    expect(after.get('dense_1/kernel')).not.toEqual(before.get('dense_1/kernel'));
  });

  it('un-adapted, it is refused at predict, evaluate, fit and trainStep with a message that says adapt', async () => {
    const m = keep(nn.sequential({ inputShape: [4], engine }, [nn.normalization(), nn.dense(1)]));
    m.compile({ loss: 'mse', optimizer: 'sgd' });
    const y = new Float32Array(64);
    const msg = /layer "normalization_1" \(normalization\) has no mean and variance; call layer\.adapt\(x\)/;
    expect(() => m.predict(x)).toThrow(msg);
    expect(() => m.predictClasses(x)).toThrow(nn.ConfigError);
    expect(() => m.evaluate(x, y)).toThrow(msg);
    expect(() => m.trainStep(x, y)).toThrow(msg);
    await expect(m.fit(x, y, { epochs: 1 })).rejects.toThrow(msg);
  });

  it('adapt is refused while fitting (the model is unchanged), allowed before and after compile', async () => {
    const norm = nn.normalization();
    const m = keep(nn.sequential({ inputShape: [4], engine }, [norm, nn.dense(1)]));
    norm.adapt(x);
    m.compile({ loss: 'mse', optimizer: 'sgd' });
    norm.adapt(x.subarray(0, 32));
    const w = m.getWeights().get('normalization_1/mean')!;
    let err: unknown;
    await m.fit(x, new Float32Array(64), {
      epochs: 1, batchSize: 32,
      callbacks: [nn.callbacks.lambda({ onBatchEnd: () => { try { norm.adapt(x); } catch (e) { err = e; } } })],
    });
    expect(err).toBeInstanceOf(nn.StateError);
    expect(m.getWeights().get('normalization_1/mean')).toEqual(w);
  });

  it('refuses bad options and data with typed errors naming them', () => {
    expect(() => nn.normalization({ axis: 0 })).toThrow(/normalization: axis is 0; it must be -1 \(or 1\)/);
    expect(() => nn.normalization({ mean: [1] })).toThrow(/give both, or neither/);
    expect(() => nn.normalization({ mean: [1], variance: [-1] })).toThrow(/variance\[0\] is -1; it must be a finite number ≥ 0/);
    expect(() => nn.normalization({ mean: [NaN], variance: [1] })).toThrow(/mean\[0\] is NaN/);
    expect(() => nn.normalization({ mean: 'a' as never, variance: 1 })).toThrow(nn.ConfigError);
    expect(() => nn.normalization({ scale: 1 } as never)).toThrow(/unknown option "scale"/);
    expect(() => nn.sequential({ inputShape: [4], engine }, [nn.normalization({ mean: [1, 2], variance: [1, 1] })])).toThrow(nn.ShapeError);
    expect(() => nn.normalization().adapt(new Float32Array(8))).toThrow(/the layer is in no model yet/);
    const norm = nn.normalization();
    const m = keep(nn.sequential({ inputShape: [4], engine }, [norm]));
    expect(() => norm.adapt(new Float32Array(6))).toThrow(nn.ShapeError);
    const bad = x.slice(); bad[9] = NaN;
    expect(() => norm.adapt(bad)).toThrow(/x\[2\]\[1\] is NaN; it must be a finite number/);
    expect(norm.adapted).toBe(false);
    m.dispose();
    expect(() => norm.adapt(x)).toThrow(nn.StateError);
  });
});

describe.each(ALL_ISAS)('nn.rescaling (%s)', (isa) => {
  const engine = engineFor(isa);
  it('x·scale + offset, at any position (first, after a dense layer, inside a residual block); gradients pass through', () => {
    const r = rng(4), x = uniform(r, 37 * 5, -2, 2);
    const m = keep(nn.sequential({ inputShape: [5], engine }, [nn.rescaling(1 / 127.5, -1)]));
    assertClose(m.predict(x).data, Array.from(x, (v) => v / 127.5 - 1), 1e-7, 1e-6, `${isa} rescaling`);
    const deep = keep(nn.sequential({ inputShape: [5], seed: 1, engine }, [
      nn.rescaling(2), nn.dense(6, { activation: 'tanh' }), nn.rescaling(0.5, 3), nn.residual([nn.rescaling(-1.5, 0.25)]), nn.dense(2),
    ]));
    deep.compile({ loss: 'softmaxCrossEntropy', optimizer: 'sgd' });
    const y = Int32Array.from({ length: 37 }, (_, i) => i % 2);
    const chk = nn.gradCheck(deep, x, y);
    expect(chk.ok, JSON.stringify(chk.worst)).toBe(true);
  });
  it('on Uint8Array images it is scaleImages inside the model: rescaling(1/255) on bytes read as 0…255 = the [0, 1] default', () => {
    const bytes = Uint8Array.from({ length: 3 * 4 }, (_, i) => (i * 37) % 256);
    const a = keep(nn.sequential({ inputShape: [4], engine }, [nn.rescaling(1 / 255)]));
    const b = keep(nn.sequential({ inputShape: [4], engine }, [nn.rescaling(1)]));
    const got = a.predict(new nn.Tensor(bytes, [3, 4], [0, 255])).data;
    assertClose(got, b.predict(nn.data.scaleImages(new nn.Tensor(bytes, [3, 4]))).data, 1e-7, 1e-6, 'rescaling(1/255) vs scaleImages');
    assertClose(got, Array.from(bytes, (v) => v / 255), 1e-7, 1e-6, 'rescaling(1/255)');
  });
  it('refuses a non-finite scale or offset', () => {
    expect(() => nn.rescaling(NaN)).toThrow(/rescaling: scale is NaN; it must be a finite number/);
    expect(() => nn.rescaling(1, Infinity)).toThrow(/offset is Infinity/);
    expect(() => nn.rescaling(1, 0, { axis: 1 } as never)).toThrow(/unknown option "axis"/);
  });
});

describe('saved, loaded, summarised', () => {
  it('a model with normalization and rescaling round-trips through toBytes with identical predictions; summary and config show them', () => {
    const x = raw(16);
    const norm = nn.normalization({ name: 'norm' }).adapt(nn.tensor(x, [16, 4]));
    const m = keep(nn.sequential({ inputShape: [4], seed: 1 }, [norm, nn.dense(3, { activation: 'relu' }), nn.rescaling(0.5, 1), nn.dense(2)]));
    m.compile({ loss: 'mse', optimizer: 'adam' });
    const back = keep(nn.loadModelSync(m.toBytes()));
    expect(Array.from(back.predict(x).data)).toEqual(Array.from(m.predict(x).data));
    expect(back.getWeights().get('norm/mean')).toEqual(m.getWeights().get('norm/mean'));
    const text = m.summary(() => {});
    expect(text).toMatch(/norm \(normalization\)\s+\[null, 4\]\s+8/);
    expect(text).toMatch(/rescaling_1 \(rescaling\)\s+\[null, 3\]\s+0/);
    expect(text).toMatch(/Non-trainable params: 8/);
    expect(m.config().layers).toContainEqual({ type: 'rescaling', name: 'rescaling_1', scale: 0.5, offset: 1 });
    // An un-adapted layer stays un-adapted through a file.
    const raw0 = keep(nn.sequential({ inputShape: [4] }, [nn.normalization()]));
    expect(() => keep(nn.loadModelSync(raw0.toBytes())).predict(x)).toThrow(/adapt/);
  });
  it('a hostile file cannot make a normalization allocate: a huge inputShape is refused against the tensors; bad statistics are named', () => {
    const m = keep(nn.sequential({ inputShape: [4] }, [nn.normalization({ mean: 0, variance: 1 })]));
    const { metadata, tensors } = decodeSafetensors(m.toBytes());
    const arch = JSON.parse(metadata.architecture);
    const edit = (a: unknown) => encodeSafetensors(tensors, { ...metadata, architecture: JSON.stringify(a) });
    expect(() => nn.loadModelSync(edit({ ...arch, inputShape: [2 ** 30], layers: [{ type: 'normalization', name: 'n', axis: -1, mean: 0, variance: 1 }] }))).toThrow(nn.ModelFormatError);
    expect(() => nn.loadModelSync(edit({ ...arch, layers: [{ ...arch.layers[0], variance: [1, 1, -1, 1] }] }))).toThrow(/variance\[2\] is -1/);
    expect(() => nn.loadModelSync(edit({ ...arch, layers: [{ ...arch.layers[0], mean: [1, 2] }] }))).toThrow(/mean has 2 values; the layer has 4 features \(the last axis of its input\)/);
  });
});
