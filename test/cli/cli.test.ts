// The built CLI as a child process: output, exit codes and files.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalFashionFiles, HAVE_DEBIAN_FASHION } from '../util/fashion.js';
import { serveFiles } from '../util/http.js';
import * as nn from '../../src/index.js';
import { assertClose } from '../util/close.js';
import { checkExported } from '../util/exported.js';
import { runNode, runNodeOk } from '../util/child.js';

const CLI = new URL('../../build/src/cli.js', import.meta.url).pathname;
/** The CLI as a child process that does not block this one (so a server in it can answer the child). */
const run = (args: string[], cwd?: string) => runNode([CLI, ...args], { cwd });

describe('simdnn CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simdnn-cli-'));
  const model = join(dir, 'm.simdnn');

  it('train (the README main command) trains on the MNIST digits, prints epochs and test accuracy, saves the model', async () => {
    const r = await run(['train', '--epochs', '2', '--out', model]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wasm (relaxed|simd)/);
    expect(r.stdout).toMatch(/epoch 1\/2 · loss [\d.]+ · accuracy [\d.]+/);
    expect(r.stdout).toMatch(/epoch 2\/2/);
    const acc = Number(/test: loss [\d.]+ · accuracy ([\d.]+)/.exec(r.stdout)![1]);
    expect(acc).toBeGreaterThan(0.85);
    expect(existsSync(model)).toBe(true);
  });

  it('train --json prints machine-readable lines', async () => {
    const r = await run(['train', '--epochs', '1', '--layers', '32', '--json', '--out', join(dir, 'j.simdnn')]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].event).toBe('start');
    expect(lines[1]).toMatchObject({ event: 'epoch', epoch: 1 });
    expect(lines.at(-1).event).toBe('done');
    expect(lines.at(-1).test.accuracy).toBeGreaterThan(0.5);
  });

  it('info, eval and predict on the saved model', async () => {
    const info = await run(['info', model, '--json']);
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ inputShape: [784], epoch: 2, loss: 'softmaxCrossEntropy', optimizer: 'adam' });
    const ev = await run(['eval', model, '--json']);
    expect(ev.status, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).accuracy).toBeGreaterThan(0.85);
    const csv = join(dir, 'in.csv');
    writeFileSync(csv, Array.from({ length: 784 }, (_, i) => `p${i}`).join(',') + '\n' + new Array(784).fill(0).join(',') + '\n');
    const out = join(dir, 'out.csv');
    const pr = await run(['predict', model, csv, '--out', out]);
    expect(pr.status, pr.stderr).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('class');
    expect(Number(rows[1])).toBeGreaterThanOrEqual(0);
    expect(rows.length).toBe(2);
  });

  it('trains a CSV regression (the Boston housing file in data/) with --target', async () => {
    const r = await run(['train', '--data', new URL('../../data/boston-housing.csv', import.meta.url).pathname, '--target', 'medv',
      '--layers', '64,64', '--epochs', '60', '--batch-size', '16', '--out', join(dir, 'b.simdnn')]);
    expect(r.status, r.stderr).toBe(0);
    expect(Number(/r2 (-?[\d.]+)/.exec(r.stdout.split('test:')[1])![1])).toBeGreaterThan(0.7);
  });

  it('train --threads 2 uses worker threads and gives the weights of 1 thread up to summation order (1e-5)', async () => {
    const nn = await import('../../src/index.js');
    const common = ['train', '--epochs', '1', '--layers', '64', '--batch-size', '256', '--optimizer', 'sgd', '--seed', '3'];
    const one = await run([...common, '--out', join(dir, 't1.simdnn')]);
    const two = await run([...common, '--threads', '2', '--out', join(dir, 't2.simdnn')]);
    expect(one.status, one.stderr).toBe(0);
    expect(two.status, two.stderr).toBe(0);
    expect(one.stdout).toMatch(/· 1 thread\n/);
    expect(two.stdout).toMatch(/· 2 threads\n/);
    const w = (f: string) => [...nn.loadModelSync(join(dir, f)).getWeights().values()];
    const [a, b] = [w('t1.simdnn'), w('t2.simdnn')];
    expect(a.length).toBe(4);
    a.forEach((t, i) => {
      const scale = Math.max(...t.map(Math.abs));
      t.forEach((v, j) => expect(Math.abs(v - b[i][j])).toBeLessThanOrEqual(1e-5 * scale));
    });
  });

  it('export --onnx --tfjs writes files that onnxruntime-web and TF.js load and that predict as the model does', async () => {
    const m = join(dir, 'tiny.simdnn'), onnxFile = join(dir, 'tiny.onnx'), tfjsDir = join(dir, 'tiny-tfjs');
    const tr = await run(['train', '--data', 'boston-housing', '--layers', '8', '--epochs', '2', '--json', '--out', m]);
    expect(tr.status, tr.stderr).toBe(0);
    const r = await run(['export', m, '--onnx', onnxFile, '--tfjs', tfjsDir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*tiny\.onnx \(ONNX, opset 17\)/);
    for (const f of [onnxFile, join(tfjsDir, 'model.json'), join(tfjsDir, 'weights.bin')]) expect(existsSync(f), f).toBe(true);

    const model = await nn.loadModel(m);
    const x = Float32Array.from({ length: 3 * 13 }, (_, i) => Math.sin(i));
    const want = model.predict(nn.tensor(x, [3, 13])).data;
    await checkExported(onnxFile, tfjsDir, x, [3, 13], want);
    // The normalization layer goes to TF.js as an inference-mode BatchNormalization: the imported model predicts the same.
    const back = await nn.io.importTfjs(tfjsDir);
    assertClose(back.predict(nn.tensor(x, [3, 13])).data, want, 1e-4, 1e-4, 'importTfjs');
    for (const d of [model, back]) d.dispose();
  });

  it('export of a model TF.js cannot hold exits 1 with a hint and writes nothing', async () => {
    const m = join(dir, 'res.simdnn'), out = join(dir, 'res-tfjs'), onnxFile = join(dir, 'res.onnx');
    const model = nn.sequential({ inputShape: [3] }, [nn.residual([nn.dense(3)]), nn.dense(1)]);
    await model.save(m);
    model.dispose();
    const r = await run(['export', m, '--tfjs', out, '--onnx', onnxFile]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error: .*res\.simdnn: exportTfjs: layer "residual_1" is a residual block/);
    expect(r.stderr).toMatch(/hint: .*--onnx alone/);
    expect(existsSync(out) || existsSync(onnxFile)).toBe(false);
  });

  // --steps 2 bounds the work (3 calls per GEMM, 3 batches per network), not the time: the test
  // takes as long as that work, on a fast machine or a loaded one.
  it('bench --quick --json --isa simd --threads 2 --steps 2: gemm GFLOP/s and training samples/s of the named shapes', async () => {
    const r = await run(['bench', '--quick', '--json', '--isa', 'simd', '--threads', '2', '--steps', '2']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.backend).toMatch(/wasm simd/);
    expect(out.steps).toBe(2);
    expect(out.gemm.map((g: { name: string }) => g.name)).toEqual(['fwd_128x784x256', 'fwd_128x256x128', 'fwd_128x128x10']);
    expect(out.train.map((t: { name: string; threads: number }) => [t.name.split(' ')[0], t.threads])).toEqual([['W1', 2], ['W2', 2]]);
    for (const row of [...out.gemm, ...out.train]) {
      expect(row.isa).toBe('simd');
      expect(row.gflops ?? row.samplesPerSec).toBeGreaterThan(0);
    }
  });

  it('gradcheck <model> --data: PASS on a trained model (exit 0); FAIL with a tolerance nothing meets (exit 1)', async () => {
    // Raw Boston features: the model standardizes them itself (as simdnn train builds it).
    const m = nn.sequential({ inputShape: [13], seed: 3 }, [nn.normalization().adapt(nn.datasets.bostonHousing().train.x), nn.dense(8, { activation: 'tanh' }), nn.dense(1)]);
    m.compile({ loss: 'mse', optimizer: nn.adam({ lr: 0.01 }) });
    const file = join(dir, 'boston-gc.simdnn');
    await m.save(file);
    m.dispose();
    const pass = await run(['gradcheck', file, '--data', 'boston-housing', '--samples', '8']);
    expect(pass.status, pass.stderr).toBe(0);
    expect(pass.stdout).toMatch(/^dense_1\/kernel\s+32\/104\s+\d\.\d+e-\d+/m);
    expect(pass.stdout).toMatch(/^PASS: reference \S+ \(tolerance 1\.00e-5\), wasm \S+ \(tolerance 2\.00e-2\).*; 8 of 405 rows;/m);
    const fail = await run(['gradcheck', file, '--data', 'boston-housing', '--samples', '8', '--tolerance', '1e-15']);
    expect(fail.status).toBe(1);
    expect(fail.stdout).toMatch(/^FAIL: reference \S+ \(tolerance 1\.00e-15\)/m);
    const json = await run(['gradcheck', file, '--data', 'boston-housing', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, samples: 16, rows: 405 });
    const usage = await run(['gradcheck', '--data', 'boston-housing']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^error: gradcheck --data needs a model to check\nhint: /);
  });

  it('gradcheck (no model) checks the built-in model with every activation and says PASS', async () => {
    const r = await run(['gradcheck']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/dense_1\/kernel\s+20\/20\s+\d\.\d+e-\d+/);
    expect(r.stdout).toMatch(/^PASS: /m);
  });

  it.each([
    [['train', '--lr', '-1'], 2, /--lr is "-1"; it must be > 0/],
    [['train', '--epochs', '0'], 2, /--epochs is "0"; it must be an integer ≥ 1/],
    [['train', '--threads', '1.5'], 2, /--threads is "1.5"; it must be an integer in \[1, 64\]/],
    [['bench', '--compare', '--budget', '0'], 2, /--budget is "0"; it must be > 0/],
    [['train', '--threads', '65'], 2, /--threads is "65"; it must be an integer in \[1, 64\]/],
    [['bench', '--steps', '0'], 2, /--steps is "0"; it must be an integer ≥ 1/],
    [['train', '--optimizer', 'lbfgs'], 2, /Allowed choices are sgd/],
    [['frobnicate'], 2, /unknown command/],
    [['train', '--data', 'nowhere.csv'], 2, /needs --target/],
    [['train', '--data', 'boston-housing', '--loss', 'nll'], 2, /--target medv of Boston housing \(shipped\) must hold class labels/],
    [['info', '/nonexistent/m.simdnn'], 1, /error: loadModel: cannot read/],
    [['export', 'm.simdnn'], 2, /error: export needs --onnx <file> and\/or --tfjs <dir>/],
  ])('%j exits %i with an error and a hint', async (args, code, msg) => {
    const r = await run(args as string[]);
    expect(r.status).toBe(code);
    expect(r.stderr).toMatch(msg);
    if (code === 1) expect(r.stderr).toMatch(/^hint: /m);
    expect(r.stderr).not.toMatch(/    at /);
  });

  it('--verbose adds the stack; a corrupt model file is a ModelFormatError naming the file', async () => {
    const bad = join(dir, 'bad.simdnn');
    writeFileSync(bad, Buffer.from([255, 255, 255, 255, 0, 0, 0, 0, 1, 2]));
    const r = await run(['info', bad, '--verbose']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error: ${bad} is not a simdnn model (its first 8 bytes give a header length of 4,294,967,295 bytes`);
    expect(r.stderr).toMatch(/    at /);
  });

  it('--help lists the commands', async () => {
    const out = await runNodeOk([CLI, '--help']);
    for (const c of ['train', 'eval', 'predict', 'info', 'gradcheck', 'bench', 'download', 'export']) expect(out).toMatch(new RegExp(`\\n  ${c}`));
  });

  it.skipIf(!HAVE_DEBIAN_FASHION && !process.env.CI)('download fashion-mnist --base-url <local mirror> --dir: a line per file, then where it is; a second run fetches nothing', async () => {
    const files = canonicalFashionFiles();
    const s = await serveFiles(Object.fromEntries(Object.entries(files).map(([f, b]) => [`/fm/${f}`, b])));
    try {
      const to = join(dir, 'fashion-mnist');
      const r = await run(['download', 'fashion-mnist', '--dir', to, '--base-url', `${s.url}/fm/`]);
      expect(r.status, r.stderr).toBe(0);
      const sizes = { 'train-images-idx3-ubyte.gz': '26.4 MB', 'train-labels-idx1-ubyte.gz': '29.5 kB', 't10k-images-idx3-ubyte.gz': '4.4 MB', 't10k-labels-idx1-ubyte.gz': '5.1 kB' };
      for (const [f, size] of Object.entries(sizes)) expect(r.stdout).toContain(`  ${f}  ${size}  downloaded from ${s.url}/fm/${f}, md5 ok\n`);
      expect(r.stdout).toContain(`fashion-mnist is in ${to}; train on it with: simdnn train --data ${to}`);
      expect(readdirSync(to).sort()).toEqual(Object.keys(files).sort());
      const again = await run(['download', 'fashion-mnist', '--dir', to, '--base-url', `${s.url}/fm/`]);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout.match(/already there, md5 ok/g)).toHaveLength(4);
      expect(s.requests).toHaveLength(4);
    } finally {
      await s.close();
    }
  });

  it('download from a mirror without the files exits 1 naming the URL and the status, with a hint', async () => {
    const s = await serveFiles({});
    try {
      const r = await run(['download', 'mnist', '--dir', join(dir, 'mnist'), '--base-url', `${s.url}/none`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`error: download: GET ${s.url}/none/train-images-idx3-ubyte.gz answered HTTP 404 Not Found; expected 200\n`);
      expect(r.stderr).toMatch(/^hint: --base-url must be the URL of a folder holding the four .gz files$/m);
      expect(r.stderr).not.toMatch(/    at /);
    } finally {
      await s.close();
    }
  });

  it('download of an unknown data set exits 2 listing the known ones', async () => {
    const r = await run(['download', 'cifar10']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/'cifar10' is invalid for argument 'dataset'. Allowed choices are mnist, fashion-mnist/);
  });
});
