// Training callbacks (Keras-like): progress, early stopping, checkpoints, learning-rate control,
// NaN handling, CSV logging, and plain user hooks.
import { appendFileSync, writeFileSync } from 'node:fs';
import { ConfigError, show } from './errors.js';
import { writeAtomic } from './io/fs.js';
import { modelToBytes } from './io/model-bytes.js';
import { checkKeys } from './layers/layer.js';
import type { Logs, MeterSums } from './metrics.js';
import type { Model } from './model.js';

export type { Logs };

export interface History {
  epoch: number[];
  /** Per-epoch values: loss, each metric, valLoss, val<Metric>, lr. */
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
}

export interface Callback {
  onTrainBegin?(ctx: TrainContext): void;
  onEpochBegin?(epoch: number, ctx: TrainContext): void;
  onBatchEnd?(batch: number, logs: { loss: number; size: number }, ctx: TrainContext): void;
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
function checkMode(where: string, mode: unknown): 'auto' | 'min' | 'max' {
  if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new ConfigError(`${where}: mode is ${show(mode)}; it must be 'auto', 'min' or 'max'`);
  return mode;
}
function nonNeg(where: string, name: string, v: unknown, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new ConfigError(`${where}: ${name} must be ${integer ? 'an integer' : 'a number'} ≥ 0, got ${show(v)}`);
  }
  return v;
}

/** Tracks the best value of a monitored quantity. */
class Best {
  value: number;
  constructor(readonly mode: 'min' | 'max', readonly minDelta: number) {
    this.value = mode === 'min' ? Infinity : -Infinity;
  }
  improves(v: number): boolean {
    return this.mode === 'min' ? v < this.value - this.minDelta : v > this.value + this.minDelta;
  }
}

export function earlyStopping(opts: { monitor?: string; patience?: number; minDelta?: number; mode?: 'auto' | 'min' | 'max'; restoreBest?: boolean } = {}): Callback {
  const where = 'earlyStopping';
  checkKeys(where, opts, ['monitor', 'patience', 'minDelta', 'mode', 'restoreBest']);
  const monitor = opts.monitor ?? 'valLoss';
  const patience = nonNeg(where, 'patience', opts.patience ?? 0, true);
  const minDelta = nonNeg(where, 'minDelta', opts.minDelta ?? 0);
  const mode = checkMode(where, opts.mode ?? 'auto');
  let best: Best, wait = 0, weights: Map<string, Float32Array> | undefined;
  return {
    onTrainBegin() { best = new Best(modeFor(monitor, mode), minDelta); wait = 0; weights = undefined; },
    onEpochEnd(_epoch, logs, ctx) {
      const v = monitorValue(where, logs, monitor)!;
      if (best.improves(v)) {
        best.value = v; wait = 0;
        if (opts.restoreBest) weights = ctx.model.getWeights();
      } else if (++wait > patience) {
        ctx.stopTraining = true;
      }
    },
    onTrainEnd(ctx) { if (opts.restoreBest && weights) ctx.model.setWeights(weights); },
  };
}

/**
 * Saves the model at the end of an epoch (every epoch, or when `monitor` improves with
 * saveBestOnly): to `path` as a .simdnn file (atomic; `{epoch}` in the path becomes the 1-based
 * epoch; `includeOptimizer` keeps what exact resumption needs), or through a `save` function.
 */
export function modelCheckpoint(opts: {
  path?: string; includeOptimizer?: boolean;
  save?: (model: Model, epoch: number, logs: Logs) => void | Promise<void>;
  monitor?: string; saveBestOnly?: boolean; mode?: 'auto' | 'min' | 'max';
}): Callback {
  const where = 'modelCheckpoint';
  checkKeys(where, opts, ['path', 'includeOptimizer', 'save', 'monitor', 'saveBestOnly', 'mode']);
  if ((opts?.path === undefined) === (opts?.save === undefined)) throw new ConfigError(`${where}: give a path or a save function (model, epoch, logs) => void, not both`);
  if (opts.save !== undefined && typeof opts.save !== 'function') throw new ConfigError(`${where}: save is ${show(opts.save)}; it must be a function (model, epoch, logs) => void`);
  if (opts.path !== undefined && (typeof opts.path !== 'string' || opts.path === '')) throw new ConfigError(`${where}: path is ${show(opts.path)}; it must be a non-empty string`);
  const save = opts.save ?? ((model: Model, epoch: number) =>
    writeAtomic(opts.path!.replaceAll('{epoch}', String(epoch + 1)), modelToBytes(model, { includeOptimizer: opts.includeOptimizer ?? false }), where));
  const monitor = opts.monitor ?? 'valLoss';
  const mode = checkMode(where, opts.mode ?? 'auto');
  let best: Best;
  return {
    onTrainBegin() { best = new Best(modeFor(monitor, mode), 0); },
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
export function reduceLROnPlateau(opts: { monitor?: string; factor?: number; patience?: number; minDelta?: number; cooldown?: number; minLr?: number; mode?: 'auto' | 'min' | 'max' } = {}): Callback {
  const where = 'reduceLROnPlateau';
  checkKeys(where, opts, ['monitor', 'factor', 'patience', 'minDelta', 'cooldown', 'minLr', 'mode']);
  const monitor = opts.monitor ?? 'valLoss';
  const factor = opts.factor ?? 0.1;
  if (typeof factor !== 'number' || !(factor > 0 && factor < 1)) throw new ConfigError(`${where}: factor must be in (0, 1), got ${show(factor)}`);
  const patience = nonNeg(where, 'patience', opts.patience ?? 10, true);
  const minDelta = nonNeg(where, 'minDelta', opts.minDelta ?? 1e-4);
  const cooldown = nonNeg(where, 'cooldown', opts.cooldown ?? 0, true);
  const minLr = nonNeg(where, 'minLr', opts.minLr ?? 0);
  const mode = checkMode(where, opts.mode ?? 'auto');
  let best: Best, wait = 0, cool = 0;
  return {
    onTrainBegin() { best = new Best(modeFor(monitor, mode), minDelta); wait = 0; cool = 0; },
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

/**
 * Progress: on a terminal, a live bar with loss, samples/s and ETA, redrawn in place; otherwise
 * one line per epoch.
 */
export function progressBar(opts: { stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }; width?: number } = {}): Callback {
  checkKeys('progressBar', opts, ['stream', 'width']);
  const out = opts.stream ?? process.stderr;
  const tty = Boolean(out.isTTY);
  let t0 = 0, seen = 0, lossSum = 0, lastDraw = 0;
  return {
    prints: true,
    onEpochBegin() { t0 = performance.now(); seen = 0; lossSum = 0; lastDraw = 0; },
    onBatchEnd(batch, logs, ctx) {
      seen += logs.size; lossSum += logs.loss * logs.size;
      if (!tty) return;
      const now = performance.now();
      if (now - lastDraw < 100 && batch + 1 < ctx.steps) return;
      lastDraw = now;
      const frac = (batch + 1) / ctx.steps, width = opts.width ?? 30;
      const rate = seen / ((now - t0) / 1000);
      const eta = (ctx.samples - seen) / rate;
      const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '·');
      out.write(`\r${bar} ${batch + 1}/${ctx.steps} · loss ${(lossSum / seen).toFixed(4)} · ${Math.round(rate)} samples/s · ETA ${eta.toFixed(1)}s `);
    },
    onEpochEnd(epoch, logs, ctx) {
      const secs = (performance.now() - t0) / 1000;
      const line = `${formatLogs(epoch + 1, ctx.epochs, logs)} · ${Math.round(seen / secs)} samples/s · ${secs.toFixed(1)}s`;
      out.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
    },
  };
}

/** Plain user hooks as a callback. */
export function lambda(hooks: Pick<Callback, 'onTrainBegin' | 'onEpochBegin' | 'onBatchEnd' | 'onEpochEnd' | 'onTrainEnd'>): Callback {
  checkKeys('callbacks.lambda', hooks, ['onTrainBegin', 'onEpochBegin', 'onBatchEnd', 'onEpochEnd', 'onTrainEnd']);
  return { ...hooks };
}
