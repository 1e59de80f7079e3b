// Freezing and fine-tuning (Keras layer.trainable): frozen parameters never change, have no
// gradient or optimizer state, a frozen batch norm runs in inference mode; getLayer, summary,
// saving and loading, gradCheck, threads.
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { importTfjs, tfjsArtifacts } from '../../src/io/tfjs.js';

function data(n = 64, f = 6, classes = 3, seed = 1) {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const x = Float32Array.from({ length: n * f }, r);
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * f] + x[i * f + 1] > 0 ? 1 : x[i * f + 2] > 0 ? 2 : 0));
  return { x: nn.tensor(x, [n, f]), y };
}

const build = (frozenFirst: boolean, threads = 1) => nn.sequential({ inputShape: [6], seed: 3, threads }, [
  nn.dense(8, { activation: 'relu', trainable: !frozenFirst }),
  nn.batchNorm(),
  nn.dense(3),
]);

describe('freezing', () => {
  it('nn.dense({ trainable: false }): its weights never change; the others do; summary counts them as non-trainable', async () => {
    const m = build(true).compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 0.05 }) });
    const { x, y } = data();
    const w0 = m.getWeights();
    await m.fit(x, y, { epochs: 3, batchSize: 16 });
    const w1 = m.getWeights();
    expect(w1.get('dense_1/kernel')).toEqual(w0.get('dense_1/kernel'));
    expect(w1.get('dense_1/bias')).toEqual(w0.get('dense_1/bias'));
    expect(w1.get('dense_2/kernel')).not.toEqual(w0.get('dense_2/kernel'));
    // dense_1: 6·8 + 8 = 56 frozen; batchNorm: 16 trainable, 16 moving; dense_2: 27 trainable.
    expect(m.trainableSize).toBe(16 + 27);
    const text = m.summary(() => {});
    expect(text).toContain('Trainable params: 43');
    expect(text).toContain('Non-trainable params: 72');
    // No optimizer state for frozen parameters: Adam's two moments cover the trainable region only.
    expect(m.optimizer!.stateSpec().length).toBe(2);
    expect(m.arena().size).toBe(43);
    expect(m.lossAndGrad(x, y).grads.has('dense_1/kernel')).toBe(false);
    m.dispose();
  });

  it('layer.trainable = false before compile re-lays the arenas (values kept); after compile training refuses until compiled again', async () => {
    const m = build(false);
    const { x, y } = data();
    const w0 = m.getWeights();
    m.getLayer('dense_1').trainable = false;
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: 'sgd' });
    expect(m.getWeights()).toEqual(w0);
    expect(m.trainableSize).toBe(43);
    await m.fit(x, y, { epochs: 1, batchSize: 16 });
    expect(m.getWeights().get('dense_1/kernel')).toEqual(w0.get('dense_1/kernel'));
    // Unfreezing after compile: a StateError until compile applies it.
    m.layers[0].trainable = true;
    await expect(m.fit(x, y, { epochs: 1 })).rejects.toThrow(nn.StateError);
    expect(() => m.trainStep(x, y)).toThrow(/dense_1 changed after compile/);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: 'sgd' });
    expect(m.trainableSize).toBe(56 + 43);
    const before = m.getWeights().get('dense_1/kernel');
    m.trainStep(x, y);
    expect(m.getWeights().get('dense_1/kernel')).not.toEqual(before);
    m.dispose();
  });

  it('a frozen batch norm runs in inference mode: moving statistics unchanged, and training output equals predict', () => {
    const m = nn.sequential({ inputShape: [4], seed: 2 }, [nn.dense(5, { name: 'd' }), nn.batchNorm({ trainable: false, name: 'bn' }), nn.dense(2)]);
    m.compile({ loss: 'mse', optimizer: nn.sgd({ lr: 0.1 }) });
    m.setWeights({ 'bn/movingMean': Float32Array.from([0.1, -0.2, 0.3, 0, 0.5]), 'bn/movingVariance': Float32Array.from([2, 0.5, 1, 3, 0.25]) });
    const x = nn.tensor(Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)), [8, 4]);
    const y = nn.tensor(Float32Array.from({ length: 16 }, (_, i) => Math.cos(i)), [8, 2]);
    const before = m.getWeights();
    const r = m.lossAndGrad(x, y);
    // With inference-mode normalisation the training loss is the evaluate loss.
    expect(r.loss).toBeCloseTo(m.evaluate(x, y).loss, 6);
    m.trainStep(x, y);
    const after = m.getWeights();
    for (const k of ['bn/movingMean', 'bn/movingVariance', 'bn/gamma', 'bn/beta']) expect(after.get(k)).toEqual(before.get(k));
    expect(after.get('d/kernel')).not.toEqual(before.get('d/kernel'));
    // The backward through the frozen batch norm (dx = dy·γ/√(σ² + ε)) checked by central differences.
    const g = nn.gradCheck(m, x, y);
    expect(g.ok).toBe(true);
    expect(Object.keys(g.perTensor)).not.toContain('bn/gamma');
    m.dispose();
  });

  it('gradCheck skips frozen parameters and checks the rest; a frozen first layer gets no gradient work', () => {
    const m = build(true).compile({ loss: 'softmaxCrossEntropy', optimizer: 'sgd' });
    const { x, y } = data(32);
    const g = nn.gradCheck(m, x, y);
    expect(g.ok).toBe(true);
    expect(Object.keys(g.perTensor).sort()).toEqual(['batchNorm_1/beta', 'batchNorm_1/gamma', 'dense_2/bias', 'dense_2/kernel', 'input']);
    expect(m.chain.backwardStart).toBe(1);
    m.dispose();
  });

  it('getLayer finds nested layers by name; an unknown name is a ConfigError listing the names', () => {
    const m = nn.sequential({ inputShape: [4] }, [nn.dense(4), nn.residual([nn.dense(4, { name: 'inner' })]), nn.dense(1)]);
    expect(m.getLayer('inner').type).toBe('dense');
    expect(m.layers[1].type).toBe('residual');
    expect(() => m.getLayer('nope')).toThrow(nn.ConfigError);
    expect(() => m.getLayer('nope')).toThrow(/"nope".*dense_1, residual_1, inner, dense_3/);
    // Freezing a residual block freezes the layers inside.
    m.getLayer('residual_1').trainable = false;
    m.compile({ loss: 'mse', optimizer: 'sgd' });
    expect(m.paramRefs.filter((p) => p.trainable).map((p) => p.name).sort()).toEqual(['dense_1/bias', 'dense_1/kernel', 'dense_3/bias', 'dense_3/kernel']);
    m.dispose();
  });

  it('the trainable flag is saved and loaded (.simdnn)', async () => {
    const m = build(true);
    m.getLayer('dense_2').trainable = false;
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: 'adam' });
    const again = await nn.loadModel(await m.toBytes());
    expect(again.layers.map((l) => l.trainable !== false)).toEqual([false, true, false]);
    expect(again.trainableSize).toBe(16);
    expect(again.getWeights()).toEqual(m.getWeights());
    m.dispose(); again.dispose();
  });

  it('TF.js: trainable false is exported and imported', async () => {
    const m = build(true);
    const a = tfjsArtifacts(m);
    const cfg = a.modelJson.modelTopology.config.layers.map((l) => (l.config as { trainable: boolean }).trainable);
    expect(cfg.filter((t) => t === false).length).toBe(1);
    const back = await importTfjs({ modelJson: JSON.stringify(a.modelJson), weights: a.weights });
    expect(back.layers.map((l) => l.trainable !== false)).toEqual([false, true, true]);
    expect(back.trainableSize).toBe(43);
    expect(back.getWeights()).toEqual(m.getWeights());
    m.dispose(); back.dispose();
  });

  it('conv2d({ trainable: false }): kernel and bias unchanged by fit, the dense after it trained; gradCheck passes', async () => {
    const m = nn.sequential({ inputShape: [6, 6, 1], seed: 5 }, [
      nn.conv2d(3, { kernelSize: 3, activation: 'relu', trainable: false, name: 'c' }), nn.flatten(), nn.dense(2, { name: 'out' }),
    ]).compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.1 }) });
    const x = nn.tensor(Float32Array.from({ length: 8 * 36 }, (_, i) => Math.sin(i * 0.7)), [8, 6, 6, 1]);
    const y = Int32Array.from({ length: 8 }, (_, i) => i % 2);
    const w0 = m.getWeights();
    await m.fit(x, y, { epochs: 2, batchSize: 4 });
    const w = m.getWeights();
    expect(w.get('c/kernel')).toEqual(w0.get('c/kernel'));
    expect(w.get('c/bias')).toEqual(w0.get('c/bias'));
    expect(w.get('out/kernel')).not.toEqual(w0.get('out/kernel'));
    expect(m.chain.backwardStart).toBe(2);
    expect(nn.gradCheck(m, x, y).ok).toBe(true);
    m.dispose();
  });

  it('summary counts by the flags now, before compile applies them', () => {
    const m = build(false);
    expect(m.summary(() => {})).toContain('Non-trainable params: 16');
    m.layers[0].trainable = false;
    expect(m.summary(() => {})).toContain('Non-trainable params: 72');
    m.dispose();
  });

  it('trainable must be a boolean', () => {
    expect(() => nn.dense(3, { trainable: 'no' as never })).toThrow(/trainable is "no"; it must be true or false/);
    const m = build(false);
    (m.layers[1] as { trainable?: unknown }).trainable = 1;
    expect(() => m.compile({ loss: 'mse', optimizer: 'sgd' })).toThrow(/batchNorm_1's trainable is 1; it must be true or false/);
    m.dispose();
  });

  it('threads: 2 — frozen weights stay, the trained ones match the single-thread run', async () => {
    const { x, y } = data(64);
    const run = async (threads: number) => {
      const m = build(true, threads).compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.1 }) });
      const w0 = m.getWeights();
      await m.fit(x, y, { epochs: 2, batchSize: 32, sampling: 'sequential' });
      const w = m.getWeights();
      m.dispose();
      return { w0, w };
    };
    const one = await run(1), two = await run(2);
    expect(two.w.get('dense_1/kernel')).toEqual(two.w0.get('dense_1/kernel'));
    const a = one.w.get('dense_2/kernel')!, b = two.w.get('dense_2/kernel')!;
    expect(b).not.toEqual(two.w0.get('dense_2/kernel'));
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
  });

  it('threads: 2 — unfreezing before compile makes a pool whose gradient banks fit the larger region', async () => {
    const { x, y } = data(64);
    const m = build(true, 2).compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.1 }) });
    await m.fit(x, y, { epochs: 1, batchSize: 32 });
    m.layers[0].trainable = true;
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.1 }) });
    const w0 = m.getWeights().get('dense_1/kernel');
    await m.fit(x, y, { epochs: 1, batchSize: 32 });
    expect(m.getWeights().get('dense_1/kernel')).not.toEqual(w0);
    expect(m.threadPool?.threads).toBe(2);
    m.dispose();
  });
});
