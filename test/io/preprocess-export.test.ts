// Exports of models with preprocessing layers: ONNX (Sub/Mul, Mul/Add) run in onnxruntime-web,
// the TF.js layers format (Rescaling as its own layer, normalization as an inference-mode
// BatchNormalization) loaded by @tensorflow/tfjs; both within 1e-4 of model.predict on raw inputs.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { onnxBytes } from '../../src/io/onnx.js';
import { exportTfjs, importTfjs, tfjsArtifacts } from '../../src/io/tfjs.js';
import type { Layer } from '../../src/layers/layer.js';
import { assertClose } from '../util/close.js';
import { rng } from '../util/rng.js';

// float32 on both sides, other summation orders (and a folded kernel for TF.js).
const ATOL = 1e-4, RTOL = 1e-4;
const root = mkdtempSync(join(tmpdir(), 'simdnn-prep-export-'));
let dirs = 0;
const models: nn.Sequential[] = [];
const keep = (m: nn.Sequential) => (models.push(m), m);

beforeAll(async () => {
  ort.env.wasm.numThreads = 1;
  await tf.setBackend('cpu');
});
afterAll(() => models.forEach((m) => m.dispose()));

/** Raw rows like a tabular data set: per-feature means from −50 to 400, spreads from 0.5 to 60, column 2 constant. */
function raw(n: number, f: number, seed = 3): Float32Array {
  const r = rng(seed), x = new Float32Array(n * f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) x[i * f + j] = j === 2 ? 7.5 : -50 + 90 * j + (0.5 + 12 * j) * (r() * 2 - 1);
  return x;
}
function build(inputShape: number[], layers: Layer[], adaptOn?: Float32Array): nn.Sequential {
  const m = keep(nn.sequential({ inputShape, seed: 5 }, layers));
  const n = inputShape.reduce((a, b) => a * b, 1);
  if (adaptOn) for (const l of layers) if (l instanceof nn.Normalization && !l.adapted) l.adapt(nn.tensor(adaptOn, [adaptOn.length / n, n]));
  return m;
}

async function onnxPredict(m: nn.Sequential, x: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(await onnxBytes(m));
  try {
    const rows = x.length / m.inputSize;
    const r = await session.run({ input: new ort.Tensor('float32', x, [rows, ...m.inputShape]) });
    return r.output.data as Float32Array;
  } finally {
    await session.release();
  }
}
async function tfjsPredict(m: nn.Sequential, x: Float32Array): Promise<Float32Array> {
  const dir = join(root, String(++dirs));
  await exportTfjs(m, dir);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const t = await tf.loadLayersModel({
    load: () => tf.io.getModelArtifactsForJSON(json, async (manifest) => [manifest.flatMap((g) => g.weights), new Uint8Array(readFileSync(join(dir, 'weights.bin'))).buffer]),
  });
  try {
    return tf.tidy(() => (t.predict(tf.tensor(x, [x.length / m.inputSize, ...m.inputShape])) as tf.Tensor).dataSync() as Float32Array);
  } finally {
    t.dispose();
  }
}

describe('models with normalization and rescaling, exported', () => {
  const x = raw(40, 5);

  it('normalization first, rescaling in the middle: onnxruntime and TF.js agree with predict on raw inputs', async () => {
    const m = build([5], [nn.normalization(), nn.dense(8, { activation: 'tanh' }), nn.rescaling(0.5, 1), nn.dense(3)], x);
    const want = m.predict(x).data;
    assertClose(await onnxPredict(m, x), want, ATOL, RTOL, 'onnx');
    assertClose(await tfjsPredict(m, x), want, ATOL, RTOL, 'tfjs');
  });

  it('a trained model (normalization → dense without bias → relu …): both exports agree', async () => {
    const m = build([5], [nn.normalization(), nn.dense(6, { activation: 'relu', useBias: false }), nn.dense(2)], x);
    m.compile({ loss: 'mse', optimizer: nn.adam({ lr: 0.01 }) });
    await m.fit(x, Float32Array.from({ length: 80 }, (_, i) => Math.cos(i)), { epochs: 3, batchSize: 8 });
    const want = m.predict(x).data;
    assertClose(await onnxPredict(m, x), want, ATOL, RTOL, 'onnx trained');
    assertClose(await tfjsPredict(m, x), want, ATOL, RTOL, 'tfjs trained');
    expect(tfjsArtifacts(m).modelJson.modelTopology.config.layers.map((l) => l.class_name)).toEqual(['BatchNormalization', 'Dense', 'Dense']);
  });

  it('images: rescaling(1/255) first on [n, 2, 3] inputs (Flatten), then normalization inside the network', async () => {
    const r = rng(2), px = Float32Array.from({ length: 12 * 6 }, () => Math.floor(r() * 256));
    const m = build([2, 3], [nn.rescaling(1 / 255), nn.dense(4, { activation: 'sigmoid' }), nn.normalization({ mean: [0.2, 0.4, 0.5, 0.6], variance: [0.01, 0.04, 0, 1] }), nn.dense(3)]);
    const want = m.predict(nn.tensor(px, [12, 2, 3])).data;
    assertClose(await onnxPredict(m, px), want, ATOL, RTOL, 'onnx images');
    assertClose(await tfjsPredict(m, px), want, ATOL, RTOL, 'tfjs images');
    expect(tfjsArtifacts(m).modelJson.modelTopology.config.layers.map((l) => l.class_name)).toEqual(['Flatten', 'Rescaling', 'Dense', 'BatchNormalization', 'Dense']);
  });

  it('both keep a constant column exactly 0 and hold a normalization anywhere (last, before dropout)', async () => {
    const last = build([5], [nn.normalization()], x);
    const want = last.predict(x).data;
    for (const [what, got] of [['onnx', await onnxPredict(last, x)], ['tfjs', await tfjsPredict(last, x)]] as const) {
      for (let i = 0; i < 40; i++) expect(got[i * 5 + 2], what).toBe(0);
      assertClose(got, want, ATOL, RTOL, `${what} normalization only`);
    }
    const drop = build([5], [nn.dense(5), nn.normalization(), nn.dropout(0.3), nn.dense(2)], x);
    const d = drop.predict(x).data;
    assertClose(await onnxPredict(drop, x), d, ATOL, RTOL, 'onnx normalization before dropout');
    assertClose(await tfjsPredict(drop, x), d, ATOL, RTOL, 'tfjs normalization before dropout');
  });

  it('a normalization exported to TF.js imports back (as a batchNorm) with the same predictions', async () => {
    const m = build([5], [nn.normalization(), nn.dense(3)], x);
    const back = keep(await importTfjs(tfjsArtifacts(m)));
    expect(back.layers[0].type).toBe('batchNorm');
    assertClose(back.predict(x).data, m.predict(x).data, ATOL, RTOL, 'tfjs → simdnn');
  });

  it('TF.js Rescaling imports back into simdnn with the same predictions', async () => {
    const m = build([5], [nn.rescaling(0.01, -2), nn.dense(3)]);
    const dir = join(root, String(++dirs));
    await exportTfjs(m, dir);
    const back = keep(await importTfjs(dir));
    expect(back.layers[0]).toBeInstanceOf(nn.Rescaling);
    expect(Array.from(back.predict(x).data)).toEqual(Array.from(m.predict(x).data));
  });
});
