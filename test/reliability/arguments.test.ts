// Argument validation, table-driven: every public entry point rejects wrong shapes, negative,
// fractional and NaN sizes, batch 0, lr ≤ 0 and unknown names with a typed error naming the
// argument — before any wasm kernel runs and without leaking arena blocks.
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import type { Kernels } from '../../src/kernels.js';

const engine = new nn.Engine();
// Count kernel calls: a rejected call must not reach wasm.
let kernelCalls = 0;
const realK = engine.k;
Object.defineProperty(engine, 'k', {
  value: Object.fromEntries(Object.entries(realK).map(([name, f]) => [name, typeof f === 'function' ? (...a: unknown[]) => (kernelCalls++, f(...a)) : f])) as unknown as Kernels,
});
const model = nn.sequential({ inputShape: [3], seed: 1, engine }, [nn.dense(4, { activation: 'relu' }), nn.dense(2)]);
model.compile({ loss: 'mse', optimizer: nn.sgd({ lr: 0.1 }) });
const clf = nn.sequential({ inputShape: [3], seed: 1, engine }, [nn.dense(3)]);
clf.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam() });
const uncompiled = nn.sequential({ inputShape: [3], seed: 1, engine }, [nn.dense(2)]);
afterAll(() => [model, clf, uncompiled].forEach((m) => m.dispose()));
const x = new Float32Array(12), y = new Float32Array(8);

type Row = [string, () => unknown, new (...a: never[]) => Error, RegExp];
// (null and undefined mean "use the default" for optional sizes.)
const bad = [0, -1, 1.5, NaN, Infinity, '3'];
const badLr = [0, -0.1, NaN, Infinity, -Infinity, '0.1'];
const OPTIMIZERS = { sgd: nn.sgd, adam: nn.adam, adamw: nn.adamw, rmsprop: nn.rmsprop, adagrad: nn.adagrad, adadelta: nn.adadelta, adamax: nn.adamax } as Record<string, (o?: unknown) => unknown>;

const rows: Row[] = [
  // sequential
  ...[[], [0], [-1], [1.5], [NaN], 'x', undefined].map((s): Row => [`sequential › inputShape ${JSON.stringify(s)}`, () => nn.sequential({ inputShape: s as never, engine }, [nn.dense(1)]), nn.ShapeError, /inputShape/]),
  ['sequential › no layers', () => nn.sequential({ inputShape: [2], engine }, []), nn.ConfigError, /layers/],
  ...[-1, 1.5, NaN, 2 ** 32].map((s): Row => [`sequential › seed ${s}`, () => nn.sequential({ inputShape: [2], seed: s, engine }, [nn.dense(1)]), nn.ConfigError, /seed/]),
  ...[0, 1.5, 65].map((t): Row => [`sequential › threads ${t}`, () => nn.sequential({ inputShape: [2], threads: t, engine }, [nn.dense(1)]), nn.ConfigError, /threads/]),
  ['sequential › unknown option', () => nn.sequential({ inputShape: [2], engine, sead: 1 } as never, [nn.dense(1)]), nn.ConfigError, /sead/],
  // layers
  ...[...bad, null].map((u): Row => [`dense › units ${String(u)}`, () => nn.dense(u as never), nn.ConfigError, /units/]),
  ['dense › unknown activation', () => nn.dense(2, { activation: 'sigmoidal' as never }), nn.ConfigError, /activation/],
  ['activation › unknown name', () => nn.activation('nope' as never), nn.ConfigError, /activation|nope/],
  ...[-0.1, 1, 1.5, NaN].map((r): Row => [`dropout › rate ${r}`, () => nn.dropout(r), nn.ConfigError, /rate/]),
  ...[-0.1, 1.5, NaN].map((v): Row => [`batchNorm › momentum ${v}`, () => nn.batchNorm({ momentum: v }), nn.ConfigError, /momentum/]),
  ...[0, -1, NaN].map((v): Row => [`layerNorm › eps ${v}`, () => nn.layerNorm({ eps: v }), nn.ConfigError, /eps/]),
  // compile
  ['compile › unknown loss', () => uncompiled.compile({ loss: 'hinge2' as never, optimizer: nn.sgd() }), nn.ConfigError, /loss/],
  ['compile › unknown optimizer name', () => uncompiled.compile({ loss: 'mse', optimizer: 'sgdd' as never }), nn.ConfigError, /optimizer|sgdd/],
  ['compile › unknown metric', () => uncompiled.compile({ loss: 'mse', optimizer: nn.sgd(), metrics: ['acc'] as never }), nn.ConfigError, /metric/],
  ['compile › accuracy with a regression loss', () => uncompiled.compile({ loss: 'mse', optimizer: nn.sgd(), metrics: ['accuracy'] }), nn.ConfigError, /metric "accuracy" needs/],
  // optimizers
  ...Object.entries(OPTIMIZERS).flatMap(([name, f]) => [
    ...badLr.map((lr): Row => [`${name} › lr ${String(lr)}`, () => f({ lr }), nn.ConfigError, /lr/]),
    [`${name} › unknown option`, () => f({ learning_rate: 0.1 }), nn.ConfigError, /learning_rate/] as Row,
  ]),
  ...[-0.1, 1, NaN].map((m): Row => [`sgd › momentum ${m}`, () => nn.sgd({ momentum: m }), nn.ConfigError, /momentum/]),
  ...[-0.1, 1, NaN].map((b): Row => [`adam › beta1 ${b}`, () => nn.adam({ beta1: b }), nn.ConfigError, /beta1/]),
  // predict / evaluate (sync)
  ['predict › 11 values for 3 features', () => model.predict(new Float32Array(11)), nn.ShapeError, /x|3/],
  ['predict › not an array', () => model.predict('x' as never), nn.ConfigError, /x is "x"/],
  ...bad.map((b): Row => [`predict › batchSize ${String(b)}`, () => model.predict(x, { batchSize: b as never }), nn.ConfigError, /batchSize/]),
  ['evaluate › y of the wrong length', () => model.evaluate(x, new Float32Array(7)), nn.ShapeError, /y/],
  // Found by this table: a compile refused for its metrics used to leave the loss set (half-compiled).
  ['evaluate › uncompiled (after the refused compiles above)', () => uncompiled.evaluate(x, y), nn.ConfigError, /not compiled/],
  ...bad.map((b): Row => [`evaluate › batchSize ${String(b)}`, () => model.evaluate(x, y, { batchSize: b as never }), nn.ConfigError, /batchSize/]),
  // data
  ...[0, -1, 1.5, NaN].map((c): Row => [`oneHot › classes ${c}`, () => nn.data.oneHot([0, 1], c), nn.ConfigError, /classes/]),
  ['oneHot › label out of range', () => nn.data.oneHot([0, 3], 3), nn.ConfigError, /label|3/],
  ...[0, 1, -0.5, 1.5, NaN].map((f): Row => [`trainTestSplit › testFraction ${f}`, () => nn.data.trainTestSplit(nn.tensor(new Float32Array(8), [4, 2]), [0, 1, 0, 1], { testFraction: f }), nn.ConfigError, /testFraction/]),
  ['trainTestSplit › y of the wrong length', () => nn.data.trainTestSplit(nn.tensor(new Float32Array(8), [4, 2]), [0, 1]), nn.ShapeError, /y/],
  ...[0, 1, -0.5, NaN].map((f): Row => [`mnistDigits › testFraction ${f}`, () => nn.datasets.mnistDigits({ testFraction: f }), nn.ConfigError, /testFraction/]),
  ['mnistDigits › a misspelled option', () => nn.datasets.mnistDigits({ testFracton: 0.5 } as never), nn.ConfigError, /unknown option "testFracton"; known: testFraction, seed, shape/],
  ['mnistDigits › null options', () => nn.datasets.mnistDigits(null as never), nn.ConfigError, /mnistDigits: options is null/],
  ['fashionMnist › a misspelled option', () => nn.datasets.fashionMnist({ dri: '/nonexistent' } as never), nn.ConfigError, /unknown option "dri"; known: dir, shape/],
  ['bostonHousing › a misspelled option', () => nn.datasets.bostonHousing({ sed: 1 } as never), nn.ConfigError, /unknown option "sed"/],
  ['readImageFolder › a misspelled option', () => nn.datasets.readImageFolder('/nonexistent', undefined, { shap: 'image' } as never), nn.ConfigError, /unknown option "shap"/],
  ['tensor › data length ≠ shape product', () => nn.tensor(new Float32Array(5), [2, 3]), nn.ShapeError, /shape|5/],
  ['tensor › negative dimension', () => nn.tensor(new Float32Array(0), [-1, 0]), nn.ShapeError, /shape/],
  // io
  ['loadModelSync › a number', () => nn.loadModelSync(42 as never), nn.ConfigError, /source/],
  ['loadModelSync › missing file', () => nn.loadModelSync('/nonexistent/m.simdnn'), nn.ConfigError, /cannot read/],
  ['parseCsv › separator of two characters', () => nn.io.parseCsv('a\n1', 'f', { separator: ';;' }), nn.ConfigError, /separator/],
  ['parseCsv › unknown missing policy', () => nn.io.parseCsv('a\n1', 'f', { missing: 'zero' as never }), nn.ConfigError, /missing/],
  ['parseIdx › not bytes', () => nn.io.parseIdx('abc' as never), nn.DataFormatError, /IDX|bytes/],
  ['decodeSafetensors › not bytes', () => nn.io.decodeSafetensors({} as never), nn.ModelFormatError, /input/],
];

const asyncRows: [string, () => Promise<unknown>, new (...a: never[]) => Error, RegExp][] = [
  ...bad.map((b) => [`fit › batchSize ${String(b)}`, () => model.fit(x, y, { batchSize: b as never }), nn.ConfigError, /batchSize/] as const),
  ...[-1, 1.5, NaN, '2'].map((e) => [`fit › epochs ${String(e)}`, () => model.fit(x, y, { epochs: e as never }), nn.ConfigError, /epochs/] as const),
  ['fit › x of 11 values', () => model.fit(new Float32Array(11), y), nn.ShapeError, /x/],
  ['fit › y of 7 values', () => model.fit(x, new Float32Array(7)), nn.ShapeError, /y/],
  ['fit › labels out of range', () => clf.fit(x, new Float32Array([0, 1, 2, 3])), nn.ConfigError, /label|class/],
  ['fit › fractional labels', () => clf.fit(x, new Float32Array([0, 1, 0.5, 2])), nn.ConfigError, /label|class/],
  ['fit › unknown sampling', () => model.fit(x, y, { sampling: 'random' as never }), nn.ConfigError, /sampling/],
  ['fit › validationSplit 1', () => model.fit(x, y, { validationSplit: 1 }), nn.ConfigError, /validationSplit/],
  ['fit › unknown option', () => model.fit(x, y, { batch_size: 2 } as never), nn.ConfigError, /batch_size/],
  ['fit › uncompiled', () => uncompiled.fit(x, y), nn.ConfigError, /compile/],
  ['save › empty path', () => model.save(''), nn.ConfigError, /path/],
  ['importTfjs › a number', () => nn.io.importTfjs(42 as never), nn.ConfigError, /source/],
  ['exportTfjs › empty folder', () => nn.io.exportTfjs(model, ''), nn.ConfigError, /dir/],
];

describe('argument validation: typed errors before any wasm call', () => {
  it.each(rows)('%s', (_name, fn, cls, msg) => {
    const calls = kernelCalls, live = engine.liveAllocations;
    let err: unknown;
    try { fn(); } catch (e) { err = e; }
    expect(err, 'accepted').toBeInstanceOf(cls);
    expect((err as Error).message).toMatch(msg);
    expect(kernelCalls - calls, 'kernel calls before the error').toBe(0);
    expect(engine.liveAllocations).toBe(live);
  });
  it.each(asyncRows)('%s', async (_name, fn, cls, msg) => {
    const calls = kernelCalls, live = engine.liveAllocations;
    let err: unknown;
    try { await fn(); } catch (e) { err = e; }
    expect(err, 'accepted').toBeInstanceOf(cls);
    expect((err as Error).message).toMatch(msg);
    expect(kernelCalls - calls, 'kernel calls before the error').toBe(0);
    expect(engine.liveAllocations).toBe(live);
  });
  it('the valid calls next to them work (the counter sees kernel calls)', async () => {
    const calls = kernelCalls;
    await model.fit(x, y, { epochs: 1, batchSize: 2 });
    expect(model.predict(x).shape).toEqual([4, 2]);
    expect(kernelCalls).toBeGreaterThan(calls);
  });
});
