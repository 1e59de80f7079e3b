// Metrics: one table says what each metric needs of the loss (checked at compile) and how it is
// summed over the batches of an epoch; the Meter keeps those sums. Custom metrics are functions
// of the batch's outputs and targets, averaged over the batches weighted by their rows.
import { ConfigError, show } from './errors.js';
import { checkCustomName, type Loss } from './losses.js';
import { checkKeys, reject } from './validate.js';
import type { Engine } from './wasm.js';

/** Loss and metrics by name: loss, accuracy, valLoss, …, lr. */
export type Logs = Record<string, number>;

export const METRIC_NAMES = ['accuracy', 'topKAccuracy', 'binaryAccuracy', 'mse', 'mae', 'r2'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
/** Keras/TF.js spellings accepted for a metric. */
export const METRIC_ALIASES = { acc: 'accuracy' } as const satisfies Record<string, MetricName>;
export type MetricAlias = keyof typeof METRIC_ALIASES;

/**
 * A metric in JavaScript: fn(pred, target) → the batch's value, on views of wasm memory valid only
 * during the call (pred rows × outputs; target rows × outputs, or one Int32 label per row for
 * integer labels). Logged under `name` (and val<Name> on validation data).
 */
export interface CustomMetric { name: string; fn(pred: Float32Array, target: Float32Array | Int32Array): number }

/** Running sums of an epoch (plain numbers: a resume state carries them); `custom`: Σ rows·value per custom metric. */
export type MeterSums = { n: number; loss: number; correct: number; topk: number; binCorrect: number; sse: number; sae: number; custom?: Record<string, number> };
export const METER_KEYS = ['n', 'loss', 'correct', 'topk', 'binCorrect', 'sse', 'sae'] as const;

/** What a batch gives a metric: outputs and targets (byte pointers; targets a distribution when soft), rows, outputs per row. */
interface Batch { e: Engine; loss: Loss; pred: number; target: number; rows: number; N: number; soft: boolean }

/** The per-batch sums metrics are made of; each is added once per batch, whichever metrics need it. */
type Sum = 'correct' | 'topk' | 'binCorrect' | 'sse' | 'sae';
const SUMS: Record<Exclude<Sum, 'correct'>, (b: Batch) => number> = {
  topk: (b) => topK(b.e, b.pred >> 2, b.target >> 2, b.soft, b.rows, b.N, 5),
  binCorrect: (b) => {
    const f = b.e.f32, t = b.target >> 2, p = b.pred >> 2;
    const thr = b.loss.name === 'sigmoidCrossEntropy' ? 0 : 0.5; // logits against probabilities
    let hits = 0;
    for (let i = 0; i < b.rows * b.N; i++) hits += Number((f[p + i] > thr) === (f[t + i] > 0.5));
    return hits;
  },
  sse: (b) => b.e.k.f32_mse(0, b.pred, b.target, b.rows, b.N, 0) * b.rows * b.N,
  sae: (b) => b.e.k.f32_mae(0, b.pred, b.target, b.rows, b.N, 0) * b.rows * b.N,
};

interface MetricDef {
  /** Whether the metric means something for this loss, and what it needs when it does not. */
  fits(loss: Loss): boolean;
  needs: string;
  sum: Sum;
  /** The epoch's value from the sums; sst is the targets' total sum of squares (R²). */
  value(s: MeterSums, N: number, sst: number): number;
}

const labels = (l: Loss) => l.labels;
const real = (l: Loss) => !l.labels;
const CLASSES = 'a classification loss with integer labels (or class distributions)';
const TARGETS = 'a loss on real-valued targets';

const METRICS: Record<MetricName, MetricDef> = {
  // NOTE: the loss kernel counts argmax hits itself (in the fused softmax pass).
  accuracy: { fits: labels, needs: CLASSES, sum: 'correct', value: (s) => s.correct / s.n },
  topKAccuracy: { fits: labels, needs: CLASSES, sum: 'topk', value: (s) => s.topk / s.n },
  binaryAccuracy: { fits: real, needs: `${TARGETS} (0/1 targets)`, sum: 'binCorrect', value: (s, N) => s.binCorrect / (s.n * N) },
  mse: { fits: real, needs: TARGETS, sum: 'sse', value: (s, N) => s.sse / (s.n * N) },
  mae: { fits: real, needs: TARGETS, sum: 'sae', value: (s, N) => s.sae / (s.n * N) },
  r2: { fits: real, needs: TARGETS, sum: 'sse', value: (s, _N, sst) => 1 - s.sse / sst },
};

/** The compiled metrics: built-in names and custom metrics, in the order given. */
export interface Metrics { names: MetricName[]; custom: CustomMetric[] }

/** Checks metric names (or custom metrics { name, fn }) and that each built-in one fits the loss. */
export function checkMetrics(where: string, metrics: unknown, loss: Loss): Metrics {
  if (!Array.isArray(metrics)) throw new ConfigError(`${where}: metrics is ${show(metrics)}; it must be an array of names or { name, fn } custom metrics`);
  const names: MetricName[] = [], custom: CustomMetric[] = [];
  for (const given of metrics as unknown[]) {
    if (typeof given === 'object' && given !== null) {
      checkKeys(`${where}: custom metric`, given, ['name', 'fn']);
      const c = given as CustomMetric;
      const name = checkCustomName(`${where}: custom metric`, c.name, ['loss', 'lr', 'dataLoss', ...METRIC_NAMES, ...Object.keys(METRIC_ALIASES), ...names, ...custom.map((m) => m.name)]);
      if (typeof c.fn !== 'function') reject(`${where}: custom metric ${show(name)}`, 'fn', c.fn, 'a function (pred, target) → number');
      custom.push({ name, fn: c.fn });
      continue;
    }
    const m = typeof given === 'string' && Object.hasOwn(METRIC_ALIASES, given) ? METRIC_ALIASES[given as MetricAlias] : given;
    if (typeof m !== 'string' || !Object.hasOwn(METRICS, m)) {
      throw new ConfigError(`${where}: metric ${show(m)} is unknown; it must be one of ${METRIC_NAMES.join(', ')}, or a custom metric { name, fn }`);
    }
    const def = METRICS[m as MetricName];
    if (!def.fits(loss)) {
      const fitting = METRIC_NAMES.filter((n) => METRICS[n].fits(loss));
      throw new ConfigError(`${where}: metric ${show(m)} needs ${def.needs}, and loss ${show(loss.name)} is not one; `
        + `the metrics that fit ${loss.name} are ${fitting.join(', ')}`);
    }
    if (!names.includes(m as MetricName)) names.push(m as MetricName);
  }
  return { names, custom };
}

/** Running sums of loss and metrics over the batches of an epoch. */
export class Meter {
  readonly s: MeterSums = { n: 0, loss: 0, correct: 0, topk: 0, binCorrect: 0, sse: 0, sae: 0 };
  private need: Exclude<Sum, 'correct'>[];
  private batch: Batch;
  private custom: Record<string, number>;
  private predView = new Float32Array(0);
  private targetView: Float32Array | Int32Array = new Float32Array(0);
  constructor(private e: Engine, private loss: Loss, private metrics: readonly MetricName[], private N: number,
              private sst: number, from?: MeterSums, private customMetrics: readonly CustomMetric[] = []) {
    this.custom = Object.fromEntries(customMetrics.map((m) => [m.name, from?.custom?.[m.name] ?? 0]));
    if (customMetrics.length) this.s.custom = this.custom;
    if (from) for (const k of METER_KEYS) this.s[k] = from[k];
    this.need = [...new Set(metrics.map((m) => METRICS[m].sum))].filter((k): k is Exclude<Sum, 'correct'> => k !== 'correct');
    this.batch = { e, loss, pred: 0, target: 0, rows: 0, N, soft: false };
  }
  sums(): MeterSums { return { ...this.s, ...(this.s.custom && { custom: { ...this.s.custom } }) }; }
  /** Adds a batch: outputs and targets (byte pointers; `soft`: targets are a distribution per row), its rows, loss and argmax hits. */
  add(pred: number, target: number, rows: number, loss: number, correct: number, soft = false): void {
    const s = this.s, b = this.batch;
    s.n += rows; s.loss += loss * rows; s.correct += correct;
    // One Batch per meter, refilled: a training step allocates nothing.
    b.pred = pred; b.target = target; b.rows = rows; b.soft = soft;
    for (const k of this.need) s[k] += SUMS[k](b);
    if (this.customMetrics.length) this.addCustom(b);
  }
  private addCustom(b: Batch): void {
    const buf = this.e.f32.buffer as ArrayBuffer, N = this.N, labels = this.loss.labels && !b.soft;
    const tn = labels ? b.rows : b.rows * N;
    if (this.predView.buffer !== buf || this.predView.byteOffset !== b.pred || this.predView.length !== b.rows * N) this.predView = new Float32Array(buf, b.pred, b.rows * N);
    const tv = this.targetView;
    if (tv.buffer !== buf || tv.byteOffset !== b.target || tv.length !== tn || (tv instanceof Int32Array) !== labels) {
      this.targetView = labels ? new Int32Array(buf, b.target, tn) : new Float32Array(buf, b.target, tn);
    }
    for (const m of this.customMetrics) {
      const v = m.fn(this.predView, this.targetView);
      if (typeof v !== 'number') throw new ConfigError(`metric ${show(m.name)}: fn returned ${show(v)}; it must return a number`);
      this.custom[m.name] += v * b.rows;
    }
  }
  /** Adds a step's slices of rows: each slice's outputs against its rows of the targets at `target`. */
  addStep(r: { slices: readonly { row0: number; rows: number; pred: number; loss: number; correct: number }[] }, buf: { y: number; soft: boolean }): void {
    const width = this.loss.labels && !buf.soft ? 1 : this.N;
    for (const s of r.slices) this.add(s.pred, buf.y + s.row0 * width * 4, s.rows, s.loss, s.correct, buf.soft);
  }
  logs(prefix = ''): Logs {
    const key = (k: string) => (prefix ? prefix + k[0].toUpperCase() + k.slice(1) : k);
    const out: Logs = { [key('loss')]: this.s.loss / this.s.n };
    for (const m of this.metrics) out[key(m)] = METRICS[m].value(this.s, this.N, this.sst);
    for (const m of this.customMetrics) out[key(m.name)] = this.custom[m.name] / this.s.n;
    return out;
  }
}

/** Rows whose class (the label, or the argmax of a soft target row) is among the k largest outputs. */
function topK(e: Engine, p: number, t: number, soft: boolean, rows: number, N: number, k: number): number {
  const f = e.f32;
  let hits = 0;
  for (let i = 0; i < rows; i++) {
    let y = 0;
    if (soft) for (let j = 1; j < N; j++) { if (f[t + i * N + j] > f[t + i * N + y]) y = j; }
    else y = e.i32[t + i];
    const row = p + i * N, v = f[row + y];
    let above = 0;
    for (let j = 0; j < N; j++) if (f[row + j] > v) above++;
    if (above < k) hits++;
  }
  return hits;
}
