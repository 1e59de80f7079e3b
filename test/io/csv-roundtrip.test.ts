// The round trip through the API: the Boston housing CSV trained with a fitted
// normalization layer first, saved, loaded, and predicting on RAW features exactly what the
// training process predicted; the metadata names the features and the target.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';

const CSV = new URL('../../data/boston-housing.csv', import.meta.url).pathname;
const models: nn.Sequential[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

describe('CSV regression round trip with the preprocessing inside the model', () => {
  it('train → save → load → predict on raw features gives the training process\'s predictions, and they fit', async () => {
    const { x, y, features } = nn.io.readCsv(CSV, { target: 'medv' });
    const norm = nn.normalization();
    const m = nn.sequential({ inputShape: [features.length], seed: 7 }, [norm, nn.dense(32, { activation: 'relu' }), nn.dense(1)]);
    models.push(m);
    norm.adapt(x);
    m.setMetadata({ features, target: 'medv', input: { kind: 'csv' } });
    m.compile({ loss: 'mse', optimizer: nn.adam({ lr: 0.01 }), metrics: ['r2'] });
    await m.fit(x, y!, { epochs: 40, batchSize: 32 });
    const mine = m.predict(x).data;
    const path = join(mkdtempSync(join(tmpdir(), 'simdnn-csv-')), 'boston.simdnn');
    await m.save(path);
    const back = await nn.loadModel(path);
    models.push(back);
    expect(back.metadata).toEqual({ features, target: 'medv', input: { kind: 'csv' } });
    const theirs = back.predict(x).data;
    expect(Array.from(theirs)).toEqual(Array.from(mine));
    // Raw features in, house prices out: R² on the training rows well above 0 (the bug gave 100× off).
    let ss = 0, st = 0;
    const mean = y!.reduce((a, b) => a + b, 0) / y!.length;
    for (let i = 0; i < y!.length; i++) { ss += (theirs[i] - y![i]) ** 2; st += (y![i] - mean) ** 2; }
    expect(1 - ss / st).toBeGreaterThan(0.7);
  });
});
