// The data-parallel step (DESIGN §7): with threads 2, 3 and 4 (oversubscribed on 2 cores is
// fine) every layer kind gives the loss and gradients of one thread up to summation order, for
// batches that do not divide by the count; a fixed count is bit-reproducible over a fit; counts
// differ only by rounding; a worker that fails or is killed is a typed error and the model and
// the process stay usable.
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { SimdnnError } from '../../src/errors.js';
import { ThreadPool } from '../../src/threads.js';
import { sliceRows } from '../../src/parallel.js';
import { ALL_ISAS, engineFor } from '../util/engines.js';
import { rng, uniform } from '../util/rng.js';

const D = 12, C = 3;
function data(n: number, seed = 1) {
  const x = uniform(rng(seed), n * D, -1, 1);
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * D] + x[i * D + 1] > 0 ? 1 : 0) + (x[i * D + 2] > 0.3 ? 1 : 0));
  return { x: nn.tensor(x, [n, D]), y };
}
const KINDS: Record<string, () => nn.Layer[]> = {
  dense: () => [nn.dense(16, { activation: 'relu' }), nn.dense(8, { activation: 'tanh', activityRegularizer: nn.l2(1e-2) }), nn.dense(C)],
  activations: () => [nn.dense(16), nn.prelu(), nn.dense(8, { activation: 'gelu' }), nn.activation('softmax'), nn.dense(C)],
  batchNorm: () => [nn.dense(16, { activation: 'relu' }), nn.batchNorm(), nn.dense(C)],
  dropout: () => [nn.dense(16, { activation: 'relu' }), nn.dropout(0.3), nn.dense(8, { activation: 'elu' }), nn.dropout(0.5), nn.dense(C)],
  layerNorm: () => [nn.dense(16, { activation: 'relu' }), nn.layerNorm(), nn.dense(C)],
  residual: () => [nn.dense(16, { activation: 'relu' }), nn.residual([nn.dense(16, { activation: 'relu' }), nn.batchNorm(), nn.dense(16)]), nn.dense(C)],
  conv: () => [nn.conv2d(4, { kernelSize: 2, padding: 'same', activation: 'relu' }), nn.batchNorm(), nn.maxPool2d({ poolSize: 2 }),
    nn.conv2d(3, { kernelSize: 1 }), nn.avgPool2d({ poolSize: [2, 1], padding: 'same' }), nn.flatten(), nn.dropout(0.2), nn.dense(C)],
  convNorm: () => [nn.conv2d(3, { kernelSize: 2, padding: 'same' }), nn.layerNorm(), nn.activation('softmax'), nn.conv2d(2, { kernelSize: 1, activation: 'relu' }),
    nn.globalAveragePooling2d(), nn.dense(C)],
  preprocessing: () => [nn.rescaling(2, -0.5), nn.normalization({ mean: 0.1, variance: 2 }), nn.dense(8, { activation: 'relu' }), nn.dense(C)],
};

function model(kind: string, threads: number, seed = 7) {
  const m = nn.sequential({ inputShape: kind.startsWith('conv') ? [4, 3, 1] : [D], seed, threads }, KINDS[kind]());
  m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 1e-2 }), metrics: ['accuracy'] });
  return m;
}
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); s = Math.max(s, Math.abs(a[i])); }
  return d / Math.max(s, 1e-30);
}
const weights = (m: nn.Sequential) => Float32Array.from([...m.getWeights().values()].flatMap((w) => Array.from(w)));

describe('data-parallel step', () => {
  for (const kind of Object.keys(KINDS)) {
    it(`${kind}: loss and gradients with threads 2, 3, 4 equal one thread's (1e-5), batches 1, 7, 127`, () => {
      for (const n of [1, 7, 127]) {
        const { x, y } = data(n, n);
        const one = model(kind, 1);
        const ref = one.lossAndGrad(x, y);
        one.dispose();
        for (const T of [2, 3, 4]) {
          const m = model(kind, T);
          const got = m.lossAndGrad(x, y);
          expect(Math.abs(got.loss - ref.loss), `${kind} n=${n} T=${T} loss`).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.loss)));
          for (const [name, g] of ref.grads) expect(relDiff(g, got.grads.get(name)!), `${kind} n=${n} T=${T} ${name}`).toBeLessThan(1e-5);
          m.dispose();
        }
      }
    });
  }

  it('a fixed thread count is bit-reproducible over a fit; 1–4 threads agree within 1e-5 and in test accuracy (0.5 points)', async () => {
    const train = data(600, 2), test = data(300, 3);
    const run = async (T: number) => {
      const m = model('dropout', T);
      await m.fit(train.x, train.y, { epochs: 1, batchSize: 127, verbose: 0 });
      const w = weights(m), acc = m.evaluate(test.x, test.y).accuracy, pred = m.predict(test.x).data;
      m.dispose();
      return { w, acc, pred };
    };
    const a = await run(2), b = await run(2), one = await run(1);
    expect(Buffer.from(a.w.buffer).equals(Buffer.from(b.w.buffer))).toBe(true);
    expect(Buffer.from(a.pred.buffer).equals(Buffer.from(b.pred.buffer))).toBe(true);
    for (const T of [2, 3, 4]) {
      const r = T === 2 ? a : await run(T);
      expect(relDiff(one.w, r.w), `weights T=${T}`).toBeLessThan(1e-5);
      expect(Math.abs(one.acc - r.acc), `accuracy T=${T}`).toBeLessThanOrEqual(0.005);
    }
  });

  it('predict and evaluate split rows the same way (sizes 1, 5, 257 with batchSize 100)', () => {
    const one = model('batchNorm', 1), two = model('batchNorm', 3);
    for (const n of [1, 5, 257]) {
      const { x, y } = data(n, n + 10);
      expect(relDiff(one.predict(x, { batchSize: 100 }).data, two.predict(x, { batchSize: 100 }).data)).toBeLessThan(1e-6);
      const e1 = one.evaluate(x, y, { batchSize: 100 }), e2 = two.evaluate(x, y, { batchSize: 100 });
      expect(Math.abs(e1.loss - e2.loss)).toBeLessThan(1e-6);
      expect(e2.accuracy).toBe(e1.accuracy);
    }
    one.dispose();
    two.dispose();
  });

  it("threads: 'auto' is one per core; a bad count is a ConfigError naming it", () => {
    const m = nn.sequential({ inputShape: [D], threads: 'auto' }, [nn.dense(2)]);
    m.dispose();
    for (const bad of [0, 65, 1.5, 'x', '2']) {
      expect(() => nn.sequential({ inputShape: [D], threads: bad as never }, [nn.dense(2)])).toThrow(/threads is .*it must be an integer in \[1, 64\] or 'auto'/);
    }
  });

  it("threads: 'auto' gives each step threads by its work (forward FLOPs per row × rows × 3 when training, one per 16 M); a count is taken as given", () => {
    const small = nn.sequential({ inputShape: [784], threads: 'auto' }, [nn.dense(16, { activation: 'relu' }), nn.dense(10)]);
    const cnn = nn.sequential({ inputShape: [28, 28, 1], threads: 'auto' }, [
      nn.conv2d(16, { kernelSize: 5 }), nn.maxPool2d({ poolSize: 2 }), nn.residual([nn.conv2d(16, { kernelSize: 3, padding: 'same' })]), nn.flatten(), nn.dense(10),
    ]);
    const fixed = nn.sequential({ inputShape: [784], threads: 2 }, [nn.dense(16), nn.dense(10)]);
    expect(small.autoFlopsPerRow).toBe(2 * (784 * 16 + 16 * 10));
    expect(cnn.autoFlopsPerRow).toBe(2 * (5 * 5 * 16 * 24 * 24 + 3 * 3 * 16 * 16 * 12 * 12 + 12 * 12 * 16 * 10));
    expect(fixed.autoFlopsPerRow).toBe(0);
    const clone = small.clone();
    expect(clone.autoThreads).toBe(true);
    for (const m of [small, cnn, fixed, clone]) m.dispose();
    // 784-16-10 at batch 32: 2.4 MFLOP a step, one thread; 784-1024-10 at batch 128: 0.6 GFLOP, every thread.
    expect(sliceRows(32, 2, 32 * 3 * 2 * (784 * 16 + 160))).toHaveLength(1);
    expect(sliceRows(128, 2, 128 * 3 * 2 * (784 * 1024 + 10240))).toHaveLength(2);
    expect(sliceRows(128, 4, 40e6)).toHaveLength(2);
    expect(sliceRows(128, 4, 15e6)).toHaveLength(1);
    // Without a work bound, the rows alone decide (4 a thread).
    expect(sliceRows(32, 2)).toHaveLength(2);
    expect(sliceRows(7, 2)).toHaveLength(1);
  });

  it('a refused step (NaN) between good ones leaves weights and step count as one thread\'s (Adam, Nadam, a schedule, clipNorm)', () => {
    const { x, y } = data(64, 9);
    const bad = x.data.slice();
    bad[3] = NaN;
    const opts = [
      () => nn.adam({ lr: 1e-2 }), () => nn.nadam({ lr: 1e-2 }),
      () => nn.sgd({ lr: nn.schedules.exponentialDecay({ initial: 0.1, decaySteps: 1, rate: 0.5 }), momentum: 0.9 }),
      () => nn.adam({ lr: 1e-2, clipNorm: 0.1 }),
    ];
    for (const [i, opt] of opts.entries()) {
      const ms = [1, 2].map((threads) => {
        const m = nn.sequential({ inputShape: [D], seed: 3, threads }, KINDS.dense().slice(0, 1).concat([nn.dense(C)]));
        m.compile({ loss: 'softmaxCrossEntropy', optimizer: opt() });
        m.trainStep(x, y);
        expect(m.trainStep(nn.tensor(bad, [64, D]), y).loss).toBeNaN();
        m.trainStep(x, y);
        return m;
      });
      expect(ms.map((m) => m.optimizer!.iterations), `optimizer ${i}`).toEqual([2, 2]);
      const [a, b] = ms.map((m) => m.getWeights());
      for (const [name, w] of a) expect(relDiff(w, b.get(name)!), `optimizer ${i} ${name}`).toBeLessThan(1e-5);
      for (const m of ms) m.dispose();
    }
  });

  it('a worker killed mid-fit: the fit rejects with a SimdnnError naming the thread within seconds; the model still predicts and disposes', async () => {
    const { x, y } = data(2000, 4);
    const m = model('dense', 2);
    const t0 = Date.now();
    let batches = 0;
    const fit = m.fit(x, y, {
      epochs: 50, batchSize: 64, verbose: 0,
      callbacks: [{ onBatchEnd: () => { if (++batches === 3) void m.threadPool!.workers[0]!.terminate(); } }],
    });
    await expect(fit).rejects.toThrow(SimdnnError);
    await expect(fit).rejects.toThrow(/thread 1/);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const p = m.predict(x);
    expect(p.data.every(Number.isFinite)).toBe(true);
    m.dispose();
  });

  describe.each(ALL_ISAS)('ThreadPool on the %s build', (isa) => {
    it('a kernel that traps on a worker is a SimdnnError naming the thread; the next job runs', () => {
      const e = engineFor(isa);
      const live = e.liveAllocations;
      const pool = new ThreadPool(e, 2);
      const names = Object.keys(e.kernels).filter((n) => typeof (e.kernels as unknown as Record<string, unknown>)[n] === 'function');
      const fill = names.indexOf('f32_fill'), p = e.alloc(64);
      expect(() => pool.run([{ id: -1, ops: [] }, { id: -1, ops: [[fill, -1, 0xfffffff0, 1, 1000]] }])).toThrow(/thread 1 failed during the step: .*out of bounds/);
      pool.run([{ id: -1, ops: [[fill, -1, p, 2, 8]] }, { id: -1, ops: [[fill, -1, p + 32, 3, 8]] }]);
      expect(Array.from(e.f32.subarray(p >> 2, (p >> 2) + 16))).toEqual([...Array(8).fill(2), ...Array(8).fill(3)]);
      e.release(p);
      pool.dispose();
      expect(e.liveAllocations).toBe(live);
      expect(() => pool.run([{ id: -1, ops: [] }])).toThrow(/after dispose/);
    });
  });
});
