// TF.js layers format: our export loaded by @tensorflow/tfjs, TF.js's own save imported by simdnn,
// predictions compared both ways; hostile manifests refused before anything is read.
import { mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { exportTfjs, importTfjs, tfjsArtifacts } from '../../src/io/tfjs.js';
import type { Layer } from '../../src/layers/layer.js';
import { assertClose } from '../util/close.js';
import { rng, uniform } from '../util/rng.js';

// float32 on both sides, different summation orders: |tfjs − simdnn| ≤ 1e-4 + 1e-4·|simdnn|.
const ATOL = 1e-4, RTOL = 1e-4;
const root = mkdtempSync(join(tmpdir(), 'simdnn-tfjs-'));
let dirs = 0;
const freshDir = () => join(root, String(++dirs));
const models: nn.Sequential[] = [];
const keep = (m: nn.Sequential) => (models.push(m), m);
const model = (inputShape: number[], layers: Layer[], seed = 1) => keep(nn.sequential({ inputShape, seed }, layers));

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => models.forEach((m) => m.dispose()));

/** tf.loadLayersModel through an IOHandler that reads the folder's model.json and weights files. */
async function loadWithTfjs(dir: string): Promise<tf.LayersModel> {
  const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  return tf.loadLayersModel({
    load: () => tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
      const specs = manifest.flatMap((g) => g.weights);
      const buffers = manifest.flatMap((g) => g.paths.map((p) => new Uint8Array(readFileSync(join(dir, p))).buffer));
      return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
    }),
  });
}

/** Saves a TF.js model as model.json + weights.bin in dir, as TF.js's file handler lays them out. */
async function saveWithTfjs(m: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await m.save({
    save: async (a) => {
      const { weightData, weightSpecs, ...rest } = a;
      const json = { modelTopology: rest.modelTopology, format: rest.format, generatedBy: rest.generatedBy, convertedBy: rest.convertedBy,
        weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs }] };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(tf.io.CompositeArrayBuffer.join(weightData!)));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
}

const tfPredict = (m: tf.LayersModel, x: Float32Array, shape: number[]) => tf.tidy(() => (m.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync() as Float32Array);

/** Exports m, loads it in TF.js and compares n rows of predictions. */
async function agree(m: nn.Sequential, n: number, what: string): Promise<void> {
  const dir = freshDir();
  await exportTfjs(m, dir);
  const t = await loadWithTfjs(dir);
  const shape = [n, ...m.inputShape];
  const x = uniform(rng(n), n * m.inputSize, -3, 3);
  assertClose(tfPredict(t, x, shape), m.predict(nn.tensor(x, shape)).data, ATOL, RTOL, what);
  t.dispose();
}

// Every activation but gelu (tanh), which TF.js 4.22 cannot load; leakyRelu is tested as a layer below.
const ACTIVATIONS = ['identity', 'relu', 'sigmoid', 'tanh', 'elu', 'selu', 'softplus', 'geluErf', 'softmax', 'logSoftmax'] as const;

describe('exportTfjs › tf.loadLayersModel agrees with model.predict', () => {
  it.each(ACTIVATIONS)('activation %s, in dense and as its own layer', async (a) => {
    await agree(model([5], [nn.dense(7, { activation: a }), nn.dense(6), nn.activation(a), nn.dense(3)]), 9, a);
  });

  it('a trained model: batch norm, PReLU, dropout, layer norm, leakyRelu layer, regularizers, no-bias dense, input [2, 3]', async () => {
    const m = model([2, 3], [
      nn.dense(8, { activation: 'tanh', kernelRegularizer: nn.l2(1e-3) }), nn.batchNorm({ momentum: 0.5 }), nn.prelu(), nn.dropout(0.3),
      nn.dense(8, { useBias: false }), nn.layerNorm(), nn.activation('leakyRelu', { alpha: 0.2 }), nn.dense(3, { activation: 'softmax' }),
    ], 5);
    const r = rng(3), n = 48;
    const x = uniform(r, n * 6, -2, 2);
    const y = Int32Array.from({ length: n }, (_, i) => (x[i * 6] > 0 ? 1 : 0) + (x[i * 6 + 1] > 0.5 ? 1 : 0));
    m.compile({ loss: 'categoricalCrossEntropy', optimizer: nn.adam({ lr: 0.05 }) });
    await m.fit(nn.tensor(x, [n, 2, 3]), y, { epochs: 3, batchSize: 16 });
    const w = m.getWeights();
    expect(w.get('batchNorm_1/movingMean')!.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    expect(new Set(w.get('prelu_1/alpha')).size).toBeGreaterThan(1);
    await agree(m, 11, 'trained model');
  });
});

describe('importTfjs', () => {
  /** A TF.js Sequential with every layer class the importer maps, weights set from a seeded RNG. */
  function tfModel(): tf.Sequential {
    const t = tf.sequential({ layers: [
      tf.layers.flatten({ inputShape: [2, 3] }),
      tf.layers.dense({ units: 7, activation: 'relu', kernelRegularizer: tf.regularizers.l1l2({ l1: 0, l2: 1e-4 }) }),
      tf.layers.dropout({ rate: 0.25 }),
      tf.layers.batchNormalization({ epsilon: 0.01 }),
      tf.layers.prelu(),
      tf.layers.dense({ units: 6, activation: 'gelu_new' }),
      tf.layers.layerNormalization(),
      tf.layers.leakyReLU({ alpha: 0.15 }),
      tf.layers.elu(),
      tf.layers.activation({ activation: 'gelu' }),
      tf.layers.dense({ units: 4, activation: 'logSoftmax', useBias: false }),
    ] });
    const r = rng(9);
    // Variances must stay positive; the rest in [-1, 1).
    t.setWeights(t.getWeights().map((w, i) => tf.tensor(uniform(r, w.size, t.weights[i].name.includes('variance') ? 0.2 : -1, 1), w.shape)));
    return t;
  }

  it('a TF.js save of every supported layer class predicts the same in simdnn', async () => {
    const t = tfModel();
    const dir = freshDir();
    await saveWithTfjs(t, dir);
    const m = keep(await importTfjs(dir));
    expect(m.layers.map((l) => l.type)).toEqual(['dense', 'dropout', 'batchNorm', 'prelu', 'dense', 'layerNorm', 'activation', 'activation', 'activation', 'dense']);
    expect(m.inputShape).toEqual([2, 3]);
    const x = uniform(rng(4), 10 * 6, -3, 3);
    assertClose(m.predict(nn.tensor(x, [10, 2, 3])).data, tfPredict(t, x, [10, 2, 3]), ATOL, RTOL, 'tfjs → simdnn');
    // model.json itself works as the source too.
    const again = keep(await importTfjs(join(dir, 'model.json')));
    expect(again.weightBytes()).toEqual(m.weightBytes());
    t.dispose();
  });

  it('round trip: tfjsArtifacts → importTfjs({ modelJson, weights }) keeps every weight bit for bit', async () => {
    const m = model([4], [nn.dense(5, { activation: 'selu', biasRegularizer: nn.l1(0.01) }), nn.batchNorm(), nn.dense(2, { activation: 'sigmoid' })]);
    const a = tfjsArtifacts(m);
    const back = keep(await importTfjs({ modelJson: JSON.stringify(a.modelJson), weights: a.weights }));
    expect(back.getWeights()).toEqual(m.getWeights());
    expect((back.layers[0] as nn.Dense).opts.biasRegularizer).toEqual({ l1: 0.01, l2: 0 });
    // The same weights given as files by manifest path.
    const byPath = keep(await importTfjs({ modelJson: a.modelJson, weights: { 'weights.bin': a.weights } }));
    expect(byPath.weightBytes()).toEqual(m.weightBytes());
  });

  it('a group split over two shard files, as TF.js writes large models, is read in path order', async () => {
    const m = model([4], [nn.dense(6, { activation: 'tanh' }), nn.dense(2)]);
    const a = tfjsArtifacts(m);
    const dir = freshDir();
    mkdirSync(dir);
    const paths = ['group1-shard1of2.bin', 'shards/group1-shard2of2.bin'];
    mkdirSync(join(dir, 'shards'));
    writeFileSync(join(dir, paths[0]), a.weights.subarray(0, 37));
    writeFileSync(join(dir, paths[1]), a.weights.subarray(37));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...a.modelJson, weightsManifest: [{ ...a.modelJson.weightsManifest[0], paths }] }));
    expect(keep(await importTfjs(dir)).weightBytes()).toEqual(m.weightBytes());
  });
});

describe('importTfjs › refuses malformed or hostile input with ModelFormatError', () => {
  const base = () => tfjsArtifacts(model([3], [nn.dense(2, { activation: 'relu' })]));
  /** Writes a modified model.json (and the real weights.bin) to a fresh folder. */
  const folder = (edit: (j: any) => void, weights?: Uint8Array) => {
    const a = base();
    const j = JSON.parse(JSON.stringify(a.modelJson));
    edit(j);
    const dir = freshDir();
    mkdirSync(dir);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(j));
    writeFileSync(join(dir, 'weights.bin'), weights ?? a.weights);
    return dir;
  };

  it.each([
    ['a path with ..', (j: any) => (j.weightsManifest[0].paths = ['../weights.bin']), /paths\[0\]: "..\/weights.bin" leaves the model's folder/],
    ['a path with .. inside', (j: any) => (j.weightsManifest[0].paths = ['a/../../weights.bin']), /leaves the model's folder/],
    ['an absolute path', (j: any) => (j.weightsManifest[0].paths = ['/etc/passwd']), /"\/etc\/passwd" leaves the model's folder/],
    ['a Windows absolute path', (j: any) => (j.weightsManifest[0].paths = ['C:\\w.bin']), /leaves the model's folder/],
    ['a shape that disagrees with the topology', (j: any) => (j.weightsManifest[0].weights[0].shape = [3, 3]), /weights\[0\]\.shape: \[3, 3\]; the topology needs \[3, 2\]/],
    ['a weight the topology lacks', (j: any) => (j.weightsManifest[0].weights[1].name = 'dense_1/other'), /"dense_1\/other" is not a weight of the topology/],
    ['a missing weight', (j: any) => j.weightsManifest[0].weights.pop(), /weightsManifest: has no dense_1\/bias/],
    ['a quantized weight', (j: any) => (j.weightsManifest[0].weights[0].dtype = 'uint8'), /only float32 weights/],
    ['a functional model', (j: any) => (j.modelTopology.class_name = 'Model'), /class_name: "Model"; only Sequential/],
    ['an unknown layer class', (j: any) => (j.modelTopology.config.layers[0].class_name = 'Conv1D'), /"Conv1D" is not supported; known: InputLayer/],
    ['an unknown activation', (j: any) => (j.modelTopology.config.layers[0].config.activation = 'hardSigmoid'), /activation: "hardSigmoid" is not supported/],
    ['a constraint', (j: any) => (j.modelTopology.config.layers[0].config.kernel_constraint = { class_name: 'MaxNorm', config: {} }), /kernel_constraint: is \[object Object\]; simdnn supports no constraint/],
    ['bad units', (j: any) => (j.modelTopology.config.layers[0].config.units = -2), /layers\[0\]\.config: dense: units is -2/],
    ['no input shape', (j: any) => delete j.modelTopology.config.layers[0].config.batch_input_shape, /batch_input_shape: missing/],
    ['rank-3 input without Flatten', (j: any) => (j.modelTopology.config.layers[0].config.batch_input_shape = [null, 1, 3]), /need a Flatten layer first/],
    ['another format', (j: any) => (j.format = 'graph-model'), /format: "graph-model"; only "layers-model"/],
  ])('%s', async (_what, edit, msg) => {
    const p = importTfjs(folder(edit));
    await expect(p).rejects.toThrow(nn.ModelFormatError);
    await expect(importTfjs(folder(edit))).rejects.toThrow(msg);
  });

  it('a weights file of the wrong size, including a 3 GB one, is refused from its size before it is read', async () => {
    const short = folder(() => {}, new Uint8Array(12));
    await expect(importTfjs(short)).rejects.toThrow(/\["weights.bin"\] hold 12 bytes; the shapes of the group's weights need 32/);
    const huge = folder(() => {});
    truncateSync(join(huge, 'weights.bin'), 3 * 2 ** 30);
    await expect(importTfjs(huge)).rejects.toThrow(/hold 3221225472 bytes; the shapes of the group's weights need 32/);
    const a = base();
    await expect(importTfjs({ modelJson: a.modelJson, weights: a.weights.subarray(4) })).rejects.toThrow(/weights has 28 bytes; the manifest's shapes need 32/);
  });

  it('non-finite weights, bad JSON, a missing weights file', async () => {
    const a = base();
    const w = new Uint8Array(a.weights);
    new DataView(w.buffer).setFloat32(4, NaN, true);
    await expect(importTfjs({ modelJson: a.modelJson, weights: w })).rejects.toThrow(/weight "dense_1\/kernel" holds non-finite values/);
    await expect(importTfjs({ modelJson: '{"modelTopology": ', weights: a.weights })).rejects.toThrow(/model.json: not valid JSON/);
    await expect(importTfjs({ modelJson: a.modelJson, weights: {} })).rejects.toThrow(/weights\["weights.bin"\] is undefined; the manifest names this file/);
    await expect(importTfjs(folder((j) => (j.weightsManifest[0].paths = ['gone.bin'])))).rejects.toThrow(/cannot read weights file .*gone.bin/);
  });

  it('an unreadable source is a ConfigError', async () => {
    await expect(importTfjs(join(root, 'nowhere'))).rejects.toThrow(nn.ConfigError);
    await expect(importTfjs(join(root, 'nowhere'))).rejects.toThrow(/importTfjs: cannot read .*nowhere/);
    await expect(importTfjs(42 as never)).rejects.toThrow(/importTfjs: source is 42; it must be a folder path or \{ modelJson, weights \}/);
  });
});

describe('exportTfjs › refuses what a TF.js Sequential model cannot hold, with ConfigError', () => {
  it.each([
    ['a residual block', () => [nn.residual([nn.dense(3)])], /layer "residual_1" is a residual block; a TF.js Sequential model has no skip connections/],
    ['leakyRelu fused into dense', () => [nn.dense(3, { activation: 'leakyRelu' })], /layer "dense_1" uses activation leakyRelu; TF.js has no such activation/],
    ['gelu (tanh), which TF.js 4.22 cannot load', () => [nn.dense(3, { activation: 'gelu' })], /layer "dense_1" uses activation gelu \(tanh approximation\); TF.js 4.22 cannot load/],
    ['elu with α ≠ 1', () => [nn.activation('elu', { alpha: 0.5 })], /uses activation elu\(α = 0.5\)/],
    ['two layers with one name', () => [nn.dropout(0.1, { name: 'd' }), nn.dropout(0.2, { name: 'd' })], /two layers are named "d"/],
  ])('%s', async (_what, layers, msg) => {
    const m = model([3], layers());
    const dir = freshDir();
    await expect(exportTfjs(m, dir)).rejects.toThrow(nn.ConfigError);
    await expect(exportTfjs(m, dir)).rejects.toThrow(msg);
    expect(() => tfjsArtifacts(m)).toThrow(msg);
  });
  it('a bad folder or a non-model', async () => {
    const m = model([3], [nn.dense(1)]);
    await expect(exportTfjs(m, '')).rejects.toThrow(/exportTfjs: dir is ""; it must be a folder path/);
    expect(() => tfjsArtifacts({} as never)).toThrow(/tfjsArtifacts: model is \[object Object\]/);
  });
});
