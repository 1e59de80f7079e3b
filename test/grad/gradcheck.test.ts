// nn.gradCheck as a user runs it: on the README model and real digits it answers (sampled
// parameters and rows), ReLU kink crossings and exactly-zero gradients are reported apart, and a
// real backprop error still fails it, naming the tensor.
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { Dense } from '../../src/layers/dense.js';

const { train } = nn.datasets.mnistDigits();
const X = train.x.slice(0, 64), Y = (train.y as Int32Array).subarray(0, 64);
const engine = new nn.Engine();

function readmeModel(seed = 42) {
  const m = nn.sequential({ inputShape: [784], seed, engine }, [
    nn.dense(256, { activation: 'relu', init: 'he' }), nn.dropout(0.2), nn.dense(128, { activation: 'relu' }), nn.dense(10),
  ]);
  return m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam() });
}

describe('gradCheck › a real model', () => {
  it('784-256-128-10 with 64 rows of MNIST: ok, sampled (maxParams per tensor, maxSamples rows), the model unchanged', () => {
    const m = readmeModel();
    const before = m.weightBytes();
    const r = nn.gradCheck(m, X, Y);
    expect(r.ok).toBe(true);
    expect(r.samples).toBe(16);
    expect(r.rows).toBe(64);
    expect(r.perTensor['dense_1/kernel']).toMatchObject({ checked: 32, size: 784 * 256 });
    expect(r.perTensor.input.checked).toBe(32);
    expect(r.maxReference).toBeLessThanOrEqual(r.tolerance);
    expect(r.worst).not.toBeNull();
    expect(r.worst!.error).toBe(r.maxReference);
    expect(Buffer.from(m.weightBytes()).equals(Buffer.from(before))).toBe(true);
    m.dispose();
  });

  it('the same seed gives the same sample and result; another seed checks other entries', () => {
    const m = readmeModel();
    const o = { maxParams: 8, maxSamples: 8 };
    const a = nn.gradCheck(m, X, Y, { ...o, seed: 3 }), b = nn.gradCheck(m, X, Y, { ...o, seed: 3 }), c = nn.gradCheck(m, X, Y, { ...o, seed: 4 });
    expect(b).toEqual(a);
    expect(c.worst).not.toEqual(a.worst);
    m.dispose();
  });

  it('dense → batch norm → relu: the bias gradient (0 through batch norm) and kink crossings do not fail it', () => {
    const m = nn.sequential({ inputShape: [784], seed: 1, engine }, [nn.dense(32), nn.batchNorm(), nn.activation('relu'), nn.dense(10)]);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam() });
    const r = nn.gradCheck(m, X, Y);
    expect(r.ok).toBe(true);
    expect(r.perTensor['dense_1/bias'].wasm).toBeLessThan(r.wasmTolerance);
    expect(r.kinks).toBeGreaterThan(0); // this seed crosses relu's kink in a few entries
    expect(r.kinks).toBe(Object.values(r.perTensor).reduce((s, t) => s + t.kinks, 0));
    m.dispose();
  });

  it('a kink on purpose: relu(x) with x = 0 exactly is a kink, not a failure; the same with x = 0.5 is checked', () => {
    const m = nn.sequential({ inputShape: [1], seed: 1, engine }, [nn.dense(1, { init: 'ones', activation: 'relu' })]);
    m.compile({ loss: 'mse', optimizer: nn.sgd() });
    const atKink = nn.gradCheck(m, Float32Array.from([0]), Float32Array.from([1]));
    expect(atKink.kinks).toBeGreaterThan(0);
    expect(atKink.ok).toBe(true);
    const smooth = nn.gradCheck(m, Float32Array.from([0.5]), Float32Array.from([1]));
    expect(smooth.kinks).toBe(0);
    expect(smooth.ok).toBe(true);
    m.dispose();
  });

  it('a kink a third of the step away (where the h vs h/2 test is blind) is a kink, not a failure', () => {
    // One-sided slopes at h and h/2 across a kink at δ: a − 2b = Δ·(3δ/h − 1), 0 at δ = h/3; the
    // h/2 vs h/4 test sees it. (Max pooling's argmax switches land there often.)
    const eps = 2 ** -10;
    const m = nn.sequential({ inputShape: [1], seed: 1, engine }, [nn.dense(1, { init: 'ones', activation: 'relu' })]);
    m.compile({ loss: 'mse', optimizer: nn.sgd() });
    const r = nn.gradCheck(m, Float32Array.from([-eps / 3]), Float32Array.from([1]), { eps });
    expect(r.kinks).toBeGreaterThan(0);
    expect(r.ok).toBe(true);
    m.dispose();
  });

  it('a wrong reference backward (kernel gradient scaled by 1.01) fails, naming the tensor', () => {
    const m = nn.sequential({ inputShape: [784], seed: 5, engine }, [nn.dense(16, { activation: 'tanh' }), nn.dense(10)]);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam() });
    const d = m.layers[1] as Dense, orig = d.refBackward.bind(d);
    d.refBackward = (dy, batch, read) => {
      const r = orig(dy, batch, read);
      r.grads.set(d.W, r.grads.get(d.W)!.map((v) => v * 1.01));
      return r;
    };
    const r = nn.gradCheck(m, X, Y);
    expect(r.ok).toBe(false);
    expect(r.worst!.tensor).toBe('dense_2/kernel');
    expect(r.worst!.error).toBeGreaterThan(4e-3); // |1.01g − g| / (2.01|g|)
    expect(r.perTensor['dense_2/kernel'].kinks).toBe(0);
    m.dispose();
  });

  it('bad options are ConfigErrors naming the option', () => {
    const m = readmeModel();
    expect(() => nn.gradCheck(m, X, Y, { maxParams: 0 })).toThrow(/maxParams is 0/);
    expect(() => nn.gradCheck(m, X, Y, { tolerance: 2 })).toThrow(/tolerance is 2/);
    expect(() => nn.gradCheck(m, X, Y, { bogus: 1 } as never)).toThrow(/unknown option "bogus"/);
    m.dispose();
  });
});
