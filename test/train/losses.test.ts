// Issue 15, part B through the public API: sample weights, distribution targets and label
// smoothing, loss objects and custom losses (gradCheck, model files), custom metrics, Nadam and
// Lion state in model files, and proximal L1 giving exact zeros. Expected values come from the
// float64 references of src/reference.ts on the model's own outputs.
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { cceProbsRef, matmul, mseRef, softmaxXentRef } from '../../src/reference.js';
import { assertClose } from '../util/close.js';
import { rng, uniform } from '../util/rng.js';

const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

/** A linear model (one dense layer, identity) of `inputs` → `outputs`. */
function linear(inputs: number, outputs: number, seed = 3) {
  return nn.sequential({ inputShape: [inputs], seed }, [nn.dense(outputs)]);
}

/** n samples of `inputs` features and 3-class labels (a separable-ish problem). */
function classes(n: number, inputs: number, seed = 5) {
  const r = rng(seed);
  const x = uniform(r, n * inputs, -1, 1);
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * inputs] > 0.3 ? 2 : x[i * inputs + 1] > 0 ? 1 : 0));
  return { x, y };
}
const oneHot = (y: Int32Array, N: number) => nn.data.oneHot(y, N);

describe('sample weights (Keras: each sample loss × weight, mean over the batch size)', () => {
  it('lossAndGrad with sampleWeight: loss and kernel gradient as the float64 reference (mse, softmax xent)', () => {
    const n = 7, K = 5, N = 3, r = rng(1);
    const x = uniform(r, n * K, -1, 1), t = uniform(r, n * N, -1, 1), sw = uniform(r, n, 0, 2).map((v, i) => (i === 2 ? 0 : v));
    const { y } = classes(n, K, 2);
    const m = linear(K, N);
    const W = f64(m.getWeights().get('dense_1/kernel')!);
    const pred = f64(m.predict(x).data);
    for (const [loss, ref] of [
      ['mse', mseRef(pred, t, { sw })],
      ['softmaxCrossEntropy', softmaxXentRef(pred, y, n, N, undefined, { sw })],
    ] as const) {
      const got = m.lossAndGrad(x, loss === 'mse' ? t : y, { loss, sampleWeight: sw });
      assertClose([got.loss], [ref.loss], 1e-6, 1e-5, `${loss} loss`);
      // ∂L/∂W = xᵀ·dpred
      assertClose(got.grads.get('dense_1/kernel')!, matmul(x, ref.grad, K, n, N, true), 1e-6, 1e-4, `${loss} dW`);
      const unweighted = m.lossAndGrad(x, loss === 'mse' ? t : y, { loss });
      expect(unweighted.loss).not.toBeCloseTo(got.loss, 4);
    }
    expect(f64(m.getWeights().get('dense_1/kernel')!)).toEqual(W);
    m.dispose();
  });

  it('fit: classWeight and sampleWeight multiply (the first epoch loss is that of the weights before any step)', async () => {
    const n = 12, K = 4, N = 3;
    const { x, y } = classes(n, K, 7);
    const sw = Float32Array.from({ length: n }, (_, i) => 0.25 + (i % 4) * 0.5), cw = [2, 0.5, 1.5];
    const m = linear(K, N);
    const pred = f64(m.predict(x).data);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.1 }) });
    const h = await m.fit(x, y, { epochs: 1, batchSize: n, sampling: 'sequential', sampleWeight: sw, classWeight: cw });
    const want = softmaxXentRef(pred, y, n, N, cw, { sw }).loss;
    assertClose([h.history.loss[0]], [want], 1e-6, 1e-5, 'weighted loss');
    m.dispose();
  });

  it('weights gathered with their rows: outlier rows weighted 0 do not move a shuffled, mini-batched fit', async () => {
    // y = 2x₀ − x₁ on clean rows; every third row has target 1e4 and weight 0.
    const n = 60, r = rng(9);
    const x = uniform(r, n * 2, -1, 1);
    const y = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1e4 : 2 * x[2 * i] - x[2 * i + 1]));
    const sw = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const m = linear(2, 1);
    m.compile({ loss: 'mse', optimizer: nn.adam({ lr: 0.05 }) });
    await m.fit(x, y, { epochs: 60, batchSize: 7, sampling: 'shuffle', sampleWeight: sw });
    const w = m.getWeights().get('dense_1/kernel')!;
    assertClose(w, [2, -1], 0.05, 0, 'fitted the clean rows');
    // evaluate with the same weights: the outliers count 0
    expect(m.evaluate(x, y, { sampleWeight: sw }).loss).toBeLessThan(0.01);
    expect(m.evaluate(x, y).loss).toBeGreaterThan(1e6);
    m.dispose();
  });

  it('sampleWeight 2 everywhere with sgd lr equals weight 1 with lr 2·lr, bit for bit (the weight scales the gradient exactly)', async () => {
    const { x, y } = classes(20, 4, 11);
    const run = async (lr: number, sampleWeight?: number[]) => {
      const m = linear(4, 3);
      m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr }) });
      await m.fit(x, y, { epochs: 3, batchSize: 6, sampleWeight });
      const b = m.weightBytes();
      m.dispose();
      return b;
    };
    expect(await run(0.1, new Array(20).fill(2))).toEqual(await run(0.2));
  });

  it('trainStep takes sampleWeight; validationSplit splits it; validationData may carry it', async () => {
    const { x, y } = classes(20, 4, 12);
    const m = linear(4, 3);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.1 }) });
    const sw = Array.from({ length: 20 }, (_, i) => (i < 15 ? 1 : 0));
    const h = await m.fit(x, y, { epochs: 1, validationSplit: 0.25, sampleWeight: sw });
    expect(h.history.valLoss[0]).toBe(0); // the last 5 rows, all weighted 0
    const h2 = await m.fit(x, y, { epochs: 1, validationData: [x, y, new Array(20).fill(0)] });
    expect(h2.history.valLoss[0]).toBe(0);
    expect(m.trainStep(x, y, { sampleWeight: new Array(20).fill(0) }).loss).toBe(0);
    m.dispose();
  });

  it('bad sample weights are typed errors naming the rule, and change nothing', async () => {
    const { x, y } = classes(6, 4, 13);
    const m = linear(4, 3);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.1 }) });
    const before = m.weightBytes();
    await expect(m.fit(x, y, { sampleWeight: [1, 1, 1] })).rejects.toThrow(nn.ShapeError);
    await expect(m.fit(x, y, { sampleWeight: [1, 1, -1, 1, 1, 1] })).rejects.toThrow(/sampleWeight\[2\] is -1; it must be a finite number ≥ 0/);
    expect(() => m.trainStep(x, y, { sampleWeight: [1, NaN, 1, 1, 1, 1] })).toThrow(nn.ConfigError);
    expect(() => m.evaluate(x, y, { sampleWeight: 'heavy' as never })).toThrow(/sampleWeight is "heavy"; it must be a Float32Array or number\[\]/);
    expect(m.weightBytes()).toEqual(before);
    m.dispose();
  });
});

describe('targets as distributions and label smoothing', () => {
  it('softmaxCrossEntropy on one-hot targets trains exactly as on integer labels; accuracy uses the target argmax', async () => {
    const { x, y } = classes(30, 4, 21);
    const run = async (target: unknown) => {
      const m = linear(4, 3);
      m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 0.05 }), metrics: ['accuracy', 'topKAccuracy'] });
      const h = await m.fit(x, target, { epochs: 5, batchSize: 8, classWeight: [1, 2, 1] });
      const ev = m.evaluate(x, target);
      const b = m.weightBytes();
      m.dispose();
      return { b, h: h.history, ev };
    };
    const a = await run(y), b = await run(oneHot(y, 3));
    expect(b.b).toEqual(a.b);
    expect(b.h).toEqual(a.h);
    expect(b.ev).toEqual(a.ev);
  });

  it('categoricalCrossEntropy accepts one-hot and probability targets ([n, classes] arrays or tensors)', () => {
    const { x, y } = classes(8, 4, 22);
    const m = nn.sequential({ inputShape: [4], seed: 1 }, [nn.dense(3), nn.activation('softmax' as never)]);
    m.compile({ loss: 'categoricalCrossEntropy', optimizer: 'sgd', metrics: ['accuracy'] });
    const p = f64(m.predict(x).data);
    const oh = oneHot(y, 3);
    const soft = Float32Array.from(oh, (v) => 0.1 + 0.7 * v);
    const nested = Array.from({ length: 8 }, (_, i) => Array.from(soft.subarray(i * 3, i * 3 + 3)));
    const want = cceProbsRef(p, soft, 8, 3, 1e-7, undefined, { soft: true });
    for (const t of [soft, nn.tensor(soft, [8, 3]), nested]) {
      const r = m.evaluate(x, t as never);
      assertClose([r.loss], [want.loss], 1e-6, 1e-5, 'soft cce');
      expect(r.accuracy).toBe(want.correct / 8);
    }
    assertClose([m.evaluate(x, oh).loss], [m.evaluate(x, y).loss], 1e-7, 1e-7, 'one-hot = labels');
    m.dispose();
  });

  it('wrong target sizes name both forms; negative probabilities are refused', () => {
    const { x } = classes(4, 4, 23);
    const m = linear(4, 3);
    m.compile({ loss: 'categoricalCrossEntropy', optimizer: 'sgd' });
    expect(() => m.evaluate(x, new Float32Array(5))).toThrow(/y has 5 values for 4 samples; give 4 integer labels in \[0, 3\) or an \[4, 3\] array of class probabilities/);
    expect(() => m.evaluate(x, new Float32Array(12).fill(-0.5))).toThrow(/class probabilities must be ≥ 0/);
    m.dispose();
  });

  it('labelSmoothing: softmax, categorical and sigmoid cross-entropy as the Keras formula', () => {
    const n = 6, K = 4, N = 3, r = rng(24);
    const x = uniform(r, n * K, -1, 1), { y } = classes(n, K, 24);
    const m = linear(K, N);
    const z = f64(m.predict(x).data);
    const xent = m.lossAndGrad(x, y, { loss: nn.losses.softmaxCrossEntropy({ labelSmoothing: 0.2 }) });
    const want = softmaxXentRef(z, y, n, N, undefined, { smoothing: 0.2 });
    assertClose([xent.loss], [want.loss], 1e-6, 1e-5, 'smoothed xent');
    assertClose(xent.grads.get('dense_1/kernel')!, matmul(x, want.grad, K, n, N, true), 1e-6, 1e-4, 'smoothed xent dW');
    // sigmoid: t(1 − ε) + ε/2
    const t = uniform(r, n * N, 0, 1).map(Math.round);
    const bce = m.lossAndGrad(x, t, { loss: nn.losses.sigmoidCrossEntropy({ labelSmoothing: 0.1 }) });
    const plain = m.lossAndGrad(x, Float32Array.from(t, (v) => v * 0.9 + 0.05), { loss: 'sigmoidCrossEntropy' });
    assertClose([bce.loss], [plain.loss], 1e-7, 1e-6, 'smoothed bce = bce of smoothed targets');
    expect(() => nn.losses.softmaxCrossEntropy({ labelSmoothing: 1 })).toThrow(/labelSmoothing is 1; it must be in \[0, 1\)/);
    expect(() => nn.losses.mse({ labelSmoothing: 0.1 } as never)).toThrow(/losses.mse: unknown option "labelSmoothing"/);
    m.dispose();
  });
});

describe('loss objects and custom losses', () => {
  const customMse = (name = 'myMse', scale = 1) => nn.losses.custom({
    name,
    forward(p, t) {
      let s = 0;
      for (let i = 0; i < p.length; i++) s += (p[i] - t[i]) ** 2;
      return s / p.length;
    },
    backward(p, t, d) {
      for (let i = 0; i < p.length; i++) d[i] = (scale * 2 * (p[i] - t[i])) / p.length;
    },
  });

  it('a loss object with options is saved by name and options and loaded back', () => {
    const { x, y } = classes(10, 4, 31);
    const m = linear(4, 3);
    m.compile({ loss: nn.losses.softmaxCrossEntropy({ labelSmoothing: 0.15 }), optimizer: nn.nadam(), metrics: ['accuracy'] });
    const again = nn.loadModelSync(m.toBytes());
    expect(again.loss!.name).toBe('softmaxCrossEntropy');
    expect(again.loss!.options).toEqual({ labelSmoothing: 0.15 });
    expect(again.evaluate(x, y)).toEqual(m.evaluate(x, y));
    m.dispose();
    again.dispose();
  });

  it('a custom loss trains as the built-in one; the functions see views of wasm memory', async () => {
    const r = rng(32), x = uniform(r, 40 * 3, -1, 1), t = uniform(r, 40 * 2, -1, 1);
    let sawView = false;
    const spy = nn.losses.custom({
      name: 'spy',
      forward(p, tt) {
        const m0 = linear(1, 1);
        sawView = p instanceof Float32Array && p.buffer === m0.engine.f32.buffer && tt.length === p.length;
        m0.dispose();
        return customMse().ref(Float64Array.from(p), tt, p.length / 2, 2).loss;
      },
      backward: (p, tt, d) => { d.set(customMse().ref(Float64Array.from(p), tt, p.length / 2, 2).dpred); },
    });
    const run = async (loss: nn.Loss | 'mse') => {
      const m = linear(3, 2);
      m.compile({ loss, optimizer: nn.sgd({ lr: 0.1 }) });
      const h = await m.fit(x, t, { epochs: 4, batchSize: 16 });
      const w = m.getWeights().get('dense_1/kernel')!;
      m.dispose();
      return { w, h: h.history.loss };
    };
    const a = await run('mse'), b = await run(customMse()), c = await run(spy);
    assertClose(b.w, a.w, 1e-6, 1e-5, 'custom mse weights');
    assertClose(b.h, a.h, 1e-6, 1e-5, 'custom mse losses');
    assertClose(c.w, a.w, 1e-6, 1e-5, 'spy weights');
    expect(sawView).toBe(true);
  });

  it('gradCheck checks a custom backward against differences of its forward: right passes, wrong fails', () => {
    const r = rng(33), x = uniform(r, 6 * 3, -1, 1), t = uniform(r, 6 * 2, -1, 1);
    const m = nn.sequential({ inputShape: [3], seed: 2 }, [nn.dense(4, { activation: 'tanh' }), nn.dense(2)]);
    const good = nn.gradCheck(m, x, t, { loss: customMse() });
    expect(good.ok).toBe(true);
    expect(good.maxReference).toBeLessThan(1e-6);
    const bad = nn.gradCheck(m, x, t, { loss: customMse('wrong', 1.5) });
    expect(bad.ok).toBe(false);
    expect(bad.maxReference).toBeGreaterThan(0.1);
    m.dispose();
  });

  it('a model compiled with a custom loss: loading asks for it in customObjects (or compile: false)', () => {
    const m = linear(3, 2);
    const loss = customMse();
    m.compile({ loss, optimizer: 'adam' });
    const bytes = m.toBytes();
    expect(() => nn.loadModelSync(bytes)).toThrow(/custom loss "myMse".*customObjects: \{ myMse: nn\.losses\.custom/);
    expect(() => nn.loadModelSync(bytes)).toThrow(nn.ConfigError);
    const back = nn.loadModelSync(bytes, { customObjects: { myMse: loss } });
    expect(back.loss).toBe(loss);
    const bare = nn.loadModelSync(bytes, { compile: false });
    expect(bare.loss).toBeUndefined();
    for (const md of [m, back, bare]) md.dispose();
  });

  it('custom losses are checked at construction; sample weights need a built-in loss', () => {
    expect(() => nn.losses.custom({ name: 'mse', forward: () => 0, backward: () => {} })).toThrow(/name is "mse"; it must be a name other than/);
    expect(() => nn.losses.custom({ name: 'x', forward: 1 as never, backward: () => {} })).toThrow(/forward is 1; it must be a function/);
    const m = linear(3, 2);
    m.compile({ loss: customMse(), optimizer: 'sgd' });
    expect(() => m.trainStep(new Float32Array(6), new Float32Array(4), { sampleWeight: [1, 1] })).toThrow(/custom loss "myMse" cannot weight samples/);
    const nonNumber = nn.losses.custom({ name: 'nn', forward: () => 'x' as never, backward: () => {} });
    expect(() => m.lossAndGrad(new Float32Array(6), new Float32Array(4), { loss: nonNumber })).toThrow(/forward returned "x"; it must return a number/);
    m.dispose();
  });
});

describe('custom metrics', () => {
  // rows of the batch: its epoch value is Σ rows² / n when averaged over batches weighted by rows
  const rows = { name: 'rows', fn: (p: Float32Array) => p.length / 3 };

  it('logged under their name and val<Name>, averaged over batches weighted by rows, usable by earlyStopping', async () => {
    const { x, y } = classes(10, 4, 41);
    const m = linear(4, 3);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: 'sgd', metrics: ['accuracy', rows] });
    expect(m.metrics).toEqual(['accuracy', 'rows']);
    const h = await m.fit(x, y, {
      epochs: 20, batchSize: 4, validationData: [x, y],
      callbacks: [nn.callbacks.earlyStopping({ monitor: 'val_rows', patience: 2, mode: 'max' })],
    });
    expect(h.history.rows[0]).toBeCloseTo((16 + 16 + 4) / 10, 12); // batches of 4, 4, 2
    expect(h.history.valRows[0]).toBe(10); // validation runs as one batch of 10
    expect(h.epoch.length).toBeLessThan(20); // never improves: stopped
    expect(m.evaluate(x, y, { batchSize: 5 }).rows).toBe(5);
    m.dispose();
  });

  it('target views: labels as Int32Array, real targets as Float32Array; a saved model asks for the metric again', () => {
    const seen: string[] = [];
    const probe = { name: 'probe', fn: (_p: Float32Array, t: Float32Array | Int32Array) => { seen.push(t.constructor.name); return 0; } };
    const { x, y } = classes(4, 4, 42);
    const m = linear(4, 3);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: 'sgd', metrics: [probe] });
    m.evaluate(x, y);
    m.evaluate(x, oneHot(y, 3));
    expect(seen).toEqual(['Int32Array', 'Float32Array']);
    const bytes = m.toBytes();
    expect(() => nn.loadModelSync(bytes)).toThrow(/custom metric "probe".*customObjects/);
    const back = nn.loadModelSync(bytes, { customObjects: { probe } });
    expect(back.metrics).toEqual(['probe']);
    back.dispose();
    expect(() => m.compile({ loss: 'mse', optimizer: 'sgd', metrics: [{ name: 'loss', fn: () => 0 }] })).toThrow(/name is "loss"; it must be a name other than/);
    expect(() => m.compile({ loss: 'mse', optimizer: 'sgd', metrics: [{ name: 'ok', fn: 3 as never }] })).toThrow(/fn is 3; it must be a function/);
    m.dispose();
  });
});

describe('Nadam, Lion and proximal SGD in training', () => {
  for (const [name, make] of [['nadam', () => nn.nadam({ lr: 0.01 })], ['lion', () => nn.lion({ lr: 0.003, weightDecay: 0.1 })]] as const) {
    it(`${name}: state saved with the model resumes bit for bit`, async () => {
      const { x, y } = classes(24, 4, 51);
      const build = () => { const m = linear(4, 3); m.compile({ loss: 'softmaxCrossEntropy', optimizer: make() }); return m; };
      const whole = build();
      await whole.fit(x, y, { epochs: 4, batchSize: 8, sampling: 'sequential' });
      const half = build();
      await half.fit(x, y, { epochs: 2, batchSize: 8, sampling: 'sequential' });
      const again = nn.loadModelSync(half.toBytes({ includeOptimizer: true }));
      expect(again.optimizer!.name).toBe(name);
      await again.fit(x, y, { epochs: 2, batchSize: 8, sampling: 'sequential' });
      expect(again.weightBytes()).toEqual(whole.weightBytes());
      for (const m of [whole, half, again]) m.dispose();
    });
  }

  it('bad settings are refused at construction', () => {
    expect(() => nn.nadam({ momentumDecay: -1 })).toThrow(/Nadam: momentumDecay is -1; it must be ≥ 0/);
    expect(() => nn.nadam({ beta2: 1 })).toThrow(/beta2 is 1; it must be in \[0, 1\)/);
    expect(() => nn.lion({ beta1: 1 })).toThrow(/Lion: beta1 is 1; it must be in \[0, 1\)/);
    expect(() => nn.lion({ eps: 1e-8 } as never)).toThrow(/unknown option "eps"/);
    expect(() => nn.sgd({ proximal: 'yes' as never })).toThrow(/proximal is "yes"; it must be a boolean/);
  });

  it('sgd({ l1, proximal: true }): the 17 irrelevant weights of a regression reach exactly 0; without proximal none does', async () => {
    // y = x₀ + 2x₁ − x₂; inputs 3…19 are noise the target ignores.
    const n = 200, K = 20, r = rng(61);
    const x = uniform(r, n * K, -1, 1);
    const y = Float32Array.from({ length: n }, (_, i) => x[i * K] + 2 * x[i * K + 1] - x[i * K + 2]);
    const run = async (proximal: boolean) => {
      const m = linear(K, 1);
      m.compile({ loss: 'mse', optimizer: nn.sgd({ lr: 0.05, l1: 0.01, proximal }) });
      await m.fit(x, y, { epochs: 60, batchSize: 20 });
      const w = m.getWeights().get('dense_1/kernel')!;
      m.dispose();
      return w;
    };
    const prox = await run(true), sub = await run(false);
    expect(Array.from(prox.subarray(3)).filter((v) => v === 0).length).toBe(17);
    assertClose(prox.subarray(0, 3), [1, 2, -1], 0.1, 0, 'the relevant weights, shrunk a little by l1');
    expect(Array.from(sub.subarray(3)).filter((v) => v === 0).length).toBe(0);
  });
});

describe('loadModel options', () => {
  it('unknown options and bad customObjects or compile are refused', () => {
    const m = linear(2, 1);
    m.compile({ loss: 'mse', optimizer: 'sgd' });
    const b = m.toBytes();
    expect(() => nn.loadModelSync(b, { custom: {} } as never)).toThrow(/unknown option "custom"/);
    expect(() => nn.loadModelSync(b, { customObjects: 3 as never })).toThrow(/customObjects is 3; it must be an object/);
    expect(() => nn.loadModelSync(b, { compile: 'no' as never })).toThrow(/compile is "no"; it must be a boolean/);
    m.dispose();
  });
});

describe('gradCheck and custom label losses', () => {
  it('gradCheck passes on distribution targets with a smoothed loss object', () => {
    const { x, y } = classes(8, 4, 71);
    const m = nn.sequential({ inputShape: [4], seed: 4 }, [nn.dense(5, { activation: 'tanh' }), nn.dense(3)]);
    const soft = Float32Array.from(oneHot(y, 3), (v) => 0.05 + 0.85 * v);
    const r = nn.gradCheck(m, x, soft, { loss: nn.losses.softmaxCrossEntropy({ labelSmoothing: 0.1 }) });
    expect(r.ok).toBe(true);
    m.dispose();
  });

  it('a custom loss with labels: true gets Int32Array labels, and accuracy counts its argmax hits', () => {
    const { x, y } = classes(9, 4, 72);
    const xent = nn.losses.custom({
      name: 'xent', labels: true,
      forward: (p, t) => softmaxXentRef(p, t, t.length, 3).loss,
      backward: (p, t, d) => { d.set(softmaxXentRef(p, t, t.length, 3).grad); },
    });
    const m = linear(4, 3);
    m.compile({ loss: xent, optimizer: 'sgd', metrics: ['accuracy'] });
    const a = m.evaluate(x, y);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: 'sgd', metrics: ['accuracy'] });
    const b = m.evaluate(x, y);
    expect(a.accuracy).toBe(b.accuracy);
    assertClose([a.loss], [b.loss], 1e-6, 1e-6, 'custom xent loss');
    m.dispose();
  });
});
