// Where simdnn follows Keras: the reported loss includes the weight and activity penalties
// (dataLoss without them), classWeight leaves the validation loss unweighted, earlyStopping's
// patience / baseline / startFromEpoch as Keras 3; model.clone() and predict({ output }).
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';

function data(n = 40, f = 4, seed = 5) {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const x = Float32Array.from({ length: n * f }, r);
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * f] > 0 ? 1 : 0));
  return { x: nn.tensor(x, [n, f]), y };
}

describe('the loss includes the penalties, as Keras; dataLoss is the loss without them', () => {
  it('evaluate: loss = data loss + l2·Σw² + activity penalty; dataLoss = the same model without regularizers', () => {
    const { x, y } = data();
    const mk = (reg: boolean) => nn.sequential({ inputShape: [4], seed: 9 }, [
      nn.dense(6, { activation: 'relu', ...(reg && { kernelRegularizer: nn.l2(0.01), activityRegularizer: nn.l1(0.001) }) }),
      nn.dense(2, reg ? { kernelRegularizer: nn.l1(0.02) } : {}),
    ]).compile({ loss: 'softmaxCrossEntropy', optimizer: 'sgd' });
    const a = mk(true), b = mk(false);
    const ev = a.evaluate(x, y, { batchSize: 16 }), plain = b.evaluate(x, y, { batchSize: 16 });
    expect(ev.dataLoss).toBeCloseTo(plain.loss, 6);
    expect(plain.dataLoss).toBeUndefined();
    // The penalties by hand (float64): weights from getWeights, activity from the first layer's outputs.
    const w = a.getWeights();
    let weight = 0;
    for (const v of w.get('dense_1/kernel')!) weight += 0.01 * v * v;
    for (const v of w.get('dense_2/kernel')!) weight += 0.02 * Math.abs(v);
    const h = a.predict(x, { output: 'dense_1' }).data;
    let act = 0;
    for (const v of h) act += 0.001 * Math.abs(v);
    act /= 40;
    expect(ev.loss).toBeCloseTo(plain.loss + weight + act, 5);
    a.dispose(); b.dispose();
  });

  it('fit logs loss and dataLoss (and valLoss, valDataLoss); trainStep too', async () => {
    const { x, y } = data();
    const m = nn.sequential({ inputShape: [4], seed: 1 }, [nn.dense(3, { kernelRegularizer: nn.l2(0.1) }), nn.dense(2)])
      .compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.1 }) });
    const h = await m.fit(x, y, { epochs: 2, batchSize: 40, validationData: [x, y] });
    expect(Object.keys(h.history)).toEqual(['loss', 'dataLoss', 'valLoss', 'valDataLoss', 'lr']);
    for (let e = 0; e < 2; e++) expect(h.history.loss[e]).toBeGreaterThan(h.history.dataLoss[e]);
    const ev = m.evaluate(x, y);
    expect(h.history.valLoss[1]).toBeCloseTo(ev.loss, 5);
    const w = m.getWeights().get('dense_1/kernel')!;
    const pen = w.reduce((s, v) => s + 0.1 * v * v, 0);
    const logs = m.trainStep(x, y);
    expect(logs.loss - logs.dataLoss).toBeCloseTo(pen, 5);
    m.dispose();
  });
});

describe('classWeight weights the training loss only (Keras reports the validation loss unweighted)', () => {
  it('valLoss with classWeight equals evaluate on the validation data', async () => {
    const { x, y } = data();
    const m = nn.sequential({ inputShape: [4], seed: 2 }, [nn.dense(2)]).compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 1e-9 }) });
    const plain = m.evaluate(x, y).loss;
    const h = await m.fit(x, y, { epochs: 1, batchSize: 40, validationData: [x, y], classWeight: { 0: 5, 1: 0.1 } });
    expect(h.history.valLoss[0]).toBeCloseTo(plain, 6);
    expect(Math.abs(h.history.loss[0] - plain)).toBeGreaterThan(1e-3);
    m.dispose();
  });
});

describe('earlyStopping as Keras 3', () => {
  /** A fit whose monitored log follows `values`, epoch by epoch (a lambda callback writes it). */
  async function epochsRun(values: number[], opts: nn.callbacks.EarlyStoppingOptions): Promise<number> {
    const { x, y } = data(8);
    const m = nn.sequential({ inputShape: [4] }, [nn.dense(2)]).compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 1e-9 }) });
    const feed = nn.callbacks.lambda({ onEpochEnd: (e, logs) => { logs.loss = values[e]; } });
    const h = await m.fit(x, y, { epochs: values.length, batchSize: 8, callbacks: [feed, nn.callbacks.earlyStopping({ monitor: 'loss', ...opts })] });
    m.dispose();
    return h.epoch.length;
  }
  it('patience 5 stops after 5 epochs without improvement (the best at epoch 1, stopped at epoch 6)', async () => {
    expect(await epochsRun([1, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3], { patience: 5 })).toBe(7);
    expect(await epochsRun([1, 0.5, 0.6, 0.7], { patience: 0 })).toBe(3);
    expect(await epochsRun([1, 0.5, 0.6, 0.4, 0.7, 0.8], { patience: 2 })).toBe(6);
  });
  it('baseline: improvements that do not beat it count as epochs without improvement', async () => {
    // Keras 3: wait counts from the start unless an improvement also beats the baseline.
    const v = [1, 0.9, 0.95, 0.97, 0.99, 1];
    expect(await epochsRun(v, { patience: 2, baseline: 0.1 })).toBe(3);
    expect(await epochsRun(v, { patience: 2, baseline: 2 })).toBe(4);
    expect(await epochsRun(v, { patience: 2 })).toBe(4);
  });
  it('startFromEpoch: earlier epochs are not monitored', async () => {
    expect(await epochsRun([1, 2, 3, 4, 5, 6], { patience: 1 })).toBe(2);
    expect(await epochsRun([1, 2, 3, 4, 5, 6], { patience: 1, startFromEpoch: 3 })).toBe(5);
    expect(() => nn.callbacks.earlyStopping({ startFromEpoch: -1 })).toThrow(/startFromEpoch is -1/);
    expect(() => nn.callbacks.earlyStopping({ baseline: NaN })).toThrow(/baseline is NaN/);
  });
});

describe('model.clone()', () => {
  it('the same architecture, weights, frozen layers and metadata; its own memory; the two train independently', async () => {
    const { x, y } = data();
    const m = nn.sequential({ inputShape: [4], seed: 4 }, [nn.dense(5, { activation: 'relu', trainable: false }), nn.dense(2)])
      .compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 0.05 }), metrics: ['accuracy'] });
    m.setMetadata({ classes: ['no', 'yes'] });
    await m.fit(x, y, { epochs: 1, batchSize: 8 });
    const c = m.clone();
    expect(c.config()).toEqual(m.config());
    expect(c.weightBytes()).toEqual(m.weightBytes());
    expect(c.metadata).toEqual(m.metadata);
    expect(c.trainableSize).toBe(m.trainableSize);
    expect(c.params).not.toBe(m.params);
    // Optimizer settings, not its state (Keras clone_model).
    expect(c.optimizer!.config).toEqual(m.optimizer!.config);
    expect(c.optimizer!.iterations).toBe(0);
    const before = m.weightBytes();
    await c.fit(x, y, { epochs: 2, batchSize: 8 });
    expect(m.weightBytes()).toEqual(before);
    expect(c.weightBytes()).not.toEqual(before);
    m.dispose();
    expect(c.predict(x).rows).toBe(40);
    c.dispose();
  });
});

describe("predict(x, { output: 'name' })", () => {
  it('the output of an intermediate layer, nested in a residual block too; unknown names are a ConfigError listing the names', () => {
    const { x } = data(6);
    const m = nn.sequential({ inputShape: [4], seed: 3 }, [
      nn.dense(3, { activation: 'relu', name: 'h' }), nn.residual([nn.dense(3, { activation: 'tanh', name: 'in' })]), nn.dense(2),
    ]);
    const w = m.getWeights(), W = w.get('h/kernel')!, b = w.get('h/bias')!;
    const hid = m.predict(x, { output: 'h', batchSize: 4 });
    expect(hid.shape).toEqual([6, 3]);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 3; j++) {
      let z = b[j];
      for (let k = 0; k < 4; k++) z += x.data[i * 4 + k] * W[k * 3 + j];
      expect(hid.data[i * 3 + j]).toBeCloseTo(Math.max(0, z), 5);
    }
    const inner = m.predict(x, { output: 'in' }), Wi = w.get('in/kernel')!, bi = w.get('in/bias')!;
    for (let i = 0; i < 6; i++) for (let j = 0; j < 3; j++) {
      let z = bi[j];
      for (let k = 0; k < 3; k++) z += hid.data[i * 3 + k] * Wi[k * 3 + j];
      expect(inner.data[i * 3 + j]).toBeCloseTo(Math.tanh(z), 5);
    }
    expect(m.predict(x, { output: 'dense_3' }).data).toEqual(m.predict(x).data);
    expect(() => m.predict(x, { output: 'nope' })).toThrow(nn.ConfigError);
    expect(() => m.predict(x, { output: 'nope' })).toThrow(/"nope".*h, residual_1, in, dense_3/);
    m.dispose();
  });

  it('threads: 2 — the same intermediate outputs as one thread', () => {
    const { x } = data(64);
    const mk = (threads: number) => nn.sequential({ inputShape: [4], seed: 3, threads }, [nn.dense(8, { activation: 'relu', name: 'h' }), nn.dense(2)]);
    const one = mk(1), two = mk(2);
    const a = one.predict(x, { output: 'h' }).data, b = two.predict(x, { output: 'h' }).data;
    expect(a.some((v) => v !== 0)).toBe(true);
    expect(b).toEqual(a);
    one.dispose(); two.dispose();
  });
});
