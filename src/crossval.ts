// nn.crossValidate: k-fold cross-validation (stratified for class labels), the way the course
// chooses hyperparameters by validation loss.
import { ConfigError } from './errors.js';
import { reject } from './validate.js';
import { checkKeys } from './layers/layer.js';
import type { Sequential } from './sequential.js';
import { shuffled } from './random.js';
import { Tensor, asInput } from './tensor.js';
import type { FitOptions } from './train.js';

export interface CrossValidationResult {
  /** Held-out loss and metrics of each fold. */
  folds: Record<string, number>[];
  /** Mean and (population) standard deviation of each over the folds. */
  mean: Record<string, number>;
  std: Record<string, number>;
}

/** Fold index of each sample; stratified deals each class's samples round-robin over the folds. */
export function foldAssignment(n: number, k: number, seed: number, labels?: ArrayLike<number>): Int32Array {
  const order = shuffled(n, seed), fold = new Int32Array(n);
  if (labels) {
    const byClass = new Map<number, number[]>();
    for (const i of order) (byClass.get(labels[i]) ?? byClass.set(labels[i], []).get(labels[i])!).push(i);
    let f = 0;
    for (const c of [...byClass.keys()].sort((a, b) => a - b)) for (const i of byClass.get(c)!) fold[i] = f++ % k;
  } else {
    order.forEach((i, r) => (fold[i] = r % k));
  }
  return fold;
}

export async function crossValidate(build: () => Sequential, x: unknown, y: unknown,
  opts: { k?: number; stratified?: boolean; seed?: number; fit?: FitOptions } = {}): Promise<CrossValidationResult> {
  const where = 'crossValidate';
  checkKeys(where, opts, ['k', 'stratified', 'seed', 'fit']);
  if (typeof build !== 'function') reject(where, 'build', build, 'a function returning a compiled model');
  const k = opts.k ?? 10;
  const probe = build();
  const xt = asInput(where, 'x', x, probe.inputSize);
  const n = xt.rows;
  if (!Number.isInteger(k) || k < 2 || k > n) reject(where, 'k', k, `an integer in [2, ${n}] (the number of samples)`);
  if (!probe.loss) throw new ConfigError(`${where}: build() must return a compiled model (call model.compile inside it)`);
  const yArr = (y instanceof Tensor ? y.data : y) as ArrayLike<number>;
  if (!yArr || typeof yArr.length !== 'number') reject(where, 'y', y, 'an array');
  const stratified = opts.stratified ?? probe.loss.labels;
  if (stratified && !probe.loss.labels) throw new ConfigError(`${where}: stratified folds need integer class labels (a classification loss)`);
  const per = yArr.length / n;
  const fold = foldAssignment(n, k, opts.seed ?? 0, stratified ? yArr : undefined);
  const folds: Record<string, number>[] = [];
  const pick = (test: boolean, f: number) => {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if ((fold[i] === f) === test) idx.push(i);
    const ys = new (probe.loss!.labels ? Int32Array : Float32Array)(idx.length * per);
    idx.forEach((i, r) => { for (let c = 0; c < per; c++) ys[r * per + c] = yArr[i * per + c]; });
    return { x: xt.take(idx), y: ys };
  };
  probe.dispose();
  for (let f = 0; f < k; f++) {
    const model = build();
    try {
      const tr = pick(false, f), te = pick(true, f);
      await model.fit(tr.x, tr.y, opts.fit ?? {});
      folds.push(model.evaluate(te.x, te.y));
    } finally {
      model.dispose();
    }
  }
  const mean: Record<string, number> = {}, std: Record<string, number> = {};
  for (const key of Object.keys(folds[0])) {
    const v = folds.map((r) => r[key]);
    mean[key] = v.reduce((a, b) => a + b, 0) / k;
    std[key] = Math.sqrt(v.reduce((a, b) => a + (b - mean[key]) ** 2, 0) / k);
  }
  return { folds, mean, std };
}
