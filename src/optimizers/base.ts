// What every optimizer shares: the common options (lr or a schedule, l1, l2, decoupled weight
// decay, clipping by value and by global norm), binding to a parameter arena, state allocation,
// and a step that calls one kernel per run of contiguous segments with equal penalties.
import { ConfigError } from '../errors.js';
import type { Kernels } from '../kernels.js';
import type { Schedule } from '../schedules.js';
import type { Optimizer, ParamArena, ParamSegment, SplitStep, StateTensor } from './types.js';
import { checkInt, checkNum, checkOptions, reject } from '../validate.js';

/** Options every optimizer accepts. */
export interface CommonOptions {
  /** Learning rate, or a schedule mapping the iteration (0 for the first step) to it. */
  lr?: number | Schedule;
  /** Keras/TF.js's name for lr (the same option; give one). */
  learningRate?: number | Schedule;
  /** Added to every segment's L1 factor: the loss gains l1·Σ|θ|, so g += l1·sign(θ). */
  l1?: number;
  /** Added to every segment's L2 factor: the loss gains l2·Σθ² (Keras), so g += 2·l2·θ. */
  l2?: number;
  /** Decoupled weight decay (Loshchilov & Hutter): θ ← θ·(1 − lr·weightDecay) before each update. */
  weightDecay?: number;
  /** Clip each gradient element to [−clipValue, clipValue]; null or absent: off. */
  clipValue?: number | null;
  /** Scale the whole gradient arena so its global L2 norm is at most clipNorm; null or absent: off. */
  clipNorm?: number | null;
}

export const COMMON_DEFAULTS = { l1: 0, l2: 0, weightDecay: 0, clipValue: null, clipNorm: null } as const;

/** One state array by name, and whether every value must be ≥ 0 (a second moment); all must be finite. */
export interface StateSpec { name: string; nonNegative: boolean }

/** A run of the arena updated by one kernel call: float offset, length, total penalties. */
export interface KernelRun { offset: number; size: number; l1: number; l2: number }

const positive = (x: number) => x > 0;
const nonNegative = (x: number) => x >= 0;

/** `learningRate` (Keras, TF.js) is lr under another name. */
function learningRateAlias(where: string, opts: unknown): unknown {
  if (typeof opts !== 'object' || opts === null || !('learningRate' in opts)) return opts;
  const { learningRate, ...rest } = opts as Record<string, unknown>;
  if (learningRate === undefined) return rest;
  if (rest.lr !== undefined) throw new ConfigError(`${where}: lr and learningRate are given; they are the same option, give one`);
  return { ...rest, lr: learningRate };
}

export abstract class BaseOptimizer implements Optimizer {
  readonly config: Record<string, unknown>;
  lr: number;
  iterations = 0;
  /** Settings after defaults and validation. */
  protected readonly o: Record<string, unknown>;
  protected readonly schedule: Schedule | null;
  protected readonly l1: number;
  protected readonly l2: number;
  protected readonly weightDecay: number;
  protected readonly clipValue: number;
  protected readonly clipNorm: number;
  protected arena: ParamArena | null = null;
  private state: StateTensor[] = [];
  private runs: KernelRun[] = [];

  /**
   * @param name   registry name ('adam'); also the prefix of state names ('adam.m')
   * @param where  name in messages ('Adam')
   */
  protected constructor(readonly name: string, protected readonly where: string, opts: unknown,
                        defaults: Record<string, unknown>) {
    const given = checkOptions(where, learningRateAlias(where, opts), Object.keys(defaults));
    const o = (this.o = { ...defaults, ...given });
    if (typeof o.lr === 'function') {
      this.schedule = o.lr as Schedule;
      this.lr = checkNum(where, 'lr', this.schedule(0), nonNegative, 'a schedule giving a finite lr ≥ 0 (at step 0)');
    } else {
      this.schedule = null;
      this.lr = checkNum(where, 'lr', o.lr, positive, '> 0 (or a schedule)');
    }
    this.l1 = checkNum(where, 'l1', o.l1, nonNegative, '≥ 0');
    this.l2 = checkNum(where, 'l2', o.l2, nonNegative, '≥ 0');
    this.weightDecay = checkNum(where, 'weightDecay', o.weightDecay, nonNegative, '≥ 0');
    this.clipValue = o.clipValue === null ? 0 : checkNum(where, 'clipValue', o.clipValue, positive, '> 0 (or null for off)');
    this.clipNorm = o.clipNorm === null ? 0 : checkNum(where, 'clipNorm', o.clipNorm, positive, '> 0 (or null for off)');
    const lrConfig = this.schedule ? (this.schedule.config ?? { name: 'custom' }) : this.lr;
    this.config = { ...o, lr: lrConfig };
  }

  /** Names of the state arrays this configuration needs, without the prefix (['m', 'v']). */
  protected abstract stateNames(): string[];
  /** Which of them hold squares or norms (second moments, accumulators): finite and ≥ 0 in any saved state. */
  protected nonNegativeStates(): readonly string[] {
    return [];
  }
  /** The state arrays (full names, 'adam.v') and which must be ≥ 0; known before bind, so a loader can check saved state first. */
  stateSpec(): StateSpec[] {
    const nonNegative = this.nonNegativeStates();
    return this.stateNames().map((s) => ({ name: `${this.name}.${s}`, nonNegative: nonNegative.includes(s) }));
  }
  /** Fills a fresh state array (zero unless overridden). */
  protected initialState(_name: string): number {
    return 0;
  }
  /** Byte pointer of state `i` (in stateNames() order) at float offset `off`. */
  protected statePtr(i: number, off: number): number {
    return this.state[i].ptr + off * 4;
  }
  /** One kernel call over floats [off, off + n) of the arena. */
  protected abstract kernel(k: Kernels, p: number, g: number, off: number, n: number,
                            lr: number, l1: number, l2: number, gscale: number): void;

  bind(arena: ParamArena): void {
    const where = `${this.where}.bind`;
    if (this.arena) throw new ConfigError(`${where}: already bound to an arena; use one optimizer per model`);
    if (typeof arena !== 'object' || arena === null || !arena.engine) reject(where, 'arena', arena, 'a ParamArena {engine, params, grads, size, segments}');
    const size = checkInt(where, 'arena.size', arena.size, 0);
    for (const key of ['params', 'grads'] as const) {
      const p = checkInt(where, `arena.${key}`, arena[key], 0);
      if (p % 4 !== 0 || p + size * 4 > arena.engine.memoryBytes) {
        reject(where, `arena.${key}`, p, `a 4-byte aligned pointer with ${size} floats inside wasm memory (${arena.engine.memoryBytes} bytes)`);
      }
    }
    if (!Array.isArray(arena.segments)) reject(where, 'arena.segments', arena.segments, 'an array');
    this.runs = planRuns(where, arena.segments, size, this.l1, this.l2);
    const e = arena.engine, names = this.stateNames();
    // All state arrays or none: a refused bind leaks nothing.
    const ptrs = e.allocAll(names.map(() => size * 4));
    this.state = names.map((s, i) => {
      e.f32.fill(this.initialState(s), ptrs[i] >> 2, (ptrs[i] >> 2) + size);
      return { name: `${this.name}.${s}`, ptr: ptrs[i], size };
    });
    this.arena = arena;
  }

  step(split?: SplitStep): void {
    const a = this.arena;
    if (!a) throw new ConfigError(`${this.where}.step: not bound to a parameter arena; call bind(arena) first`);
    if (this.schedule) this.lr = this.schedule(this.iterations);
    const lr = this.lr;
    if (!(lr >= 0 && lr < Infinity)) {
      reject(`${this.where}.step`, `lr at iteration ${this.iterations}`, lr, 'a finite number ≥ 0');
    }
    let gscale = 1;
    if (this.clipNorm > 0) {
      const norm = Math.sqrt(split ? split.sumsq() : a.engine.k.f32_sumsq(a.grads, a.size));
      if (norm > this.clipNorm) gscale = this.clipNorm / norm;
    }
    // The kernels are element-wise: floats [lo, hi) of the arena update independently of the rest.
    const update = (k: Kernels, lo: number, hi: number) => {
      for (const r of this.runs) {
        const from = Math.max(r.offset, lo), to = Math.min(r.offset + r.size, hi);
        if (to > from) this.kernel(k, a.params + from * 4, a.grads + from * 4, from, to - from, lr, r.l1, r.l2, gscale);
      }
    };
    if (split) split.run(update);
    else update(a.engine.k, 0, a.size);
    this.iterations++;
  }

  stateTensors(): StateTensor[] {
    return this.state.map((s) => ({ ...s }));
  }

  /** The kernel calls one step makes (one when all segments share their penalties). */
  kernelRuns(): KernelRun[] {
    return this.runs.map((r) => ({ ...r }));
  }

  dispose(): void {
    if (this.arena) for (const s of this.state) this.arena.engine.release(s.ptr);
    this.state = [];
    this.runs = [];
    this.arena = null;
  }
}

/**
 * Sorts the segments by offset and merges neighbours that touch and have equal penalties, so the
 * common case is a single run over the whole arena. No segments: one run over the arena.
 * Floats outside every segment (padding) are not updated.
 */
export function planRuns(where: string, segments: readonly ParamSegment[], size: number, l1: number, l2: number): KernelRun[] {
  if (segments.length === 0) return size > 0 ? [{ offset: 0, size, l1, l2 }] : [];
  const segs = segments.map((s, i) => {
    const at = `arena.segments[${i}]${s && typeof s.name === 'string' ? ` (${s.name})` : ''}`;
    if (typeof s !== 'object' || s === null) reject(where, at, s, 'a ParamSegment');
    const offset = checkInt(where, `${at}.offset`, s.offset, 0, size);
    const n = checkInt(where, `${at}.size`, s.size, 0, size - offset);
    const sl1 = checkNum(where, `${at}.l1`, s.l1, nonNegative, '≥ 0');
    const sl2 = checkNum(where, `${at}.l2`, s.l2, nonNegative, '≥ 0');
    return { at, offset, size: n, l1: sl1 + l1, l2: sl2 + l2 };
  }).filter((s) => s.size > 0).sort((x, y) => x.offset - y.offset);
  const runs: KernelRun[] = [];
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    const last = runs[runs.length - 1];
    if (last && s.offset < last.offset + last.size) {
      throw new ConfigError(`${where}: ${s.at} starts at ${s.offset}, inside ${segs[i - 1].at} which covers [${segs[i - 1].offset}, ${segs[i - 1].offset + segs[i - 1].size}); segments must not overlap`);
    }
    if (last && s.offset === last.offset + last.size && s.l1 === last.l1 && s.l2 === last.l2) last.size += s.size;
    else runs.push({ offset: s.offset, size: s.size, l1: s.l1, l2: s.l2 });
  }
  return runs;
}
