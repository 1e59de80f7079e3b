// Learning-rate schedules (Keras LearningRateSchedule): a function from the optimizer's iteration
// count (0 for the first step) to the learning rate of that step, carrying a JSON config from which
// scheduleFromConfig rebuilds it. An optimizer given a schedule as `lr` calls it before every step.
import { checkBool, checkInt, checkNum, checkOptions, own, reject } from './validate.js';

export interface ScheduleConfig { readonly name: string; readonly [option: string]: unknown }
export interface Schedule {
  (step: number): number;
  readonly config: ScheduleConfig;
}

function make(fn: (t: number) => number, config: ScheduleConfig): Schedule {
  return Object.assign(fn, { config: Object.freeze({ ...config }) });
}

const positive = (x: number) => x > 0;

/** η_t = lr. */
export function constant(lr: number): Schedule {
  checkNum('constant', 'lr', lr, positive, '> 0');
  return make(() => lr, { name: 'constant', lr });
}

export interface StepDecayOptions { initial: number; dropEvery: number; factor?: number }
/** η_t = initial · factor^⌊t / dropEvery⌋ (factor default 0.5). */
export function stepDecay(opts: StepDecayOptions): Schedule {
  const where = 'stepDecay';
  const o = checkOptions(where, opts, ['initial', 'dropEvery', 'factor']);
  const initial = checkNum(where, 'initial', o.initial, positive, '> 0');
  const dropEvery = checkInt(where, 'dropEvery', o.dropEvery, 1);
  const factor = checkNum(where, 'factor', o.factor ?? 0.5, (x) => x > 0 && x <= 1, 'in (0, 1]');
  return make((t) => initial * Math.pow(factor, Math.floor(t / dropEvery)), { name: 'stepDecay', initial, dropEvery, factor });
}

export interface ExponentialDecayOptions { initial: number; decaySteps: number; rate: number; staircase?: boolean }
/** η_t = initial · rate^(t / decaySteps), with ⌊t / decaySteps⌋ when staircase (Keras ExponentialDecay). */
export function exponentialDecay(opts: ExponentialDecayOptions): Schedule {
  const where = 'exponentialDecay';
  const o = checkOptions(where, opts, ['initial', 'decaySteps', 'rate', 'staircase']);
  const initial = checkNum(where, 'initial', o.initial, positive, '> 0');
  const decaySteps = checkNum(where, 'decaySteps', o.decaySteps, positive, '> 0');
  const rate = checkNum(where, 'rate', o.rate, (x) => x > 0 && x <= 1, 'in (0, 1]');
  const staircase = checkBool(where, 'staircase', o.staircase ?? false);
  return make(
    (t) => initial * Math.pow(rate, staircase ? Math.floor(t / decaySteps) : t / decaySteps),
    { name: 'exponentialDecay', initial, decaySteps, rate, staircase });
}

export interface InverseTimeDecayOptions { initial: number; k: number }
/**
 * η_t = initial / (1 + k·t): square-summable but not summable (Σ η_t = ∞, Σ η_t² < ∞), the
 * Robbins–Monro condition under which SGD converges on convex problems.
 */
export function inverseTimeDecay(opts: InverseTimeDecayOptions): Schedule {
  const where = 'inverseTimeDecay';
  const o = checkOptions(where, opts, ['initial', 'k']);
  const initial = checkNum(where, 'initial', o.initial, positive, '> 0');
  const k = checkNum(where, 'k', o.k, (x) => x >= 0, '≥ 0');
  return make((t) => initial / (1 + k * t), { name: 'inverseTimeDecay', initial, k });
}

export interface CosineDecayOptions { initial: number; decaySteps: number; warmupSteps?: number; alpha?: number }
/**
 * Linear warm-up then cosine decay (Loshchilov & Hutter, without restarts):
 *   t < W:  η_t = initial · (t + 1) / W                       (reaches initial at t = W − 1)
 *   t ≥ W:  η_t = initial · (α + (1 − α) · ½(1 + cos(π · min(1, (t − W) / decaySteps))))
 * so it ends at α·initial after W + decaySteps steps and stays there. W = warmupSteps (default 0).
 */
export function cosineDecay(opts: CosineDecayOptions): Schedule {
  const where = 'cosineDecay';
  const o = checkOptions(where, opts, ['initial', 'decaySteps', 'warmupSteps', 'alpha']);
  const initial = checkNum(where, 'initial', o.initial, positive, '> 0');
  const decaySteps = checkInt(where, 'decaySteps', o.decaySteps, 1);
  const warmupSteps = checkInt(where, 'warmupSteps', o.warmupSteps ?? 0, 0);
  const alpha = checkNum(where, 'alpha', o.alpha ?? 0, (x) => x >= 0 && x <= 1, 'in [0, 1]');
  return make((t) => {
    if (t < warmupSteps) return (initial * (t + 1)) / warmupSteps;
    const p = Math.min(1, (t - warmupSteps) / decaySteps);
    return initial * (alpha + (1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * p)));
  }, { name: 'cosineDecay', initial, decaySteps, warmupSteps, alpha });
}

export const SCHEDULES = { constant, stepDecay, exponentialDecay, inverseTimeDecay, cosineDecay } as const;

/** Each schedule from its config without `name` (constant takes { lr }, the others their options object). */
const FROM_CONFIG: Readonly<Record<string, (rest: Record<string, unknown>) => Schedule>> = {
  constant: (rest) => constant(checkOptions('constant', rest, ['lr']).lr as number),
  stepDecay: (rest) => stepDecay(rest as unknown as StepDecayOptions),
  exponentialDecay: (rest) => exponentialDecay(rest as unknown as ExponentialDecayOptions),
  inverseTimeDecay: (rest) => inverseTimeDecay(rest as unknown as InverseTimeDecayOptions),
  cosineDecay: (rest) => cosineDecay(rest as unknown as CosineDecayOptions),
};

/** Rebuilds a schedule from its `config` (as stored in a model file). */
export function scheduleFromConfig(config: unknown): Schedule {
  const where = 'scheduleFromConfig';
  if (typeof config !== 'object' || config === null || Array.isArray(config)) reject(where, 'config', config, 'an object with a name');
  const { name, ...rest } = config as Record<string, unknown>;
  const make = own(FROM_CONFIG, name) ?? reject(where, 'name', name, `one of ${Object.keys(SCHEDULES).join(', ')}`);
  return make(rest);
}
