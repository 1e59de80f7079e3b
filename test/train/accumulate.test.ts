// Gradient accumulation, fit({ accumulate: k }): k batches of B rows summed into one optimizer
// step give the weights of one batch of k·B rows (within float32 summation order). The PRNG
// advances once per batch (each batch draws its own dropout masks), so a shuffled run's later
// epochs draw other orders than the k·B run: the comparisons run in sequential order.
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';

function data(n: number, f = 5, seed = 7) {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const x = Float32Array.from({ length: n * f }, r);
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * f] > 0 ? 1 : x[i * f + 1] > 0 ? 2 : 0));
  return { x: nn.tensor(x, [n, f]), y };
}
const net = (optimizer: () => nn.Optimizer, threads = 1) => nn.sequential({ inputShape: [5], seed: 11, threads }, [
  nn.dense(16, { activation: 'tanh', kernelRegularizer: nn.l2(1e-3) }),
  nn.dense(3),
]).compile({ loss: 'softmaxCrossEntropy', optimizer: optimizer(), metrics: ['accuracy'] });

function expectClose(a: Map<string, Float32Array>, b: Map<string, Float32Array>, tol: number) {
  for (const [k, v] of a) {
    const w = b.get(k)!;
    let worst = 0;
    for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i] - w[i]));
    expect(worst, k).toBeLessThan(tol);
  }
}

describe('fit({ accumulate })', () => {
  for (const [name, opt] of [['sgd', () => nn.sgd({ lr: 0.2, momentum: 0.9 })], ['adam', () => nn.adam({ lr: 0.01 })]] as const) {
    it(`${name}: 4 batches of 8 accumulated = batches of 32 (weights within 1e-5), with sampleWeight and classWeight`, async () => {
      const { x, y } = data(96);
      const sampleWeight = Float32Array.from({ length: 96 }, (_, i) => 0.5 + (i % 3));
      const classWeight = { 0: 2, 2: 0.5 };
      const big = net(opt), acc = net(opt);
      const hb = await big.fit(x, y, { epochs: 3, batchSize: 32, sampleWeight, classWeight, sampling: 'sequential' });
      const steps: number[] = [];
      const ha = await acc.fit(x, y, { epochs: 3, batchSize: 8, accumulate: 4, sampleWeight, classWeight, sampling: 'sequential',
        callbacks: [nn.callbacks.lambda({ onBatchEnd: (b, logs) => steps.push(b, logs.size) })] });
      expectClose(big.getWeights(), acc.getWeights(), 1e-5);
      for (const k of ['loss', 'dataLoss', 'accuracy']) {
        for (let e = 0; e < 3; e++) expect(Math.abs(ha.history[k][e] - hb.history[k][e]), k).toBeLessThan(1e-5);
      }
      // onBatchEnd once per optimizer step, with its rows.
      expect(steps).toEqual([0, 32, 1, 32, 2, 32, 0, 32, 1, 32, 2, 32, 0, 32, 1, 32, 2, 32]);
      big.dispose(); acc.dispose();
    });
  }

  it('the epoch ends with a step on what is left, scaled by its rows (50 rows, batches of 8, accumulate 3: steps of 24, 24, 2)', async () => {
    const { x, y } = data(50);
    const acc = net(() => nn.adam({ lr: 0.01 })), hand = net(() => nn.adam({ lr: 0.01 }));
    await acc.fit(x, y, { epochs: 2, batchSize: 8, accumulate: 3, sampling: 'sequential' });
    for (let e = 0; e < 2; e++) {
      for (const [a, b] of [[0, 24], [24, 48], [48, 50]]) hand.trainStep(x.slice(a, b), y.subarray(a, b));
    }
    expectClose(hand.getWeights(), acc.getWeights(), 1e-5);
    acc.dispose(); hand.dispose();
  });

  it('threads: 2 — the same weights as one thread', async () => {
    const { x, y } = data(96);
    const one = net(() => nn.sgd({ lr: 0.1 })), two = net(() => nn.sgd({ lr: 0.1 }), 2);
    await one.fit(x, y, { epochs: 2, batchSize: 16, accumulate: 3 });
    await two.fit(x, y, { epochs: 2, batchSize: 16, accumulate: 3 });
    expectClose(one.getWeights(), two.getWeights(), 1e-5);
    one.dispose(); two.dispose();
  });

  it('a non-finite loss inside a group stops with the weights of the last step', async () => {
    const { x, y } = data(32);
    const xs = Float32Array.from(x.data);
    xs.fill(NaN, 20 * 5, 21 * 5); // row 20: in the third batch of 8, the second group of 2
    const m = net(() => nn.sgd({ lr: 0.1 }));
    let after1: Uint8Array | undefined;
    const h = await m.fit(nn.tensor(xs, [32, 5]), y, { epochs: 1, batchSize: 8, accumulate: 2, sampling: 'sequential',
      callbacks: [nn.callbacks.terminateOnNaN(), nn.callbacks.lambda({ onBatchEnd: () => { after1 = m.weightBytes(); } })] });
    expect(h.stopped).toBe('nan');
    expect(after1).toBeDefined();
    expect(m.weightBytes()).toEqual(after1);
    m.dispose();
  });

  it('a fit stopped by its time budget resumes between optimizer steps: the same weights and epoch logs (penalties included)', async () => {
    const { x, y } = data(40);
    const opts = { epochs: 2, batchSize: 4, accumulate: 3 };
    const whole = net(() => nn.adam({ lr: 0.01 })), parts = net(() => nn.adam({ lr: 0.01 }));
    const hw = await whole.fit(x, y, opts);
    let h = await parts.fit(x, y, { ...opts, timeBudgetMs: 1e-6 });
    const first = h.resume!;
    expect(first.step).toBe(3);
    // Resuming at step 3 with accumulate 2 would split an optimizer step: refused.
    await expect(parts.fit(x, y, { ...opts, accumulate: 2, resume: first })).rejects.toThrow(/resume.step is 3, not a multiple of accumulate 2/);
    let fits = 1, last = h;
    while (h.resume) {
      expect(h.resume.step % 3).toBe(0);
      h = await parts.fit(x, y, { ...opts, timeBudgetMs: 1e-6, resume: h.resume });
      fits++;
      if (h.epoch.length) last = h;
    }
    expect(fits).toBeGreaterThan(4);
    expect(parts.weightBytes()).toEqual(whole.weightBytes());
    expect(last.history.loss.at(-1)).toBeCloseTo(hw.history.loss[1], 6);
    expect(last.history.dataLoss.at(-1)).toBeCloseTo(hw.history.dataLoss[1], 6);
    whole.dispose(); parts.dispose();
  });

  it('accumulate must be an integer ≥ 1', async () => {
    const { x, y } = data(8);
    const m = net(() => nn.sgd());
    await expect(m.fit(x, y, { accumulate: 0 })).rejects.toThrow(/accumulate is 0; it must be/);
    await expect(m.fit(x, y, { accumulate: 1.5 })).rejects.toThrow(nn.ConfigError);
    m.dispose();
  });
});
