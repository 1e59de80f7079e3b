// fit: its options checked into a plan before anything is allocated, then a loop over the model's
// step. Data is copied into wasm memory once (u8 images stay u8) and every batch is gathered in
// wasm from an order held in wasm (DESIGN §3); a step allocates nothing and copies nothing
// between JS and wasm.
import { ConfigError, NumericError, ShapeError, show } from './errors.js';
import { checkInt, checkKeys, checkOneOf } from './validate.js';
import { Meter, METER_KEYS, type Logs, type MeterSums } from './metrics.js';
import type { Model } from './model.js';
import { isRngState } from './random.js';
import { WasmData, withData, type StepBuffers } from './step.js';
import type { Tensor } from './tensor.js';
import { formatLogs, logNames, type Callback, type History, type ResumeState, type TrainContext } from './callbacks.js';

export type { ResumeState };

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  sampling?: 'shuffle' | 'replacement' | 'sequential';
  validationSplit?: number;
  validationData?: [unknown, unknown] | [unknown, unknown, unknown];
  classWeight?: Record<number, number> | number[];
  /** One loss weight per sample (Keras sample_weight; split with validationSplit; validationData may be [x, y, sampleWeight]). */
  sampleWeight?: Float32Array | readonly number[];
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
  /**
   * Gradient accumulation: each optimizer step sums the gradients of this many batches of
   * batchSize rows, each scaled by its share of their rows — the step of one batch k× larger, in
   * the memory of one batch (default 1). An epoch's last step takes what is left (fewer batches,
   * scaled by their actual rows). onBatchEnd runs once per optimizer step. Batch norm normalises
   * each batch by its own statistics, so with it the result is close to, not the same as, the
   * larger batch.
   */
  accumulate?: number;
}
const FIT_KEYS = ['epochs', 'batchSize', 'sampling', 'validationSplit', 'validationData', 'classWeight', 'sampleWeight', 'initialEpoch', 'callbacks', 'verbose',
  'timeBudgetMs', 'resume', 'accumulate'];
const SAMPLINGS = ['shuffle', 'replacement', 'sequential'] as const;
const MAX_INT = 2 ** 31 - 1;

type Data = { x: Tensor<Float32Array | Uint8Array>; y: Int32Array | Float32Array; sw?: Float32Array };

/** A fit's options, checked and resolved, and its data split: everything known before allocating. */
interface Plan {
  epochs: number; initialEpoch: number; sampling: ResumeState['sampling']; budget: number; resume?: ResumeState;
  callbacks: Callback[]; verbose: boolean; train: Data; val?: Data; classWeights?: Float32Array;
  /** Batch size (at most the samples), batches per epoch, and batches per optimizer step. */
  bs: number; steps: number; accumulate: number;
}

function plan(model: Model, where: string, x: unknown, y: unknown, opts: FitOptions): Plan {
  checkKeys(where, opts, FIT_KEYS);
  model.applyTrainable(where);
  const epochs = checkInt(where, 'epochs', opts.epochs ?? 1, 1, MAX_INT);
  const sampling = checkOneOf(where, 'sampling', opts.sampling ?? 'shuffle', SAMPLINGS);
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
  const batchSize = checkInt(where, 'batchSize', opts.batchSize ?? 32, 1, MAX_INT);
  const accumulate = checkInt(where, 'accumulate', opts.accumulate ?? 1, 1, MAX_INT);
  const classWeights = classWeightArray(where, opts.classWeight, model);

  const b = model.batch(where, x, y);
  const all: Data = { ...b, sw: model.sampleWeights(where, opts.sampleWeight, b.x.rows) };
  let train: Data = all, val: Data | undefined;
  if (vs > 0) {
    // Keras: the validation set is the last fraction of the data, taken before any shuffling.
    const n = all.x.rows, nVal = Math.floor(n * vs), nTrain = n - nVal, per = all.y.length / n;
    if (nVal < 1 || nTrain < 1) throw new ShapeError(`${where}: validationSplit ${vs} of ${n} samples leaves an empty set`);
    train = { x: all.x.slice(0, nTrain), y: all.y.subarray(0, nTrain * per), sw: all.sw?.subarray(0, nTrain) };
    val = { x: all.x.slice(nTrain, n), y: all.y.subarray(nTrain * per), sw: all.sw?.subarray(nTrain) };
  } else if (opts.validationData !== undefined) {
    const vd = opts.validationData;
    if (!Array.isArray(vd) || vd.length < 2 || vd.length > 3) {
      throw new ConfigError(`${where}: validationData is ${show(vd)}; it must be [x, y] or [x, y, sampleWeight]`);
    }
    const vb = model.batch(`${where}: validationData`, vd[0], vd[1]);
    val = { ...vb, sw: model.sampleWeights(`${where}: validationData`, vd[2], vb.x.rows) };
  }
  const n = train.x.rows, bs = Math.min(batchSize, n), steps = Math.ceil(n / bs);
  if (resume) {
    const was = { samples: resume.samples, batchSize: resume.batchSize, sampling: resume.sampling };
    const now = { samples: n, batchSize: bs, sampling };
    if (now.samples !== was.samples || now.batchSize !== was.batchSize || now.sampling !== was.sampling) {
      throw new ConfigError(`${where}: resume is from a run with ${JSON.stringify(was)}, this one has ${JSON.stringify(now)}; resume with the same data and options`);
    }
    if (resume.step >= steps) throw new ConfigError(`${where}: resume.step is ${resume.step}; an epoch of ${n} samples in batches of ${bs} has ${steps} steps`);
    if (resume.step % accumulate !== 0) throw new ConfigError(`${where}: resume.step is ${resume.step}, not a multiple of accumulate ${accumulate}; resume with the accumulate of the run that stopped`);
  }
  return { epochs, initialEpoch, sampling, budget, resume, callbacks, verbose: Boolean(opts.verbose), train, val, classWeights, bs, steps, accumulate };
}

/** Per-class loss weights (1 for classes not named), or undefined when none are given. */
function classWeightArray(where: string, cw: FitOptions['classWeight'], model: Model): Float32Array | undefined {
  if (cw === undefined) return undefined;
  const N = model.outputSize;
  if (!model.loss?.labels || !model.loss.weighted) throw new ConfigError(`${where}: classWeight is given; it needs a built-in classification loss (integer labels or class distributions)`);
  if (typeof cw !== 'object' || cw === null) throw new ConfigError(`${where}: classWeight is ${show(cw)}; it must be an array or an object of class → weight`);
  const w = new Float32Array(N).fill(1);
  for (const [k, v] of Object.entries(cw)) {
    const c = Number(k);
    if (!Number.isInteger(c) || c < 0 || c >= N) throw new ConfigError(`${where}: classWeight has class ${show(k)}; classes are 0…${N - 1}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`${where}: classWeight[${k}] is ${show(v)}; it must be a finite number ≥ 0`);
    w[c] = v;
  }
  return w;
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
  const pen = r.penalties;
  if (pen !== undefined && (typeof pen !== 'object' || pen === null || !Number.isFinite(pen.activity) || !Number.isFinite(pen.weight))) {
    throw bad(`.penalties is ${show(pen)}; it must be { activity, weight }, two finite numbers`);
  }
  return r.epoch;
}

const nextTick = () => new Promise<void>((r) => setImmediate(r));

export async function fit(model: Model, x: unknown, y: unknown, opts: FitOptions = {}): Promise<History> {
  const where = 'Sequential.fit';
  model.checkIdle(where);
  const p = plan(model, where, x, y, opts);
  const e = model.engine, cols = model.inputSize;
  const sets = [() => new WasmData(e, p.train.x, p.train.y, cols, p.train.sw), ...(p.val ? [() => new WasmData(e, p.val!.x, p.val!.y, cols, p.val!.sw)] : [])];
  const cap = Math.max(p.bs, p.val ? Math.min(p.val.x.rows, 256) : 0);
  return withData(e, sets, ([train, val]) => model.fitSession(where, cap, async (buf) => {
    const cwBytes = p.classWeights?.byteLength ?? 0, accBytes = p.accumulate > 1 ? Math.max(1, model.trainableSize) * 4 : 0;
    const [order, ...more] = e.allocAll([train.n * 4, cwBytes, accBytes].filter((b) => b > 0));
    const cw = cwBytes ? more.shift()! : 0, acc = accBytes ? more.shift()! : 0;
    try {
      if (cwBytes) e.write(cw, p.classWeights!);
      buf.classWeights = cwBytes ? cw : 0;
      return await new Run(model, where, p, train, val, buf, order, accBytes ? acc : 0).epochs();
    } finally {
      buf.classWeights = 0;
      e.release(order);
      if (cwBytes) e.release(cw);
      if (accBytes) e.release(acc);
    }
  }));
}

/** One fit in progress: its plan, data, buffers, history and clock. */
class Run {
  readonly history: History = { epoch: [], history: {} };
  readonly ctx: TrainContext;
  private readonly t0 = performance.now();
  /** Whether the model has weight or activity penalties (its logs then hold dataLoss). */
  private readonly penalties: boolean;
  private lastYield = this.t0;

  constructor(readonly model: Model, readonly where: string, readonly p: Plan, readonly train: WasmData,
              readonly val: WasmData | undefined, readonly buf: StepBuffers, readonly order: number, readonly acc: number) {
    this.penalties = model.hasPenalties;
    this.ctx = {
      model, epochs: p.epochs, steps: Math.ceil(p.steps / p.accumulate), samples: train.n, batchSize: p.bs, history: this.history,
      logs: logNames(model.metrics, Boolean(val), this.penalties),
      get stopTraining() { return model.stopTraining; },
      set stopTraining(v: boolean) { model.stopTraining = v; },
    };
    if (p.sampling === 'sequential') for (let i = 0; i < train.n; i++) model.engine.i32[(order >> 2) + i] = i;
  }

  /** The epochs, with the callbacks around them; stops on stopTraining, a NaN or the time budget. */
  async epochs(): Promise<History> {
    const { model, p, ctx, history } = this;
    model.stopTraining = false;
    for (const c of p.callbacks) c.onTrainBegin?.(ctx);
    for (let epoch = p.initialEpoch; epoch < p.epochs && !model.stopTraining && !history.stopped; epoch++) {
      model.checkNotDisposed(this.where, `epoch ${epoch + 1}, batch 1`);
      const logs = await this.epoch(epoch);
      if (!logs) break;
      if (this.val) {
        // Keras reports the validation loss without class weights (sample weights of the validation data do count).
        const cw = this.buf.classWeights;
        this.buf.classWeights = 0;
        try {
          Object.assign(logs, model.evaluateData(this.val, this.buf, this.buf.cap, 'val'));
        } finally {
          this.buf.classWeights = cw;
        }
      }
      logs.lr = model.optimizer!.lr;
      history.epoch.push(epoch);
      for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
      model.epoch = epoch + 1;
      for (const c of p.callbacks) await c.onEpochEnd?.(epoch, logs, ctx);
      if (p.verbose && !p.callbacks.some((c) => c.prints)) console.log(formatLogs(epoch + 1, p.epochs, logs));
      await this.yieldNow();
    }
    model.checkNotDisposed(this.where, 'end of training');
    if (model.stopTraining && !history.stopped) history.stopped = 'callback';
    for (const c of p.callbacks) await c.onTrainEnd?.(ctx);
    return history;
  }

  /** Draws the epoch's order and runs its steps; its logs, or undefined when it stopped on a NaN or the budget. */
  private async epoch(epoch: number): Promise<Logs | undefined> {
    const { model, p, buf, train } = this, e = model.engine, n = train.n;
    // A resumed epoch redraws its order from the PRNG state it started with, then restores the
    // state where the interrupted run stopped (dropout draws from the same stream).
    const resumed = p.resume && epoch === p.initialEpoch ? p.resume : undefined;
    if (resumed) model.rngState = resumed.epochRng;
    else if (epoch > p.initialEpoch && this.spent()) return this.stopOnBudget(epoch, 0, model.rngState, this.meter().sums(), { activity: 0, weight: 0 });
    const epochRng = model.rngState;
    for (const c of p.callbacks) c.onEpochBegin?.(epoch, this.ctx);
    if (p.sampling === 'shuffle') e.k.i32_permutation(this.order, n, model.rng);
    else if (p.sampling === 'replacement') e.k.i32_sample(this.order, n, n, model.rng);
    // NOTE: a stop at step 0 came before this epoch's order was drawn: its rng is epochRng, and
    // the state after the draw is the one to keep.
    if (resumed && resumed.step > 0) model.rngState = resumed.rng;
    const meter = this.meter(resumed?.meter), labels = model.loss!.labels, k = p.accumulate, bs = p.bs;
    // Penalty sums over the epoch's rows: activity (already in the meter's loss) and weight.
    const pen = { ...(resumed?.penalties ?? { activity: 0, weight: 0 }) };
    for (let s = resumed?.step ?? 0; s < p.steps; s += k) {
      // One optimizer step: batches s … s + group − 1 (k of them, fewer at the epoch's end).
      const group = Math.min(k, p.steps - s), total = Math.min(group * bs, n - s * bs);
      const weight = this.penalties ? model.weightPenalty() : 0;
      let loss = 0, correct = 0;
      for (let j = 0; j < group; j++) {
        const b = s + j, rows = Math.min(bs, n - b * bs);
        model.checkNotDisposed(this.where, `epoch ${epoch + 1}, batch ${b + 1}`);
        buf.gather(train, this.order + b * bs * 4, rows, model.outputSize);
        const r = group === 1 ? model.runStep(buf, rows, true) : model.accumulateStep(buf, rows, rows / total, this.acc, j === 0, j === group - 1);
        if (!Number.isFinite(r.loss)) return this.stopOnNaN(`the loss became ${r.loss} at epoch ${epoch + 1}, batch ${b + 1}`);
        meter.addStep(r, buf);
        pen.activity += r.penalty * rows;
        loss += r.loss * rows;
        correct += r.correct;
      }
      pen.weight += weight * total;
      for (const c of p.callbacks) c.onBatchEnd?.(Math.floor(s / k), { loss: loss / total + weight, size: total, ...(labels && { correct }) }, this.ctx);
      if (model.stopTraining) break;
      if (s + group < p.steps && this.spent()) return this.stopOnBudget(epoch, s + group, epochRng, meter.sums(), pen);
      if (performance.now() - this.lastYield > 20) await this.yieldNow();
    }
    model.checkNotDisposed(this.where, `end of epoch ${epoch + 1}`);
    const rows = meter.sums().n;
    return model.penaltyLogs(meter.logs(), '', pen.activity / rows, pen.weight / rows);
  }

  private meter(sums?: MeterSums): Meter {
    return this.model.meter(this.train.sst, sums);
  }
  private spent(): boolean { return performance.now() - this.t0 >= this.p.budget; }
  /** Lets the event loop serve progress, signals and dispose() between batches. */
  private async yieldNow(): Promise<void> {
    await nextTick();
    this.lastYield = performance.now();
  }
  private stopOnBudget(epoch: number, step: number, epochRng: number[], meter: MeterSums, penalties: ResumeState['penalties']): undefined {
    const p = this.p;
    this.history.stopped = 'timeBudget';
    this.history.resume = { epoch, step, rng: this.model.rngState, epochRng, samples: this.train.n, batchSize: p.bs, sampling: p.sampling, meter, penalties };
    return undefined;
  }
  /** A non-finite loss or gradient: the weights from before that step are kept; NumericError unless a callback handles it. */
  private stopOnNaN(what: string): undefined {
    const { model, ctx } = this, k = model.engine.k;
    this.history.stopped = 'nan';
    model.stopTraining = true;
    const layer = model.paramRefs.find((q) => q.trainable && k.f32_count_nonfinite(q.grad, q.size) > 0)?.name;
    const msg = `${this.where}: ${what}${layer ? ` (first non-finite gradient in ${layer})` : ''}; training stopped and the weights from before that step are kept`;
    if (!this.p.callbacks.some((c) => c.handlesNaN)) throw new NumericError(msg);
    for (const c of this.p.callbacks) c.onNaN?.(msg, ctx);
    return undefined;
  }
}
