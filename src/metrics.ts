// Metrics: one table says what each metric needs of the loss (checked at compile) and how it is
// summed over the batches of an epoch; the Meter keeps those sums.
import { ConfigError, show } from './errors.js';
import type { Loss } from './losses.js';
import type { Engine } from './wasm.js';

/** Loss and metrics by name: loss, accuracy, valLoss, …, lr. */
export type Logs = Record<string, number>;

export const METRIC_NAMES = ['accuracy', 'topKAccuracy', 'binaryAccuracy', 'mse', 'mae', 'r2'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
/** Keras/TF.js spellings accepted for a metric. */
export const METRIC_ALIASES = { acc: 'accuracy' } as const satisfies Record<string, MetricName>;
export type MetricAlias = keyof typeof METRIC_ALIASES;

/** Running sums of an epoch (plain numbers: a resume state carries them). */
export type MeterSums = { n: number; loss: number; correct: number; topk: number; binCorrect: number; sse: number; sae: number };
export const METER_KEYS = ['n', 'loss', 'correct', 'topk', 'binCorrect', 'sse', 'sae'] as const;

/** What a batch gives a metric: outputs and targets (byte pointers), rows, outputs per row. */
interface Batch { e: Engine; loss: Loss; pred: number; target: number; rows: number; N: number }

/** The per-batch sums metrics are made of; each is added once per batch, whichever metrics need it. */
type Sum = 'correct' | 'topk' | 'binCorrect' | 'sse' | 'sae';
const SUMS: Record<Exclude<Sum, 'correct'>, (b: Batch) => number> = {
  topk: (b) => topK(b.e.f32, b.pred >> 2, b.e.i32, b.target >> 2, b.rows, b.N, 5),
  binCorrect: (b) => {
    const f = b.e.f32, t = b.target >> 2, p = b.pred >> 2;
    const thr = b.loss.name === 'sigmoidCrossEntropy' ? 0 : 0.5; // logits against probabilities
    let hits = 0;
    for (let i = 0; i < b.rows * b.N; i++) hits += Number((f[p + i] > thr) === (f[t + i] > 0.5));
    return hits;
  },
  sse: (b) => b.e.k.f32_mse(0, b.pred, b.target, b.rows, b.N) * b.rows * b.N,
  sae: (b) => b.e.k.f32_mae(0, b.pred, b.target, b.rows, b.N) * b.rows * b.N,
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
const CLASSES = 'a classification loss with integer labels';
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

/** Checks metric names and that each fits the loss; returns them typed. */
export function checkMetrics(where: string, metrics: unknown, loss: Loss): MetricName[] {
  if (!Array.isArray(metrics)) throw new ConfigError(`${where}: metrics is ${show(metrics)}; it must be an array of names`);
  metrics = metrics.map((m) => (typeof m === 'string' && Object.hasOwn(METRIC_ALIASES, m) ? METRIC_ALIASES[m as MetricAlias] : m));
  for (const m of metrics as unknown[]) {
    if (typeof m !== 'string' || !Object.hasOwn(METRICS, m)) {
      throw new ConfigError(`${where}: metric ${show(m)} is unknown; it must be one of ${METRIC_NAMES.join(', ')}`);
    }
    const def = METRICS[m as MetricName];
    if (!def.fits(loss)) {
      const fitting = METRIC_NAMES.filter((n) => METRICS[n].fits(loss));
      throw new ConfigError(`${where}: metric ${show(m)} needs ${def.needs}, and loss ${show(loss.name)} is not one; `
        + `the metrics that fit ${loss.name} are ${fitting.join(', ')}`);
    }
  }
  return [...new Set(metrics as MetricName[])];
}

/** Running sums of loss and metrics over the batches of an epoch. */
export class Meter {
  readonly s: MeterSums = { n: 0, loss: 0, correct: 0, topk: 0, binCorrect: 0, sse: 0, sae: 0 };
  private need: Exclude<Sum, 'correct'>[];
  private batch: Batch;
  constructor(private e: Engine, private loss: Loss, private metrics: readonly MetricName[], private N: number,
              private sst: number, from?: MeterSums) {
    if (from) for (const k of METER_KEYS) this.s[k] = from[k];
    this.need = [...new Set(metrics.map((m) => METRICS[m].sum))].filter((k): k is Exclude<Sum, 'correct'> => k !== 'correct');
    this.batch = { e, loss, pred: 0, target: 0, rows: 0, N };
  }
  sums(): MeterSums { return { ...this.s }; }
  add(pred: number, target: number, rows: number, loss: number, correct: number): void {
    const s = this.s, b = this.batch;
    s.n += rows; s.loss += loss * rows; s.correct += correct;
    // One Batch per meter, refilled: a training step allocates nothing.
    b.pred = pred; b.target = target; b.rows = rows;
    for (const k of this.need) s[k] += SUMS[k](b);
  }
  /** Adds a step's slices of rows: each slice's outputs against its rows of the targets at `target`. */
  addStep(r: { slices: readonly { row0: number; rows: number; pred: number; loss: number; correct: number }[] }, target: number): void {
    const width = this.loss.labels ? 1 : this.N;
    for (const s of r.slices) this.add(s.pred, target + s.row0 * width * 4, s.rows, s.loss, s.correct);
  }
  logs(prefix = ''): Logs {
    const key = (k: string) => (prefix ? prefix + k[0].toUpperCase() + k.slice(1) : k);
    const out: Logs = { [key('loss')]: this.s.loss / this.s.n };
    for (const m of this.metrics) out[key(m)] = METRICS[m].value(this.s, this.N, this.sst);
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
