// The prediction helpers a Keras/TF.js user reaches for: predictProba, predictClasses,
// predictClassNames, nn.argMax, and nn.tensor from nested arrays — on all three builds.
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { softmaxRef } from '../../src/reference.js';
import { assertClose } from '../util/close.js';
import { ALL_ISAS, engineFor } from '../util/engines.js';
import { rng } from '../util/rng.js';

const models: nn.Sequential[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

function model(isa: nn.Isa, outputs: number, loss?: nn.LossName): nn.Sequential {
  const m = nn.sequential({ inputShape: [5], seed: 3, engine: engineFor(isa) }, [nn.dense(7, { activation: 'tanh' }), nn.dense(outputs)]);
  if (loss) m.compile({ loss, optimizer: 'sgd' });
  models.push(m);
  return m;
}
function data(n: number, seed = 1): Float32Array {
  const r = rng(seed);
  // Scaled so that outputs spread over both signs and a wide range.
  return Float32Array.from({ length: n * 5 }, () => (r() * 2 - 1) * 4);
}
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('nn.tensor from nested arrays', () => {
  it('[[1, 2], [3, 4]] is a [2, 2] Float32Array tensor; deeper nesting gives its shape', () => {
    const t = nn.tensor([[1, 2], [3, 4]]);
    expect(t.shape).toEqual([2, 2]);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
    expect(nn.tensor([[[1], [2], [3]], [[4], [5], [6]]]).shape).toEqual([2, 3, 1]);
    expect(nn.tensor([[1, 2, 3, 4]], [2, 2]).shape).toEqual([2, 2]);
  });
  it('keeps the existing forms: flat numbers, typed arrays with and without a shape', () => {
    expect(nn.tensor([1, 2, 3]).shape).toEqual([3]);
    expect(nn.tensor(new Float32Array(6), [2, 3]).shape).toEqual([2, 3]);
    expect(nn.tensor(new Uint8Array(4)).shape).toEqual([4]);
    expect(nn.tensor(new Int32Array(4), [4]).data).toBeInstanceOf(Int32Array);
  });
  it.each([
    ['ragged rows', [[1, 2], [3]], nn.ShapeError, /tensor: data\[1\] is \[3\]; it must be an array of 2/],
    ['a number where a row is', [[1, 2], 3], nn.ShapeError, /data\[1\] is 3; it must be an array of 2/],
    ['a string', [[1, 'x']], nn.ConfigError, /data\[0\]\[1\] is "x"; it must be a number/],
    ['null', [1, null], nn.ConfigError, /data\[1\] is null; it must be a number/],
    ['a row where a number is', [1, [2]], nn.ConfigError, /data\[1\] is \[2\]; it must be a number/],
  ])('refuses %s with a typed error naming the index', (_, v, type, msg) => {
    expect(() => nn.tensor(v as never)).toThrow(type);
    expect(() => nn.tensor(v as never)).toThrow(msg);
  });
  it('a nested array with a shape of another size is a ShapeError', () => {
    expect(() => nn.tensor([[1, 2], [3, 4]], [3])).toThrow(nn.ShapeError);
  });
  it('predict takes number[][] rows and refuses non-numbers in them', () => {
    const m = model('simd', 2);
    const x = [[1, 2, 3, 4, 5], [0, 0, 0, 0, 1]];
    expect(Array.from(m.predict(x).data)).toEqual(Array.from(m.predict(nn.tensor(x)).data));
    expect(() => m.predict([[1, 2, 3, 4, 'a' as never]])).toThrow(/Sequential\.predict: x\[0\]\[4\] is "a"; it must be a number/);
  });
  it('predict and evaluate take nested images [n, H, W, C] as nn.tensor does; a ragged one is a ShapeError', () => {
    const m = nn.sequential({ inputShape: [2, 2, 1], seed: 1 }, [nn.conv2d(2, { kernelSize: 2 }), nn.flatten(), nn.dense(2)]);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.1 }) });
    const x = [[[[1], [2]], [[3], [4]]], [[[0], [-1]], [[0.5], [2]]]];
    expect(Array.from(m.predict(x).data)).toEqual(Array.from(m.predict(nn.tensor(x)).data));
    expect(m.evaluate(x, [0, 1]).loss).toBeCloseTo(m.evaluate(nn.tensor(x), [0, 1]).loss, 6);
    expect(() => m.predict([[[[1], [2]], [[3]]]])).toThrow(nn.ShapeError);
    m.dispose();
  });
});

describe('nn.argMax', () => {
  it('per row along the last axis, the first index on ties', () => {
    expect(Array.from(nn.argMax(nn.tensor([[1, 3, 3], [5, -1, 0], [0, 0, 0]])))).toEqual([1, 0, 0]);
    expect(Array.from(nn.argMax([[0.1, 0.9]]))).toEqual([1]);
    expect(Array.from(nn.argMax(nn.tensor([2, 7, 1])))).toEqual([1]);
    expect(Array.from(nn.argMax(nn.tensor(new Int32Array([4, 9, 9, 1]), [2, 2])))).toEqual([1, 0]);
  });
  it('NaN never wins past index 0 (as the wasm kernel)', () => {
    expect(Array.from(nn.argMax([[NaN, 1], [1, NaN], [NaN, 2]]))).toEqual([0, 0, 0]);
  });
  it('an empty last axis is a ShapeError; ragged input is one too', () => {
    expect(() => nn.argMax(nn.tensor(new Float32Array(0), [2, 0]))).toThrow(nn.ShapeError);
    expect(() => nn.argMax([[1, 2], [3]])).toThrow(nn.ShapeError);
  });
});

describe.each(ALL_ISAS)('prediction helpers (%s)', (isa) => {
  const x = data(37);
  it('predictProba: softmax of the logits for softmaxCrossEntropy and nll (rows sum to 1)', () => {
    for (const loss of ['softmaxCrossEntropy', 'nll'] as const) {
      const m = model(isa, 4, loss);
      const z = m.predict(x).data;
      const p = m.predictProba(x, { batchSize: 8 });
      expect(p.shape).toEqual([37, 4]);
      assertClose(p.data, softmaxRef(z, 37, 4), 1e-6, 1e-5, `${isa} predictProba ${loss}`);
    }
  });
  it('predictProba: sigmoid of the logits for sigmoidCrossEntropy; the outputs themselves for losses on probabilities', () => {
    const m = model(isa, 3, 'sigmoidCrossEntropy');
    const z = m.predict(x).data;
    assertClose(m.predictProba(x).data, Array.from(z, sigmoid), 1e-6, 1e-5, `${isa} predictProba sigmoid`);
    for (const loss of ['binaryCrossEntropy', 'categoricalCrossEntropy'] as const) {
      const q = model(isa, 3, loss);
      expect(Array.from(q.predictProba(x).data)).toEqual(Array.from(q.predict(x).data));
    }
  });
  it('predictProba refuses regression losses and uncompiled models, naming the loss', () => {
    expect(() => model(isa, 2, 'mse').predictProba(x)).toThrow(/Sequential\.predictProba: the model is compiled with mse, a regression loss/);
    expect(() => model(isa, 2, 'mae').predictProba(x)).toThrow(nn.ConfigError);
    expect(() => model(isa, 2).predictProba(x)).toThrow(/not compiled/);
  });
  it('predictClasses: argmax of the outputs in wasm for several outputs (any loss, or none)', () => {
    for (const m of [model(isa, 10, 'softmaxCrossEntropy'), model(isa, 3), model(isa, 2, 'mse')]) {
      const c = m.predictClasses(x, { batchSize: 5 });
      expect(c).toBeInstanceOf(Int32Array);
      expect(Array.from(c)).toEqual(Array.from(nn.argMax(m.predict(x))));
    }
  });
  it('predictClasses: a 1-output model thresholds at logit 0 (sigmoidCrossEntropy) or probability 0.5 (binaryCrossEntropy)', () => {
    const m = model(isa, 1, 'sigmoidCrossEntropy');
    const z = m.predict(x).data;
    const c = m.predictClasses(x);
    expect(Array.from(c)).toEqual(Array.from(z, (v) => (v > 0 ? 1 : 0)));
    expect(new Set(c).size).toBe(2); // both classes occur: the test can fail
    const b = model(isa, 1, 'binaryCrossEntropy');
    expect(Array.from(b.predictClasses(x))).toEqual(Array.from(b.predict(x).data, (v) => (v > 0.5 ? 1 : 0)));
  });
  it('predictClasses on a 1-output model without a sigmoid loss is refused', () => {
    expect(() => model(isa, 1, 'mse').predictClasses(x)).toThrow(/regression loss/);
    expect(() => model(isa, 1, 'softmaxCrossEntropy').predictClasses(x)).toThrow(/a 1-output model's class needs a sigmoid loss/);
    expect(() => model(isa, 1).predictClasses(x)).toThrow(/not compiled/);
  });
  it('predictClassNames maps indices through metadata.classes (2 names for 1 output); without names it is refused', () => {
    const m = model(isa, 3, 'softmaxCrossEntropy');
    expect(() => m.predictClassNames(x)).toThrow(/the model has no class names; set them with model\.setMetadata/);
    m.setMetadata({ classes: ['setosa', 'versicolor', 'virginica'] });
    expect(m.predictClassNames(x)).toEqual(Array.from(m.predictClasses(x), (i) => ['setosa', 'versicolor', 'virginica'][i]));
    const b = model(isa, 1, 'sigmoidCrossEntropy').setMetadata({ classes: ['no', 'yes'] });
    expect(b.predictClassNames(x)).toEqual(Array.from(b.predictClasses(x), (i) => ['no', 'yes'][i]));
  });
  it('bad input is refused before any wasm call, leaving nothing allocated', () => {
    const m = model(isa, 3, 'softmaxCrossEntropy');
    const e = engineFor(isa), live = e.liveAllocations;
    expect(() => m.predictProba(new Float32Array(7))).toThrow(nn.ShapeError);
    expect(() => m.predictClasses(x, { batchSize: 0 })).toThrow(/batchSize is 0/);
    expect(() => m.predictClasses(x, { bs: 3 } as never)).toThrow(/unknown option "bs"/);
    expect(e.liveAllocations).toBe(live);
  });
});
