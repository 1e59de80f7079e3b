// TF.js layers format ("layers-model"): model.json holds a Keras Sequential topology and a weights
// manifest, weights.bin the float32 little-endian tensors in manifest order. exportTfjs writes what
// tf.loadLayersModel reads; importTfjs reads that (and TF.js's own saves) back into a simdnn model,
// checking names, paths, shapes and sizes before it allocates anything.
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, sep, win32 } from 'node:path';
import { ConfigError, ModelFormatError, ShapeError, show } from '../errors.js';
import { Act, Activation, PReLU } from '../layers/activation.js';
import { AvgPool2D, Conv2D, Flatten, GlobalAveragePooling2D, imageGeometry, MaxPool2D } from '../layers/conv.js';
import { Dense } from '../layers/dense.js';
import { isImage, shapeText, type Layer, type Regularizer } from '../layers/layer.js';
import { BatchNorm, Dropout, LayerNorm } from '../layers/norm.js';
import { Normalization, Rescaling } from '../layers/preprocess.js';
import { checkMetadata, type ModelMetadata } from '../metadata.js';
import { NORM_EPS } from '../reference.js';
import { allLayers, walkLayers } from '../layers/registry.js';
import { Sequential } from '../sequential.js';
import type { Engine } from '../wasm.js';
import { realPathOf, withFile, writeAtomic, type OpenedFile } from './fs.js';
import { MAX_HEADER_BYTES } from './safetensors.js';

interface TfjsLayer { class_name: string; config: Record<string, unknown> }
interface WeightSpec { name: string; shape: number[]; dtype: 'float32' }
export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: { class_name: 'Sequential'; config: { name: string; layers: TfjsLayer[] }; keras_version: string; backend: string };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  /** model.metadata (feature and class names, input kind, split), when set: TF.js's getUserDefinedMetadata().simdnn. */
  userDefinedMetadata?: { simdnn: ModelMetadata };
}
/** model.json as an object and the bytes of weights.bin (all weights, in manifest order). */
export interface TfjsArtifacts { modelJson: TfjsModelJson; weights: Uint8Array }
/** A folder (or its model.json), or model.json with its weights: one buffer in manifest order, or the files by manifest path. */
export type TfjsSource = string | { modelJson: unknown; weights: Uint8Array | ArrayBuffer | Record<string, Uint8Array> };

export const TFJS_WEIGHTS_FILE = 'weights.bin';

/** simdnn activation → TF.js activation identifier, as TF.js writes it (TF.js's elu has α = 1; it has no leakyRelu activation). */
const TO_TFJS: Partial<Record<Act['name'], string>> = {
  identity: 'linear', relu: 'relu', sigmoid: 'sigmoid', tanh: 'tanh', elu: 'elu', selu: 'selu', softplus: 'softplus',
  geluErf: 'gelu', softmax: 'softmax', logSoftmax: 'log_softmax',
};
// NOTE: TF.js 4.22 writes its tanh GELU as "gelu_new" but cannot load that name back (it looks up
// "geluNew"), so export refuses simdnn's gelu; import reads "gelu_new" as gelu.
const FROM_TFJS = new Map<string, Act['name']>([
  ...Object.entries(TO_TFJS).map(([ours, theirs]) => [theirs, ours as Act['name']] as const), ['logSoftmax', 'logSoftmax'], ['gelu_new', 'gelu'],
]);
/** Parameter names that differ: simdnn → TF.js (the others are the same: kernel, bias, gamma, beta, alpha). */
const TO_TFJS_WEIGHT = new Map([['movingMean', 'moving_mean'], ['movingVariance', 'moving_variance']]);
const FROM_TFJS_WEIGHT = new Map([...TO_TFJS_WEIGHT].map(([ours, theirs]) => [theirs, ours]));

// ── export ──────────────────────────────────────────────────────────────────────────────────────

function tfjsActivation(where: string, l: Layer, a: Act): string {
  const id = TO_TFJS[a.name];
  if (a.name === 'gelu') {
    throw new ConfigError(`${where}: layer ${show(l.name)} uses activation gelu (tanh approximation); TF.js 4.22 cannot load its own tanh GELU ("gelu_new"). `
      + 'Use geluErf (TF.js "gelu"), or export to ONNX');
  }
  if (id === undefined || (a.name === 'elu' && a.alpha !== 1)) {
    throw new ConfigError(`${where}: layer ${show(l.name)} uses activation ${a.name}${a.name === 'elu' ? `(α = ${a.alpha})` : ''}; TF.js has no such activation. `
      + `Its activations are ${Object.keys(TO_TFJS).join(', ')} (elu with α = 1); leakyRelu works as its own layer, nn.activation('leakyRelu')`);
  }
  return id;
}

const tfjsRegularizer = (r: Regularizer | undefined) => (r ? { class_name: 'L1L2', config: { l1: r.l1, l2: r.l2 } } : null);

/** The TF.js class and config of one layer; throws ConfigError for what a TF.js Sequential model cannot hold. */
function toTfjsLayer(where: string, l: Layer): TfjsLayer {
  const named = (class_name: string, config: Record<string, unknown>) => ({ class_name, config: { ...config, name: l.name, trainable: l.trainable !== false } });
  if (l instanceof Dense) {
    const o = l.opts;
    return named('Dense', {
      units: l.outputSize, activation: tfjsActivation(where, l, l.act), use_bias: o.useBias, kernel_regularizer: tfjsRegularizer(o.kernelRegularizer),
      bias_regularizer: tfjsRegularizer(o.biasRegularizer), activity_regularizer: tfjsRegularizer(o.activityRegularizer),
    });
  }
  if (l instanceof Activation) {
    if (l.act.name === 'leakyRelu') return named('LeakyReLU', { alpha: l.act.alpha });
    return named('Activation', { activation: tfjsActivation(where, l, l.act) });
  }
  if (l instanceof PReLU) return named('PReLU', { shared_axes: null });
  if (l instanceof Dropout) return named('Dropout', { rate: l.rate, noise_shape: null, seed: null });
  if (l instanceof BatchNorm) return named('BatchNormalization', { axis: -1, momentum: l.momentum, epsilon: l.eps, center: true, scale: true });
  if (l instanceof LayerNorm) return named('LayerNormalization', { axis: -1, epsilon: l.eps, center: true, scale: true });
  if (l instanceof Rescaling) return named('Rescaling', { scale: l.scale, offset: l.offset });
  if (l instanceof Conv2D) {
    if (Math.max(...l.strides) > 1 && Math.max(...l.dilation) > 1) {
      throw new ConfigError(`${where}: layer ${show(l.name)} has strides ${show(l.strides)} and dilation ${show(l.dilation)}; TF.js runs a dilated conv only with strides 1 (export it with nn.io.exportOnnx)`);
    }
    const o = l.opts;
    return named('Conv2D', {
      filters: l.filters, kernel_size: l.kernelSize, strides: l.strides, padding: l.padding, data_format: 'channels_last', dilation_rate: l.dilation,
      activation: tfjsActivation(where, l, l.act), use_bias: o.useBias, kernel_regularizer: tfjsRegularizer(o.kernelRegularizer),
      bias_regularizer: tfjsRegularizer(o.biasRegularizer), activity_regularizer: null,
    });
  }
  // GlobalAveragePooling2D extends AvgPool2D: tested first.
  if (l instanceof GlobalAveragePooling2D) return named('GlobalAveragePooling2D', { data_format: 'channels_last' });
  if (l instanceof MaxPool2D || l instanceof AvgPool2D) {
    return named(l instanceof MaxPool2D ? 'MaxPooling2D' : 'AveragePooling2D', { pool_size: l.poolSize, strides: l.strides, padding: l.padding, data_format: 'channels_last' });
  }
  if (l instanceof Flatten) return named('Flatten', { data_format: 'channels_last' });
  // See normalizationWeights: inference-mode batch norm with γ = 1, β = 0 is (x − mean)/√variance.
  if (l instanceof Normalization) return named('BatchNormalization', { axis: -1, momentum: 0.99, epsilon: NORM_TFJS_EPS, center: true, scale: true });
  if (l.type === 'residual') {
    throw new ConfigError(`${where}: layer ${show(l.name)} is a residual block; a TF.js Sequential model has no skip connections (export it with nn.io.exportOnnx)`);
  }
  throw new ConfigError(`${where}: layer ${show(l.name)} has type ${show(l.type)}; TF.js export knows dense, activation, prelu, dropout, batchNorm, layerNorm, rescaling, normalization, `
    + 'conv2d, maxPool2d, avgPool2d, globalAveragePooling2d and flatten');
}

/**
 * What a layer on an image [H, W, C] needs of the TF.js tensor: the image itself (it acts per
 * position or per channel, as TF.js does on the last axis), features (TF.js would act on the last
 * axis only, simdnn on all values: a Flatten goes before it), or either (element-wise).
 */
function onImage(l: Layer): 'image' | 'features' | 'either' {
  if (l instanceof Dense) return 'features';
  if (l instanceof Activation) return l.act.rowwise ? 'image' : 'either';
  return l instanceof Conv2D || l instanceof MaxPool2D || l instanceof AvgPool2D || l instanceof BatchNorm || l instanceof LayerNorm || l instanceof PReLU
    || l instanceof Normalization ? 'image' : 'either';
}

/**
 * TF.js 4.22 has no Normalization layer (it has Rescaling). A normalization is written as the
 * BatchNormalization that computes it at inference: γ = 1, β = 0, moving mean = mean, moving
 * variance = max(variance, 1e-14) and ε = 1e-30, so (x − mean)·rsqrt(variance + ε) =
 * (x − mean)/max(√variance, 1e-7) to float32 rounding — at any position, a constant column
 * exactly 0. (Not folded into the next dense layer: with a near-constant column the folded
 * kernel is ~1e7·W and the bias cancels it in float32.) Imported back it is a batchNorm.
 */
const NORM_TFJS_EPS = 1e-30;
function normalizationWeights(w: Map<string, Float32Array>, l: Normalization): { local: string; shape: number[]; data: Float32Array }[] {
  const n = l.mean!.size, v = w.get(l.variance!.name)!;
  return [
    { local: 'gamma', shape: [n], data: new Float32Array(n).fill(1) },
    { local: 'beta', shape: [n], data: new Float32Array(n) },
    { local: 'moving_mean', shape: [n], data: w.get(l.mean!.name)! },
    { local: 'moving_variance', shape: [n], data: Float32Array.from(v, (x) => Math.max(x, NORM_EPS * NORM_EPS)) },
  ];
}

function artifacts(where: string, model: Sequential): TfjsArtifacts {
  if (!(model instanceof Sequential)) throw new ConfigError(`${where}: model is ${show(model)}; it must be a model from nn.sequential(...) or nn.loadModel(...)`);
  const w = model.getWeights();
  const names = new Set<string>();
  const layers: TfjsLayer[] = [];
  const specs: WeightSpec[] = [];
  const data: Float32Array[] = [];
  const unique = (name: string) => {
    if (names.has(name)) throw new ConfigError(`${where}: two layers are named ${show(name)}; TF.js needs distinct layer names`);
    names.add(name);
  };
  // A Flatten the export adds: named apart from the model's layers.
  const taken = new Set(allLayers(model.layers).map((l) => l.name));
  const flatten = () => {
    let name = 'flatten';
    for (let k = 2; taken.has(name) || names.has(name); k++) name = `flatten_${k}`;
    unique(name);
    layers.push({ class_name: 'Flatten', config: { name, trainable: true } });
  };
  // An image input stays an image; other inputs of rank > 1 are rows of features, as simdnn reads them.
  let shape: readonly number[] = model.inputShape, image = isImage(shape);
  if (!image && shape.length > 1) flatten();
  // toTfjsLayer refuses a residual block before the walk would descend into it.
  walkLayers(model.layers, (l) => {
    const need = isImage(shape) ? onImage(l) : 'either';
    // Only a dense layer takes an image flattened, and what follows it is features.
    if (need === 'features' && image) {
      flatten();
      image = false;
    }
    const tfShape = image ? shape : [l.inputSize];
    unique(l.name);
    layers.push(toTfjsLayer(where, l));
    // TF.js's PReLU has a slope per value of its input's shape.
    const params = l instanceof Normalization ? normalizationWeights(w, l)
      : l.params().map((p) => ({ local: p.name.slice(l.name.length + 1), shape: l instanceof PReLU ? [...tfShape] : p.shape, data: w.get(p.name)! }));
    shape = model.outputShapes.get(l)!;
    image &&= isImage(shape);
    for (const { local, shape: dims, data: d } of params) {
      specs.push({ name: `${l.name}/${TO_TFJS_WEIGHT.get(local) ?? local}`, shape: dims, dtype: 'float32' });
      data.push(d);
    }
  });
  Object.assign(layers[0].config, { batch_input_shape: [null, ...model.inputShape], dtype: 'float32' });
  const weights = new Uint8Array(data.reduce((s, d) => s + d.byteLength, 0));
  let off = 0;
  for (const d of data) {
    weights.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), off);
    off += d.byteLength;
  }
  return {
    modelJson: {
      format: 'layers-model', generatedBy: 'simdnn', convertedBy: null,
      modelTopology: { class_name: 'Sequential', config: { name: model.name, layers }, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
      weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: specs }],
      ...(model.metadata ? { userDefinedMetadata: { simdnn: model.metadata } } : {}),
    },
    weights,
  };
}

/** The model in the TF.js layers format: model.json as an object and the bytes of weights.bin. */
export function tfjsArtifacts(model: Sequential): TfjsArtifacts {
  return artifacts('tfjsArtifacts', model);
}

/** Writes dir/model.json and dir/weights.bin (creating dir), loadable with tf.loadLayersModel. */
export async function exportTfjs(model: Sequential, dir: string): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new ConfigError(`exportTfjs: dir is ${show(dir)}; it must be a folder path`);
  const a = artifacts('exportTfjs', model);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new ConfigError(`exportTfjs: cannot create ${dir}: ${(e as Error).message}`);
  }
  // Weights first: model.json, which names them, appears last.
  writeAtomic(join(dir, TFJS_WEIGHTS_FILE), a.weights);
  writeAtomic(join(dir, 'model.json'), new TextEncoder().encode(JSON.stringify(a.modelJson)));
}

// ── import ──────────────────────────────────────────────────────────────────────────────────────

function fail(field: string, msg: string): never {
  throw new ModelFormatError(`model.json${field && ` ${field}`}: ${msg}`);
}
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
function obj(field: string, v: unknown): Obj {
  if (!isObj(v)) fail(field, `is ${show(v)}; it must be an object`);
  return v;
}
function posInts(field: string, v: unknown, min: number): number[] {
  if (!Array.isArray(v) || !v.every((d) => Number.isSafeInteger(d) && d >= min)) fail(field, `is ${show(v)}; it must be an array of integers ≥ ${min}`);
  return v;
}

/** A weight the topology declares: its TF.js name and shape, and the simdnn parameter it fills. */
interface Expected { name: string; shape: number[]; layer: Layer; param: string }

/** The TF.js layer classes that act on an image [H, W, C] as the simdnn layer does (per position or per channel, on the last axis). */
const ON_IMAGES = new Set(['Conv2D', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'Flatten', 'BatchNormalization', 'LayerNormalization',
  'Activation', 'LeakyReLU', 'ELU', 'PReLU', 'Dropout', 'Rescaling']);

/**
 * Reads one TF.js layer config on input `shape` (per sample): `take` marks the keys used;
 * training-only settings simdnn cannot keep are refused. Returns the layer, its weights' TF.js
 * names and shapes, and its output shape.
 */
function fromTfjsLayer(path: string, cls: string, c: Obj, shape: number[]): { layer: Layer; weights: [string, number[]][]; shape: number[] } {
  const used = new Set(['name', 'trainable', 'dtype', 'batch_input_shape', 'batch_shape']);
  const take = (k: string) => (used.add(k), c[k]);
  const act = (k: string) => {
    const id = take(k) ?? 'linear';
    const a = FROM_TFJS.get(id as string);
    if (a === undefined) fail(`${path}.${k}`, `${show(id)} is not supported; known: ${[...FROM_TFJS.keys()].join(', ')}`);
    return a;
  };
  const reg = (k: string) => {
    const r = take(k);
    if (r === null || r === undefined) return undefined;
    if (obj(`${path}.${k}`, r).class_name !== 'L1L2') fail(`${path}.${k}.class_name`, `${show((r as Obj).class_name)}; only L1L2 regularizers are supported`);
    const rc = obj(`${path}.${k}.config`, (r as Obj).config);
    return { l1: (rc.l1 ?? 0) as number, l2: (rc.l2 ?? 0) as number };
  };
  // The last axis: -1, or its index counting the batch axis (TF.js writes [3] on an image).
  const lastAxis = (k: string) => {
    const a = take(k), last = [-1, shape.length];
    if (!(a === undefined || last.includes(a as number) || (Array.isArray(a) && a.length === 1 && last.includes(a[0])))) {
      fail(`${path}.${k}`, `is ${show(a)}; simdnn normalises over the last axis only (-1: the features, or the channels of an image)`);
    }
  };
  /** Keras's default (null) or channels_last: simdnn's images are channels last. */
  const channelsLast = () => {
    const f = take('data_format');
    if (f != null && f !== 'channels_last') fail(`${path}.data_format`, `is ${show(f)}; simdnn's images are channels last [H, W, C]`);
  };
  const name = c.name as string | undefined;
  // Per feature on rows, per channel on an image (the last axis, as TF.js).
  const n = [shape[shape.length - 1]];
  let out: { layer: Layer; weights: [string, number[]][]; shape: number[] };
  const bias = (useBias: boolean, units: number): [string, number[]][] => (useBias ? [['bias', [units]]] : []);
  switch (cls) {
    case 'Dense': {
      const units = take('units') as number;
      const useBias = (take('use_bias') ?? true) as boolean;
      const layer = new Dense(units, {
        activation: act('activation'), useBias, name,
        kernelRegularizer: reg('kernel_regularizer'), biasRegularizer: reg('bias_regularizer'), activityRegularizer: reg('activity_regularizer'),
      });
      out = { layer, shape: [units], weights: [['kernel', [shape[0], units]], ...bias(useBias, units)] };
      break;
    }
    case 'Conv2D': {
      channelsLast();
      if ((take('groups') ?? 1) !== 1) fail(`${path}.groups`, `is ${show(c.groups)}; simdnn's conv2d has one group`);
      const filters = take('filters') as number, useBias = (take('use_bias') ?? true) as boolean;
      const layer = new Conv2D(filters, {
        kernelSize: take('kernel_size') as number, strides: (take('strides') ?? 1) as number, padding: (take('padding') ?? 'valid') as 'valid',
        dilation: (take('dilation_rate') ?? 1) as number, activation: act('activation'), useBias, name,
        kernelRegularizer: reg('kernel_regularizer'), biasRegularizer: reg('bias_regularizer'),
      });
      const g = imageGeometry(layer.name, shape, layer.kernelSize, layer.strides, layer.dilation, layer.padding, 'kernel');
      out = { layer, shape: [g.Ho, g.Wo, filters], weights: [['kernel', [...layer.kernelSize, g.C, filters]], ...bias(useBias, filters)] };
      break;
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      channelsLast();
      const poolSize = (take('pool_size') ?? 2) as number;
      const o = { poolSize, strides: (take('strides') ?? poolSize) as number, padding: (take('padding') ?? 'valid') as 'valid', name };
      const layer = cls === 'MaxPooling2D' ? new MaxPool2D(o) : new AvgPool2D(o);
      const g = imageGeometry(layer.name, shape, layer.poolSize, layer.strides, [1, 1], layer.padding, 'pool');
      out = { layer, shape: [g.Ho, g.Wo, g.C], weights: [] };
      break;
    }
    case 'GlobalAveragePooling2D':
      channelsLast();
      if (take('keepdims') === true) fail(`${path}.keepdims`, 'is true; simdnn\'s global average pooling gives [C]');
      out = { layer: new GlobalAveragePooling2D({ name }), shape: n, weights: [] };
      break;
    case 'Flatten':
      channelsLast();
      out = { layer: new Flatten({ name }), shape: [shape.reduce((a, b) => a * b, 1)], weights: [] };
      break;
    case 'Activation': out = { layer: new Activation(act('activation'), { name }), shape, weights: [] }; break;
    case 'LeakyReLU': out = { layer: new Activation('leakyRelu', { alpha: (take('alpha') ?? 0.3) as number, name }), shape, weights: [] }; break;
    case 'ELU': out = { layer: new Activation('elu', { alpha: (take('alpha') ?? 1) as number, name }), shape, weights: [] }; break;
    case 'PReLU':
      if (take('shared_axes') != null) fail(`${path}.shared_axes`, `is ${show(c.shared_axes)}; simdnn's PReLU has one slope per feature`);
      // A slope per value of the input (TF.js's alpha has the input's shape).
      out = { layer: new PReLU({ name }), shape, weights: [['alpha', shape]] };
      break;
    case 'Dropout':
      if (take('noise_shape') != null) fail(`${path}.noise_shape`, `is ${show(c.noise_shape)}; only null is supported`);
      take('seed');
      out = { layer: new Dropout(take('rate') as number, { name }), shape, weights: [] };
      break;
    case 'BatchNormalization':
    case 'LayerNormalization': {
      lastAxis('axis');
      if (take('rms_scaling') === true) fail(`${path}.rms_scaling`, 'is true; simdnn\'s layer norm subtracts the mean');
      for (const k of ['center', 'scale']) if ((take(k) ?? true) !== true) fail(`${path}.${k}`, `is ${show(c[k])}; simdnn's norm layers always have γ and β`);
      const eps = (take('epsilon') ?? 1e-3) as number;
      out = cls === 'BatchNormalization'
        ? { layer: new BatchNorm({ momentum: (take('momentum') ?? 0.99) as number, eps, name }), shape, weights: [['gamma', n], ['beta', n], ['moving_mean', n], ['moving_variance', n]] }
        : { layer: new LayerNorm({ eps, name }), shape, weights: [['gamma', n], ['beta', n]] };
      break;
    }
    case 'Rescaling': out = { layer: new Rescaling(take('scale') as number, (take('offset') ?? 0) as number, { name }), shape, weights: [] }; break;
    default:
      fail(`${path}.class_name`, `${show(cls)} is not supported; known: InputLayer, ${[...KNOWN].join(', ')}`);
  }
  if (c.dtype !== undefined && c.dtype !== 'float32') fail(`${path}.dtype`, `${show(c.dtype)}; simdnn computes in float32`);
  if (c.trainable === false) out.layer.trainable = false;
  for (const k of Object.keys(c)) {
    // Constraints and regularizers change training; simdnn refuses the ones it cannot keep rather than drop them.
    if (!used.has(k) && /_(constraint|regularizer)$/.test(k) && c[k] !== null) fail(`${path}.${k}`, `is ${show(c[k])}; simdnn supports no ${k.replace(/^.*_/, '')} here`);
  }
  if (out.weights.length > 0 && typeof name !== 'string') fail(`${path}.name`, `is ${show(name)}; a layer with weights needs its name (the weights are named after it)`);
  return out;
}

const KNOWN: ReadonlySet<string> = new Set(['Dense', 'Activation', 'LeakyReLU', 'ELU', 'PReLU', 'Dropout', 'BatchNormalization', 'LayerNormalization',
  'Rescaling', 'Conv2D', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'Flatten']);

/** The Sequential topology: input shape, simdnn layers and the weights they expect. */
function parseTopology(mj: Obj): { inputShape: number[]; name?: string; layers: Layer[]; expected: Expected[] } {
  if (mj.format !== undefined && mj.format !== 'layers-model') fail('format', `${show(mj.format)}; only "layers-model" (tf.LayersModel) is supported`);
  const mt = obj('modelTopology', mj.modelTopology);
  const topo = mt.model_config !== undefined ? obj('modelTopology.model_config', mt.model_config) : mt;
  if (topo.class_name !== 'Sequential') fail('modelTopology.class_name', `${show(topo.class_name)}; only Sequential models can be imported`);
  const cfg = topo.config;
  const list = Array.isArray(cfg) ? cfg : obj('modelTopology.config', cfg).layers;
  if (!Array.isArray(list) || list.length === 0) fail('modelTopology.config.layers', `is ${show(list)}; it must be a non-empty array`);
  // shape: TF.js's per-sample shape of the next layer's input (what simdnn's layers see, except
  // inputs of rank 2 or > 3, which simdnn reads as features once TF.js has flattened them).
  let inputShape: number[] | undefined, shape: number[] = [];
  const layers: Layer[] = [], expected: Expected[] = [];
  list.forEach((entry, i) => {
    const path = `modelTopology.config.layers[${i}]`;
    const cls = obj(path, entry).class_name as string;
    const c = obj(`${path}.config`, (entry as Obj).config);
    // Keras 3 writes an InputLayer's shape as batch_shape.
    const s = c.batch_input_shape ?? c.batch_shape;
    if (!inputShape && s !== undefined) {
      if (!Array.isArray(s) || s.length < 2 || s[0] !== null) fail(`${path}.config.batch_input_shape`, `is ${show(s)}; it must be [null, ...features]`);
      inputShape = posInts(`${path}.config.batch_input_shape`, s.slice(1), 1);
      shape = inputShape;
    }
    if (cls === 'InputLayer') {
      if (i > 0) fail(`${path}.class_name`, 'InputLayer is supported only as the first layer');
      return;
    }
    if (!inputShape) fail(`${path}.config.batch_input_shape`, 'missing; the first layer must give the input shape');
    // A Flatten of what simdnn reads as rows already (features, or an input of rank 2 or > 3) adds no layer.
    const rows = cls === 'Flatten' && !isImage(shape);
    if (shape.length > 1 && !rows && !(isImage(shape) && ON_IMAGES.has(cls)) && KNOWN.has(cls)) {
      fail(`${path}.class_name`, `${cls} on [null, ${shape.join(', ')}]: inputs of rank > 1 need a Flatten layer first (simdnn's ${cls} takes features)`);
    }
    let r: ReturnType<typeof fromTfjsLayer>;
    try {
      r = fromTfjsLayer(`${path}.config`, cls, c, shape);
    } catch (e) {
      if (!(e instanceof ConfigError || e instanceof ShapeError)) throw e;
      fail(`${path}.config`, e.message);
    }
    shape = r.shape;
    if (rows) return;
    layers.push(r.layer);
    for (const [w, ws] of r.weights) expected.push({ name: `${c.name}/${w}`, shape: ws, layer: r.layer, param: FROM_TFJS_WEIGHT.get(w) ?? w });
  });
  if (layers.length === 0) fail('modelTopology.config.layers', 'has no layer after the input');
  return { inputShape: inputShape!, name: typeof topo.config === 'object' ? ((topo.config as Obj).name as string) : undefined, layers, expected };
}

/** userDefinedMetadata.simdnn checked as model.setMetadata checks it (the sizes once the model is built). */
function checkData(m: unknown, sizes?: { inputs: number; outputs: number }): ModelMetadata {
  try {
    return checkMetadata('model.json userDefinedMetadata.simdnn', m, sizes);
  } catch (e) {
    throw new ModelFormatError((e as Error).message);
  }
}

/** A manifest path must stay inside the model's folder: relative, no `..` segment. */
function checkPath(field: string, p: unknown): string {
  if (typeof p !== 'string' || p === '' || p.includes('\0')) fail(field, `is ${show(p)}; it must be a file name`);
  if (isAbsolute(p) || win32.isAbsolute(p) || p.split(/[\\/]/).includes('..')) fail(field, `${show(p)} leaves the model's folder; paths must be relative without ".."`);
  return p;
}

/** Checks the weights manifest against the topology; returns each group's paths, byte length and weights in order. */
function parseManifest(mj: Obj, expected: Expected[]) {
  const m = mj.weightsManifest;
  if (!Array.isArray(m)) fail('weightsManifest', `is ${show(m)}; it must be an array of { paths, weights }`);
  const byName = new Map(expected.map((e) => [e.name, e]));
  const seen = new Set<string>();
  const groups = m.map((g, i) => {
    const f = `weightsManifest[${i}]`;
    const paths = obj(f, g).paths;
    if (!Array.isArray(paths) || paths.length === 0) fail(`${f}.paths`, `is ${show(paths)}; it must be a non-empty array`);
    const specs = (g as Obj).weights;
    if (!Array.isArray(specs)) fail(`${f}.weights`, `is ${show(specs)}; it must be an array`);
    let bytes = 0;
    const weights = specs.map((s, j) => {
      const sf = `${f}.weights[${j}]`;
      const { name, shape, dtype, quantization } = obj(sf, s);
      if (dtype !== 'float32' || quantization !== undefined) fail(sf, `dtype ${show(dtype)}${quantization !== undefined ? ' (quantized)' : ''}; only float32 weights are supported`);
      const e = byName.get(name as string);
      if (!e) fail(`${sf}.name`, `${show(name)} is not a weight of the topology; expected ${expected.map((x) => x.name).join(', ') || 'none'}`);
      if (seen.has(e.name)) fail(`${sf}.name`, `${show(name)} appears twice`);
      seen.add(e.name);
      if (posInts(`${sf}.shape`, shape, 0).join(',') !== e.shape.join(',')) fail(`${sf}.shape`, `${show(shape)}; the topology needs ${show(e.shape)} for ${e.name}`);
      bytes += e.shape.reduce((a, b) => a * b, 1) * 4;
      return e;
    });
    return { paths: paths.map((p, k) => checkPath(`${f}.paths[${k}]`, p)), bytes, weights };
  });
  const missing = expected.filter((e) => !seen.has(e.name));
  if (missing.length) fail('weightsManifest', `has no ${missing.map((e) => e.name).join(', ')}`);
  return groups;
}

/** Each group's bytes, after checking every size against the manifest (nothing is read before). */
function groupBytes(src: TfjsSource, dir: string, groups: ReturnType<typeof parseManifest>): Uint8Array[] {
  const w = typeof src === 'string' ? undefined : src.weights;
  if (w instanceof Uint8Array || w instanceof ArrayBuffer) {
    const all = w instanceof Uint8Array ? w : new Uint8Array(w);
    const total = groups.reduce((s, g) => s + g.bytes, 0);
    if (all.length !== total) throw new ModelFormatError(`importTfjs: weights has ${all.length} bytes; the manifest's shapes need ${total}`);
    let off = 0;
    return groups.map((g) => all.subarray(off, (off += g.bytes)));
  }
  if (w !== undefined && !isObj(w)) throw new ConfigError(`importTfjs: weights is ${show(w)}; it must be a Uint8Array or an object of Uint8Arrays by manifest path`);
  if (w) {
    return groups.map((g, i) => concat(g.bytes, g.paths.map((p) => {
      if (!(w[p] instanceof Uint8Array)) throw new ModelFormatError(`importTfjs: weights[${show(p)}] is ${show(w[p])}; the manifest names this file`);
      return w[p];
    }), i, g.paths));
  }
  let root: string;
  try {
    root = realpathSync(dir || '.');
  } catch (e) {
    throw new ModelFormatError(`importTfjs: cannot read the model's folder ${dir}: ${(e as Error).message}`);
  }
  const inside = root.endsWith(sep) ? root : root + sep;
  const refuse = (m: string) => new ModelFormatError(`importTfjs: ${m}`);
  // Each file is opened once and read from its descriptor; the folder check is made on what was
  // opened (its real path by descriptor), so a symlink swapped in after a check cannot be read.
  // A group's files are all open, and their sizes checked, before any of them is read.
  return groups.map((g, i) => {
    const open = (k: number, files: OpenedFile[]): Uint8Array => {
      if (k === g.paths.length) {
        const out = new Uint8Array(checkSize(i, g.paths, files.map((f) => f.size), g.bytes));
        let off = 0;
        for (const f of files) off += f.readInto(out.subarray(off, off + f.size), 0).length;
        return out;
      }
      const p = g.paths[k], full = join(dir, p);
      return withFile(full, refuse, { label: `weights file ${show(p)}` }, (f) => {
        const real = realPathOf(f, full, refuse);
        if (!real.startsWith(inside)) throw refuse(`weights file ${show(p)} resolves to ${real}, outside the model's folder ${root}`);
        return open(k + 1, [...files, f]);
      });
    };
    return open(0, []);
  });
}

/** The bytes of a group's files, after checking that they add up to what its weights need. */
function checkSize(i: number, paths: string[], sizes: number[], need: number): number {
  const size = sizes.reduce((s, n) => s + n, 0);
  if (size !== need) fail(`weightsManifest[${i}].paths`, `${show(paths)} hold ${size} bytes; the shapes of the group's weights need ${need}`);
  return size;
}

/** One group's in-memory files as one buffer, after checking their sizes. */
function concat(bytes: number, parts: Uint8Array[], i: number, paths: string[]): Uint8Array {
  checkSize(i, paths, parts.map((b) => b.length), bytes);
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(bytes);
  let off = 0;
  for (const b of parts) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}

function readModelJson(src: TfjsSource): { json: Obj; dir: string } {
  if (typeof src === 'string') {
    let path = src;
    try {
      if (statSync(src).isDirectory()) path = join(src, 'model.json');
    } catch (e) {
      throw new ConfigError(`importTfjs: cannot read ${path}: ${(e as Error).message}`);
    }
    const text = withFile(path, (m) => new ConfigError(`importTfjs: ${m}`), { maxBytes: MAX_HEADER_BYTES }, (f) => f.read(0, f.size).toString());
    return { json: obj('', parseJson(text)), dir: dirname(path) };
  }
  if (!isObj(src)) throw new ConfigError(`importTfjs: source is ${show(src)}; it must be a folder path or { modelJson, weights }`);
  const j = typeof src.modelJson === 'string' ? parseJson(src.modelJson) : src.modelJson;
  if (!isObj(j)) throw new ConfigError(`importTfjs: modelJson is ${show(src.modelJson)}; it must be model.json as an object or a string`);
  return { json: j, dir: '' };
}
function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch (e) {
    fail('', `not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Reads a TF.js layers model (a Sequential of Dense, Activation, LeakyReLU, ELU, PReLU, Dropout,
 * BatchNormalization, LayerNormalization, Rescaling, Conv2D, MaxPooling2D, AveragePooling2D,
 * GlobalAveragePooling2D, Flatten, after an optional InputLayer) as a simdnn model.
 */
export async function importTfjs(src: TfjsSource, opts: { engine?: Engine; threads?: number | 'auto' } = {}): Promise<Sequential> {
  const { json, dir } = readModelJson(src);
  const topo = parseTopology(json);
  const groups = parseManifest(json, topo.expected);
  const udm = json.userDefinedMetadata;
  const meta = udm === undefined || !isObj(udm) || udm.simdnn === undefined ? undefined : checkData(udm.simdnn);
  const bytes = groupBytes(src, dir, groups);
  let model: Sequential;
  try {
    model = new Sequential({ inputShape: topo.inputShape, name: topo.name, engine: opts.engine, threads: opts.threads }, topo.layers);
  } catch (e) {
    if (!(e instanceof ConfigError || e instanceof ShapeError)) throw e;
    fail('modelTopology', e.message);
  }
  try {
    const w = new Map<string, Float32Array>();
    groups.forEach((g, i) => {
      let off = 0;
      for (const e of g.weights) {
        const n = e.shape.reduce((a, b) => a * b, 1);
        const data = new Float32Array(n);
        new Uint8Array(data.buffer).set(bytes[i].subarray(off, off + n * 4));
        off += n * 4;
        if (data.some((v) => !Number.isFinite(v))) throw new ModelFormatError(`importTfjs: weight ${show(e.name)} holds non-finite values`);
        w.set(`${e.layer.name}/${e.param}`, data);
      }
    });
    model.setWeights(w);
    if (meta) model.setMetadata(checkData(meta, { inputs: model.inputSize, outputs: model.outputSize }));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
