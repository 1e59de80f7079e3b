// Losses: each one fused kernel (loss value + gradient scaled by 1/batch, DESIGN §4) and its
// float64 reference. Classification losses take integer labels or a distribution per row (one-hot
// or probabilities); one-hot is never materialised from labels. A loss is a name ('mse') or an
// object from nn.losses (options such as labelSmoothing; custom losses in JavaScript).
import { ConfigError, ShapeError, show } from './errors.js';
import { bceLogitsRef, bceProbsRef, cceProbsRef, maeRef, mseRef, nllRef, softmaxXentRef, type ClassLossOpts, type LossRef } from './reference.js';
import { checkBool, checkKeys, checkRange, own, reject } from './validate.js';
import type { Engine } from './wasm.js';

export type LossName = 'mse' | 'mae' | 'binaryCrossEntropy' | 'sigmoidCrossEntropy' | 'softmaxCrossEntropy' | 'nll' | 'categoricalCrossEntropy';

/** A float array the loss functions read: a view of wasm memory in training, a Float64Array copy in gradCheck. */
export type FloatArray = Float32Array | Float64Array;

export interface Loss {
  /** The loss's name ('softmaxCrossEntropy'), or a custom loss's own name. */
  readonly name: string;
  /** Classification targets: integer labels (and, when `soft`, distributions [n, classes]); else real targets, one column per output. */
  readonly labels: boolean;
  /** Accepts a distribution per row ([n, classes] one-hot or probabilities) besides integer labels. */
  readonly soft: boolean;
  /** Takes sample and class weights (custom losses do not: they return the batch loss whole). */
  readonly weighted: boolean;
  /** Options given to nn.losses.<name>(options), after defaults ({} for a plain name). */
  readonly options: Readonly<Record<string, unknown>>;
  /** True for nn.losses.custom: a model file names it, and loading needs it again (customObjects). */
  readonly custom: boolean;
  /**
   * Batch-mean loss; writes dpred (when ≠ 0); counts correct argmax predictions into *correct.
   * sampleWeights: byte pointer of one f32 per row, or 0; soft: target holds M×N floats, not M labels.
   */
  kernel(e: Engine, dpred: number, pred: number, target: number, M: number, N: number, classWeights: number, correct: number,
         sampleWeights?: number, soft?: boolean): number;
  /** Float64 reference: loss and ∂loss/∂pred (a classification target other than an Int32Array is a distribution, M×N). */
  ref(pred: Float64Array, target: ArrayLike<number>, M: number, N: number, o?: { sw?: ArrayLike<number>; cw?: ArrayLike<number> }): { loss: number; dpred: Float64Array };
}

/** Clamp for losses on probabilities (Keras's epsilon). */
export const PROB_EPS = 1e-7;

type Kernel = (e: Engine, d: number, p: number, t: number, M: number, N: number, cw: number, c: number, sw: number, soft: boolean, smoothing: number) => number;
type Ref = (p: Float64Array, t: ArrayLike<number>, M: number, N: number, o: ClassLossOpts) => LossRef;

interface BuiltinDef { labels: boolean; smoothing: boolean; kernel: Kernel; ref: Ref }

const BUILTIN: Record<LossName, BuiltinDef> = {
  mse: { labels: false, smoothing: false, kernel: (e, d, p, t, M, N, _cw, _c, sw) => e.k.f32_mse(d, p, t, M, N, sw), ref: (p, t, _M, _N, o) => mseRef(p, t, o) },
  mae: { labels: false, smoothing: false, kernel: (e, d, p, t, M, N, _cw, _c, sw) => e.k.f32_mae(d, p, t, M, N, sw), ref: (p, t, _M, _N, o) => maeRef(p, t, o) },
  sigmoidCrossEntropy: {
    labels: false, smoothing: true,
    kernel: (e, d, p, t, M, N, _cw, _c, sw, _s, ls) => e.k.f32_bce_logits(d, p, t, M, N, sw, ls), ref: (p, t, _M, _N, o) => bceLogitsRef(p, t, o),
  },
  binaryCrossEntropy: {
    labels: false, smoothing: true,
    kernel: (e, d, p, t, M, N, _cw, _c, sw, _s, ls) => e.k.f32_bce_probs(d, p, t, M, N, sw, ls, PROB_EPS), ref: (p, t, _M, _N, o) => bceProbsRef(p, t, PROB_EPS, o),
  },
  softmaxCrossEntropy: {
    labels: true, smoothing: true,
    kernel: (e, d, p, t, M, N, cw, c, sw, soft, ls) => (soft ? e.k.f32_softmax_xent_soft(d, p, t, M, N, cw, sw, c, ls) : e.k.f32_softmax_xent(d, p, t, M, N, cw, sw, c, ls)),
    ref: (p, t, M, N, o) => softmaxXentRef(p, t, M, N, undefined, o),
  },
  nll: {
    labels: true, smoothing: false,
    kernel: (e, d, p, t, M, N, cw, c, sw, soft) => (soft ? e.k.f32_nll_soft(d, p, t, M, N, cw, sw, c, 0) : e.k.f32_nll(d, p, t, M, N, cw, sw, c, 0)),
    ref: (p, t, M, N, o) => nllRef(p, t, M, N, undefined, o),
  },
  categoricalCrossEntropy: {
    labels: true, smoothing: true,
    kernel: (e, d, p, t, M, N, cw, c, sw, soft, ls) => (soft ? e.k.f32_cce_probs_soft(d, p, t, M, N, cw, sw, c, ls, PROB_EPS) : e.k.f32_cce_probs(d, p, t, M, N, cw, sw, c, ls, PROB_EPS)),
    ref: (p, t, M, N, o) => cceProbsRef(p, t, M, N, PROB_EPS, undefined, o),
  },
};

/** Options of nn.losses.<name>(options). */
export interface LossOptions {
  /** Keras label smoothing ε in [0, 1): class targets t(1 − ε) + ε/classes, binary targets t(1 − ε) + ε/2. */
  labelSmoothing?: number;
}

/** A built-in loss with its options. */
class BuiltinLoss implements Loss {
  readonly labels: boolean;
  readonly soft: boolean;
  readonly weighted = true;
  readonly custom = false;
  readonly options: Readonly<Record<string, unknown>>;
  private readonly smoothing: number;
  private readonly def: BuiltinDef;
  constructor(readonly name: LossName, opts: LossOptions | undefined, where = `losses.${name}`) {
    this.def = BUILTIN[name];
    this.labels = this.soft = this.def.labels;
    checkKeys(where, opts, this.def.smoothing ? ['labelSmoothing'] : []);
    this.smoothing = opts?.labelSmoothing === undefined ? 0 : checkRange(where, 'labelSmoothing', opts.labelSmoothing, 0, 1);
    this.options = this.smoothing ? { labelSmoothing: this.smoothing } : {};
  }
  kernel(e: Engine, dpred: number, pred: number, target: number, M: number, N: number, classWeights: number, correct: number,
         sampleWeights = 0, soft = false): number {
    return this.def.kernel(e, dpred, pred, target, M, N, classWeights, correct, sampleWeights, soft, this.smoothing);
  }
  ref(pred: Float64Array, target: ArrayLike<number>, M: number, N: number, o: { sw?: ArrayLike<number>; cw?: ArrayLike<number> } = {}) {
    const soft = this.labels && !(target instanceof Int32Array);
    const r = this.def.ref(pred, target, M, N, { ...o, soft, smoothing: this.smoothing });
    return { loss: r.loss, dpred: r.grad };
  }
}

/** What nn.losses.custom takes: the batch loss and its gradient, in JavaScript. */
export interface CustomLossSpec {
  /** Logged and saved under this name (a model file records that the loss must be supplied again). */
  name: string;
  /**
   * The batch loss of pred (rows × outputs) against target: rows × outputs real values, or with
   * `labels`, one integer label per row. Both are views of wasm memory, valid only during the call:
   * read them, do not keep them (copy with .slice() if needed).
   */
  forward(pred: FloatArray, target: FloatArray | Int32Array): number;
  /** Writes ∂loss/∂pred into dpred (rows × outputs, zeroed before the call); same views as forward. */
  backward(pred: FloatArray, target: FloatArray | Int32Array, dpred: FloatArray): void;
  /** Targets are integer class labels (Int32Array, one per row) instead of real values (default false). */
  labels?: boolean;
}

/** The name rule shared by custom losses and metrics (they become log and file keys). */
export function checkCustomName(where: string, name: unknown, taken: readonly string[]): string {
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) reject(where, 'name', name, 'a name of letters, digits and _ starting with a letter');
  if (taken.includes(name)) reject(where, 'name', name, `a name other than ${taken.join(', ')}`);
  return name;
}

/** A view cache: one Float32Array/Int32Array per (buffer, offset, length), remade only when memory grows or the batch changes. */
function viewer<T extends Float32Array | Int32Array>(make: new (b: ArrayBuffer, off: number, n: number) => T) {
  let v: T | undefined;
  return (e: Engine, ptr: number, n: number): T => {
    const buf = e.f32.buffer as ArrayBuffer;
    if (!v || v.buffer !== buf || v.byteOffset !== ptr || v.length !== n) v = new make(buf, ptr, n);
    return v;
  };
}

class CustomLoss implements Loss {
  readonly name: string;
  readonly labels: boolean;
  readonly soft = false;
  readonly weighted = false;
  readonly custom = true;
  readonly options = {};
  private readonly spec: CustomLossSpec;
  private readonly predView = viewer(Float32Array);
  private readonly targetView = viewer(Float32Array);
  private readonly labelView = viewer(Int32Array);
  private readonly dView = viewer(Float32Array);
  constructor(spec: CustomLossSpec) {
    const where = 'losses.custom';
    if (typeof spec !== 'object' || spec === null) reject(where, 'spec', spec, 'an object { name, forward, backward }');
    checkKeys(where, spec, ['name', 'forward', 'backward', 'labels']);
    this.name = checkCustomName(where, spec.name, [...LOSS_NAMES, 'custom']);
    for (const f of ['forward', 'backward'] as const) if (typeof spec[f] !== 'function') reject(where, f, spec[f], 'a function');
    this.labels = spec.labels === undefined ? false : checkBool(where, 'labels', spec.labels);
    this.spec = { ...spec };
  }
  private value(v: unknown): number {
    if (typeof v !== 'number') throw new ConfigError(`losses.custom (${this.name}): forward returned ${show(v)}; it must return a number`);
    return v;
  }
  kernel(e: Engine, dpred: number, pred: number, target: number, M: number, N: number, _cw: number, correct: number): number {
    const p = this.predView(e, pred, M * N);
    const t = this.labels ? this.labelView(e, target, M) : this.targetView(e, target, M * N);
    const loss = this.value(this.spec.forward(p, t));
    if (dpred !== 0) {
      e.k.f32_fill(dpred, 0, M * N);
      this.spec.backward(p, t, this.dView(e, dpred, M * N));
    }
    if (correct !== 0 && this.labels) e.i32[correct >> 2] = argmaxHits(p, t as Int32Array, M, N);
    return loss;
  }
  ref(pred: Float64Array, target: ArrayLike<number>, M: number, N: number) {
    // NOTE: gradCheck's differences need the loss in float64: the functions get Float64Array copies.
    const p = Float64Array.from(pred), t = this.labels ? Int32Array.from(target) : Float64Array.from(target);
    const loss = this.value(this.spec.forward(p, t));
    const dpred = new Float64Array(M * N);
    this.spec.backward(Float64Array.from(pred), t, dpred);
    return { loss, dpred };
  }
}

function argmaxHits(p: Float32Array, labels: Int32Array, M: number, N: number): number {
  let hits = 0;
  for (let i = 0; i < M; i++) {
    let a = 0;
    for (let j = 1; j < N; j++) if (p[i * N + j] > p[i * N + a]) a = j;
    if (a === labels[i]) hits++;
  }
  return hits;
}

const ALIASES: Record<string, LossName> = {
  meanSquaredError: 'mse', meanAbsoluteError: 'mae', bce: 'binaryCrossEntropy',
  binaryCrossEntropyFromLogits: 'sigmoidCrossEntropy', crossEntropy: 'softmaxCrossEntropy',
  sparseCategoricalCrossEntropy: 'categoricalCrossEntropy',
  // TF.js spellings (tf.losses / model.compile({ loss: 'sparseCategoricalCrossentropy' })): same meaning.
  sparseCategoricalCrossentropy: 'categoricalCrossEntropy', binaryCrossentropy: 'binaryCrossEntropy',
};
/** Other names accepted for a loss (Keras/TF.js spellings). */
export type LossAlias = 'meanSquaredError' | 'meanAbsoluteError' | 'bce' | 'binaryCrossEntropyFromLogits' | 'crossEntropy'
  | 'sparseCategoricalCrossEntropy' | 'sparseCategoricalCrossentropy' | 'binaryCrossentropy';

/** Every accepted loss name: the losses, then their aliases. */
export const LOSS_NAMES: readonly string[] = [...Object.keys(BUILTIN), ...Object.keys(ALIASES)];

const PLAIN = new Map<LossName, Loss>();

/** Whether v is a loss object (from nn.losses). */
export function isLoss(v: unknown): v is Loss {
  return v instanceof BuiltinLoss || v instanceof CustomLoss;
}

/** The loss by name or alias, or a loss object as is; own keys only, so '__proto__' or 'constructor' is an unknown name. */
export function getLoss(where: string, name: unknown): Loss {
  if (isLoss(name)) return name;
  const n = own(ALIASES, name) ?? name;
  if (typeof n === 'string' && Object.hasOwn(BUILTIN, n)) {
    const key = n as LossName;
    if (!PLAIN.has(key)) PLAIN.set(key, new BuiltinLoss(key, undefined));
    return PLAIN.get(key)!;
  }
  return reject(where, 'loss', name, `one of ${LOSS_NAMES.join(', ')}, or a loss from nn.losses`);
}

/** A loss as a model file records it: its name, with its options when it has any; custom losses marked. */
export type LossConfig = string | { name: string; config?: Record<string, unknown>; custom?: true };
export function lossConfig(l: Loss): LossConfig {
  if (l.custom) return { name: l.name, custom: true };
  return Object.keys(l.options).length ? { name: l.name, config: { ...l.options } } : l.name;
}
/**
 * The loss a model file records; a custom one is looked up in customObjects by name (as Keras's
 * load_model(custom_objects=…)), and its absence is a ConfigError saying how to supply it.
 */
export function lossFromConfig(where: string, c: unknown, customObjects: Record<string, unknown> = {}): Loss {
  if (typeof c === 'string') return getLoss(where, c);
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return reject(where, 'loss', c, 'a loss name or { name, config }');
  const { name, config, custom } = c as Record<string, unknown>;
  if (custom === true) {
    const l = own(customObjects, name);
    if (isLoss(l) && l.custom && l.name === name) return l;
    throw new ConfigError(`${where}: the model was compiled with the custom loss ${show(name)}, which a file cannot hold; `
      + `pass it again: loadModel(src, { customObjects: { ${String(name)}: nn.losses.custom({ name: ${show(name)}, forward, backward }) } })`);
  }
  if (typeof name !== 'string' || !Object.hasOwn(BUILTIN, name)) return reject(where, 'loss.name', name, `one of ${Object.keys(BUILTIN).join(', ')}`);
  return new BuiltinLoss(name as LossName, config as LossOptions, where);
}

/**
 * nn.losses: the loss objects compile({ loss }) takes beside the names, e.g.
 * `nn.losses.softmaxCrossEntropy({ labelSmoothing: 0.1 })`, and custom losses.
 */
export const losses = {
  mse: (opts?: Record<string, never>): Loss => new BuiltinLoss('mse', opts),
  mae: (opts?: Record<string, never>): Loss => new BuiltinLoss('mae', opts),
  sigmoidCrossEntropy: (opts?: LossOptions): Loss => new BuiltinLoss('sigmoidCrossEntropy', opts),
  binaryCrossEntropy: (opts?: LossOptions): Loss => new BuiltinLoss('binaryCrossEntropy', opts),
  softmaxCrossEntropy: (opts?: LossOptions): Loss => new BuiltinLoss('softmaxCrossEntropy', opts),
  nll: (opts?: Record<string, never>): Loss => new BuiltinLoss('nll', opts),
  categoricalCrossEntropy: (opts?: LossOptions): Loss => new BuiltinLoss('categoricalCrossEntropy', opts),
  /** A loss written in JavaScript: forward(pred, target) → batch loss, backward(pred, target, dpred) writes ∂loss/∂pred. */
  custom: (spec: CustomLossSpec): Loss => new CustomLoss(spec),
};

/**
 * fit/evaluate's sampleWeight: one finite weight ≥ 0 per sample (Float32Array or number[] of n),
 * checked before any wasm call; the loss must take weights.
 */
export function sampleWeightArray(where: string, sw: unknown, n: number, loss: Loss): Float32Array {
  if (!loss.weighted) throw new ConfigError(`${where}: sampleWeight is given, and the custom loss ${show(loss.name)} cannot weight samples (it returns the batch loss whole); weight inside its forward and backward instead`);
  if (!(sw instanceof Float32Array || sw instanceof Float64Array || Array.isArray(sw))) reject(where, 'sampleWeight', sw, `a Float32Array or number[] of ${n} weights (one per sample)`);
  const a = sw as ArrayLike<unknown>;
  if (a.length !== n) throw new ShapeError(`${where}: sampleWeight has ${a.length} weights for ${n} samples; it must have one per sample`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) reject(where, `sampleWeight[${i}]`, v, 'a finite number ≥ 0');
    out[i] = v;
  }
  return out;
}
