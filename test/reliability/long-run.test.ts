// Long runs and isolation across threads: 100 epochs of a small MLP keep wasm memory, live arena
// blocks and process RSS flat after the first epoch; four models trained in four worker threads
// (each its own engine) end with the same weights as each trained alone on the main thread.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { rng, uniform } from '../util/rng.js';

const BUILT = new URL('../../build/src/index.js', import.meta.url).href;
const N = 256, IN = 16;

/** The same training run wherever it happens: data and model from the seed, simd build. */
const TRAIN_SOURCE = `
async function train(nn, seed, x, y) {
  const engine = new nn.Engine({ isa: 'simd' });
  const m = nn.sequential({ inputShape: [${IN}], seed, engine }, [nn.dense(32, { activation: 'relu' }), nn.dropout(0.1), nn.dense(4)]);
  m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 0.01 }) });
  await m.fit(x, y, { epochs: 5, batchSize: 16 });
  const w = m.weightBytes().slice();
  m.dispose();
  return w;
}`;
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const train = new Function(`${TRAIN_SOURCE}; return train;`)() as (n: typeof nn, seed: number, x: Float32Array, y: Int32Array) => Promise<Uint8Array>;

function data(seed: number) {
  const x = uniform(rng(seed), N * IN);
  const y = Int32Array.from({ length: N }, (_, i) => (x[i * IN] > 0 ? 1 : 0) + (x[i * IN + 1] > 0 ? 2 : 0));
  return { x, y };
}

describe('long runs and threads', () => {
  it('100 epochs of a small MLP: wasm memory and live blocks flat after epoch 1, RSS grows < 1 MB per epoch', async () => {
    const engine = new nn.Engine();
    const { x, y } = data(1);
    const m = nn.sequential({ inputShape: [IN], seed: 1, engine }, [nn.dense(32, { activation: 'relu' }), nn.batchNorm(), nn.dense(4)]);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 1e-3 }), metrics: ['accuracy'] });
    const seen: { bytes: number; live: number; rss: number }[] = [];
    await m.fit(x, y, {
      epochs: 100, batchSize: 32, validationSplit: 0.2,
      callbacks: [nn.callbacks.lambda({ onEpochEnd: () => { seen.push({ bytes: engine.memoryBytes, live: engine.liveAllocations, rss: process.memoryUsage().rss }); } })],
    });
    expect(seen).toHaveLength(100);
    for (const s of seen.slice(1)) {
      expect(s.bytes).toBe(seen[0].bytes);
      expect(s.live).toBe(seen[0].live);
    }
    const slope = (seen[99].rss - seen[9].rss) / 90;
    console.log(`long run: RSS slope ${(slope / 1024).toFixed(1)} KiB/epoch over epochs 10–100; wasm ${seen[0].bytes} B, ${seen[0].live} live blocks`);
    expect(slope).toBeLessThan(1 << 20);
    m.dispose();
  });

  it('four models in four worker threads match each trained alone', async () => {
    const seeds = [3, 4, 5, 6];
    const alone = [];
    for (const s of seeds) { const { x, y } = data(s); alone.push(await train(nn, s, x, y)); }
    const inWorkers = await Promise.all(seeds.map((s) => new Promise<Uint8Array>((resolve, reject) => {
      const { x, y } = data(s);
      const w = new Worker(`
        const { parentPort, workerData } = require('node:worker_threads');
        ${TRAIN_SOURCE}
        import(workerData.url).then((nn) => train(nn, workerData.seed, workerData.x, workerData.y)).then((w) => parentPort.postMessage(w));
      `, { eval: true, workerData: { url: BUILT, seed: s, x, y } });
      w.once('message', (b: Uint8Array) => { resolve(b); void w.terminate(); });
      w.once('error', reject);
    })));
    inWorkers.forEach((w, i) => {
      expect(w.length).toBe(alone[i].length);
      expect(Buffer.from(w).equals(Buffer.from(alone[i]))).toBe(true);
    });
    expect(Buffer.from(alone[0]).equals(Buffer.from(alone[1]))).toBe(false);
  });
});
