// Backprop through whole models: the course's hand-worked cases, and nn.gradCheck (float64
// reference vs central differences; wasm backward vs reference backward) on a model with every
// activation, batch norm, layer norm, PReLU, dropout (off) and a residual block.
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { ALL_ISAS, engineFor } from '../util/engines.js';

const SMOOTH = ['identity', 'sigmoid', 'tanh', 'elu', 'selu', 'softplus', 'gelu', 'geluErf', 'softmax', 'logSoftmax'] as const;

describe.each(ALL_ISAS)('models on the %s build', (isa) => {
  const engine = engineFor(isa);

  it('a neuron w = [1, 0.5, 1], b = 0.5, identity, x = [1, 2, 3] outputs 5.5', () => {
    // 1·1 + 0.5·2 + 1·3 + 0.5 = 5.5
    const m = nn.sequential({ inputShape: [3], engine }, [nn.dense(1)]);
    m.setWeights({ 'dense_1/kernel': Float32Array.from([1, 0.5, 1]), 'dense_1/bias': Float32Array.from([0.5]) });
    expect(m.predict([[1, 2, 3]]).data[0]).toBe(5.5);
    m.dispose();
  });

  it('w = 2, b = 1, x = 2, y = 2, squared loss: ∂L/∂w = 12, ∂L/∂b = 6; one SGD step at 0.1 gives w = 0.8, b = 0.4', async () => {
    // ŷ = 2·2 + 1 = 5; L = (ŷ − y)² = 9; ∂L/∂ŷ = 2(ŷ − y) = 6; ∂L/∂w = 6·x = 12; ∂L/∂b = 6.
    // SGD: w = 2 − 0.1·12 = 0.8; b = 1 − 0.1·6 = 0.4.
    const m = nn.sequential({ inputShape: [1], engine }, [nn.dense(1)]);
    m.setWeights({ 'dense_1/kernel': Float32Array.from([2]), 'dense_1/bias': Float32Array.from([1]) });
    m.compile({ loss: 'mse', optimizer: nn.sgd({ lr: 0.1 }) });
    const h = await m.fit(Float32Array.from([2]), Float32Array.from([2]), { epochs: 1, batchSize: 1 });
    expect(h.history.loss[0]).toBe(9);
    const w = m.getWeights();
    expect(w.get('dense_1/kernel')![0]).toBeCloseTo(0.8, 6);
    expect(w.get('dense_1/bias')![0]).toBeCloseTo(0.4, 6);
    // The gradients themselves, through the low-level path.
    m.setWeights({ 'dense_1/kernel': Float32Array.from([2]), 'dense_1/bias': Float32Array.from([1]) });
    const r = nn.gradCheck(m, Float32Array.from([2]), Float32Array.from([2]));
    expect(r.maxReference).toBeLessThan(1e-6);
    m.dispose();
  });

  it('the two-sigmoid-neuron minimal example matches the notes\' formulas', () => {
    // a = σ(w1·x), ŷ = σ(w2·a), L = ½(y − ŷ)²:
    //   ∂L/∂w2 = (ŷ − y)·ŷ(1 − ŷ)·a,   ∂L/∂w1 = (ŷ − y)·ŷ(1 − ŷ)·w2·a(1 − a)·x.
    // simdnn's mse is (ŷ − y)² (no ½), so its gradients are twice these.
    const w1 = 0.7, w2 = -1.3, x = 1.5, y = 1;
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    const a = sig(w1 * x), yh = sig(w2 * a);
    const dw2 = (yh - y) * yh * (1 - yh) * a, dw1 = (yh - y) * yh * (1 - yh) * w2 * a * (1 - a) * x;
    const m = nn.sequential({ inputShape: [1], engine }, [
      nn.dense(1, { activation: 'sigmoid', useBias: false }), nn.dense(1, { activation: 'sigmoid', useBias: false }),
    ]);
    m.setWeights({ 'dense_1/kernel': Float32Array.from([w1]), 'dense_2/kernel': Float32Array.from([w2]) });
    m.compile({ loss: 'mse', optimizer: nn.sgd({ lr: 1 }) });
    const e = m.engine;
    const px = e.upload(Float32Array.from([x])), py = e.upload(Float32Array.from([y])), pd = e.alloc(4);
    const out = m.forward(px, 1, true);
    m.loss!.kernel(e, pd, out, py, 1, 1, 0, 0);
    m.zeroGrad();
    m.backward(pd, 1);
    const g = (name: string) => e.f32[m.paramRefs.find((p) => p.name === name)!.grad >> 2];
    expect(g('dense_2/kernel') / 2).toBeCloseTo(dw2, 6);
    expect(g('dense_1/kernel') / 2).toBeCloseTo(dw1, 6);
    for (const p of [px, py, pd]) e.release(p);
    m.dispose();
  });

  it('gradCheck: every smooth activation, batch norm, layer norm, dropout (off) and a residual block', () => {
    const m = nn.sequential({ inputShape: [6], seed: 7, engine }, [
      ...SMOOTH.map((a) => nn.dense(5, { activation: a, kernelRegularizer: nn.l2(0.01), activityRegularizer: a === 'tanh' ? nn.l1l2({ l1: 0.01, l2: 0.01 }) : undefined })),
      nn.batchNorm(),
      nn.dropout(0.5),
      nn.residual([nn.dense(5, { activation: 'tanh' }), nn.layerNorm()]),
      nn.activation('elu', { alpha: 0.7 }),
      nn.dense(3, { activation: 'logSoftmax' }),
    ]);
    m.compile({ loss: 'nll', optimizer: nn.sgd({ lr: 0.1 }) });
    const x = Float32Array.from({ length: 7 * 6 }, (_, i) => Math.sin(1.3 * i) * 2);
    const y = Int32Array.from([0, 1, 2, 2, 1, 0, 1]);
    const before = m.weightBytes();
    const r = nn.gradCheck(m, x, y);
    // float64 reference backward against central differences:
    expect(r.maxReference).toBeLessThan(1e-6);
    // wasm (float32) backward against the float64 reference backward, relative to each tensor's
    // largest gradient. NOTE: 15 layers of float32 with the cancellation in log-softmax's
    // backward (dy − e^y·Σdy) mid-network cost up to ~1e-2 here; each kernel alone is held to
    // ~1e-5 in test/kernels.
    expect(r.maxWasm).toBeLessThan(2e-2);
    expect(Object.keys(r.params).length).toBe(SMOOTH.length * 2 + 2 + 6);
    // gradCheck leaves the model as it found it.
    expect(m.weightBytes()).toEqual(before);
    m.dispose();
  });

  it('gradCheck: the kinked activations (relu, leakyRelu, PReLU) in a 3-layer model', () => {
    // NOTE: central differences are only valid where no pre-activation lies within the step of
    // a kink at 0; this seeded input keeps every one at least 1e-3 away (checked below).
    const m = nn.sequential({ inputShape: [4], seed: 3, engine }, [
      nn.dense(8, { activation: 'relu' }), nn.dense(8, { activation: 'leakyRelu', alpha: 0.1 }), nn.prelu(), nn.dense(3),
    ]);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.1 }) });
    const x = Float32Array.from({ length: 5 * 4 }, (_, i) => Math.cos(0.7 * i + 0.2));
    const y = Int32Array.from([0, 1, 2, 1, 0]);
    const r = nn.gradCheck(m, x, y);
    expect(r.maxReference).toBeLessThan(1e-6);
    expect(r.maxWasm).toBeLessThan(1e-3);
    m.dispose();
  });

  it('each loss through gradCheck', () => {
    const cases: [string, string, Float32Array | Int32Array][] = [
      ['mse', 'identity', Float32Array.from([0.5, -1, 2, 0, 1, 1])],
      ['mae', 'identity', Float32Array.from([0.5, -1, 2, 0, 1, 1])],
      ['sigmoidCrossEntropy', 'identity', Float32Array.from([1, 0, 1, 0, 0, 1])],
      ['binaryCrossEntropy', 'sigmoid', Float32Array.from([1, 0, 1, 0, 0, 1])],
      ['softmaxCrossEntropy', 'identity', Int32Array.from([0, 1, 1])],
      ['categoricalCrossEntropy', 'softmax', Int32Array.from([0, 1, 1])],
      ['nll', 'logSoftmax', Int32Array.from([1, 0, 1])],
    ];
    for (const [loss, act, y] of cases) {
      const m = nn.sequential({ inputShape: [3], seed: 3, engine }, [nn.dense(4, { activation: 'tanh' }), nn.dense(2, { activation: act as 'identity' })]);
      m.compile({ loss, optimizer: nn.sgd({ lr: 0.1 }) });
      const r = nn.gradCheck(m, Float32Array.from([0.3, -0.2, 0.9, 1.1, 0.4, -0.7, -0.5, 0.8, 0.1]), y);
      expect(r.maxReference, loss).toBeLessThan(1e-6);
      expect(r.maxWasm, loss).toBeLessThan(2e-3);
      m.dispose();
    }
  });
});
