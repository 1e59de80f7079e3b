// Preprocessing from the course notes: scaling images, standardizing features, one-hot labels,
// flattening, and seeded (stratified) train/test splits.
import { ShapeError } from '../errors.js';
import { reject } from '../validate.js';
import { shuffled } from '../random.js';
import { Tensor } from '../tensor.js';

/**
 * Pixel scaling: '0-1' maps bytes to [0, 1]; '-1-1' is the notes' (x − 127.5)/127.5. For
 * Uint8Array images this only records the range: the bytes stay u8 and are scaled in wasm as
 * batches are gathered (DESIGN §3). Inside the model instead (saved and exported with it):
 * '0-1' is nn.rescaling(1 / 255) and '-1-1' is nn.rescaling(1 / 127.5, -1), on bytes read as
 * 0…255 (`new nn.Tensor(bytes, shape, [0, 255])`).
 */
export function scaleImages(x: Tensor<Uint8Array>, range: '0-1' | '-1-1' = '0-1'): Tensor<Uint8Array> {
  if (!(x instanceof Tensor) || !(x.data instanceof Uint8Array)) reject('scaleImages', 'x', x, 'a Uint8Array tensor');
  if (range !== '0-1' && range !== '-1-1') reject('scaleImages', 'range', range, `'0-1' or '-1-1'`);
  return new Tensor(x.data, x.shape, range === '0-1' ? [0, 1] : [-1, 1]);
}

/** The same images as Float32Array values in the tensor's range. */
export function toFloat(x: Tensor): Tensor<Float32Array> {
  if (x.data instanceof Float32Array) return x as Tensor<Float32Array>;
  const [lo, hi] = x.data instanceof Uint8Array ? x.range : [0, 255];
  const s = (hi - lo) / 255;
  return new Tensor(Float32Array.from(x.data, (v) => lo + v * s), x.shape);
}

export interface Standardizer {
  mean: Float64Array;
  std: Float64Array;
  /** (x − mean)/std per column, as a new Float32Array tensor. */
  transform(x: Tensor | Float32Array): Tensor<Float32Array>;
  /** mean + std·x: back to the original units (e.g. for predictions of a standardized target). */
  inverse(x: Tensor | Float32Array): Tensor<Float32Array>;
}

/**
 * Fits per-column mean and standard deviation (population) on x; apply to train and test alike.
 * Outside the model: nn.normalization().adapt(x) does the same inside it (saved and exported
 * with the model), so that predictions on raw inputs need no separate step.
 */
export function standardizer(x: Tensor | Float32Array): Standardizer {
  const t = x instanceof Tensor ? x : new Tensor(x, [x.length, 1]);
  const n = t.rows, c = t.cols;
  if (n < 1) throw new ShapeError('standardizer: x has no rows');
  const mean = new Float64Array(c), std = new Float64Array(c);
  for (let i = 0; i < n * c; i++) mean[i % c] += t.data[i] / n;
  for (let i = 0; i < n * c; i++) std[i % c] += (t.data[i] - mean[i % c]) ** 2 / n;
  for (let j = 0; j < c; j++) std[j] = Math.sqrt(std[j]) || 1;
  const apply = (where: string, f: (v: number, j: number) => number) => (v: Tensor | Float32Array) => {
    const u = v instanceof Tensor ? v : new Tensor(v, [v.length / c, c]);
    if (u.cols !== c) throw new ShapeError(`${where}: x has ${u.cols} columns, the standardizer was fitted on ${c}`);
    return new Tensor(Float32Array.from(u.data, (a, i) => f(a, i % c)), u.shape);
  };
  return {
    mean, std,
    transform: apply('Standardizer.transform', (a, j) => (a - mean[j]) / std[j]),
    inverse: apply('Standardizer.inverse', (a, j) => mean[j] + std[j] * a),
  };
}

/** Integer labels to one-hot rows (for losses that want probabilities per class). */
export function oneHot(labels: ArrayLike<number>, classes: number): Float32Array {
  if (!Number.isInteger(classes) || classes < 1) reject('oneHot', 'classes', classes, 'a positive integer');
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= classes) reject('oneHot', `labels[${i}]`, y, `an integer in [0, ${classes})`);
    out[i * classes + y] = 1;
  }
  return out;
}

/** [n, a, b, …] → [n, a·b·…]. */
export function flatten<T extends Tensor>(x: T): T {
  return new Tensor(x.data, [x.rows, x.cols], x.range) as T;
}

/** Seeded split; stratified (the default for integer labels) keeps class proportions. */
export function trainTestSplit<T extends Tensor>(x: T, y: ArrayLike<number>, opts: { testFraction?: number; seed?: number; stratified?: boolean } = {}) {
  const f = opts.testFraction ?? 0.2;
  if (typeof f !== 'number' || !(f > 0 && f < 1)) reject('trainTestSplit', 'testFraction', f, 'in (0, 1)');
  const n = x.rows, per = y.length / n;
  if (!Number.isInteger(per) || per < 1) throw new ShapeError(`trainTestSplit: y has ${y.length} values for ${n} samples`);
  const stratified = opts.stratified ?? (per === 1 && Array.from(y).every(Number.isInteger));
  // Seeded order; stratified takes round(f·count) of each class for the test set. Both sets keep
  // the shuffled order (so a later validationSplit is not one class).
  const order = shuffled(n, opts.seed ?? 0);
  const groups = new Map<number, number[]>();
  for (const i of order) {
    const key = stratified ? y[i * per] : 0;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(i);
  }
  const inTest = new Uint8Array(n);
  for (const g of groups.values()) for (const i of g.slice(0, Math.round(f * g.length))) inTest[i] = 1;
  const test = order.filter((i) => inTest[i]), train = order.filter((i) => !inTest[i]);
  const takeY = (idx: number[]) => {
    const out = new ((y as Int32Array).constructor === Int32Array ? Int32Array : Float32Array)(idx.length * per);
    idx.forEach((i, r) => { for (let c = 0; c < per; c++) out[r * per + c] = y[i * per + c]; });
    return out;
  };
  return { train: { x: x.take(train) as T, y: takeY(train) }, test: { x: x.take(test) as T, y: takeY(test) } };
}
