// Tensors at the API boundary: a typed array with a shape. Inputs are Float32Array (or Uint8Array
// images, scaled on the fly in wasm), class labels are integer arrays (DESIGN "The public API").
import { ShapeError, ConfigError, show } from './errors.js';
import { reject } from './validate.js';

export type TensorData = Float32Array | Uint8Array | Int32Array;

export class Tensor<T extends TensorData = TensorData> {
  /**
   * @param data  values, row-major
   * @param shape dimensions; their product must equal data.length
   * @param range for Uint8Array image data: the interval bytes 0…255 map to (default [0, 1])
   */
  constructor(readonly data: T, readonly shape: readonly number[], readonly range: readonly [number, number] = [0, 1]) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ShapeError(`tensor: shape ${show([...shape])} has ${show(d)}; dimensions must be non-negative integers`);
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new ShapeError(`tensor: shape ${show([...shape])} holds ${n} values but data has ${data.length}`);
    if (!(range[0] < range[1]) || !Number.isFinite(range[0]) || !Number.isFinite(range[1])) {
      reject('tensor', 'range', [...range], '[lo, hi] with finite lo < hi');
    }
  }
  get rows(): number { return this.shape[0] ?? 1; }
  /** Values per row (product of the trailing dimensions): images [n, 28, 28] flatten to 784. */
  get cols(): number { return this.shape.slice(1).reduce((a, b) => a * b, 1); }
  /** Rows [start, end) as a tensor sharing memory. */
  slice(start: number, end: number): Tensor<T> {
    const c = this.cols;
    return new Tensor(this.data.subarray(start * c, end * c) as T, [end - start, ...this.shape.slice(1)], this.range);
  }
  /** Rows picked by index (a copy). */
  take(idx: ArrayLike<number>): Tensor<T> {
    const c = this.cols;
    const out = new (this.data.constructor as new (n: number) => T)(idx.length * c);
    for (let i = 0; i < idx.length; i++) out.set(this.data.subarray(idx[i] * c, idx[i] * c + c), i * c);
    return new Tensor(out, [idx.length, ...this.shape.slice(1)], this.range);
  }
}

/** Nested arrays of numbers, any depth: [1, 2], [[1, 2], [3, 4]], … */
export type NestedNumbers = number[] | NestedNumbers[];

/**
 * A nested number array as Float32Array values and the shape its nesting gives; ragged rows
 * (ShapeError) and non-numbers (ConfigError) are refused, naming the index.
 */
export function fromNested(where: string, name: string, v: readonly unknown[]): { data: Float32Array; shape: number[] } {
  const shape: number[] = [];
  for (let a: unknown = v; Array.isArray(a); a = a[0]) shape.push(a.length);
  const data = new Float32Array(shape.reduce((x, y) => x * y, 1));
  let at = 0;
  const walk = (a: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof a !== 'number') reject(where, path, a, 'a number');
      data[at++] = a;
      return;
    }
    if (!Array.isArray(a) || a.length !== shape[depth]) {
      throw new ShapeError(`${where}: ${path} is ${show(a)}; it must be an array of ${shape[depth]} (the shape of ${name} is ${show(shape)}: rows must not be ragged)`);
    }
    for (let i = 0; i < a.length; i++) walk(a[i], depth + 1, `${path}[${i}]`);
  };
  walk(v, 0, name);
  return { data, shape };
}

/**
 * nn.tensor(data, shape?): wraps a typed array, or copies a (nested) number array into a
 * Float32Array — `nn.tensor([[1, 2], [3, 4]])` is [2, 2]. A given shape must hold as many values.
 */
export function tensor(data: TensorData | NestedNumbers, shape?: number[], opts: { range?: [number, number] } = {}): Tensor {
  if (shape !== undefined && !Array.isArray(shape)) reject('tensor', 'shape', shape, 'an array of dimensions');
  if (Array.isArray(data)) {
    const t = fromNested('tensor', 'data', data);
    return new Tensor(t.data, shape ?? t.shape, opts.range);
  }
  if (!(data instanceof Float32Array || data instanceof Uint8Array || data instanceof Int32Array)) {
    reject('tensor', 'data', data, 'a Float32Array, Uint8Array, Int32Array or a (nested) number array');
  }
  return new Tensor(data, shape ?? [data.length], opts.range);
}

/**
 * nn.argMax(x): the index of the largest value along the last axis (first on ties; NaN never
 * wins past index 0, as in the wasm kernel), one per row: Int32Array of x's leading size.
 */
export function argMax(x: Tensor | NestedNumbers | Float32Array | Int32Array | Uint8Array): Int32Array {
  const t = x instanceof Tensor ? x : tensor(x as TensorData | NestedNumbers);
  const N = t.shape.length ? t.shape[t.shape.length - 1] : 1;
  if (N === 0) throw new ShapeError(`argMax: x has shape ${show([...t.shape])}; its last axis must not be empty`);
  const d = t.data, M = d.length / N, out = new Int32Array(M);
  for (let i = 0; i < M; i++) {
    let a = 0;
    for (let j = 1; j < N; j++) if (d[i * N + j] > d[i * N + a]) a = j;
    out[i] = a;
  }
  return out;
}

/** Nested arrays give their shape: number[][] rows of features, number[][][][] images [n, H, W, C]. */
export type Input = Tensor | Float32Array | Uint8Array | number[][] | number[][][] | number[][][][];
/** Targets: integer class labels, or real values with one column per output (rows × outputs). */
export type Target = Tensor | Int32Array | Uint8Array | Float32Array | readonly number[] | readonly (readonly number[])[];

/** Brings x into a 2-D tensor with `features` columns (a flat array is split into rows). */
export function asInput(where: string, name: string, x: unknown, features: number): Tensor<Float32Array | Uint8Array> {
  let t: Tensor;
  if (x instanceof Tensor) t = x;
  else if (x instanceof Float32Array || x instanceof Uint8Array) {
    if (x.length % features !== 0) {
      throw new ShapeError(`${where}: ${name} has ${x.length} values, not a multiple of ${features} features per sample`);
    }
    t = new Tensor(x, [x.length / features, features]);
  } else if (Array.isArray(x) && x.every((r) => Array.isArray(r))) {
    const rows = x as unknown[][];
    const bad = rows.findIndex((r) => r.length !== features);
    if (bad >= 0 && !Array.isArray(rows[0][0])) throw new ShapeError(`${where}: ${name}[${bad}] has ${rows[bad].length} features, expected ${features}`);
    const n = fromNested(where, name, rows);
    t = new Tensor(n.data, n.shape);
  } else {
    reject(where, `${name}`, x, 'a Tensor, Float32Array, Uint8Array or nested number arrays (number[][], or number[][][][] for images)');
  }
  if (t.data instanceof Int32Array) throw new ConfigError(`${where}: ${name} is an Int32Array tensor; inputs must be Float32Array or Uint8Array`);
  if (t.cols !== features) {
    throw new ShapeError(`${where}: ${name} has ${t.cols} features per sample (shape ${show([...t.shape])}), expected ${features}`);
  }
  if (t.rows === 0) throw new ShapeError(`${where}: ${name} has 0 samples; at least 1 is needed`);
  return t as Tensor<Float32Array | Uint8Array>;
}

/** Integer class labels in [0, classes) as an Int32Array of length n. */
export function asLabels(where: string, name: string, y: unknown, n: number, classes: number): Int32Array {
  const d = y instanceof Tensor ? y.data : y;
  if (!(ArrayBuffer.isView(d) || Array.isArray(d))) throw new ConfigError(`${where}: ${name} is ${show(y)}; class labels must be an integer array`);
  const arr = d as ArrayLike<number>;
  if (arr.length !== n) throw new ShapeError(`${where}: ${name} has ${arr.length} labels for ${n} samples`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = arr[i];
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new ConfigError(`${where}: ${name}[${i}] is ${show(v)}; labels must be integers in [0, ${classes}) for ${classes} outputs`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * Classification targets: n integer labels (Int32Array), or with `soft`, a distribution per row
 * (n × classes, one-hot or probabilities: Float32Array, nested arrays or a tensor [n, classes]).
 */
export function asClassTargets(where: string, name: string, y: unknown, n: number, classes: number, soft: boolean): Int32Array | Float32Array {
  const d = y instanceof Tensor ? y.data : y;
  const rows2d = Array.isArray(d) && d.length > 0 && Array.isArray(d[0]);
  const len = rows2d ? (d as unknown[]).length * classes : (ArrayBuffer.isView(d) || Array.isArray(d)) ? (d as ArrayLike<number>).length : -1;
  const matrix = rows2d || (y instanceof Tensor && y.shape.length === 2 && y.shape[1] === classes && classes > 1)
    || (len === n * classes && classes > 1);
  if (!matrix) {
    if (len >= 0 && len !== n) {
      throw new ShapeError(`${where}: ${name} has ${len} values for ${n} samples; give ${n} integer labels in [0, ${classes})`
        + (soft ? ` or an [${n}, ${classes}] array of class probabilities (one-hot or soft targets)` : ''));
    }
    return asLabels(where, name, y, n, classes);
  }
  if (!soft) throw new ShapeError(`${where}: ${name} is an [${n}, ${classes}] array; this loss takes ${n} integer labels in [0, ${classes}) (argmax of each row)`);
  const t = asTargets(where, name, y, n, classes);
  for (let i = 0; i < t.length; i++) {
    if (t[i] < 0) throw new ConfigError(`${where}: ${name}[${Math.floor(i / classes)}][${i % classes}] is ${show(t[i])}; class probabilities must be ≥ 0`);
  }
  return t;
}

/** Real-valued targets with `cols` per sample as a Float32Array of n·cols. */
export function asTargets(where: string, name: string, y: unknown, n: number, cols: number): Float32Array {
  const d = y instanceof Tensor ? y.data : Array.isArray(y) && Array.isArray(y[0]) ? (y as number[][]).flat() : y;
  if (!(ArrayBuffer.isView(d) || Array.isArray(d))) throw new ConfigError(`${where}: ${name} is ${show(y)}; targets must be a numeric array`);
  const arr = d as ArrayLike<number>;
  if (arr.length !== n * cols) throw new ShapeError(`${where}: ${name} has ${arr.length} values for ${n} samples × ${cols} outputs`);
  const out = Float32Array.from(arr);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new ConfigError(`${where}: ${name}[${i}] is ${show(arr[i])}; targets must be finite numbers`);
  }
  return out;
}
