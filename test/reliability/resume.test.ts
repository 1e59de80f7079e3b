// Resume after a kill: a child process trains with modelCheckpoint({ path, includeOptimizer })
// and is killed with SIGKILL once a checkpoint from epoch ≥ 2 is on disk; the checkpoint is loaded
// and training continues from its epoch. The final weights equal an uninterrupted run's, bit for
// bit (single thread, same seed): weights, optimizer state and the PRNG (shuffle, dropout) travel
// in the file.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';

const BUILT = new URL('../../build/src/index.js', import.meta.url).href;
const EPOCHS = 300;

/** One definition of the run, for the child (as source) and for this process. */
const SETUP = `
async function setup(nn) {
  const n = 512, x = new Float32Array(n * 8), y = new Int32Array(n);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 12.9898) * 2;
  for (let i = 0; i < n; i++) y[i] = (x[i * 8] > 0 ? 1 : 0) + (x[i * 8 + 1] > x[i * 8 + 2] ? 2 : 0);
  const model = nn.sequential({ inputShape: [8], seed: 9, engine: new nn.Engine({ isa: 'simd' }) },
    [nn.dense(32, { activation: 'relu' }), nn.dropout(0.2), nn.dense(4)]);
  model.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 0.003 }) });
  return { x, y, model };
}`;
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const setup = new Function(`${SETUP}; return setup;`)() as (n: typeof nn) => Promise<{ x: Float32Array; y: Int32Array; model: nn.Sequential }>;
const FIT = { epochs: EPOCHS, batchSize: 16, sampling: 'shuffle' as const };

describe('resume after SIGKILL', () => {
  it('training killed mid-run and resumed from its last checkpoint ends bit-identical to an uninterrupted run', async () => {
    const whole = await setup(nn);
    await whole.model.fit(whole.x, whole.y, FIT);
    const expected = Buffer.from(whole.model.weightBytes());
    whole.model.dispose();

    const dir = mkdtempSync(join(tmpdir(), 'simdnn-resume-'));
    const ckpt = join(dir, 'ckpt.simdnn');
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      ${SETUP}
      const nn = await import(${JSON.stringify(BUILT)});
      const { x, y, model } = await setup(nn);
      await model.fit(x, y, { ...${JSON.stringify(FIT)},
        callbacks: [nn.callbacks.modelCheckpoint({ path: ${JSON.stringify(ckpt)}, includeOptimizer: true, monitor: 'loss' })] });
    `], { stdio: 'inherit' });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    // Kill as soon as a checkpoint of epoch ≥ 2 exists (the file is replaced atomically).
    for (;;) {
      await new Promise((r) => setTimeout(r, 5));
      if (existsSync(ckpt)) {
        const m = nn.loadModelSync(ckpt), epoch = m.epoch;
        m.dispose();
        if (epoch >= 2) break;
      }
      if (child.exitCode !== null) break;
    }
    child.kill('SIGKILL');
    await exited;

    const resumed = nn.loadModelSync(ckpt, { engine: new nn.Engine({ isa: 'simd' }) });
    const at = resumed.epoch;
    expect(at).toBeGreaterThanOrEqual(2);
    expect(at).toBeLessThan(EPOCHS); // killed before the end: the resume does real work
    const { x, y } = await setup(nn);
    await resumed.fit(x, y, { ...FIT, initialEpoch: at });
    expect(resumed.epoch).toBe(EPOCHS);
    expect(Buffer.from(resumed.weightBytes()).equals(expected)).toBe(true);
    resumed.dispose();
  });

  it('the same resume without the PRNG state in the file would differ (the test can fail)', async () => {
    const a = await setup(nn);
    await a.model.fit(a.x, a.y, { ...FIT, epochs: 3 });
    const bytes = a.model.toBytes({ includeOptimizer: true });
    const fresh = nn.loadModelSync(bytes, { engine: new nn.Engine({ isa: 'simd' }) });
    const keep = nn.loadModelSync(bytes, { engine: new nn.Engine({ isa: 'simd' }) });
    fresh.engine.k.rng_seed(fresh.rng, 12345);
    await fresh.fit(a.x, a.y, { ...FIT, epochs: 5, initialEpoch: 3 });
    await keep.fit(a.x, a.y, { ...FIT, epochs: 5, initialEpoch: 3 });
    await a.model.fit(a.x, a.y, { ...FIT, epochs: 5, initialEpoch: 3 });
    expect(Buffer.from(keep.weightBytes()).equals(Buffer.from(a.model.weightBytes()))).toBe(true);
    expect(Buffer.from(fresh.weightBytes()).equals(Buffer.from(a.model.weightBytes()))).toBe(false);
    for (const m of [a.model, fresh, keep]) m.dispose();
  });

  it('modelCheckpoint takes a path or a save function, not both or neither', () => {
    expect(() => nn.callbacks.modelCheckpoint({})).toThrow(/give a path or a save function/);
    expect(() => nn.callbacks.modelCheckpoint({ path: 'a.simdnn', save: () => {} })).toThrow(/not both/);
    expect(() => nn.callbacks.modelCheckpoint({ path: '' })).toThrow(/path is ""; it must be a non-empty string/);
  });
});
