// Training callbacks (Keras-like): progress, early stopping, checkpoints, learning-rate control,
// NaN handling, CSV logging, and plain user hooks.
import { appendFileSync, writeFileSync } from 'node:fs';
import { ConfigError, show } from './errors.js';
import { writeAtomic } from './io/fs.js';
import { modelToBytes } from './io/model-bytes.js';
import { checkInt, checkKeys, checkNum, checkOneOf } from './validate.js';
import type { Logs, MeterSums } from './metrics.js';
import type { Model } from './model.js';

export type { Logs };

export interface History {
  epoch: number[];
  /** Per-epoch values: loss, dataLoss (a model with penalties), each metric, valLoss, valDataLoss, val<Metric>, lr. */
  history: Record<string, number[]>;
  /** Why training ended early, if it did. */
  stopped?: 'callback' | 'nan' | 'timeBudget';
  /** Set when stopped on timeBudgetMs: pass it as `fit(x, y, { ..., resume })` to continue. */
  resume?: ResumeState;
}

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
  /** Running sums (over rows) of this epoch's activity and weight penalties so far. */
  penalties?: { activity: number; weight: number };
}

/** One line of an epoch's logs: `epoch 3/10 · loss 0.4123 · accuracy 0.8512`. */
export function formatLogs(epoch: number, epochs: number, logs: Logs): string {
  const parts = Object.entries(logs).filter(([k]) => k !== 'lr').map(([k, v]) => `${k} ${v.toFixed(4)}`);
  return `epoch ${epoch}/${epochs} · ${parts.join(' · ')}`;
}

export interface TrainContext {
  model: Model;
  epochs: number;
  steps: number;
  samples: number;
  batchSize: number;
  /** Set by a callback to end training after the current batch (the same flag as model.stopTraining). */
  stopTraining: boolean;
  history: History;
  /** The names of the logs each epoch will have (loss, metrics, valLoss, val<Metric>, lr): monitors are checked against them at onTrainBegin. */
  logs?: readonly string[];
}

/**
 * The logs an epoch of fit will produce: loss (with the weight and activity penalties, as Keras),
 * dataLoss (without them; for a model with penalties), each metric, then the same with val
 * (valLoss, valDataLoss, val<Metric>) with validation data, then lr.
 */
export function logNames(metrics: readonly string[], validation: boolean, penalties = false): string[] {
  const own = ['loss', ...(penalties ? ['dataLoss'] : []), ...metrics];
  return [...own, ...(validation ? own.map((k) => 'val' + k[0].toUpperCase() + k.slice(1)) : []), 'lr'];
}

/** Keras/TF.js spellings of a log name: `val_loss` → valLoss, `acc` → accuracy, `val_acc` → valAccuracy. */
export function logName(name: string): string {
  if (typeof name !== 'string') return name;
  const n = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return n === 'acc' ? 'accuracy' : n === 'valAcc' ? 'valAccuracy' : n;
}

/** Fails at onTrainBegin when fit will not produce the monitored log (valLoss without validation data). */
function checkMonitor(where: string, monitor: string, ctx: TrainContext): void {
  if (!ctx.logs || ctx.logs.includes(monitor)) return;
  const val = /^val[A-Z]/.test(monitor) ? '; pass validationData or validationSplit to fit, or monitor one of the training logs' : '';
  throw new ConfigError(`${where}: monitor ${show(monitor)} is not among the logs this fit produces (${ctx.logs.join(', ')})${val}`);
}

export interface Callback {
  onTrainBegin?(ctx: TrainContext): void;
  onEpochBegin?(epoch: number, ctx: TrainContext): void;
  /** `correct`: rows whose label was predicted, for classification losses. */
  onBatchEnd?(batch: number, logs: { loss: number; size: number; correct?: number }, ctx: TrainContext): void;
  onEpochEnd?(epoch: number, logs: Logs, ctx: TrainContext): void | Promise<void>;
  onTrainEnd?(ctx: TrainContext): void | Promise<void>;
  /** Called instead of throwing NumericError when a callback handles non-finite losses. */
  onNaN?(message: string, ctx: TrainContext): void;
  readonly handlesNaN?: boolean;
  /** Whether this callback prints per-epoch lines (fit's verbose line is then omitted). */
  readonly prints?: boolean;
}

function monitorValue(where: string, logs: Logs, monitor: string): number | undefined {
  const v = logs[monitor];
  if (v === undefined) {
    throw new ConfigError(`${where}: monitor ${show(monitor)} is not among the logs (${Object.keys(logs).join(', ')})`);
  }
  return v;
}
/** 'min' for losses and errors, 'max' for accuracies and R². */
function modeFor(monitor: string, mode: 'auto' | 'min' | 'max'): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /accuracy|r2/i.test(monitor) ? 'max' : 'min';
}
const MODES = ['auto', 'min', 'max'] as const;
const checkMode = (where: string, mode: unknown) => checkOneOf(where, 'mode', mode, MODES);
/** A number ≥ 0 (an integer when `integer`). */
function nonNeg(where: string, name: string, v: unknown, integer = false): number {
  return integer ? checkInt(where, name, v, 0) : checkNum(where, name, v, (x) => x >= 0, 'a number ≥ 0');
}

/** Tracks the best value of a monitored quantity. */
class Best {
  value: number;
  constructor(readonly mode: 'min' | 'max', readonly minDelta: number) {
    this.value = mode === 'min' ? Infinity : -Infinity;
  }
  /** Whether v improves on `than` (the best so far) by more than minDelta. */
  improves(v: number, than = this.value): boolean {
    return this.mode === 'min' ? v < than - this.minDelta : v > than + this.minDelta;
  }
}

/** A monitored log: its simdnn name (valLoss, accuracy, …) or its Keras/TF.js spelling (val_loss, acc, val_acc). */
export type MonitorName = 'loss' | 'valLoss' | 'accuracy' | 'valAccuracy' | 'val_loss' | 'acc' | 'val_acc' | 'val_accuracy' | (string & {});

export interface EarlyStoppingOptions {
  /**
   * patience: epochs without improvement after which training stops (Keras 3: patience 5 stops at
   * the 5th epoch without one); 0 stops at the first.
   */
  monitor?: MonitorName; patience?: number; minDelta?: number; mode?: 'auto' | 'min' | 'max'; restoreBest?: boolean;
  /** Keras: a value the monitored log must beat; epochs that improve on the best but not on it count as without improvement. */
  baseline?: number;
  /** Keras: epochs (0-based) before this one are not monitored (a warm-up). Default 0. */
  startFromEpoch?: number;
  /** Keras's name for restoreBest. */
  restoreBestWeights?: boolean;
}

/** Keras's spelling of an option: the same option under two names, at most one given. */
function alias<T extends object>(where: string, opts: T, name: keyof T & string, keras: keyof T & string): void {
  if (opts[keras] === undefined) return;
  if (opts[name] !== undefined) throw new ConfigError(`${where}: ${name} and ${keras} are given; they are the same option, give one`);
  (opts as Record<string, unknown>)[name] = opts[keras];
}

export function earlyStopping(given: EarlyStoppingOptions = {}): Callback {
  const where = 'earlyStopping';
  checkKeys(where, given, ['monitor', 'patience', 'minDelta', 'mode', 'restoreBest', 'restoreBestWeights', 'baseline', 'startFromEpoch']);
  const opts = { ...given };
  alias(where, opts, 'restoreBest', 'restoreBestWeights');
  const monitor = logName(opts.monitor ?? 'valLoss');
  const patience = nonNeg(where, 'patience', opts.patience ?? 0, true);
  const minDelta = nonNeg(where, 'minDelta', opts.minDelta ?? 0);
  const mode = checkMode(where, opts.mode ?? 'auto');
  const baseline = opts.baseline === undefined ? undefined : checkNum(where, 'baseline', opts.baseline, Number.isFinite, 'a finite number');
  const startFromEpoch = nonNeg(where, 'startFromEpoch', opts.startFromEpoch ?? 0, true);
  let best: Best, wait = 0, weights: Map<string, Float32Array> | undefined;
  return {
    onTrainBegin(ctx) { checkMonitor(where, monitor, ctx); best = new Best(modeFor(monitor, mode), minDelta); wait = 0; weights = undefined; },
    // As Keras 3's EarlyStopping.on_epoch_end.
    onEpochEnd(epoch, logs, ctx) {
      const v = monitorValue(where, logs, monitor)!;
      if (epoch < startFromEpoch) return;
      wait++;
      if (best.improves(v)) {
        best.value = v;
        if (opts.restoreBest) weights = ctx.model.getWeights();
        if (baseline === undefined || best.improves(v, baseline)) wait = 0;
        return;
      }
      if (wait >= patience && epoch > 0) ctx.stopTraining = true;
    },
    onTrainEnd(ctx) { if (opts.restoreBest && weights) ctx.model.setWeights(weights); },
  };
}

/**
 * Saves the model at the end of an epoch (every epoch, or when `monitor` improves with
 * saveBestOnly): to `path` as a .simdnn file (atomic; `{epoch}` in the path becomes the 1-based
 * epoch; `includeOptimizer` keeps what exact resumption needs), or through a `save` function.
 */
export interface ModelCheckpointOptions {
  path?: string; includeOptimizer?: boolean;
  save?: (model: Model, epoch: number, logs: Logs) => void | Promise<void>;
  monitor?: MonitorName; saveBestOnly?: boolean; mode?: 'auto' | 'min' | 'max';
  /** Keras's name for path. */
  filepath?: string;
}

export function modelCheckpoint(given: ModelCheckpointOptions): Callback {
  const where = 'modelCheckpoint';
  checkKeys(where, given, ['path', 'includeOptimizer', 'save', 'monitor', 'saveBestOnly', 'mode', 'filepath']);
  const opts = { ...given };
  alias(where, opts, 'path', 'filepath');
  if ((opts?.path === undefined) === (opts?.save === undefined)) throw new ConfigError(`${where}: give a path or a save function (model, epoch, logs) => void, not both`);
  if (opts.save !== undefined && typeof opts.save !== 'function') throw new ConfigError(`${where}: save is ${show(opts.save)}; it must be a function (model, epoch, logs) => void`);
  if (opts.path !== undefined && (typeof opts.path !== 'string' || opts.path === '')) throw new ConfigError(`${where}: path is ${show(opts.path)}; it must be a non-empty string`);
  const save = opts.save ?? ((model: Model, epoch: number) =>
    writeAtomic(opts.path!.replaceAll('{epoch}', String(epoch + 1)), modelToBytes(model, { includeOptimizer: opts.includeOptimizer ?? false }), where));
  const monitor = logName(opts.monitor ?? 'valLoss');
  const mode = checkMode(where, opts.mode ?? 'auto');
  let best: Best;
  return {
    onTrainBegin(ctx) { if (opts.saveBestOnly) checkMonitor(where, monitor, ctx); best = new Best(modeFor(monitor, mode), 0); },
    async onEpochEnd(epoch, logs, ctx) {
      if (opts.saveBestOnly) {
        const v = monitorValue(where, logs, monitor)!;
        if (!best.improves(v)) return;
        best.value = v;
      }
      await save(ctx.model, epoch, logs);
    },
  };
}

/** Sets the learning rate at the start of each epoch from schedule(epoch, lr). */
export function learningRateScheduler(schedule: (epoch: number, lr: number) => number): Callback {
  if (typeof schedule !== 'function') throw new ConfigError(`learningRateScheduler: schedule is ${show(schedule)}; it must be (epoch, lr) => lr`);
  return {
    onEpochBegin(epoch, ctx) {
      const lr = schedule(epoch, ctx.model.optimizer!.lr);
      if (typeof lr !== 'number' || !(lr > 0) || !Number.isFinite(lr)) throw new ConfigError(`learningRateScheduler: schedule(${epoch}) returned ${show(lr)}; it must be a finite number > 0`);
      ctx.model.optimizer!.lr = lr;
    },
  };
}

/** Multiplies the learning rate by `factor` when the monitored value stalls for `patience` epochs. */
export interface ReduceLROnPlateauOptions {
  monitor?: MonitorName; factor?: number; patience?: number; minDelta?: number; cooldown?: number; minLr?: number; mode?: 'auto' | 'min' | 'max';
  /** Keras's name for minDelta. */
  epsilon?: number;
}

export function reduceLROnPlateau(given: ReduceLROnPlateauOptions = {}): Callback {
  const where = 'reduceLROnPlateau';
  checkKeys(where, given, ['monitor', 'factor', 'patience', 'minDelta', 'cooldown', 'minLr', 'mode', 'epsilon']);
  const opts = { ...given };
  alias(where, opts, 'minDelta', 'epsilon');
  const monitor = logName(opts.monitor ?? 'valLoss');
  const factor = opts.factor ?? 0.1;
  if (typeof factor !== 'number' || !(factor > 0 && factor < 1)) throw new ConfigError(`${where}: factor must be in (0, 1), got ${show(factor)}`);
  const patience = nonNeg(where, 'patience', opts.patience ?? 10, true);
  const minDelta = nonNeg(where, 'minDelta', opts.minDelta ?? 1e-4);
  const cooldown = nonNeg(where, 'cooldown', opts.cooldown ?? 0, true);
  const minLr = nonNeg(where, 'minLr', opts.minLr ?? 0);
  const mode = checkMode(where, opts.mode ?? 'auto');
  let best: Best, wait = 0, cool = 0;
  return {
    onTrainBegin(ctx) { checkMonitor(where, monitor, ctx); best = new Best(modeFor(monitor, mode), minDelta); wait = 0; cool = 0; },
    onEpochEnd(_e, logs, ctx) {
      const v = monitorValue(where, logs, monitor)!;
      if (cool > 0) { cool--; wait = 0; }
      if (best.improves(v)) { best.value = v; wait = 0; return; }
      if (cool === 0 && ++wait >= patience) {
        const opt = ctx.model.optimizer!;
        opt.lr = Math.max(opt.lr * factor, minLr);
        cool = cooldown; wait = 0;
      }
    },
  };
}

/** Ends training at the first non-finite loss, keeping the weights from before that step. */
export function terminateOnNaN(opts: { log?: (s: string) => void } = {}): Callback {
  checkKeys('terminateOnNaN', opts, ['log']);
  return {
    handlesNaN: true,
    onNaN(message) { (opts.log ?? console.warn)(message); },
  };
}

/** Appends one CSV row per epoch (epoch, then every log) to a file. */
export function csvLogger(path: string, opts: { separator?: string; append?: boolean } = {}): Callback {
  checkKeys('csvLogger', opts, ['separator', 'append']);
  if (typeof path !== 'string' || path === '') throw new ConfigError(`csvLogger: path is ${show(path)}; it must be a file path`);
  const sep = opts.separator ?? ',';
  let keys: string[] | undefined;
  return {
    onTrainBegin() { keys = undefined; if (!opts.append) writeFileSync(path, ''); },
    onEpochEnd(epoch, logs) {
      if (!keys) {
        keys = Object.keys(logs);
        if (!opts.append) appendFileSync(path, ['epoch', ...keys].join(sep) + '\n');
      }
      appendFileSync(path, [epoch, ...keys.map((k) => logs[k])].join(sep) + '\n');
    },
  };
}

type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number; on?(ev: 'resize', f: () => void): unknown; off?(ev: 'resize', f: () => void): unknown };

/**
 * Fits a progress line into `columns − 1` characters (the last column would wrap on some
 * terminals): `head` always, then the bar shortened down to 8 cells, then `fields` dropped from
 * the end; the bar goes last, and a line still too long is cut.
 */
export function fitProgressLine(columns: number, head: string, frac: number, fields: string[], barWidth = 30): string {
  const max = Math.max(1, columns - 1);
  const bar = (w: number) => '█'.repeat(Math.round(Math.min(1, Math.max(0, frac)) * w)).padEnd(w, '·');
  for (let n = fields.length; n >= 0; n--) {
    const rest = fields.slice(0, n).map((f) => ` · ${f}`).join('');
    const w = Math.min(barWidth, max - head.length - 2 - rest.length);
    if (w >= 8) return `${head} ${bar(w)}${rest}`;
  }
  for (let n = fields.length; n >= 0; n--) {
    const line = head + fields.slice(0, n).map((f) => ` · ${f}`).join('');
    if (line.length <= max) return line;
  }
  return head.slice(0, max);
}

/**
 * Progress: on a terminal, a live line redrawn in place (`epoch 3/10 ████···· 120/469 · loss … ·
 * accuracy … · samples/s · ETA`) that fits the terminal's width, read again at every draw and
 * on resize; otherwise one line per epoch.
 */
export function progressBar(opts: { stream?: ProgressStream; width?: number } = {}): Callback {
  checkKeys('progressBar', opts, ['stream', 'width']);
  const out: ProgressStream = opts.stream ?? process.stderr;
  const tty = Boolean(out.isTTY);
  let t0 = 0, seen = 0, lossSum = 0, correct = 0, hasCorrect = false, lastDraw = 0, epochNo = 0;
  let draw: (() => void) | undefined;
  const redraw = () => draw?.();
  return {
    prints: true,
    onTrainBegin() { if (tty) out.on?.('resize', redraw); },
    onTrainEnd() { if (tty) out.off?.('resize', redraw); },
    onEpochBegin(epoch) { t0 = performance.now(); seen = 0; lossSum = 0; correct = 0; hasCorrect = false; lastDraw = 0; epochNo = epoch + 1; draw = undefined; },
    onBatchEnd(batch, logs, ctx) {
      seen += logs.size; lossSum += logs.loss * logs.size;
      if (logs.correct !== undefined && ctx.model.loss?.labels) { correct += logs.correct; hasCorrect = true; }
      if (!tty) return;
      const now = performance.now();
      if (now - lastDraw < 100 && batch + 1 < ctx.steps) return;
      lastDraw = now;
      const rate = seen / Math.max(1e-9, (now - t0) / 1000);
      const eta = (ctx.samples - seen) / rate;
      const fields = [`${batch + 1}/${ctx.steps}`, `loss ${(lossSum / seen).toFixed(4)}`,
        ...(hasCorrect ? [`accuracy ${(correct / seen).toFixed(4)}`] : []), `ETA ${eta.toFixed(1)}s`, `${Math.round(rate)} samples/s`];
      const frac = (batch + 1) / ctx.steps, head = `epoch ${epochNo}/${ctx.epochs}`;
      draw = () => {
        out.write(`\r\x1b[K${fitProgressLine(out.columns || 80, head, frac, fields, opts.width ?? 30)}`);
      };
      draw();
    },
    onEpochEnd(epoch, logs, ctx) {
      draw = undefined;
      const secs = (performance.now() - t0) / 1000;
      const logLine = formatLogs(epoch + 1, ctx.epochs, logs), extra = ` · ${Math.round(seen / secs)} samples/s · ${secs.toFixed(1)}s`;
      // On a terminal the speed and time go when the line would not fit; the logs stay (a wrapped final line leaves nothing stale).
      const line = !tty || logLine.length + extra.length < (out.columns || 80) ? logLine + extra : logLine;
      out.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
    },
  };
}

/** Plain user hooks as a callback. */
export function lambda(hooks: Pick<Callback, 'onTrainBegin' | 'onEpochBegin' | 'onBatchEnd' | 'onEpochEnd' | 'onTrainEnd'>): Callback {
  checkKeys('callbacks.lambda', hooks, ['onTrainBegin', 'onEpochBegin', 'onBatchEnd', 'onEpochEnd', 'onTrainEnd']);
  return { ...hooks };
}
