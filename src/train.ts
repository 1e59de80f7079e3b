// The training loop (fit), evaluate and predict. Data is copied into wasm memory once (u8 images
// stay u8) and every batch is gathered in wasm from a permutation held in wasm (DESIGN §3); a step
// allocates nothing and copies nothing between JS and wasm.
import { ConfigError, NumericError, ShapeError, show } from './errors.js';
import { checkKeys } from './layers/layer.js';
import { isRngState, type Sequential, type MetricName } from './model.js';
import { Tensor, asInput, asLabels, asTargets } from './tensor.js';
import type { Callback, Logs, TrainContext } from './callbacks.js';
import type { Engine } from './wasm.js';

/** A dataset resident in wasm memory. */
export class WasmData {
  readonly x: number;
  readonly y: number;
  readonly n: number;
  readonly u8: boolean;
  readonly scale: number;
  readonly shift: number;
  /** Total sum of squares of the targets about their mean (for R²), per dataset. */
  readonly sst: number;
  constructor(readonly e: Engine, x: Tensor<Float32Array | Uint8Array>, y: Int32Array | Float32Array | undefined, readonly cols: number) {
    this.n = x.rows;
    this.u8 = x.data instanceof Uint8Array;
    [this.scale, this.shift] = this.u8 ? [(x.range[1] - x.range[0]) / 255, x.range[0]] : [1, 0];
    this.x = e.upload(x.data);
    this.y = y ? e.upload(y) : 0;
    let sst = 0;
    if (y instanceof Float32Array) {
      const m = y.reduce((s, v) => s + v, 0) / y.length;
      for (const v of y) sst += (v - m) ** 2;
    }
    this.sst = sst;
  }
  /** Gathers rows idx[0..rows) into dst (floats), scaling u8 pixels on the fly. */
  gatherX(dst: number, idx: number, rows: number): void {
    if (this.u8) this.e.k.u8_gather_rows_scale(dst, this.x, idx, rows, this.cols, this.scale, this.shift);
    else this.e.k.f32_gather_rows(dst, this.x, idx, rows, this.cols);
  }
  release(): void {
    this.e.release(this.x);
    if (this.y) this.e.release(this.y);
  }
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  sampling?: 'shuffle' | 'replacement' | 'sequential';
  validationSplit?: number;
  validationData?: [unknown, unknown];
  classWeight?: Record<number, number> | number[];
  initialEpoch?: number;
  callbacks?: Callback[];
  /** Print one line per epoch when no progressBar callback is given (default false). */
  verbose?: boolean;
  /**
   * Wall-clock budget in ms: once spent, fit stops at the next batch boundary (after at least one
   * step) and returns `history.resume`. Default: no budget.
   */
  timeBudgetMs?: number;
  /** `history.resume` of a fit that stopped on its time budget: continue exactly where it stopped. */
  resume?: ResumeState;
}
const FIT_KEYS = ['epochs', 'batchSize', 'sampling', 'validationSplit', 'validationData', 'classWeight', 'initialEpoch', 'callbacks', 'verbose',
  'timeBudgetMs', 'resume'];

/**
 * Where a fit stopped on its time budget: plain numbers (JSON-serialisable), so it can be kept
 * beside a saved model. Weights and optimizer state stay in the model (or in its file, saved with
 * includeOptimizer); given back as `fit(x, y, { ...sameOptions, resume })` on the same data, the
 * run continues bit-identically to one that was never interrupted (single thread).
 */
export interface ResumeState {
  /** The epoch (0-based) and the step within it to run next. */
  epoch: number;
  step: number;
  /** The model's PRNG state (xoshiro128**, 4 × u32) now, and at the start of this epoch (its order is redrawn from it). */
  rng: number[];
  epochRng: number[];
  /** What the run was: resuming with other data or settings is refused. */
  samples: number;
  batchSize: number;
  sampling: 'shuffle' | 'replacement' | 'sequential';
  /** Running sums of this epoch's loss and metrics so far. */
  meter: MeterSums;
}

export interface History {
  epoch: number[];
  /** Per-epoch values: loss, each metric, valLoss, val<Metric>, lr. */
  history: Record<string, number[]>;
  /** Why training ended early, if it did. */
  stopped?: 'callback' | 'nan' | 'timeBudget';
  /** Set when stopped on timeBudgetMs: pass it as `fit(x, y, { ..., resume })` to continue. */
  resume?: ResumeState;
}

function checkPositiveInt(where: string, name: string, v: unknown, max = 2 ** 31 - 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new ConfigError(`${where}: ${name} is ${show(v)}; it must be an integer in [1, ${max}]`);
  }
  return v;
}

/** Validates x and y for this model and returns the data as typed arrays. */
function prepareData(model: Sequential, where: string, x: unknown, y: unknown) {
  const xt = asInput(where, 'x', x, model.inputSize);
  const loss = model.loss!;
  const yd = loss.labels ? asLabels(where, 'y', y, xt.rows, model.outputSize) : asTargets(where, 'y', y, xt.rows, model.outputSize);
  return { xt, yd };
}

/** Per-step buffers of a model for a batch size: input, targets, dpred, counters, class weights. */
class StepBuffers {
  readonly x: number; readonly y: number; readonly dpred: number; readonly correct: number; readonly idx: number;
  classWeights = 0;
  constructor(readonly e: Engine, readonly cap: number, inputSize: number, outputSize: number) {
    this.x = e.alloc(cap * inputSize * 4);
    this.y = e.alloc(cap * outputSize * 4);
    this.dpred = e.alloc(cap * outputSize * 4);
    this.correct = e.alloc(4);
    this.idx = e.alloc(cap * 4);
  }
  release(): void {
    for (const p of [this.x, this.y, this.dpred, this.correct, this.idx]) this.e.release(p);
    if (this.classWeights) this.e.release(this.classWeights);
  }
}

type MeterSums = { n: number; loss: number; correct: number; topk: number; binCorrect: number; sse: number; sae: number };
const METER_KEYS = ['n', 'loss', 'correct', 'topk', 'binCorrect', 'sse', 'sae'] as const;

/** Running sums of loss and metrics over the batches of an epoch. */
class Meter implements MeterSums {
  n = 0; loss = 0; correct = 0; topk = 0; binCorrect = 0; sse = 0; sae = 0;
  constructor(private model: Sequential, private data: WasmData, from?: MeterSums) {
    if (from) for (const k of METER_KEYS) this[k] = from[k];
  }
  sums(): MeterSums {
    return Object.fromEntries(METER_KEYS.map((k) => [k, this[k]])) as MeterSums;
  }
  add(pred: number, target: number, rows: number, loss: number, correct: number): void {
    const m = this.model, e = m.engine, N = m.outputSize;
    this.n += rows; this.loss += loss * rows; this.correct += correct;
    for (const metric of m.metrics) {
      if (metric === 'mse' || metric === 'r2') this.sse += e.k.f32_mse(0, pred, target, rows, N) * rows * N;
      else if (metric === 'mae') this.sae += e.k.f32_mae(0, pred, target, rows, N) * rows * N;
      else if (metric === 'topKAccuracy') this.topk += topK(e.f32, pred >> 2, e.i32, target >> 2, rows, N, 5);
      else if (metric === 'binaryAccuracy') {
        const f = e.f32, t = target >> 2, p = pred >> 2;
        if (m.loss!.labels) throw new ConfigError('binaryAccuracy needs real 0/1 targets');
        const thr = m.loss!.name === 'sigmoidCrossEntropy' ? 0 : 0.5;
        for (let i = 0; i < rows * N; i++) this.binCorrect += Number((f[p + i] > thr) === (f[t + i] > 0.5));
      }
    }
  }
  logs(prefix = ''): Logs {
    const m = this.model, N = m.outputSize, out: Logs = {};
    const key = (k: string) => (prefix ? prefix + k[0].toUpperCase() + k.slice(1) : k);
    out[key('loss')] = this.loss / this.n;
    for (const metric of m.metrics as MetricName[]) {
      const v = {
        accuracy: this.correct / this.n, topKAccuracy: this.topk / this.n, binaryAccuracy: this.binCorrect / (this.n * N),
        mse: this.sse / (this.n * N), mae: this.sae / (this.n * N), r2: 1 - this.sse / this.data.sst,
      }[metric];
      out[key(metric)] = v;
    }
    return out;
  }
}

/** Rows whose label is among the k largest outputs. */
function topK(f: Float32Array, p: number, labels: Int32Array, t: number, rows: number, N: number, k: number): number {
  let hits = 0;
  for (let i = 0; i < rows; i++) {
    const row = p + i * N, v = f[row + labels[t + i]];
    let above = 0;
    for (let j = 0; j < N; j++) if (f[row + j] > v) above++;
    if (above < k) hits++;
  }
  return hits;
}

function classWeightBuffer(e: Engine, where: string, cw: FitOptions['classWeight'], N: number, labels: boolean): number {
  if (cw === undefined) return 0;
  if (!labels) throw new ConfigError(`${where}: classWeight needs a classification loss with integer labels`);
  const w = new Float32Array(N).fill(1);
  for (const [k, v] of Object.entries(cw)) {
    const c = Number(k);
    if (!Number.isInteger(c) || c < 0 || c >= N) throw new ConfigError(`${where}: classWeight has class ${show(k)}; classes are 0…${N - 1}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`${where}: classWeight[${k}] is ${show(v)}; weights must be finite and ≥ 0`);
    w[c] = v;
  }
  return e.upload(w);
}

/** One pass of forward + loss (+ backward and optimizer step when training) over a batch. */
function step(model: Sequential, buf: StepBuffers, rows: number, train: boolean): { loss: number; correct: number; pred: number } {
  const e = model.engine, N = model.outputSize;
  const pred = model.forward(buf.x, rows, train);
  const loss = model.loss!.kernel(e, train ? buf.dpred : 0, pred, buf.y, rows, N, buf.classWeights, buf.correct)
    + model.activityPenalty(rows);
  const correct = model.loss!.labels ? e.i32[buf.correct >> 2] : 0;
  if (train) {
    if (!Number.isFinite(loss)) return { loss, correct, pred };
    model.zeroGrad();
    model.backward(buf.dpred, rows);
    const bad = e.k.f32_count_nonfinite(model.grads, model.trainableSize);
    if (bad > 0) return { loss: NaN, correct, pred };
    model.optimizer!.step();
  }
  return { loss, correct, pred };
}

/** Evaluates a resident dataset in inference mode; returns loss and metrics. */
function evaluateData(model: Sequential, data: WasmData, buf: StepBuffers, batchSize: number, prefix = ''): Logs {
  const meter = new Meter(model, data);
  const e = model.engine;
  for (let start = 0; start < data.n; start += batchSize) {
    const rows = Math.min(batchSize, data.n - start);
    for (let i = 0; i < rows; i++) e.i32[(buf.idx >> 2) + i] = start + i;
    gatherBatch(model, data, buf, buf.idx, rows);
    const r = step(model, buf, rows, false);
    meter.add(r.pred, buf.y, rows, r.loss, r.correct);
  }
  return meter.logs(prefix);
}

function gatherBatch(model: Sequential, data: WasmData, buf: StepBuffers, idx: number, rows: number): void {
  const k = model.engine.k;
  data.gatherX(buf.x, idx, rows);
  if (model.loss!.labels) k.i32_gather(buf.y, data.y, idx, rows);
  else k.f32_gather_rows(buf.y, data.y, idx, rows, model.outputSize);
}

const buffers = new WeakMap<Sequential, StepBuffers>();
/** Models inside fit: their step buffers must not be replaced (evaluate from a callback). */
const fitting = new WeakSet<Sequential>();
function getBuffers(model: Sequential, batch: number): StepBuffers {
  let b = buffers.get(model);
  if (!b || b.cap < batch) {
    b?.release();
    b = new StepBuffers(model.engine, batch, model.inputSize, model.outputSize);
    buffers.set(model, b);
    const release = () => { buffers.get(model)?.release(); buffers.delete(model); };
    model.releaseData = release;
  }
  model.reserve(batch);
  return b;
}

const nextTick = () => new Promise<void>((r) => setImmediate(r));

export async function fit(model: Sequential, x: unknown, y: unknown, opts: FitOptions = {}): Promise<History> {
  const where = 'Sequential.fit';
  if (!model.loss || !model.optimizer) throw new ConfigError(`${where}: the model is not compiled; call model.compile({ loss, optimizer }) first`);
  checkKeys(where, opts, FIT_KEYS);
  const epochs = checkPositiveInt(where, 'epochs', opts.epochs ?? 1);
  const sampling = opts.sampling ?? 'shuffle';
  if (!['shuffle', 'replacement', 'sequential'].includes(sampling)) {
    throw new ConfigError(`${where}: sampling is ${show(sampling)}; it must be 'shuffle', 'replacement' or 'sequential'`);
  }
  const budget = opts.timeBudgetMs === undefined ? Infinity : opts.timeBudgetMs;
  if (typeof budget !== 'number' || !(budget > 0)) {
    throw new ConfigError(`${where}: timeBudgetMs is ${show(opts.timeBudgetMs)}; it must be a number of milliseconds > 0`);
  }
  const resume = opts.resume;
  if (resume !== undefined && opts.initialEpoch !== undefined) throw new ConfigError(`${where}: give initialEpoch or resume, not both`);
  const initialEpoch = resume ? checkResume(where, resume, epochs) : opts.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs) {
    throw new ConfigError(`${where}: initialEpoch is ${show(initialEpoch)}; it must be an integer in [0, epochs)`);
  }
  const vs = opts.validationSplit ?? 0;
  if (typeof vs !== 'number' || !(vs >= 0 && vs < 1)) throw new ConfigError(`${where}: validationSplit is ${show(vs)}; it must be in [0, 1)`);
  if (vs > 0 && opts.validationData) throw new ConfigError(`${where}: give validationSplit or validationData, not both`);
  const callbacks = opts.callbacks ?? [];
  if (!Array.isArray(callbacks)) throw new ConfigError(`${where}: callbacks is ${show(callbacks)}; it must be an array`);

  const { xt, yd } = prepareData(model, where, x, y);
  let trainX = xt, trainY: Int32Array | Float32Array = yd;
  let valX: Tensor<Float32Array | Uint8Array> | undefined, valY: Int32Array | Float32Array | undefined;
  if (vs > 0) {
    // Keras: the validation set is the last fraction of the data, taken before any shuffling.
    const nVal = Math.floor(xt.rows * vs), nTrain = xt.rows - nVal;
    if (nVal < 1 || nTrain < 1) throw new ShapeError(`${where}: validationSplit ${vs} of ${xt.rows} samples leaves an empty set`);
    const per = yd.length / xt.rows;
    trainX = xt.slice(0, nTrain); valX = xt.slice(nTrain, xt.rows);
    trainY = yd.subarray(0, nTrain * per); valY = yd.subarray(nTrain * per);
  } else if (opts.validationData) {
    if (!Array.isArray(opts.validationData) || opts.validationData.length !== 2) throw new ConfigError(`${where}: validationData must be [x, y]`);
    const v = prepareData(model, `${where}: validationData`, opts.validationData[0], opts.validationData[1]);
    valX = v.xt; valY = v.yd;
  }
  const n = trainX.rows;
  const batchSize = checkPositiveInt(where, 'batchSize', opts.batchSize ?? 32);
  const bs = Math.min(batchSize, n);
  const steps = Math.ceil(n / bs);
  /** What this run is, as a resume state records it. */
  const run = { samples: n, batchSize: bs, sampling };
  if (resume) {
    const was = { samples: resume.samples, batchSize: resume.batchSize, sampling: resume.sampling };
    if (run.samples !== was.samples || run.batchSize !== was.batchSize || run.sampling !== was.sampling) {
      throw new ConfigError(`${where}: resume is from a run with ${JSON.stringify(was)}, this one has ${JSON.stringify(run)}; resume with the same data and options`);
    }
    if (resume.step >= steps) throw new ConfigError(`${where}: resume.step is ${resume.step}; an epoch of ${n} samples in batches of ${bs} has ${steps} steps`);
  }
  const e = model.engine;
  const train = new WasmData(e, trainX, trainY, model.inputSize);
  const val = valX ? new WasmData(e, valX, valY, model.inputSize) : undefined;
  const order = e.alloc(n * 4);
  const buf = getBuffers(model, Math.max(bs, val ? Math.min(val.n, 256) : 0));
  buf.classWeights = classWeightBuffer(e, where, opts.classWeight, model.outputSize, model.loss.labels);
  const history: History = { epoch: [], history: {} };
  const ctx: TrainContext = { model, epochs, steps, samples: n, batchSize: bs, stopTraining: false, history };
  if (sampling === 'sequential') for (let i = 0; i < n; i++) e.i32[(order >> 2) + i] = i;
  const t0 = performance.now();
  let lastYield = t0;
  fitting.add(model);
  try {
    model.stopTraining = false;
    for (const c of callbacks) c.onTrainBegin?.(ctx);
    for (let epoch = initialEpoch; epoch < epochs && !ctx.stopTraining; epoch++) {
      // A resumed epoch redraws its order from the PRNG state it started with, then restores the
      // state where the interrupted run stopped (dropout draws from the same stream).
      const resumed = resume && epoch === initialEpoch ? resume : undefined;
      if (resumed) model.rngState = resumed.epochRng;
      else if (performance.now() - t0 >= budget && epoch > initialEpoch) {
        history.stopped = 'timeBudget';
        history.resume = resumeState(model, epoch, 0, model.rngState, run, new Meter(model, train).sums());
        break;
      }
      const epochRng = model.rngState;
      for (const c of callbacks) c.onEpochBegin?.(epoch, ctx);
      if (sampling === 'shuffle') e.k.i32_permutation(order, n, model.rng);
      else if (sampling === 'replacement') e.k.i32_sample(order, n, n, model.rng);
      // NOTE: a stop at step 0 came before this epoch's order was drawn: its rng is epochRng, and
      // the state after the draw is the one to keep.
      if (resumed && resumed.step > 0) model.rngState = resumed.rng;
      const meter = new Meter(model, train, resumed?.meter);
      for (let s = resumed?.step ?? 0; s < steps; s++) {
        const start = s * bs, rows = Math.min(bs, n - start);
        gatherBatch(model, train, buf, order + start * 4, rows);
        const r = step(model, buf, rows, true);
        if (!Number.isFinite(r.loss)) {
          history.stopped = 'nan';
          ctx.stopTraining = true;
          const layer = firstNonFinite(model);
          const msg = `${where}: the loss became ${r.loss} at epoch ${epoch + 1}, batch ${s + 1}` +
            `${layer ? ` (first non-finite gradient in ${layer})` : ''}; training stopped and the weights from before that step are kept`;
          if (!callbacks.some((c) => c.handlesNaN)) throw new NumericError(msg);
          for (const c of callbacks) c.onNaN?.(msg, ctx);
          break;
        }
        meter.add(r.pred, buf.y, rows, r.loss, r.correct);
        for (const c of callbacks) c.onBatchEnd?.(s, { loss: r.loss, size: rows }, ctx);
        if (ctx.stopTraining) break;
        const now = performance.now();
        if (s + 1 < steps && now - t0 >= budget) {
          history.stopped = 'timeBudget';
          history.resume = resumeState(model, epoch, s + 1, epochRng, run, meter.sums());
          break;
        }
        if (now - lastYield > 20) { await nextTick(); lastYield = performance.now(); }
      }
      if (history.stopped === 'nan' || history.stopped === 'timeBudget') break;
      const logs: Logs = meter.logs();
      if (val) Object.assign(logs, evaluateData(model, val, buf, buf.cap, 'val'));
      logs.lr = model.optimizer.lr;
      history.epoch.push(epoch);
      for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
      model.epoch = epoch + 1;
      for (const c of callbacks) await c.onEpochEnd?.(epoch, logs, ctx);
      if (opts.verbose && !callbacks.some((c) => c.prints)) console.log(formatLogs(epoch + 1, epochs, logs));
      await nextTick();
      lastYield = performance.now();
    }
    if (ctx.stopTraining && !history.stopped) history.stopped = 'callback';
    for (const c of callbacks) await c.onTrainEnd?.(ctx);
  } finally {
    fitting.delete(model);
    train.release();
    val?.release();
    e.release(order);
    if (buf.classWeights) { e.release(buf.classWeights); buf.classWeights = 0; }
  }
  return history;
}

function resumeState(model: Sequential, epoch: number, step: number, epochRng: number[],
                     run: Pick<ResumeState, 'samples' | 'batchSize' | 'sampling'>, meter: MeterSums): ResumeState {
  return { epoch, step, rng: model.rngState, epochRng, ...run, meter };
}

/** Validates a resume state's shape (what it must match is checked once the data is known); returns its epoch. */
function checkResume(where: string, r: ResumeState, epochs: number): number {
  const bad = (what: string) => new ConfigError(`${where}: resume${what}; pass the history.resume of a fit stopped by timeBudgetMs`);
  if (typeof r !== 'object' || r === null) throw bad(` is ${show(r)}`);
  if (!Number.isInteger(r.epoch) || r.epoch < 0 || r.epoch >= epochs) throw bad(`.epoch is ${show(r.epoch)}, epochs is ${epochs}; it must be an integer in [0, epochs)`);
  if (!Number.isInteger(r.step) || r.step < 0) throw bad(`.step is ${show(r.step)}; it must be an integer ≥ 0`);
  if (!isRngState(r.rng)) throw bad(`.rng is ${show(r.rng)}; it must be 4 unsigned 32-bit integers, not all 0`);
  if (!isRngState(r.epochRng)) throw bad(`.epochRng is ${show(r.epochRng)}; it must be 4 unsigned 32-bit integers, not all 0`);
  if (typeof r.meter !== 'object' || r.meter === null || !METER_KEYS.every((k) => typeof r.meter[k] === 'number')) {
    throw bad(`.meter is ${show(r.meter)}; it must hold the numbers ${METER_KEYS.join(', ')}`);
  }
  return r.epoch;
}

function firstNonFinite(model: Sequential): string | undefined {
  const k = model.engine.k;
  const p = model.paramRefs.find((q) => q.trainable && k.f32_count_nonfinite(q.grad, q.size) > 0);
  return p?.name;
}

export function formatLogs(epoch: number, epochs: number, logs: Logs): string {
  const parts = Object.entries(logs).filter(([k]) => k !== 'lr').map(([k, v]) => `${k} ${v.toFixed(4)}`);
  return `epoch ${epoch}/${epochs} · ${parts.join(' · ')}`;
}

export function evaluate(model: Sequential, x: unknown, y: unknown, opts: { batchSize?: number } = {}): Logs {
  const where = 'Sequential.evaluate';
  if (!model.loss) throw new ConfigError(`${where}: the model is not compiled; call model.compile({ loss, optimizer }) first`);
  checkKeys(where, opts, ['batchSize']);
  const batchSize = checkPositiveInt(where, 'batchSize', opts.batchSize ?? 256);
  const { xt, yd } = prepareData(model, where, x, y);
  const data = new WasmData(model.engine, xt, yd, model.inputSize);
  const bs = Math.min(batchSize, data.n);
  // Called from a callback inside fit, it gets buffers of its own: fit's are in use.
  const own = fitting.has(model) ? new StepBuffers(model.engine, bs, model.inputSize, model.outputSize) : undefined;
  try {
    if (own) model.reserve(bs);
    return evaluateData(model, data, own ?? getBuffers(model, bs), bs);
  } finally {
    data.release();
    own?.release();
  }
}

/** Outputs for every row of x (inference mode), as a [n, outputs] Float32Array tensor. */
export function predict(model: Sequential, x: unknown, opts: { batchSize?: number } = {}): Tensor<Float32Array> {
  const where = 'Sequential.predict';
  checkKeys(where, opts, ['batchSize']);
  const batchSize = checkPositiveInt(where, 'batchSize', opts.batchSize ?? 256);
  const xt = asInput(where, 'x', x, model.inputSize);
  const e = model.engine, N = model.outputSize;
  const data = new WasmData(e, xt, undefined, model.inputSize);
  const bs = Math.min(batchSize, data.n);
  const xb = e.alloc(bs * model.inputSize * 4), idx = e.alloc(bs * 4);
  const out = new Float32Array(data.n * N);
  try {
    model.reserve(bs);
    for (let start = 0; start < data.n; start += bs) {
      const rows = Math.min(bs, data.n - start);
      for (let i = 0; i < rows; i++) e.i32[(idx >> 2) + i] = start + i;
      data.gatherX(xb, idx, rows);
      const p = model.forward(xb, rows, false);
      out.set(e.f32.subarray(p >> 2, (p >> 2) + rows * N), start * N);
    }
  } finally {
    data.release();
    e.release(xb);
    e.release(idx);
  }
  return new Tensor(out, [data.n, N]);
}
