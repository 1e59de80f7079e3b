// NaN/∞ in training: a non-finite gradient injected at step k stops fit at step k with a
// NumericError naming the layer; the weights after step k−1 and the last checkpoint file are
// untouched (compared by hash).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { modelToBytes } from '../../src/io/model-bytes.js';
import { writeAtomic } from '../../src/io/fs.js';
import { rng } from '../util/rng.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const weightsHash = (m: nn.Sequential) => sha(modelToBytes(m));

describe('non-finite gradients stop training', () => {
  for (const k of [1, 4, 9]) {
    it(`a gradient of ∞ injected at step ${k} stops fit at step ${k}, weights and checkpoint untouched`, async () => {
      // Feature 1 is 0 everywhere except in sample k−1, where it is 3e38: its weight never moves
      // before step k (zero gradient), so the loss at step k stays finite (w₁ = 0), but
      // ∂L/∂w₁ = x₁ · 2(pred − y) overflows float32 to ∞ in dense_1/kernel.
      const n = 12, r = rng(k);
      const x = new Float32Array(n * 2), y = new Float32Array(n);
      for (let i = 0; i < n; i++) { x[2 * i] = r() * 2 - 1; y[i] = 100 + x[2 * i]; }
      x[2 * (k - 1) + 1] = 3e38;
      const m = nn.sequential({ inputShape: [2], seed: k }, [nn.dense(1, { name: 'dense_1' })]);
      m.compile({ loss: 'mse', optimizer: nn.sgd({ lr: 0.01 }) });
      const w = m.getWeights();
      w.get('dense_1/kernel')![1] = 0;
      m.setWeights(w);
      const ckpt = join(mkdtempSync(join(tmpdir(), 'simdnn-nan-')), 'ckpt.simdnn');
      let steps = 0, lastGood = weightsHash(m), lastFile = '';
      writeAtomic(ckpt, modelToBytes(m));
      lastFile = sha(readFileSync(ckpt));
      const checkpointEveryBatch: nn.callbacks.Callback = {
        onBatchEnd: (_b, logs) => {
          expect(Number.isFinite(logs.loss)).toBe(true);
          steps++;
          writeAtomic(ckpt, modelToBytes(m));
          lastGood = weightsHash(m);
          lastFile = sha(readFileSync(ckpt));
        },
      };
      let err: unknown;
      try {
        await m.fit(x, y, { epochs: 1, batchSize: 1, sampling: 'sequential', callbacks: [checkpointEveryBatch] });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(nn.NumericError);
      expect((err as Error).message).toMatch(new RegExp(`batch ${k} \\(first non-finite gradient in dense_1/kernel\\)`));
      expect(steps).toBe(k - 1);
      expect(weightsHash(m)).toBe(lastGood);
      expect(sha(readFileSync(ckpt))).toBe(lastFile);
      expect(m.getWeights().get('dense_1/kernel')![1]).toBe(0);
      // The model is still usable: training on clean data proceeds.
      x[2 * (k - 1) + 1] = 0;
      const h = await m.fit(x, y, { epochs: 1, batchSize: 4 });
      expect(h.history.loss.every(Number.isFinite)).toBe(true);
      m.dispose();
    });
  }

  it('a non-finite loss (huge input through a non-zero weight) also stops with NumericError and keeps the weights', async () => {
    const m = nn.sequential({ inputShape: [1], seed: 1 }, [nn.dense(2), nn.dense(1)]);
    m.compile({ loss: 'mse', optimizer: nn.adam() });
    const before = weightsHash(m);
    await expect(m.fit(new Float32Array([1, 3e38]), new Float32Array([1, 1]), { epochs: 1, batchSize: 2 })).rejects.toThrow(nn.NumericError);
    expect(weightsHash(m)).toBe(before);
    m.dispose();
  });

  for (const threads of [1, 2]) {
    it(`a NaN pixel keeps batch norm's running statistics with the weights (conv and dense models, ${threads} thread${threads > 1 ? 's' : ''}); lossAndGrad leaves them too`, async () => {
      const models = [
        () => nn.sequential({ inputShape: [4, 4, 1], seed: 2, threads }, [nn.conv2d(3, { kernelSize: 2 }), nn.batchNorm(), nn.flatten(), nn.dense(2)]),
        () => nn.sequential({ inputShape: [16], seed: 2, threads }, [nn.dense(3), nn.batchNorm(), nn.dense(2)]),
      ];
      const r = rng(5), x = Float32Array.from({ length: 16 * 16 }, () => r() - 0.5), y = Int32Array.from({ length: 16 }, (_, i) => i % 2);
      for (const make of models) {
        const m = make().compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.1 }) });
        const before = weightsHash(m), p0 = Array.from(m.predict(x).data);
        m.lossAndGrad(x, y);
        expect(weightsHash(m), 'lossAndGrad').toBe(before);
        const bad = x.slice();
        bad[5] = NaN;
        expect(m.trainStep(bad, y).loss).toBeNaN();
        await expect(m.fit(bad, y, { epochs: 1, batchSize: 16 })).rejects.toThrow(nn.NumericError);
        expect(weightsHash(m), 'after the refused steps').toBe(before);
        expect(Array.from(m.predict(x).data)).toEqual(p0);
        await m.fit(x, y, { epochs: 1, batchSize: 16 });
        expect(weightsHash(m), 'a good step still updates them').not.toBe(before);
        m.dispose();
      }
    });
  }
});
