// Issue 16, in the library: a monitor fit will not produce fails at onTrainBegin; Keras/TF.js
// spellings are aliases; the progress bar fits its stream's width, shows epoch n/N and the
// running accuracy, and redraws on resize.
import { EventEmitter } from 'node:events';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { fitProgressLine, logName, type TrainContext } from '../../src/callbacks.js';

const X = [[0, 0], [0, 1], [1, 0], [1, 1]];
const Y = Int32Array.from([0, 1, 1, 0]);

function model(loss = 'softmaxCrossEntropy', metrics: string[] = ['accuracy']) {
  const m = nn.sequential({ inputShape: [2], seed: 3 }, [nn.dense(4, { activation: 'tanh' }), nn.dense(2)]);
  m.compile({ loss, optimizer: nn.adam({ lr: 0.05 }), metrics });
  return m;
}

describe('monitors are checked at onTrainBegin', () => {
  it.each([
    ['earlyStopping()', () => nn.callbacks.earlyStopping()],
    ['reduceLROnPlateau()', () => nn.callbacks.reduceLROnPlateau()],
    ['modelCheckpoint({ saveBestOnly })', () => nn.callbacks.modelCheckpoint({ save: () => {}, saveBestOnly: true })],
    ["earlyStopping({ monitor: 'val_loss' })", () => nn.callbacks.earlyStopping({ monitor: 'val_loss' })],
  ])('%s monitoring valLoss without validation data fails before the first batch', async (_name, make) => {
    const m = model();
    let batches = 0;
    const count = nn.callbacks.lambda({ onBatchEnd: () => { batches++; } });
    await expect(m.fit(X, Y, { epochs: 3, batchSize: 2, callbacks: [count, make()] }))
      .rejects.toThrow(/monitor "valLoss" is not among the logs this fit produces \(loss, accuracy, lr\); pass validationData or validationSplit/);
    expect(batches).toBe(0);
    m.dispose();
  });

  it('with validation data the same callbacks run', async () => {
    const m = model();
    const h = await m.fit(X, Y, { epochs: 3, batchSize: 2, validationData: [X, Y],
      callbacks: [nn.callbacks.earlyStopping({ monitor: 'val_loss', patience: 5 }), nn.callbacks.reduceLROnPlateau({ monitor: 'val_acc' })] });
    expect(h.epoch).toEqual([0, 1, 2]);
    m.dispose();
  });

  it('a misspelt training log fails at onTrainBegin too', async () => {
    const m = model();
    await expect(m.fit(X, Y, { epochs: 1, callbacks: [nn.callbacks.earlyStopping({ monitor: 'accuracyy' })] }))
      .rejects.toThrow(/earlyStopping: monitor "accuracyy" is not among the logs this fit produces \(loss, accuracy, lr\)$/);
    m.dispose();
  });
});

describe('Keras/TF.js spellings', () => {
  it('log names: val_loss, acc, val_acc, val_accuracy', () => {
    expect(['val_loss', 'acc', 'val_acc', 'val_accuracy', 'loss', 'valLoss'].map(logName)).toEqual(['valLoss', 'accuracy', 'valAccuracy', 'valAccuracy', 'loss', 'valLoss']);
  });

  it("compile({ loss: 'sparseCategoricalCrossentropy', metrics: ['acc'] }) logs accuracy", async () => {
    const m = nn.sequential({ inputShape: [2], seed: 3 }, [nn.dense(2, { activation: 'softmax' })]);
    m.compile({ loss: 'sparseCategoricalCrossentropy', optimizer: 'adam', metrics: ['acc'] });
    expect(m.loss!.name).toBe('categoricalCrossEntropy');
    const h = await m.fit(X, Y, { epochs: 1 });
    expect(Object.keys(h.history)).toEqual(['loss', 'accuracy', 'lr']);
    m.dispose();
  });

  it('learningRate is lr; both at once is refused', () => {
    expect(nn.adam({ learningRate: 0.02 }).lr).toBe(0.02);
    expect(nn.sgd({ learningRate: 0.3 }).lr).toBe(0.3);
    expect(() => nn.adam({ lr: 0.1, learningRate: 0.02 })).toThrow(/Adam: lr and learningRate are given; they are the same option, give one/);
  });

  it('restoreBestWeights is restoreBest; filepath is path', async () => {
    const m = model();
    const dir = mkdtempSync(join(tmpdir(), 'simdnn-alias-'));
    const before = m.weightBytes();
    await m.fit(X, Y, { epochs: 3, batchSize: 4, validationData: [X, Y], callbacks: [
      // minDelta so large that only the first epoch counts as an improvement: its weights come back.
      nn.callbacks.earlyStopping({ monitor: 'val_loss', minDelta: 1e9, patience: 5, restoreBestWeights: true }),
      nn.callbacks.modelCheckpoint({ filepath: join(dir, 'e{epoch}.simdnn') }),
    ] });
    expect(existsSync(join(dir, 'e3.simdnn'))).toBe(true);
    const first = nn.loadModelSync(join(dir, 'e1.simdnn'));
    expect(m.weightBytes()).toEqual(first.weightBytes());
    expect(m.weightBytes()).not.toEqual(before);
    first.dispose();
    m.dispose();
    expect(() => nn.callbacks.earlyStopping({ restoreBest: true, restoreBestWeights: false })).toThrow(/restoreBest and restoreBestWeights are given/);
  });
});

/** A terminal-like stream: isTTY, columns, resize events; records what is written. */
class FakeTty extends EventEmitter {
  isTTY = true;
  chunks: string[] = [];
  constructor(public columns: number) { super(); }
  write(s: string) { this.chunks.push(s); return true; }
}
/** The lines a redraw left visible: what follows the last `\r\x1b[K` of each write. */
const drawn = (t: FakeTty) => t.chunks.map((c) => c.split('\r\x1b[K').at(-1)!.replace(/\n$/, ''));

describe('progressBar', () => {
  const ctx = (m: nn.Sequential): TrainContext => ({ model: m, epochs: 10, steps: 4, samples: 400, batchSize: 100, stopTraining: false, history: { epoch: [], history: {} } });

  it.each([20, 40, 50, 80, 120])('at %i columns no line is wider than columns − 1; the bar shows epoch n/N', (cols) => {
    const m = model();
    const t = new FakeTty(cols), bar = nn.callbacks.progressBar({ stream: t as never }), c = ctx(m);
    bar.onTrainBegin!(c);
    bar.onEpochBegin!(2, c);
    for (let s = 0; s < 4; s++) bar.onBatchEnd!(s, { loss: 0.5, size: 100, correct: 80 }, c);
    bar.onEpochEnd!(2, { loss: 0.5, accuracy: 0.8, lr: 0.001 }, c);
    bar.onTrainEnd!(c);
    for (const l of drawn(t).slice(0, -1)) {
      expect(l.length, l).toBeLessThanOrEqual(cols - 1);
      expect(l).toMatch(/^epoch 3\/10/);
    }
    expect(drawn(t).at(-1)).toMatch(/^epoch 3\/10 · loss 0\.5000 · accuracy 0\.8000/);
    m.dispose();
  });

  it('shows the running accuracy of the epoch when there is room', () => {
    const m = model();
    const t = new FakeTty(200), bar = nn.callbacks.progressBar({ stream: t as never }), c = ctx(m);
    bar.onEpochBegin!(0, c);
    bar.onBatchEnd!(0, { loss: 0.5, size: 100, correct: 25 }, c);
    expect(drawn(t)[0]).toMatch(/^epoch 1\/10 █{8}·{22} · 1\/4 · loss 0\.5000 · accuracy 0\.2500 · ETA [\d.]+s · \d+ samples\/s$/);
    m.dispose();
  });

  it('re-reads the width on resize and redraws to fit', () => {
    const m = model();
    const t = new FakeTty(120), bar = nn.callbacks.progressBar({ stream: t as never }), c = ctx(m);
    bar.onTrainBegin!(c);
    bar.onEpochBegin!(0, c);
    bar.onBatchEnd!(0, { loss: 0.5, size: 100, correct: 25 }, c);
    expect(drawn(t)[0].length).toBeGreaterThan(60);
    t.columns = 40;
    t.emit('resize');
    expect(drawn(t).length).toBe(2);
    expect(drawn(t)[1].length).toBeLessThanOrEqual(39);
    expect(drawn(t)[1]).toMatch(/^epoch 1\/10 [█·]+/);
    bar.onTrainEnd!(c);
    expect(t.listenerCount('resize')).toBe(0);
    m.dispose();
  });

  it('fitProgressLine drops fields from the end, then shortens the bar, then drops it', () => {
    const f = ['1/4', 'loss 0.5000', 'ETA 1.0s'];
    expect(fitProgressLine(200, 'epoch 1/2', 0.5, f, 10)).toBe('epoch 1/2 █████····· · 1/4 · loss 0.5000 · ETA 1.0s');
    expect(fitProgressLine(40, 'epoch 1/2', 0.5, f, 10)).toBe('epoch 1/2 ████···· · 1/4 · loss 0.5000');
    expect(fitProgressLine(25, 'epoch 1/2', 0.5, f, 10)).toBe('epoch 1/2 █████·····');
    expect(fitProgressLine(16, 'epoch 1/2', 0.5, f, 10)).toBe('epoch 1/2 · 1/4');
    expect(fitProgressLine(6, 'epoch 1/2', 0.5, f, 10)).toBe('epoch');
  });
});
