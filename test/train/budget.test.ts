// fit({ timeBudgetMs }) stops at a batch boundary and returns history.resume; fit(..., { resume })
// continues bit-identically to a run that was never interrupted (single thread, same seed).
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';

const { train } = nn.datasets.mnistDigits();
const X = train.x.slice(0, 300), Y = (train.y as Int32Array).subarray(0, 300);

function model(opt: () => nn.Optimizer = () => nn.adam({ lr: 1e-3 })) {
  const m = nn.sequential({ inputShape: [784], seed: 7 }, [nn.dense(32, { activation: 'relu' }), nn.dropout(0.2), nn.dense(10)]);
  m.compile({ loss: 'softmaxCrossEntropy', optimizer: opt(), metrics: ['accuracy'] });
  return m;
}

// 300 samples in batches of 64: 5 steps an epoch, the last one short.
const FIT = { epochs: 3, batchSize: 64, validationSplit: 0 } as const;

/** Runs fit with a tiny budget (one step per call) until done; returns the weights, the per-epoch losses and the calls made. */
async function interrupted(sampling: 'shuffle' | 'replacement' | 'sequential', between?: (m: nn.Sequential, r: nn.ResumeState) => [nn.Sequential, nn.ResumeState]) {
  let m = model();
  let resume: nn.ResumeState | undefined;
  const losses: number[] = [], stops: [number, number][] = [];
  let calls = 0;
  do {
    const h = await m.fit(X, Y, { ...FIT, sampling, timeBudgetMs: 1e-6, resume });
    calls++;
    losses.push(...h.history.loss ?? []);
    resume = h.resume;
    if (resume) {
      expect(h.stopped).toBe('timeBudget');
      stops.push([resume.epoch, resume.step]);
      if (between) [m, resume] = between(m, resume);
    } else expect(h.stopped).toBeUndefined();
  } while (resume);
  const w = m.weightBytes();
  m.dispose();
  return { w, losses, calls, stops };
}

/** Index of the first differing byte, or -1 (a failing toEqual on 100 kB would print a huge diff). */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  return a.findIndex((v, i) => v !== b[i]);
}

async function uninterrupted(sampling: 'shuffle' | 'replacement' | 'sequential') {
  const m = model();
  const h = await m.fit(X, Y, { ...FIT, sampling });
  const w = m.weightBytes();
  m.dispose();
  return { w, losses: h.history.loss };
}

describe('fit › timeBudgetMs and resume', () => {
  for (const sampling of ['shuffle', 'replacement', 'sequential'] as const) {
    it(`stopped after every step and resumed (sampling '${sampling}') equals one uninterrupted run, bit for bit`, async () => {
      const a = await uninterrupted(sampling), b = await interrupted(sampling);
      // One stop after each step that is not an epoch's last (4 per epoch), and one at each epoch start but the first.
      expect(b.stops).toContainEqual([0, 1]);
      expect(b.stops).toContainEqual([1, 0]);
      expect(b.stops).toContainEqual([2, 4]);
      expect(b.calls).toBeGreaterThan(FIT.epochs);
      expect(firstDiff(b.w, a.w)).toBe(-1);
      expect(b.losses).toEqual(a.losses);
    });
  }

  it('the resume state survives JSON and the model survives toBytes/loadModel (with optimizer state) between calls', async () => {
    const a = await uninterrupted('shuffle');
    const b = await interrupted('shuffle', (m, r) => {
      const bytes = m.toBytes({ includeOptimizer: true });
      m.dispose();
      return [nn.loadModelSync(bytes), JSON.parse(JSON.stringify(r))];
    });
    expect(b.stops.length).toBeGreaterThan(5);
    expect(firstDiff(b.w, a.w)).toBe(-1);
  });

  it('a budget that is never spent changes nothing and returns no resume state', async () => {
    const a = await uninterrupted('shuffle');
    const m = model();
    const h = await m.fit(X, Y, { ...FIT, timeBudgetMs: 1e9 });
    expect(h.resume).toBeUndefined();
    expect(h.stopped).toBeUndefined();
    expect(firstDiff(m.weightBytes(), a.w)).toBe(-1);
    m.dispose();
  });

  it('bad values of timeBudgetMs are rejected with ConfigError naming it', async () => {
    const m = model();
    for (const bad of [0, -5, NaN, '100', null]) {
      await expect(m.fit(X, Y, { ...FIT, timeBudgetMs: bad as number })).rejects.toThrow(nn.ConfigError);
      await expect(m.fit(X, Y, { ...FIT, timeBudgetMs: bad as number })).rejects.toThrow(/timeBudgetMs is .*; it must be a number of milliseconds > 0/);
    }
    m.dispose();
  });

  it('a resume state from another run, a broken one, or with initialEpoch is rejected with ConfigError', async () => {
    const m = model();
    const h = await m.fit(X, Y, { ...FIT, timeBudgetMs: 1e-6 });
    const r = h.resume!;
    expect(r).toBeDefined();
    await expect(m.fit(X, Y, { ...FIT, batchSize: 32, resume: r })).rejects.toThrow(/resume is from a run with .*"batchSize":64.* this one has .*"batchSize":32/);
    await expect(m.fit(X.slice(0, 200), Y.subarray(0, 200), { ...FIT, resume: r })).rejects.toThrow(nn.ConfigError);
    await expect(m.fit(X, Y, { ...FIT, sampling: 'sequential', resume: r })).rejects.toThrow(nn.ConfigError);
    await expect(m.fit(X, Y, { ...FIT, initialEpoch: 0, resume: r })).rejects.toThrow(/initialEpoch or resume, not both/);
    await expect(m.fit(X, Y, { ...FIT, resume: { ...r, rng: [0, 0, 0, 0] } })).rejects.toThrow(/resume\.rng is \[0, 0, 0, 0\]/);
    await expect(m.fit(X, Y, { ...FIT, resume: { ...r, step: 5 } })).rejects.toThrow(/resume\.step is 5; .* has 5 steps/);
    await expect(m.fit(X, Y, { ...FIT, resume: { ...r, epoch: 3 } })).rejects.toThrow(/resume\.epoch is 3/);
    await expect(m.fit(X, Y, { ...FIT, resume: 'x' as unknown as nn.ResumeState })).rejects.toThrow(nn.ConfigError);
    m.dispose();
  });
});
