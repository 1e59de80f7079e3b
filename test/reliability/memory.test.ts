// Memory: 10⁴ create / train one batch / dispose cycles leave wasm memory and the count of live
// arena blocks flat; a model needing more than 4 GiB is refused up front with MemoryLimitError
// (estimated bytes in the message) and the engine still trains the next small model.
// Isolation: four models trained interleaved in one engine end with the same weights as each
// trained alone in its own engine.
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { rng, uniform } from '../util/rng.js';

const CYCLES = 10_000;

describe('memory stays flat', () => {
  it(`${CYCLES} create/fit/dispose cycles: wasm pages and live allocations flat after warm-up`, async () => {
    const engine = new nn.Engine();
    const r = rng(1);
    const x = uniform(r, 8 * 4), y = uniform(r, 8 * 2);
    const base = engine.liveAllocations;
    const samples: { cycle: number; bytes: number; live: number }[] = [];
    for (let c = 0; c < CYCLES; c++) {
      const m = nn.sequential({ inputShape: [4], seed: c, engine }, [nn.dense(6, { activation: 'tanh' }), nn.layerNorm(), nn.dense(2)]);
      m.compile({ loss: 'mse', optimizer: c % 2 ? nn.adam() : nn.sgd({ lr: 0.1, momentum: 0.9 }) });
      await m.fit(x, y, { epochs: 1, batchSize: 8 });
      m.dispose();
      if (c === 99 || c % 1000 === 999) samples.push({ cycle: c + 1, bytes: engine.memoryBytes, live: engine.liveAllocations });
    }
    const first = samples[0], last = samples[samples.length - 1];
    console.log(`memory: after ${first.cycle} cycles ${first.bytes} B, after ${last.cycle} cycles ${last.bytes} B; `
      + `slope ${((last.bytes - first.bytes) / (last.cycle - first.cycle)).toFixed(3)} B/cycle; live blocks ${first.live} → ${last.live}`);
    for (const s of samples) {
      expect(s.bytes, `wasm memory at cycle ${s.cycle}`).toBe(first.bytes);
      expect(s.live, `live allocations at cycle ${s.cycle}`).toBe(base);
    }
  });

  it('a model needing more than 4 GiB is refused up front; the next small model still trains', async () => {
    const engine = new nn.Engine();
    const bytes = engine.memoryBytes, live = engine.liveAllocations;
    let err: unknown;
    try {
      nn.sequential({ inputShape: [100_000], engine }, [nn.dense(20_000)]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(nn.MemoryLimitError);
    // 2,000,020,000 parameters; estimate = (params + 3 · trainable) · 4 bytes.
    expect((err as Error).message).toMatch(/needs an estimated 32000320000 bytes .*2000020000 parameters.*4294967296 bytes/);
    // Refused before anything grew or leaked.
    expect(engine.memoryBytes).toBe(bytes);
    expect(engine.liveAllocations).toBe(live);
    // Just over the limit with parameters alone (no gradients counted) is refused as well.
    expect(() => nn.sequential({ inputShape: [1024], engine }, [nn.dense(1024 * 1024)])).toThrow(nn.MemoryLimitError);
    const m = nn.sequential({ inputShape: [3], seed: 1, engine }, [nn.dense(2)]);
    m.compile({ loss: 'mse', optimizer: nn.sgd({ lr: 0.01 }) });
    const h = await m.fit(new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([1, 0, 0, 1]), { epochs: 3, batchSize: 2 });
    expect(h.history.loss.every(Number.isFinite)).toBe(true);
    expect(h.history.loss[2]).toBeLessThan(h.history.loss[0]);
    m.dispose();
    expect(engine.liveAllocations).toBe(live);
  });
});

describe('isolation', () => {
  it('four models trained interleaved in one engine match each trained alone', async () => {
    const r = rng(9);
    const n = 64, x = uniform(r, n * 5), yReg = uniform(r, n * 3);
    const labels = new Float32Array(n).map(() => Math.floor(r() * 3));
    const specs = [
      () => ({ layers: [nn.dense(8, { activation: 'relu' }), nn.dense(3)], loss: 'mse', opt: nn.adam({ lr: 0.01 }), y: yReg }),
      () => ({ layers: [nn.dense(8, { activation: 'tanh' }), nn.batchNorm(), nn.dense(3)], loss: 'mse', opt: nn.sgd({ lr: 0.05, momentum: 0.9 }), y: yReg }),
      () => ({ layers: [nn.dense(16), nn.layerNorm(), nn.dropout(0.2), nn.dense(3)], loss: 'softmaxCrossEntropy', opt: nn.rmsprop({ lr: 0.01 }), y: labels }),
      () => ({ layers: [nn.residual([nn.dense(5, { activation: 'gelu' })]), nn.dense(3)], loss: 'softmaxCrossEntropy', opt: nn.adam(), y: labels }),
    ];
    const make = (i: number, engine: nn.Engine) => {
      const s = specs[i]();
      const m = nn.sequential({ inputShape: [5], seed: 100 + i, engine }, s.layers);
      m.compile({ loss: s.loss, optimizer: s.opt });
      return { m, y: s.y };
    };
    // Alone: one engine each.
    const alone: Map<string, Float32Array>[] = [];
    for (let i = 0; i < 4; i++) {
      const { m, y } = make(i, new nn.Engine());
      await m.fit(x, y, { epochs: 6, batchSize: 16 });
      alone.push(m.getWeights());
      m.dispose();
    }
    // Interleaved: one shared engine, the four fits running concurrently (they yield between epochs).
    const engine = new nn.Engine();
    const ms = [0, 1, 2, 3].map((i) => make(i, engine));
    await Promise.all(ms.map(({ m, y }) => m.fit(x, y, { epochs: 6, batchSize: 16 })));
    ms.forEach(({ m }, i) => {
      const w = m.getWeights();
      expect([...w.keys()]).toEqual([...alone[i].keys()]);
      for (const [k, v] of w) expect(Array.from(v), `model ${i} ${k}`).toEqual(Array.from(alone[i].get(k)!));
      m.dispose();
    });
  });
});
