// The training loop on real data: XOR, the MNIST digits of the `mnist` package, Fashion-MNIST
// (Debian's dataset-fashion-mnist) and Boston housing with 10-fold cross-validation; callbacks,
// reproducibility, NaN handling and the low-level path.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';

const XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]];
const XOR_Y = Float32Array.from([0, 1, 1, 0]);

function xorModel(seed = 1) {
  const m = nn.sequential({ inputShape: [2], seed }, [nn.dense(4, { activation: 'tanh' }), nn.dense(1, { activation: 'sigmoid' })]);
  m.compile({ loss: 'binaryCrossEntropy', optimizer: nn.adam({ lr: 0.05 }), metrics: ['binaryAccuracy'] });
  return m;
}

describe('training', () => {
  it('XOR with a 2-4-1 tanh/sigmoid net reaches 100% accuracy from a fixed seed', async () => {
    const m = xorModel();
    await m.fit(XOR_X, XOR_Y, { epochs: 500, batchSize: 4 });
    const r = m.evaluate(XOR_X, XOR_Y);
    expect(r.binaryAccuracy).toBe(1);
    expect(r.loss).toBeLessThan(0.1);
    m.dispose();
  });

  it('the same seed gives bit-identical weights; another seed does not', async () => {
    const run = async (seed: number) => {
      const m = nn.sequential({ inputShape: [2], seed }, [nn.dense(8, { activation: 'relu' }), nn.dropout(0.3), nn.dense(1, { activation: 'sigmoid' })]);
      m.compile({ loss: 'binaryCrossEntropy', optimizer: nn.sgd({ lr: 0.1, momentum: 0.9 }) });
      await m.fit(XOR_X, XOR_Y, { epochs: 30, batchSize: 2, sampling: 'shuffle' });
      const w = m.weightBytes();
      m.dispose();
      return w;
    };
    const a = await run(11), b = await run(11), c = await run(12);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('evaluate and predict from a callback inside fit (larger batches) leave training unchanged', async () => {
    const { train } = nn.datasets.mnistDigits();
    const x = train.x.slice(0, 600), y = (train.y as Int32Array).subarray(0, 600);
    const run = async (probe: boolean) => {
      const m = nn.sequential({ inputShape: [784], seed: 5 }, [nn.dense(32, { activation: 'relu' }), nn.dropout(0.2), nn.dense(10)]);
      m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.05, momentum: 0.9 }), metrics: ['accuracy'] });
      const seen: number[] = [];
      const probeCb = nn.callbacks.lambda({
        onBatchEnd: (s) => {
          if (s % 4 !== 0) return;
          seen.push(m.evaluate(x, y, { batchSize: 300 }).accuracy);
          expect(m.predict(x.slice(0, 50), { batchSize: 50 }).shape).toEqual([50, 10]);
        },
      });
      await m.fit(x, y, { epochs: 2, batchSize: 16, callbacks: probe ? [probeCb] : [] });
      const w = m.weightBytes();
      m.dispose();
      return { w, seen };
    };
    const plain = await run(false), probed = await run(true);
    expect(probed.seen.length).toBeGreaterThan(10);
    expect(probed.seen.every((a) => a >= 0 && a <= 1)).toBe(true);
    expect(probed.w).toEqual(plain.w);
  });

  it("sampling 'replacement' and 'sequential' train too, and full-batch GD is batchSize = n", async () => {
    for (const sampling of ['replacement', 'sequential'] as const) {
      const m = xorModel(3);
      const h = await m.fit(XOR_X, XOR_Y, { epochs: 300, batchSize: 4, sampling });
      expect(h.history.loss[299]).toBeLessThan(h.history.loss[0]);
      m.dispose();
    }
  });

  it('earlyStopping stops on a stalled validation loss and restores the best weights', async () => {
    const m = xorModel(2);
    let best = Infinity, bestW: Uint8Array | undefined;
    const spy = nn.callbacks.lambda({
      onEpochEnd: (_e, logs) => { if (logs.valLoss < best) { best = logs.valLoss; bestW = m.weightBytes(); } },
    });
    // Validation on data the model cannot fit (flipped labels): its loss rises as training fits XOR.
    const h = await m.fit(XOR_X, XOR_Y, {
      epochs: 400, batchSize: 4, validationData: [XOR_X, Float32Array.from([1, 0, 0, 1])],
      callbacks: [spy, nn.callbacks.earlyStopping({ monitor: 'valLoss', patience: 5, restoreBest: true })],
    });
    expect(h.epoch.length).toBeLessThan(400);
    expect(h.stopped).toBe('callback');
    expect(m.weightBytes()).toEqual(bestW);
    m.dispose();
  });

  it('a non-finite loss stops training with the last good weights kept (NumericError, or terminateOnNaN)', async () => {
    const build = () => {
      const m = nn.sequential({ inputShape: [2], seed: 1 }, [nn.dense(16, { activation: 'relu' }), nn.dense(1)]);
      m.compile({ loss: 'mse', optimizer: nn.sgd({ lr: 1e6 }) });
      return m;
    };
    const x = Float32Array.from({ length: 64 }, (_, i) => (i % 7) - 3), y = Float32Array.from({ length: 32 }, (_, i) => i);
    const a = build();
    await expect(a.fit(x, y, { epochs: 50, batchSize: 4 })).rejects.toThrow(nn.NumericError);
    expect(Array.from(new Float32Array(a.weightBytes().buffer)).every(Number.isFinite)).toBe(true);
    const b = build();
    const logged: string[] = [];
    const h = await b.fit(x, y, { epochs: 50, batchSize: 4, callbacks: [nn.callbacks.terminateOnNaN({ log: (s) => logged.push(s) })] });
    expect(h.stopped).toBe('nan');
    expect(logged[0]).toMatch(/the loss became (NaN|Infinity)/);
    expect(Array.from(new Float32Array(b.weightBytes().buffer)).every(Number.isFinite)).toBe(true);
    a.dispose(); b.dispose();
  });

  it('callbacks: csvLogger, learningRateScheduler, reduceLROnPlateau, modelCheckpoint, progressBar', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdnn-cb-'));
    const m = xorModel(4);
    const saved: number[] = [];
    const lines: string[] = [];
    const h = await m.fit(XOR_X, XOR_Y, {
      epochs: 6, batchSize: 4, validationData: [XOR_X, XOR_Y],
      callbacks: [
        nn.callbacks.csvLogger(join(dir, 'log.csv')),
        nn.callbacks.learningRateScheduler((epoch) => 0.05 / (1 + epoch)),
        nn.callbacks.modelCheckpoint({ save: (_m, epoch) => { saved.push(epoch); }, monitor: 'valLoss', saveBestOnly: true }),
        nn.callbacks.progressBar({ stream: { write: (s: string) => lines.push(s), isTTY: false } as never }),
      ],
    });
    const csv = readFileSync(join(dir, 'log.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,loss,binaryAccuracy,valLoss,valBinaryAccuracy,lr');
    expect(csv.length).toBe(7);
    expect(h.history.lr[5]).toBeCloseTo(0.05 / 6, 8);
    expect(saved.length).toBeGreaterThan(0);
    expect(lines.length).toBe(6);
    expect(lines[0]).toMatch(/^epoch 1\/6 · loss [\d.]+ .* samples\/s/);
    const p = xorModel(5);
    const h2 = await p.fit(XOR_X, XOR_Y, { epochs: 8, batchSize: 4, validationData: [XOR_X, Float32Array.from([1, 0, 0, 1])],
      callbacks: [nn.callbacks.reduceLROnPlateau({ patience: 1, factor: 0.5 })] });
    expect(Math.min(...h2.history.lr)).toBeLessThan(0.05);
    m.dispose(); p.dispose();
  });

  it('the low-level path: forward, loss, backward, zeroGrad, optimizer.step in a custom loop', () => {
    const m = nn.sequential({ inputShape: [2], seed: 9 }, [nn.dense(8, { activation: 'tanh' }), nn.dense(1, { activation: 'sigmoid' })]);
    m.compile({ loss: 'binaryCrossEntropy', optimizer: nn.adam({ lr: 0.05 }) });
    const e = m.engine;
    const px = e.upload(Float32Array.from(XOR_X.flat())), py = e.upload(XOR_Y), pd = e.alloc(16);
    let first = 0, last = 0;
    for (let i = 0; i < 400; i++) {
      const out = m.forward(px, 4, true);
      const loss = m.loss!.kernel(e, pd, out, py, 4, 1, 0, 0);
      if (i === 0) first = loss;
      last = loss;
      m.zeroGrad();
      m.backward(pd, 4);
      m.optimizer!.step();
    }
    expect(last).toBeLessThan(first / 5);
    for (const p of [px, py, pd]) e.release(p);
    m.dispose();
  });

  it('crossValidate: stratified folds, per-fold results, mean ± std', async () => {
    const x = Float32Array.from({ length: 60 * 2 }, (_, i) => Math.sin(i * 0.37));
    const y = Int32Array.from({ length: 60 }, (_, i) => (x[2 * i] + x[2 * i + 1] > 0 ? 1 : 0));
    const r = await nn.crossValidate(() => {
      const m = nn.sequential({ inputShape: [2], seed: 1 }, [nn.dense(8, { activation: 'relu' }), nn.dense(2)]);
      return m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 0.05 }), metrics: ['accuracy'] });
    }, x, y, { k: 5, fit: { epochs: 60, batchSize: 8 } });
    expect(r.folds.length).toBe(5);
    expect(r.mean.accuracy).toBeGreaterThan(0.85);
    expect(r.std.accuracy).toBeGreaterThanOrEqual(0);
  });
});

describe('real data', () => {
  it('the 10,000 MNIST digits of the mnist package, 8k/2k, 784-128-10: test accuracy ≥ 0.95', async () => {
    const { train, test } = nn.datasets.mnistDigits();
    const m = nn.sequential({ inputShape: [784], seed: 42 }, [nn.dense(128, { activation: 'relu', init: 'heNormal' }), nn.dense(10)]);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 1e-3 }), metrics: ['accuracy'] });
    await m.fit(train.x, train.y, { epochs: 10, batchSize: 64 });
    const r = m.evaluate(test.x, test.y);
    console.log(`mnist digits: test accuracy ${r.accuracy.toFixed(4)}`);
    expect(r.accuracy).toBeGreaterThanOrEqual(0.95);
    m.dispose();
  });

  it.skipIf(!existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz') && !process.env.CI)(
    'Fashion-MNIST, 784-256-128-10 ReLU, Adam 1e-3, batch 128, 10 epochs: test accuracy ≥ 0.885', async () => {
      const { train, test } = nn.datasets.fashionMnist();
      const m = nn.sequential({ inputShape: [784], seed: 42 }, [
        nn.dense(256, { activation: 'relu' }), nn.dense(128, { activation: 'relu' }), nn.dense(10),
      ]);
      m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 1e-3 }), metrics: ['accuracy'] });
      await m.fit(train.x, train.y, { epochs: 10, batchSize: 128 });
      const r = m.evaluate(test.x, test.y);
      console.log(`fashion-mnist: test accuracy ${r.accuracy.toFixed(4)}`);
      expect(r.accuracy).toBeGreaterThanOrEqual(0.885);
      m.dispose();
    });

  it('Boston housing, standardized, 13-64-64-1 ReLU, 10-fold CV: mean test R² ≥ 0.85', async () => {
    const { x, y } = nn.datasets.bostonHousing().all;
    // Standardize features and target (fitted on all rows, as the course does before its k-fold).
    const xs = nn.data.standardizer(x).transform(x);
    const ys = nn.data.standardizer(y!).transform(y!).data;
    const r = await nn.crossValidate(() => {
      const m = nn.sequential({ inputShape: [13], seed: 0 }, [
        nn.dense(64, { activation: 'relu', init: 'heNormal' }), nn.dense(64, { activation: 'relu', init: 'heNormal' }), nn.dense(1),
      ]);
      return m.compile({ loss: 'mse', optimizer: nn.adam({ lr: 1e-3 }), metrics: ['r2', 'mae'] });
    }, xs, ys, { k: 10, seed: 0, fit: { epochs: 100, batchSize: 16 } });
    console.log(`boston housing 10-fold: R² ${r.mean.r2.toFixed(4)} ± ${r.std.r2.toFixed(4)}`);
    expect(r.mean.r2).toBeGreaterThanOrEqual(0.85);
  });
});
