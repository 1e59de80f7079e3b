// Issue 12 through the built CLI: what was fitted on the data travels with the model. train on a
// CSV → save → predict/eval on raw rows, compared with the model's own predictions through the API;
// text class labels; the recorded split; headers that look like data; columns found by name.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { runNode } from '../util/child.js';
import { rng } from '../util/rng.js';

const CLI = new URL('../../build/src/cli.js', import.meta.url).pathname;
const BOSTON = new URL('../../data/boston-housing.csv', import.meta.url).pathname;
const run = (args: string[]) => runNode([CLI, ...args], {});
const dir = mkdtempSync(join(tmpdir(), 'simdnn-prep-cli-'));

/** 150 rows of 4 features whose text label (setosa/versicolor/virginica) shifts one feature. */
function speciesCsv(): string {
  const r = rng(12), names = ['versicolor', 'setosa', 'virginica'];
  const rows = ['sepal_length,sepal_width,petal_length,petal_width,species'];
  for (let i = 0; i < 150; i++) {
    const c = i % 3;
    rows.push([...Array.from({ length: 4 }, (_, j) => 10 * j + (j === c ? 3 : 0) + r() - 0.5).map((v) => v.toFixed(3)), names[c]].join(','));
  }
  return rows.join('\n') + '\n';
}

describe('simdnn train/predict/eval: preprocessing travels with the model', () => {
  it('Boston CSV: predict on raw rows (medv still in the file) = the model\'s own predictions; eval scores the rows train tested', async () => {
    const m = join(dir, 'b.simdnn');
    const tr = await run(['train', '--data', BOSTON, '--target', 'medv', '--layers', '64,64', '--epochs', '60', '--batch-size', '16', '--seed', '7', '--out', m]);
    expect(tr.status, tr.stderr).toBe(0);
    const trainTest = /^test: (.*)$/m.exec(tr.stdout)![1];
    const model = await nn.loadModel(m);
    expect(model.layers[0].constructor.name).toBe('Normalization');
    expect(model.metadata).toMatchObject({ features: [...nn.datasets.BOSTON_HOUSING_FEATURES], target: 'medv', input: { kind: 'csv' }, split: { seed: 7, test: 0.2, stratified: false } });
    const pr = await run(['predict', m, BOSTON]);
    expect(pr.status, pr.stderr).toBe(0);
    const lines = pr.stdout.trim().split('\n');
    expect(lines[0]).toBe('medv');
    const want = model.predict(nn.datasets.bostonHousing().all.x).data;
    expect(lines.length - 1).toBe(506);
    lines.slice(1).forEach((l, i) => expect(Math.abs(Number(l) - want[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[i]))));
    // Raw features in the units of the file: predictions in the units of medv ($1000s), not 100× off.
    const y = nn.datasets.bostonHousing().all.y;
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    let sse = 0, sst = 0;
    y.forEach((v, i) => { sse += (v - Number(lines[i + 1])) ** 2; sst += (v - mean) ** 2; });
    expect(1 - sse / sst).toBeGreaterThan(0.5);
    const ev = await run(['eval', m, '--data', BOSTON]);
    expect(ev.status, ev.stderr).toBe(0);
    expect(ev.stdout).toContain('scoring the 101 test rows of the split recorded at training (seed 7, test 0.2)');
    expect(ev.stdout.trim().split('\n').at(-1)).toBe(trainTest);
    const other = await run(['eval', m, '--data', BOSTON, '--split-seed', '8', '--json']);
    expect(other.status, other.stderr).toBe(0);
    expect(JSON.parse(other.stdout)).toMatchObject({ rows: 101, split: { seed: 8 } });
    model.dispose();
  });

  it('text labels train a classifier without --loss; predict prints the class names (--proba the probabilities) as the model predicts them', async () => {
    const csv = join(dir, 'species.csv'), m = join(dir, 's.simdnn');
    writeFileSync(csv, speciesCsv());
    const tr = await run(['train', '--data', csv, '--target', 'species', '--layers', '8', '--epochs', '30', '--batch-size', '16', '--seed', '3', '--out', m]);
    expect(tr.status, tr.stderr).toBe(0);
    expect(Number(/test: loss [\d.]+ · accuracy ([\d.]+)/.exec(tr.stdout)![1])).toBeGreaterThan(0.8);
    const model = await nn.loadModel(m);
    expect(model.loss!.name).toBe('softmaxCrossEntropy');
    expect(model.metadata).toMatchObject({ classes: ['setosa', 'versicolor', 'virginica'], target: 'species', split: { seed: 3, stratified: true } });
    // Columns in another order, the label column kept: read by name.
    const text = readFileSync(csv, 'utf8').trim().split('\n').map((l) => { const f = l.split(','); return [f[4], f[3], f[0], f[2], f[1]].join(','); });
    const shuffledCsv = join(dir, 'species-reordered.csv');
    writeFileSync(shuffledCsv, text.join('\n') + '\n');
    const pr = await run(['predict', m, shuffledCsv, '--proba']);
    expect(pr.status, pr.stderr).toBe(0);
    const lines = pr.stdout.trim().split('\n');
    expect(lines[0]).toBe('species,setosa,versicolor,virginica');
    const x = nn.io.readCsv(csv, { target: 'species' }).x;
    const names = model.predictClassNames(x), p = model.predictProba(x).data;
    lines.slice(1).forEach((l, i) => {
      const f = l.split(',');
      expect(f[0]).toBe(names[i]);
      for (let j = 0; j < 3; j++) expect(Math.abs(Number(f[1 + j]) - p[i * 3 + j])).toBeLessThanOrEqual(1e-6);
    });
    model.dispose();
  });

  it('a missing or renamed column is an error naming it', async () => {
    const m = join(dir, 'b2.simdnn');
    expect((await run(['train', '--data', 'boston-housing', '--layers', '4', '--epochs', '1', '--out', m])).status).toBe(0);
    const renamed = join(dir, 'renamed.csv');
    writeFileSync(renamed, readFileSync(BOSTON, 'utf8').replace(/^(.*)\brm\b/, '$1RM'));
    const r = await run(['predict', m, renamed]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: .*renamed\.csv: column "rm" is missing; the features are crim, .*; the file also has RM, medv \(renamed\?\)$/m);
    expect(r.stderr).toMatch(/^hint: /m);
  });

  it('a header row of numbers only is reported as probably data; --no-header reads it as data (columns 0, 1, …)', async () => {
    const csv = join(dir, 'noheader.csv');
    writeFileSync(csv, speciesCsv().split('\n').slice(1).join('\n').replace(/setosa|versicolor|virginica/g, (s) => String(['setosa', 'versicolor', 'virginica'].indexOf(s))));
    const r = await run(['train', '--data', csv, '--target', '4', '--epochs', '1', '--out', join(dir, 'n.simdnn')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: .*noheader\.csv:1: the header row ".*" is all numbers: it looks like data, not column names/m);
    expect(r.stderr).toMatch(/^hint: .*--no-header/m);
    const ok = await run(['train', '--data', csv, '--target', '4', '--no-header', '--loss', 'softmaxCrossEntropy', '--epochs', '1', '--json', '--out', join(dir, 'n.simdnn')]);
    expect(ok.status, ok.stderr).toBe(0);
    const model = await nn.loadModel(join(dir, 'n.simdnn'));
    expect(model.metadata!.features).toEqual(['0', '1', '2', '3']);
    expect(model.metadata!.input).toMatchObject({ kind: 'csv', header: false });
    model.dispose();
  });

  it('--loss binaryCrossEntropy gets a sigmoid output and logs binary accuracy; --loss mse logs mae and r2; a bad --loss exits 2 listing the choices', async () => {
    const csv = join(dir, 'bin.csv'), m = join(dir, 'bin.simdnn');
    const r = rng(4);
    writeFileSync(csv, 'a,b,y\n' + Array.from({ length: 100 }, (_, i) => { const y = i % 2; return `${(y * 2 + r()).toFixed(3)},${r().toFixed(3)},${y}`; }).join('\n') + '\n');
    const tr = await run(['train', '--data', csv, '--target', 'y', '--loss', 'binaryCrossEntropy', '--layers', '4', '--epochs', '2', '--out', m]);
    expect(tr.status, tr.stderr).toBe(0);
    expect(tr.stdout).toMatch(/test: loss [\d.]+ · binaryAccuracy [\d.]+/);
    const model = await nn.loadModel(m);
    expect(model.config().layers.at(-1)).toMatchObject({ activation: 'sigmoid' });
    model.dispose();
    const sce = await run(['train', '--data', csv, '--target', 'y', '--loss', 'sigmoidCrossEntropy', '--layers', '4', '--epochs', '1', '--out', m]);
    expect(sce.stdout).toMatch(/test: loss [\d.]+ · binaryAccuracy [\d.]+/);
    const bad = await run(['train', '--loss', 'hinge']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Allowed choices are mse, mae, .*binaryCrossEntropy/);
    const help = await run(['train', '--help']);
    expect(help.stdout).toMatch(/--loss <name>[\s\S]*choices: "mse", "mae"/);
  });

  it('IDX folders are found under Kaggle\'s names (train-images.idx3-ubyte, not gzipped); other names are an error stating the rule', async () => {
    /** An IDX file: magic 0 0, type 0x08 (u8), rank, big-endian dimensions, the bytes. */
    const idx = (shape: number[], data: Uint8Array) => Buffer.concat([Buffer.from([0, 0, 8, shape.length]), ...shape.map((d) => { const b = Buffer.alloc(4); b.writeUInt32BE(d); return b; }), data]);
    const kaggle = join(dir, 'kaggle');
    mkdirSync(kaggle);
    const r = rng(5), n = 40;
    for (const stem of ['train', 't10k']) {
      writeFileSync(join(kaggle, `${stem}-images.idx3-ubyte`), idx([n, 4, 4], Uint8Array.from({ length: n * 16 }, () => Math.floor(r() * 256))));
      writeFileSync(join(kaggle, `${stem}-labels.idx1-ubyte`), idx([n], Uint8Array.from({ length: n }, (_, i) => i % 3)));
    }
    const ok = await run(['train', '--data', kaggle, '--layers', '4', '--epochs', '1', '--json', '--out', join(dir, 'k.simdnn')]);
    expect(ok.status, ok.stderr).toBe(0);
    const odd = join(dir, 'odd');
    mkdirSync(odd);
    writeFileSync(join(odd, 'images.bin'), idx([n, 4, 4], new Uint8Array(n * 16)));
    const bad = await run(['train', '--data', odd, '--epochs', '1', '--out', join(dir, 'o.simdnn')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/does not hold the four IDX files \(it has images\.bin\); they must be named <train\|t10k>-<images\|labels>-idx<3\|1>-ubyte, with "-" or "\." before idx/);
  });
});
