// A model owns its state (DESIGN §11): dispose during fit is deferred, a second fit is refused,
// a call that fails (out of memory, bad option) leaves model and engine as they were, nothing of
// a disposed model is written, the memory estimate counts live bytes, stopTraining is read, and
// metrics that do not fit the loss are refused at compile.
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { rng, uniform } from '../util/rng.js';

const FEATURES = 16, CLASSES = 4, N = 64;
const r = rng(11);
const X = uniform(r, N * FEATURES);
const Y = Int32Array.from({ length: N }, (_, i) => i % CLASSES);

function model(engine: nn.Engine, seed = 3, opt: nn.Optimizer = nn.adam({ lr: 0.01 })) {
  const m = nn.sequential({ inputShape: [FEATURES], seed, engine }, [nn.dense(12, { activation: 'relu' }), nn.dropout(0.1), nn.dense(CLASSES)]);
  return m.compile({ loss: 'softmaxCrossEntropy', optimizer: opt, metrics: ['accuracy'] });
}
const FIT = { epochs: 3, batchSize: 8 } as const;

/** Allocates the engine's free space up to `leave` bytes below the 4 GiB limit (pages never written). */
function fill(engine: nn.Engine, leave: number): number {
  return engine.alloc(2 ** 32 - engine.memoryBytes - leave - (1 << 16));
}

/** Weights after a clean fit in a fresh engine: the reference for "trains as if nothing happened". */
async function cleanWeights(fitOpts: nn.FitOptions = FIT): Promise<Uint8Array> {
  const m = model(new nn.Engine());
  await m.fit(X, Y, fitOpts);
  const w = m.weightBytes();
  m.dispose();
  return w;
}

/** Claims the engine's free blocks in 64-byte pieces and fills them with a sentinel: a later write into freed memory shows. */
function claimFreed(engine: nn.Engine, pieces = 4096): { ptrs: number[]; intact(): boolean } {
  const ptrs = Array.from({ length: pieces }, () => engine.alloc(64));
  for (const p of ptrs) engine.u8.fill(0xa5, p, p + 64);
  return { ptrs, intact: () => ptrs.every((p) => engine.u8.subarray(p, p + 64).every((v) => v === 0xa5)) };
}

describe('lifecycle › dispose during fit', () => {
  for (const from of ['callback', 'setImmediate'] as const) {
    it(`dispose() from a ${from} while fit runs: fit rejects with StateError, no freed block is written, a model made meanwhile keeps its weights`, async () => {
      const engine = new nn.Engine();
      const live = engine.liveAllocations;
      const m = model(engine);
      let other: nn.Sequential | undefined, otherWeights: Uint8Array | undefined, claimed: ReturnType<typeof claimFreed> | undefined;
      const disposeNow = () => {
        m.dispose();
        // Made while the fit still runs: nothing of the disposed model may write into them.
        other = model(engine, 99);
        otherWeights = other.weightBytes();
        claimed = claimFreed(engine);
      };
      const cb = nn.callbacks.lambda({ onBatchEnd: (b) => { if (from === 'callback' && b === 2) disposeNow(); } });
      if (from === 'setImmediate') setImmediate(disposeNow);
      const err = await m.fit(X, Y, { epochs: 50, batchSize: 8, callbacks: [cb] }).then(() => undefined, (e) => e);
      expect(claimed!.intact(), 'freed blocks untouched').toBe(true);
      expect(Buffer.from(other!.weightBytes()).equals(Buffer.from(otherWeights!))).toBe(true);
      expect(err).toBeInstanceOf(nn.SimdnnError);
      expect((err as Error).name).toBe('StateError');
      expect((err as Error).message).toMatch(/Sequential.fit: the model was disposed during fit \(epoch \d+, batch \d+\)/);
      expect(m.disposed).toBe(true);
      expect(() => m.predict(X)).toThrow(/the model was disposed/);
      for (const p of claimed!.ptrs) engine.release(p);
      other!.dispose();
      expect(engine.liveAllocations).toBe(live);
      m.dispose(); // a second dispose is a no-op
      expect(engine.liveAllocations).toBe(live);
    });
  }
});

describe('lifecycle › one fit at a time', () => {
  it('a second fit while one runs is refused with StateError; the first ends as if alone', async () => {
    const engine = new nn.Engine();
    const m = model(engine);
    const first = m.fit(X, Y, FIT);
    await expect(m.fit(X, Y, FIT)).rejects.toThrow(/Sequential.fit: the model is fitting/);
    expect(() => m.compile({ loss: 'mse', optimizer: 'sgd' })).toThrow(nn.StateError);
    expect(() => m.trainStep(X, Y)).toThrow(nn.StateError);
    await first;
    expect(Buffer.from(m.weightBytes()).equals(Buffer.from(await cleanWeights()))).toBe(true);
    m.dispose();
  });
});

describe('lifecycle › a failed call leaves model and engine as they were', () => {
  it('MemoryLimitError while fit grows its buffers: same live blocks, the next fit trains as on a clean engine, dispose works', async () => {
    const engine = new nn.Engine();
    const m = model(engine);
    await m.fit(X, Y, { epochs: 1, batchSize: 8 }); // step buffers for 8 rows exist
    const filler = fill(engine, 8 << 20);
    const live = engine.liveAllocations, before = m.weightBytes();
    // 40,000 u8 rows fit (640 kB); step and layer buffers for a batch of 40,000 rows (> 8 MB) do not.
    const big = new nn.Tensor(new Uint8Array(40_000 * FEATURES), [40_000, FEATURES]);
    const bigY = Int32Array.from({ length: 40_000 }, (_, i) => i % CLASSES);
    await expect(m.fit(big, bigY, { epochs: 1, batchSize: 40_000 })).rejects.toThrow(nn.MemoryLimitError);
    expect(engine.liveAllocations).toBe(live);
    expect(Buffer.from(m.weightBytes()).equals(Buffer.from(before))).toBe(true);
    engine.release(filler);
    // Compared with a model in a clean engine after the same first epoch.
    const ref = model(new nn.Engine());
    await ref.fit(X, Y, { epochs: 1, batchSize: 8 });
    const h = await m.fit(X, Y, FIT), hr = await ref.fit(X, Y, FIT);
    expect(h.history.loss).toEqual(hr.history.loss);
    expect(Buffer.from(m.weightBytes()).equals(Buffer.from(ref.weightBytes()))).toBe(true);
    ref.dispose();
    expect(() => m.dispose()).not.toThrow();
  });

  it('a fit refused for its classWeight or its validation data leaks nothing', async () => {
    const engine = new nn.Engine();
    const base = engine.liveAllocations;
    const m = model(engine);
    const live = engine.liveAllocations, bytes = engine.memoryBytes;
    await expect(m.fit(X, Y, { ...FIT, classWeight: { 9: 1 } })).rejects.toThrow(/classWeight has class "9"/);
    await expect(m.fit(X, Y, { ...FIT, validationData: [X.subarray(0, 10 * FEATURES), Y.subarray(0, 3)] })).rejects.toThrow(nn.ShapeError);
    expect(engine.liveAllocations).toBe(live);
    expect(engine.memoryBytes).toBe(bytes);
    // Validation data that does not fit in memory once the training data is in.
    await m.fit(X, Y, { epochs: 1, batchSize: 8 });
    const filler = fill(engine, 4 << 20);
    const live2 = engine.liveAllocations;
    const vx = new Float32Array(100_000 * FEATURES), vy = new Int32Array(100_000);
    await expect(m.fit(X, Y, { ...FIT, validationData: [vx, vy] })).rejects.toThrow(nn.MemoryLimitError);
    expect(engine.liveAllocations).toBe(live2);
    engine.release(filler);
    m.dispose();
    expect(engine.liveAllocations).toBe(base);
  });

  it('compile that runs out of memory keeps the previous optimizer and leaks no state', async () => {
    const engine = new nn.Engine();
    const m = nn.sequential({ inputShape: [1000], seed: 1, engine }, [nn.dense(1000), nn.dense(CLASSES)]);
    const sgd = nn.sgd({ lr: 0.1, momentum: 0.9 });
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: sgd });
    // Room for one Adam moment (4 MB) but not two.
    const filler = fill(engine, 6 << 20);
    const live = engine.liveAllocations;
    expect(() => m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam() })).toThrow(nn.MemoryLimitError);
    expect(engine.liveAllocations).toBe(live);
    expect(m.optimizer).toBe(sgd);
    expect(sgd.stateTensors().length).toBe(1);
    engine.release(filler);
    const x = uniform(rng(2), 8 * 1000), y = Int32Array.from({ length: 8 }, (_, i) => i % CLASSES);
    const h = await m.fit(x, y, { epochs: 2, batchSize: 8 });
    expect(h.history.loss.every(Number.isFinite)).toBe(true);
    m.dispose();
  });
});

describe('lifecycle › the memory estimate counts what is live', () => {
  it('after a transient peak near 4 GiB is released, a new model is accepted', () => {
    const engine = new nn.Engine();
    const peak = fill(engine, 16 << 20);
    engine.release(peak);
    expect(engine.memoryBytes).toBeGreaterThan(2 ** 32 - (32 << 20)); // grown memory never shrinks
    // 784 × 4096 + 4096 parameters: an estimate of 51 MB, more than the 16 MB never grown.
    const m = nn.sequential({ inputShape: [784], engine }, [nn.dense(4096)]);
    expect(m.totalSize).toBe(784 * 4096 + 4096);
    m.dispose();
  });
  it('a model larger than what the arena can serve is still refused, naming the live bytes', () => {
    const engine = new nn.Engine();
    const hold = fill(engine, 16 << 20);
    expect(() => nn.sequential({ inputShape: [784], engine }, [nn.dense(4096)])).toThrow(/on top of the \d+ bytes in use/);
    engine.release(hold);
  });
});

describe('lifecycle › nothing of a disposed model is used or written', () => {
  it('rngState, weightBytes, zeroGrad, backward, summary, trainStep, lossAndGrad after dispose throw StateError; another model is untouched', () => {
    const engine = new nn.Engine();
    const a = model(engine);
    a.dispose();
    const b = model(engine, 5); // may reuse a's blocks
    const rngB = b.rngState, wB = b.weightBytes();
    const calls: [string, () => unknown][] = [
      ['rngState (get)', () => a.rngState],
      ['rngState (set)', () => { a.rngState = [1, 2, 3, 4]; }],
      ['weightBytes', () => a.weightBytes()],
      ['zeroGrad', () => a.zeroGrad()],
      ['backward', () => a.backward(0, 1)],
      ['summary', () => a.summary(() => {})],
      ['trainStep', () => a.trainStep(X, Y)],
      ['lossAndGrad', () => a.lossAndGrad(X, Y)],
      ['evaluate', () => a.evaluate(X, Y)],
      ['getWeights', () => a.getWeights()],
      ['compile', () => a.compile({ loss: 'mse', optimizer: 'sgd' })],
    ];
    for (const [name, call] of calls) expect(call, name).toThrow(nn.StateError);
    expect(b.rngState).toEqual(rngB);
    expect(Buffer.from(b.weightBytes()).equals(Buffer.from(wB))).toBe(true);
    b.dispose();
  });
  it('rngState refuses a state that is not 4 unsigned 32-bit integers, not all 0', () => {
    const m = model(new nn.Engine());
    for (const bad of [[0, 0, 0, 0], [1, 2, 3], [1, 2, 3, -1], [1.5, 2, 3, 4]]) expect(() => { m.rngState = bad; }).toThrow(nn.ConfigError);
    m.dispose();
  });
});

describe('lifecycle › stopTraining', () => {
  it('model.stopTraining = true from a callback (the Keras and TF.js idiom) ends fit after that batch', async () => {
    const m = model(new nn.Engine());
    let batches = 0;
    const h = await m.fit(X, Y, {
      epochs: 20, batchSize: 8,
      callbacks: [nn.callbacks.lambda({ onBatchEnd: (_b, _l, ctx) => { if (++batches === 11) ctx.model.stopTraining = true; } })],
    });
    expect(batches).toBe(11);
    expect(h.stopped).toBe('callback');
    // 8 batches an epoch: the stop came at batch 3 of epoch 2, which ends there (its logs kept, as Keras does).
    expect(h.epoch).toEqual([0, 1]);
    m.dispose();
  });
});

describe('metrics fit the loss, checked at compile', () => {
  const engine = new nn.Engine();
  const cases: [string, string, RegExp][] = [
    ['softmaxCrossEntropy', 'binaryAccuracy', /binaryAccuracy" needs a loss on real-valued targets .*the metrics that fit softmaxCrossEntropy are accuracy, topKAccuracy/],
    ['mse', 'accuracy', /"accuracy" needs a classification loss with integer labels.*the metrics that fit mse are binaryAccuracy, mse, mae, r2/],
    ['softmaxCrossEntropy', 'r2', /"r2" needs a loss on real-valued targets/],
    ['categoricalCrossEntropy', 'mae', /"mae" needs a loss on real-valued targets/],
    ['mse', 'topKAccuracy', /"topKAccuracy" needs a classification loss/],
  ];
  for (const [loss, metric, msg] of cases) {
    it(`${metric} with ${loss} is refused at compile and the model stays as it was`, () => {
      const m = nn.sequential({ inputShape: [3], engine }, [nn.dense(CLASSES)]);
      const opt = nn.sgd();
      m.compile({ loss: 'sigmoidCrossEntropy', optimizer: opt, metrics: ['binaryAccuracy'] });
      expect(() => m.compile({ loss, optimizer: nn.adam(), metrics: [metric] })).toThrow(msg);
      expect(m.loss!.name).toBe('sigmoidCrossEntropy');
      expect(m.metrics).toEqual(['binaryAccuracy']);
      expect(m.optimizer).toBe(opt);
      m.dispose();
    });
  }
  it('mse and r2 together: each as when alone (the squared error is summed once)', async () => {
    const x = uniform(rng(5), 32 * 3), y = uniform(rng(6), 32 * 2);
    const logs = async (metrics: string[]) => {
      const m = nn.sequential({ inputShape: [3], seed: 2, engine }, [nn.dense(2)]);
      m.compile({ loss: 'mae', optimizer: nn.sgd({ lr: 0.01 }), metrics });
      const h = await m.fit(x, y, { epochs: 2, batchSize: 8, sampling: 'sequential' });
      m.dispose();
      return h.history;
    };
    const both = await logs(['mse', 'r2']), mse = await logs(['mse']), r2 = await logs(['r2']);
    expect(both.mse).toEqual(mse.mse);
    expect(both.r2).toEqual(r2.r2);
    // R² = 1 − SSE/SST ties the two: with 64 targets SSE = 64·mse.
    const t = Array.from(y), mean = t.reduce((a, b) => a + b, 0) / t.length;
    const sst = t.reduce((a, v) => a + (v - mean) ** 2, 0);
    expect(both.r2[1]).toBeCloseTo(1 - (both.mse[1] * 64) / sst, 5);
  });
});

describe('the model owns its step', () => {
  it('trainStep(x, y) is one step of fit: the same weights as fit over one full batch in order', async () => {
    const a = model(new nn.Engine()), b = model(new nn.Engine());
    const logs = a.trainStep(X, Y);
    const h = await b.fit(X, Y, { epochs: 1, batchSize: N, sampling: 'sequential' });
    expect(logs.loss).toBe(h.history.loss[0]);
    expect(logs.accuracy).toBe(h.history.accuracy[0]);
    expect(Buffer.from(a.weightBytes()).equals(Buffer.from(b.weightBytes()))).toBe(true);
    a.dispose(); b.dispose();
  });
  it('lossAndGrad gives the gradient without changing the weights; a non-finite step keeps them', () => {
    const m = model(new nn.Engine());
    const w = m.weightBytes();
    const { loss, grads } = m.lossAndGrad(X, Y);
    expect(Number.isFinite(loss)).toBe(true);
    expect([...grads.keys()]).toEqual(['dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', 'dense_2/bias']);
    expect(grads.get('dense_2/kernel')!.some((v) => v !== 0)).toBe(true);
    expect(Buffer.from(m.weightBytes()).equals(Buffer.from(w))).toBe(true);
    const huge = X.map((v) => v * 1e38 * 1e10);
    expect(Number.isFinite(m.trainStep(huge, Y).loss)).toBe(false);
    expect(Buffer.from(m.weightBytes()).equals(Buffer.from(w))).toBe(true);
    m.dispose();
  });
});

describe('lifecycle › a layer object belongs to one model', () => {
  it('a layer of a live model (or twice in one) is refused before anything is built; the first model predicts as before; after its dispose the layer can be reused', () => {
    const e = new nn.Engine();
    const dense = nn.dense(8), conv = nn.conv2d(2, { kernelSize: 2 });
    const a = nn.sequential({ inputShape: [3, 3, 1], seed: 1, engine: e }, [conv, nn.flatten(), nn.residual([nn.dense(8), dense]), nn.dense(2)]);
    const x = nn.tensor(Float32Array.from({ length: 18 }, (_, i) => Math.sin(i)), [2, 3, 3, 1]);
    const before = Array.from(a.predict(x).data), live = e.liveAllocations;
    expect(() => nn.sequential({ inputShape: [3, 3, 1], engine: e }, [conv, nn.flatten(), nn.dense(2)]))
      .toThrow(/sequential: layers\[0\] \("conv2d_1"\) already belongs to the model "sequential"; a layer object belongs to one model at a time/);
    expect(() => nn.sequential({ inputShape: [4], engine: e }, [nn.dense(8), nn.residual([dense])])).toThrow(/layers\[1\]\.layers\[0\] .* already belongs/);
    const twice = nn.dense(4);
    expect(() => nn.sequential({ inputShape: [4], engine: e }, [twice, twice])).toThrow(/layers\[1\] \("dense"\) is given twice/);
    expect(e.liveAllocations).toBe(live);
    expect(Array.from(a.predict(x).data)).toEqual(before);
    a.dispose();
    const b = nn.sequential({ inputShape: [3, 3, 1], seed: 1, engine: e }, [conv, nn.flatten(), nn.dense(2)]);
    expect(b.predict(x).shape).toEqual([2, 2]);
    b.dispose();
  });
});
