// Conv models exported: ONNX (Conv, MaxPool, AveragePool, GlobalAveragePool, Flatten; the NHWC
// input transposed once, back to channels last before a flatten) run in onnxruntime-web, and the
// TF.js layers format loaded by @tensorflow/tfjs, both within 1e-4 of model.predict; a model built
// in TF.js, saved to memory, imported by importTfjs predicts as TF.js does.
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { ONNX_PROTO, onnxBytes } from '../../src/io/onnx.js';
import { importTfjs, tfjsArtifacts, type TfjsModelJson } from '../../src/io/tfjs.js';
import type { Layer } from '../../src/layers/layer.js';
import { assertClose } from '../util/close.js';
import { rng, uniform } from '../util/rng.js';

// float32 on both sides, other summation orders.
const ATOL = 1e-4, RTOL = 1e-4;
const engine = new nn.Engine();
const models: nn.Sequential[] = [];
const keep = (m: nn.Sequential) => (models.push(m), m);

beforeAll(async () => {
  ort.env.wasm.numThreads = 1;
  await tf.setBackend('cpu');
});
afterAll(() => models.forEach((m) => m.dispose()));

/** A model with every weight drawn from a seeded RNG (variances positive), so no parameter is trivially 0 or 1. */
function build(inputShape: number[], layers: Layer[], seed = 1): nn.Sequential {
  const m = keep(nn.sequential({ inputShape, seed, engine }, layers));
  const r = rng(seed + 100), w = new Map<string, Float32Array>();
  for (const [name, v] of m.getWeights()) w.set(name, uniform(r, v.length, name.endsWith('Variance') ? 0.3 : -0.6, name.endsWith('Variance') ? 1.5 : 0.6));
  m.setWeights(w);
  return m;
}
interface OnnxGraph { node: { op_type: string; attribute: { ints: number[] }[] }[]; initializer: { name: string; dims: number[] }[] }
const images = (m: nn.Sequential, n: number, seed = 7) => uniform(rng(seed), n * m.inputSize, -1, 1);

async function onnxPredict(m: nn.Sequential, x: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(await onnxBytes(m));
  try {
    const r = await session.run({ input: new ort.Tensor('float32', x, [x.length / m.inputSize, ...m.inputShape]) });
    expect(r.output.dims).toEqual([x.length / m.inputSize, m.outputSize]);
    return r.output.data as Float32Array;
  } finally {
    await session.release();
  }
}
/** tf.loadLayersModel from memory: model.json's topology and the weights as tfjsArtifacts gives them. */
async function tfjsLoad(m: nn.Sequential): Promise<tf.LayersModel> {
  const a = tfjsArtifacts(m);
  return tf.loadLayersModel(tf.io.fromMemorySync({
    modelTopology: a.modelJson.modelTopology as never, weightSpecs: a.modelJson.weightsManifest[0].weights,
    weightData: a.weights.slice().buffer,
  }));
}
const tfPredict = (t: tf.LayersModel, x: Float32Array, shape: readonly number[]) =>
  tf.tidy(() => (t.predict(tf.tensor(x, [x.length / shape.reduce((a, b) => a * b, 1), ...shape])) as tf.Tensor).dataSync() as Float32Array);
async function tfjsPredict(m: nn.Sequential, x: Float32Array): Promise<Float32Array> {
  const t = await tfjsLoad(m);
  try {
    return tfPredict(t, x, m.inputShape);
  } finally {
    t.dispose();
  }
}

const lenet = () => [
  nn.conv2d(16, { kernelSize: 5, activation: 'relu' }), nn.maxPool2d(), nn.conv2d(32, { kernelSize: 5, activation: 'relu' }), nn.maxPool2d(),
  nn.flatten(), nn.dense(128, { activation: 'relu' }), nn.dense(10),
];

/** [title, inputShape, layers, TF.js can run it]. */
const CASES: [string, number[], () => Layer[], boolean][] = [
  ['LeNet on 28×28×1', [28, 28, 1], lenet, true],
  ['stride 2, same on 8×6: one pad, after (bottom, right) as TF puts it', [8, 6, 2], () => [nn.conv2d(3, { kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }), nn.flatten(), nn.dense(4)], true],
  ['same with even kernels 2 and 4, and a non-square 2×3 with strides [1, 2]', [8, 9, 3], () => [
    nn.conv2d(4, { kernelSize: 4, padding: 'same' }), nn.conv2d(3, { kernelSize: 2, padding: 'same', activation: 'elu' }),
    nn.conv2d(2, { kernelSize: [2, 3], strides: [1, 2], padding: 'same' }), nn.flatten(), nn.dense(3)], true],
  ['same with odd kernels 3 and 5, strides 3 (no padding needed on one axis)', [10, 8, 2], () => [
    nn.conv2d(3, { kernelSize: 5, padding: 'same', strides: 3, activation: 'sigmoid' }), nn.conv2d(2, { kernelSize: 3, padding: 'same' }), nn.flatten(), nn.dense(2)], true],
  ['dilation 2, valid and same', [11, 10, 2], () => [
    nn.conv2d(3, { kernelSize: 3, dilation: 2, activation: 'relu' }), nn.conv2d(2, { kernelSize: [3, 2], dilation: 2, padding: 'same' }), nn.flatten(), nn.dense(3)], true],
  ['dilation 2 with strides 2 (ONNX only: TF.js runs dilated convs with strides 1)', [11, 11, 1], () => [
    nn.conv2d(2, { kernelSize: 3, dilation: 2, strides: 2, padding: 'same' }), nn.flatten(), nn.dense(2)], false],
  ['1×1 kernels, with and without strides, no bias', [6, 5, 4], () => [
    nn.conv2d(3, { kernelSize: 1, useBias: false }), nn.conv2d(2, { kernelSize: 1, strides: 2, activation: 'relu' }), nn.flatten(), nn.dense(2)], true],
  ['avg pool same (padding left out of the count), max pool same, pools with strides', [7, 7, 3], () => [
    nn.avgPool2d({ poolSize: 3, strides: 2, padding: 'same' }), nn.maxPool2d({ poolSize: 2, strides: 1, padding: 'same' }),
    nn.avgPool2d({ poolSize: 2, strides: 1 }), nn.maxPool2d({ poolSize: [3, 2], strides: [2, 1] }), nn.flatten(), nn.dense(3)], true],
  ['global average pooling into dense', [6, 6, 2], () => [nn.conv2d(5, { kernelSize: 3, activation: 'relu' }), nn.globalAveragePooling2d(), nn.dense(3)], true],
  ['batch norm, dropout, leakyRelu after a conv (per channel)', [6, 6, 2], () => [
    nn.conv2d(4, { kernelSize: 3 }), nn.batchNorm(), nn.activation('leakyRelu', { alpha: 0.2 }), nn.dropout(0.3), nn.maxPool2d(), nn.flatten(), nn.dense(2)], true],
  ['softmax per position, layer norm per position, prelu on an image', [5, 4, 3], () => [
    nn.conv2d(4, { kernelSize: 2, activation: 'softmax' }), nn.layerNorm(), nn.prelu(), nn.activation('logSoftmax'), nn.flatten(), nn.dense(3)], true],
  ['rescaling and dense on the image input (flattened channels last)', [4, 3, 2], () => [nn.rescaling(0.5, -1), nn.dense(3)], true],
  ['a model ending on a conv (output flattened channels last)', [5, 5, 2], () => [nn.conv2d(3, { kernelSize: 2 })], true],
  ['a residual block of same convs (ONNX only)', [6, 6, 3], () => [
    nn.residual([nn.conv2d(4, { kernelSize: 3, padding: 'same', activation: 'relu' }), nn.conv2d(3, { kernelSize: 3, padding: 'same' })]),
    nn.globalAveragePooling2d(), nn.dense(2)], false],
];

describe('conv models exported', () => {
  it.each(CASES)('%s: onnxruntime and TF.js agree with predict', async (_t, shape, layers, tfjs) => {
    const m = build(shape, layers()), x = images(m, 5);
    const want = m.predict(nn.tensor(x, [5, ...shape])).data;
    assertClose(await onnxPredict(m, x), want, ATOL, RTOL, 'onnx');
    if (tfjs) assertClose(await tfjsPredict(m, x), want, ATOL, RTOL, 'tfjs');
  });

  it('the ONNX graph transposes the input once, back once before the flatten, and holds OIHW kernels', async () => {
    const m = build([28, 28, 1], lenet());
    const proto = (await import('protobufjs')).parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
    const graph = (proto.toObject(proto.decode(await onnxBytes(m)), { longs: Number }) as { graph: OnnxGraph }).graph;
    const ops = graph.node.map((n) => n.op_type);
    expect(ops.filter((o) => o === 'Transpose')).toHaveLength(2);
    expect(ops.slice(0, 2)).toEqual(['Transpose', 'Conv']);
    expect(ops.slice(ops.indexOf('Flatten') - 1, ops.indexOf('Flatten') + 1)).toEqual(['Transpose', 'Flatten']);
    expect(graph.node.filter((n) => n.op_type === 'Transpose').map((n) => n.attribute[0].ints)).toEqual([[0, 3, 1, 2], [0, 2, 3, 1]]);
    // The kernels as OIHW initializers of their own: [cout, cin, kh, kw].
    expect(graph.initializer.find((t) => t.name === 'conv2d_2/kernel/oihw')!.dims).toEqual([32, 16, 5, 5]);
    expect(graph.initializer.some((t) => t.name === 'conv2d_2/kernel')).toBe(false);
  });

  it('a trained LeNet with batch norm (running statistics) exports to both', async () => {
    const m = keep(nn.sequential({ inputShape: [12, 12, 1], seed: 3, engine }, [
      nn.conv2d(4, { kernelSize: 3, activation: 'relu' }), nn.batchNorm(), nn.maxPool2d(), nn.conv2d(6, { kernelSize: 3, padding: 'same' }),
      nn.avgPool2d({ padding: 'same', poolSize: 3, strides: 2 }), nn.flatten(), nn.dense(3),
    ])).compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 0.01 }) });
    const x = images(m, 32, 2), y = Int32Array.from({ length: 32 }, (_, i) => i % 3);
    await m.fit(nn.tensor(x, [32, 12, 12, 1]), y, { epochs: 2, batchSize: 8 });
    expect(m.getWeights().get('batchNorm_1/movingMean')!.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    const want = m.predict(x).data;
    assertClose(await onnxPredict(m, x), want, ATOL, RTOL, 'onnx');
    assertClose(await tfjsPredict(m, x), want, ATOL, RTOL, 'tfjs');
  });
});

describe('TF.js layers format: conv layers', () => {
  it('the export: batch_input_shape [null, 28, 28, 1] on the first conv, Keras class names and configs, kernels [kh, kw, cin, cout]', () => {
    const m = build([28, 28, 1], lenet());
    const { modelJson } = tfjsArtifacts(m);
    const ls = modelJson.modelTopology.config.layers;
    expect(ls.map((l) => l.class_name)).toEqual(['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense']);
    expect(ls[0].config).toMatchObject({ batch_input_shape: [null, 28, 28, 1], filters: 16, kernel_size: [5, 5], strides: [1, 1], padding: 'valid',
      dilation_rate: [1, 1], data_format: 'channels_last', activation: 'relu', use_bias: true });
    expect(ls[1].config).toMatchObject({ pool_size: [2, 2], strides: [2, 2], padding: 'valid' });
    expect(modelJson.weightsManifest[0].weights.slice(0, 2)).toEqual([
      { name: 'conv2d_1/kernel', shape: [5, 5, 1, 16], dtype: 'float32' }, { name: 'conv2d_1/bias', shape: [16], dtype: 'float32' }]);
  });

  /** A TF.js Sequential of the conv layer classes, weights from a seeded RNG. */
  function tfModel(): tf.Sequential {
    const t = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [13, 12, 2], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.batchNormalization(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 5, kernelSize: [2, 3], strides: [2, 1], activation: 'tanh', useBias: false }),
      tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
      tf.layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'softmax' }),
      tf.layers.layerNormalization(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4 }),
    ] });
    const r = rng(11);
    t.setWeights(t.getWeights().map((w, i) => tf.tensor(uniform(r, w.size, t.weights[i].name.includes('variance') ? 0.3 : -0.8, 1), w.shape)));
    return t;
  }
  /** model.json and weights as a memory IOHandler receives them from model.save. */
  async function saveToMemory(t: tf.LayersModel): Promise<{ modelJson: object; weights: Uint8Array }> {
    let out: { modelJson: object; weights: Uint8Array } | undefined;
    await t.save(tf.io.withSaveHandler(async (a) => {
      out = {
        modelJson: { format: a.format, generatedBy: a.generatedBy, modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] },
        weights: new Uint8Array(tf.io.CompositeArrayBuffer.join(a.weightData!)),
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    return out!;
  }

  it('a model built in TF.js, saved to memory, imported, predicts as TF.js does', async () => {
    const t = tfModel();
    const m = keep(await importTfjs(await saveToMemory(t), { engine }));
    expect(m.inputShape).toEqual([13, 12, 2]);
    expect(m.layers.map((l) => l.type)).toEqual(['conv2d', 'batchNorm', 'maxPool2d', 'conv2d', 'avgPool2d', 'conv2d', 'layerNorm', 'flatten', 'dense']);
    // 13×12 same → pool 6×6 → [2, 3] strides [2, 1] → 3×4.
    expect(m.outputShapes.get(m.layers[5])).toEqual([3, 4, 3]);
    const x = images(m, 6, 5);
    assertClose(m.predict(x).data, tfPredict(t, x, [13, 12, 2]), ATOL, RTOL, 'tfjs → simdnn');
    t.dispose();
  });

  it('global average pooling and a leading Flatten of an image import as simdnn layers', async () => {
    const t = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 3 }), tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 2 }),
    ] });
    const m = keep(await importTfjs(await saveToMemory(t), { engine }));
    expect(m.layers.map((l) => l.type)).toEqual(['conv2d', 'globalAveragePooling2d', 'dense']);
    const x = images(m, 4);
    assertClose(m.predict(x).data, tfPredict(t, x, [6, 6, 1]), ATOL, RTOL, 'gap');
    const f = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 2] }), tf.layers.batchNormalization(), tf.layers.dense({ units: 2 })] });
    f.setWeights(f.getWeights().map((w, i) => tf.tensor(uniform(rng(i), w.size, 0.5, 1.5), w.shape)));
    const g = keep(await importTfjs(await saveToMemory(f), { engine }));
    // The Flatten is a layer: batch norm then has 32 features, as in TF.js, not 2 channels.
    expect(g.layers.map((l) => l.type)).toEqual(['flatten', 'batchNorm', 'dense']);
    assertClose(g.predict(images(g, 3)).data, tfPredict(f, images(g, 3), [4, 4, 2]), ATOL, RTOL, 'flatten first');
    t.dispose();
    f.dispose();
  });

  it('round trip: export → importTfjs keeps the layers, configs and every weight bit', async () => {
    const m = build([28, 28, 1], lenet());
    const a = tfjsArtifacts(m);
    const back = keep(await importTfjs({ modelJson: a.modelJson, weights: a.weights }, { engine }));
    expect(back.layers.map((l) => [l.type, l.config()])).toEqual(m.layers.map((l) => [l.type, l.config()]));
    expect(Buffer.from(back.weightBytes()).equals(Buffer.from(m.weightBytes()))).toBe(true);
  });

  /** The LeNet export with one edit of its model.json. */
  const edited = (edit: (j: { modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } }) => void) => {
    const a = tfjsArtifacts(build([28, 28, 1], lenet()));
    const j = JSON.parse(JSON.stringify(a.modelJson)) as TfjsModelJson;
    edit(j as never);
    return importTfjs({ modelJson: j, weights: a.weights }, { engine });
  };
  it.each([
    ['channels_first', (j: any) => (j.modelTopology.config.layers[0].config.data_format = 'channels_first'), /layers\[0\]\.config\.data_format: is "channels_first"; simdnn's images are channels last/],
    ['a pool channels_first', (j: any) => (j.modelTopology.config.layers[1].config.data_format = 'channels_first'), /layers\[1\]\.config\.data_format/],
    ['a Flatten channels_first', (j: any) => (j.modelTopology.config.layers[4].config.data_format = 'channels_first'), /layers\[4\]\.config\.data_format/],
    ['groups', (j: any) => (j.modelTopology.config.layers[2].config.groups = 2), /layers\[2\]\.config\.groups: is 2; simdnn's conv2d has one group/],
    ['causal padding', (j: any) => (j.modelTopology.config.layers[0].config.padding = 'causal'), /layers\[0\]\.config: conv2d: padding is "causal"; it must be one of valid, same/],
    ['a kernel larger than its input', (j: any) => (j.modelTopology.config.layers[2].config.kernel_size = [13, 13]), /layers\[2\]\.config: conv2d_2: input 12×12×16 is smaller than kernel 13×13/],
    ['a kernel constraint', (j: any) => (j.modelTopology.config.layers[0].config.kernel_constraint = { class_name: 'MaxNorm', config: {} }), /layers\[0\]\.config\.kernel_constraint/],
    ['an activity regularizer', (j: any) => (j.modelTopology.config.layers[0].config.activity_regularizer = { class_name: 'L1L2', config: { l1: 1 } }), /layers\[0\]\.config\.activity_regularizer/],
    ['a dense on an image', (j: any) => j.modelTopology.config.layers.splice(4, 1), /layers\[4\]\.class_name: Dense on \[null, 4, 4, 32\]: inputs of rank > 1 need a Flatten layer first/],
    ['keepdims', (j: any) => (j.modelTopology.config.layers[1] = { class_name: 'GlobalAveragePooling2D', config: { name: 'g', keepdims: true } }), /layers\[1\]\.config\.keepdims: is true/],
  ])('import refuses %s with a ModelFormatError naming the path', async (_t, edit, msg) => {
    await expect(edited(edit)).rejects.toThrow(nn.ModelFormatError);
    await expect(edited(edit)).rejects.toThrow(msg);
  });

  it('export refuses what TF.js cannot run: a dilated conv with strides, a per-value normalization between image layers', () => {
    const d = build([9, 9, 1], [nn.conv2d(2, { kernelSize: 3, dilation: 2, strides: 2 }), nn.flatten(), nn.dense(2)]);
    expect(() => tfjsArtifacts(d)).toThrow(nn.ConfigError);
    expect(() => tfjsArtifacts(d)).toThrow(/conv2d_1" has strides \[2, 2\] and dilation \[2, 2\]; TF.js runs a dilated conv only with strides 1/);
    const norm = nn.normalization({ mean: 0.5, variance: 2 });
    const n = build([4, 4, 1], [norm, nn.conv2d(2, { kernelSize: 3 }), nn.flatten(), nn.dense(2)]);
    expect(() => tfjsArtifacts(n)).toThrow(/layer "conv2d_1" \(conv2d\) acts on the channels of its input 4×4×1, but TF.js had to flatten it for layer "normalization_1"/);
  });
});
