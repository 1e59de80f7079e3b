// Issue 14, the CLI for conv nets: --arch lenet and the --layers items (conv, pool, avgpool, gap,
// flatten) on a small generated IDX folder (28×28 images of a bar in one of three places), the
// flatten put before the first dense layer, and eval, predict, info, export and gradcheck on the
// model files train saved; usage errors (exit 2) for bad items, their order, a kernel larger than
// the image left, --arch with --layers, a table with conv layers and --resume with --arch.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { checkExported } from '../util/exported.js';
import { runNode } from '../util/child.js';
import { idx } from '../util/idx.js';
import { rng } from '../util/rng.js';

const CLI = new URL('../../build/src/cli.js', import.meta.url).pathname;
const run = (args: string[]) => runNode([CLI, ...args]);
const dir = mkdtempSync(join(tmpdir(), 'simdnn-cli-conv-'));
const folder = join(dir, 'bars');
const lenet = join(dir, 'lenet.simdnn');
const testImages = join(folder, 't10k-images-idx3-ubyte.gz');
/** conv 5·5·1·16 + 16, conv 5·5·16·32 + 32, dense 4·4·32·128 + 128, dense 128·3 + 3. */
const LENET_3_PARAMS = 416 + 12832 + 65664 + 387;

/** n images 28×28: class c has a bright 4-pixel-wide vertical bar at x = 4 + 8c (± 1), on noise; labels i % 3. */
function bars(n: number, seed: number): { x: Uint8Array; y: Uint8Array } {
  const r = rng(seed);
  const x = new Uint8Array(n * 784), y = Uint8Array.from({ length: n }, (_, i) => i % 3);
  for (let i = 0; i < n; i++) {
    const at = 4 + 8 * y[i] + Math.floor(r() * 3) - 1;
    for (let p = 0; p < 784; p++) {
      const col = p % 28;
      x[i * 784 + p] = col >= at && col < at + 4 ? 200 + Math.floor(r() * 55) : Math.floor(r() * 60);
    }
  }
  return { x, y };
}

beforeAll(() => {
  mkdirSync(folder);
  for (const [part, n, seed] of [['train', 384, 1], ['t10k', 96, 2]] as const) {
    const { x, y } = bars(n, seed);
    writeFileSync(join(folder, `${part}-images-idx3-ubyte.gz`), gzipSync(idx(0x08, [n, 28, 28], x)));
    writeFileSync(join(folder, `${part}-labels-idx1-ubyte.gz`), gzipSync(idx(0x08, [n], y)));
  }
});

const types = (file: string) => {
  const m = nn.loadModelSync(file);
  const c = m.config();
  m.dispose();
  return c;
};

describe('simdnn train --arch / conv --layers', () => {
  it('--arch lenet trains the LeNet on [28, 28, 1] images, prints its summary and test accuracy, saves it', async () => {
    const r = await run(['train', '--data', folder, '--arch', 'lenet', '--epochs', '4', '--batch-size', '32', '--seed', '3', '--out', lenet]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/conv2d_1 \(conv2d\) +\[null, 24, 24, 16\]/);
    expect(r.stdout).toMatch(/flatten_1 \(flatten\) +\[null, 512\]/);
    const acc = Number(/test: loss [\d.]+ · accuracy ([\d.]+)/.exec(r.stdout)![1]);
    expect(acc).toBeGreaterThan(0.9);
    const c = types(lenet);
    expect(c.inputShape).toEqual([28, 28, 1]);
    expect(c.layers.map((l) => l.type)).toEqual(['conv2d', 'maxPool2d', 'conv2d', 'maxPool2d', 'flatten', 'dense', 'dense']);
    expect(c.layers[0]).toMatchObject({ filters: 16, kernelSize: [5, 5], strides: [1, 1], padding: 'valid', activation: 'relu', init: 'heNormal' });
    expect(c.layers[2]).toMatchObject({ filters: 32, kernelSize: [5, 5] });
    expect(c.layers[5]).toMatchObject({ units: 128, activation: 'relu' });
    expect(c.layers[6]).toMatchObject({ units: 3 });
  });

  it('eval, predict (on the IDX images) and info work on the saved conv model', async () => {
    const ev = await run(['eval', lenet, '--data', folder, '--json']);
    expect(ev.status, ev.stderr).toBe(0);
    const m = await nn.loadModel(lenet);
    const { test } = nn.datasets.readImageFolder(folder);
    expect(JSON.parse(ev.stdout).accuracy).toBeCloseTo(m.evaluate(test.x, test.y).accuracy, 10);

    const pr = await run(['predict', lenet, testImages, '--proba']);
    expect(pr.status, pr.stderr).toBe(0);
    const rows = pr.stdout.trim().split('\n');
    expect(rows[0]).toBe('class,0,1,2');
    expect(rows.length).toBe(97);
    const want = m.predictClasses(test.x);
    expect(rows.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(Array.from(want));
    m.dispose();

    const info = await run(['info', lenet, '--json']);
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ inputShape: [28, 28, 1], epoch: 4, loss: 'softmaxCrossEntropy', params: LENET_3_PARAMS });

  });

  it('export --onnx --tfjs of the saved LeNet: onnxruntime-web and TF.js take [n, 28, 28, 1] and predict as the model does (1e-4)', async () => {
    const onnxFile = join(dir, 'lenet.onnx'), tfjsDir = join(dir, 'lenet-tfjs');
    const r = await run(['export', lenet, '--onnx', onnxFile, '--tfjs', tfjsDir]);
    expect(r.status, r.stderr).toBe(0);
    const m = await nn.loadModel(lenet);
    const { x } = bars(5, 9);
    const xf = Float32Array.from(x, (v) => v / 255);
    const want = m.predict(nn.tensor(xf, [5, 28, 28, 1])).data;
    m.dispose();
    await checkExported(onnxFile, tfjsDir, xf, [5, 28, 28, 1], want);
  });

  it('--layers: conv strides and padding, avgpool and gap (no flatten after gap), a flatten before the output layer when no dense follows; gradcheck on both', async () => {
    const a = join(dir, 'a.simdnn'), b = join(dir, 'b.simdnn');
    const ra = await run(['train', '--data', folder, '--layers', 'conv8k3s2psame,avgpool2,gap,16', '--activation', 'tanh', '--epochs', '1', '--out', a]);
    expect(ra.status, ra.stderr).toBe(0);
    const ca = types(a);
    expect(ca.layers.map((l) => l.type)).toEqual(['conv2d', 'avgPool2d', 'globalAveragePooling2d', 'dense', 'dense']);
    expect(ca.layers[0]).toMatchObject({ filters: 8, kernelSize: [3, 3], strides: [2, 2], padding: 'same', activation: 'tanh', init: 'glorotUniform' });
    expect(ca.layers[1]).toMatchObject({ poolSize: [2, 2], strides: [2, 2] });
    expect(ca.layers[3]).toMatchObject({ units: 16, activation: 'tanh' });
    const rb = await run(['train', '--data', folder, '--layers', 'conv4k5pvalid,pool3', '--epochs', '1', '--out', b]);
    expect(rb.status, rb.stderr).toBe(0);
    expect(rb.stdout).toMatch(/maxPool2d_1 \(maxPool2d\) +\[null, 8, 8, 4\]/);
    expect(types(b).layers.map((l) => l.type)).toEqual(['conv2d', 'maxPool2d', 'flatten', 'dense']);
    // gradcheck on them (after one epoch: the probabilities are not yet saturated in f32).
    for (const f of [a, b]) {
      const gc = await run(['gradcheck', f, '--data', folder, '--samples', '4', '--max-params', '8']);
      expect(gc.stdout).toMatch(/^conv2d_1\/kernel +8\/\d+ /m);
      expect(gc.status, gc.stdout + gc.stderr).toBe(0);
    }
  });

  it('dense widths alone on images still train a flat MLP', async () => {
    const f = join(dir, 'mlp.simdnn');
    const r = await run(['train', '--data', folder, '--layers', '32', '--epochs', '1', '--out', f]);
    expect(r.status, r.stderr).toBe(0);
    const c = types(f);
    expect(c.inputShape).toEqual([784]);
    expect(c.layers.map((l) => l.type)).toEqual(['dense', 'dense']);
  });
});

describe('usage errors (exit 2) of --arch and conv --layers', () => {
  const csv = join(dir, 't.csv');
  beforeAll(() => writeFileSync(csv, 'a,b,y\n1,2,0\n2,1,1\n3,1,0\n1,3,1\n'));
  const usage = async (args: string[], message: RegExp) => {
    const r = await run(args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\nhint: /);
  };

  it('an item that is not a layer names the item and the grammar', async () => {
    for (const bad of ['conv16', 'conv16k5s0', 'conv16k5pfull', 'pool', 'maxpool2', '0', '12.5', '']) {
      await usage(['train', '--data', folder, '--layers', `conv8k3,${bad}`],
        new RegExp(`--layers: ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(item 2\\) is not a layer; the items are <units> \\(dense\\), conv<filters>k<kernel>\\[s<stride>\\]\\[p<same\\|valid>\\], pool<size> \\(max\\), avgpool<size>, gap or flatten`));
    }
  });

  it('an image layer after a dense width, gap or flatten is refused, naming both items', async () => {
    await usage(['train', '--data', folder, '--layers', '64,conv8k3'], /--layers: conv8k3 \(item 2\) comes after 64 \(item 1\); conv, pool, avgpool, gap and flatten take images/);
    await usage(['train', '--data', folder, '--layers', 'conv8k3,gap,pool2'], /--layers: pool2 \(item 3\) comes after gap \(item 2\)/);
  });

  it('a window larger than what the layers before it leave of the image names the layer and the shapes', async () => {
    await usage(['train', '--data', folder, '--layers', 'conv8k5,pool2,conv8k5,pool2,conv8k5'],
      /^error: --layers conv8k5,pool2,conv8k5,pool2,conv8k5 on images 28×28×1: conv2d_3: input 4×4×8 is smaller than kernel 5×5 with padding 'valid'\nhint: use smaller kernels, padding same/);
  });

  it('--arch with --layers, an unknown --arch, conv layers on a table, --resume with --arch', async () => {
    await usage(['train', '--data', folder, '--arch', 'lenet', '--layers', '64'], /^error: --arch lenet and --layers both set the layers\nhint: drop one: --arch lenet is --layers conv16k5,pool2,conv32k5,pool2,128/);
    await usage(['train', '--data', folder, '--arch', 'vgg16'], /argument 'vgg16' is invalid\. Allowed choices are lenet/);
    await usage(['train', '--data', csv, '--target', 'y', '--arch', 'lenet'], /^error: --arch lenet has conv or pooling layers, which take images; --data .*t\.csv is a table/);
    await usage(['train', '--data', 'boston-housing', '--layers', 'conv8k3,16'], /^error: --layers conv8k3,16 has conv or pooling layers, which take images; --data boston-housing is a table/);
    await usage(['train', '--resume', lenet, '--arch', 'lenet', '--epochs', '9'], /--resume .* takes the layers, .* from the file; --arch cannot change them/);
  });

  it('--help lists the --arch choices and the --layers grammar', async () => {
    const r = await run(['train', '--help']);
    expect(r.status).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--arch <name> a named architecture instead of --layers: lenet = conv16k5,pool2,conv32k5,pool2,128 \(choices: "lenet"\)/);
    expect(help).toMatch(/conv<filters>k<kernel>\[s<stride>\]\[p<same\|valid>\], pool<size> \(max\), avgpool<size>, gap or flatten/);
    expect(help).toMatch(/a flatten goes before the first dense layer after conv or pooling layers/);
  });
});
