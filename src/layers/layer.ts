// The Layer contract (STYLE.md): build → declare parameters; reserve → activation buffers for a
// batch size; forward keeps what backward needs; backward adds into the gradient arena and returns
// dx. Each layer also has a float64 reference forward/backward (nn.gradCheck's reference path).
import { checkKeys, checkNum, reject } from '../validate.js';
import type { Engine } from '../wasm.js';
import type { GemmRunner } from '../threads.js';

export interface Regularizer { l1: number; l2: number }

/** nn.l1(f), nn.l2(f), nn.l1l2({l1, l2}): penalty l1·Σ|w| + l2·Σw² (Keras semantics). */
export function l1(f = 0.01): Regularizer { return regularizer('l1', { l1: f, l2: 0 }); }
export function l2(f = 0.01): Regularizer { return regularizer('l2', { l1: 0, l2: f }); }
export function l1l2({ l1 = 0.01, l2 = 0.01 }: { l1?: number; l2?: number } = {}): Regularizer {
  return regularizer('l1l2', { l1, l2 });
}
function regularizer(where: string, r: Regularizer): Regularizer {
  for (const k of ['l1', 'l2'] as const) checkNum(where, k, r[k], (x) => x >= 0, 'a finite number ≥ 0');
  return { l1: r.l1, l2: r.l2 };
}
export function checkRegularizer(where: string, name: string, r: unknown): Regularizer | undefined {
  if (r === undefined || r === null) return undefined;
  const o = r as Regularizer;
  if (typeof o !== 'object' || typeof o.l1 !== 'number' || typeof o.l2 !== 'number') reject(where, name, r, 'nn.l1(f), nn.l2(f) or nn.l1l2({ l1, l2 })');
  return regularizer(`${where}: ${name}`, o);
}

export type InitName = 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'lecunNormal' | 'lecunUniform' | 'zeros' | 'ones';
/** Keras/PyTorch spellings of initializers. */
export type InitAlias = 'he' | 'glorot' | 'xavier' | 'xavierNormal' | 'lecun';
export type Init = InitName | InitAlias | { constant: number };
export const INIT_NAMES: readonly InitName[] = ['glorotUniform', 'glorotNormal', 'heUniform', 'heNormal', 'lecunNormal', 'lecunUniform', 'zeros', 'ones'];
/** Keras/PyTorch spellings: 'he' = heNormal, 'glorot'/'xavier' = glorotUniform. A Map: inherited keys ('__proto__') are not names. */
const INIT_ALIASES: ReadonlyMap<string, InitName> = new Map([
  ['he', 'heNormal'], ['glorot', 'glorotUniform'], ['xavier', 'glorotUniform'], ['xavierNormal', 'glorotNormal'], ['lecun', 'lecunNormal'],
]);
export function checkInit(where: string, name: string, v: unknown): Init {
  if (typeof v === 'string' && (INIT_NAMES as readonly string[]).includes(v)) return v as InitName;
  const alias = typeof v === 'string' ? INIT_ALIASES.get(v) : undefined;
  if (alias) return alias;
  if (v && typeof v === 'object' && typeof (v as { constant: number }).constant === 'number' && Number.isFinite((v as { constant: number }).constant)) {
    return { constant: (v as { constant: number }).constant };
  }
  reject(where, name, v, `one of ${[...INIT_NAMES, ...INIT_ALIASES.keys()].join(', ')} or { constant: v }`);
}

/** A parameter tensor inside the model's flat arenas (DESIGN §2). */
export interface ParamRef {
  name: string;
  shape: number[];
  size: number;
  /** How to fill it when the model is built; a Float32Array gives the values themselves. */
  init: Init | Float32Array;
  fanIn: number;
  fanOut: number;
  reg?: Regularizer;
  /**
   * false: not updated by the optimizer, no gradient, no optimizer state — running statistics
   * (batch norm's moving mean), or a parameter of a frozen layer (layer.trainable = false).
   */
  trainable: boolean;
  /** Whether it is learned when its layer is not frozen (false for running statistics). */
  learned: boolean;
  /** Byte pointers, set when the model lays out its arenas. */
  ptr: number;
  grad: number;
}

export interface Builder {
  /** Declares a parameter tensor of this layer. */
  param(name: string, shape: number[], init: Init | Float32Array, opts?: { fanIn?: number; fanOut?: number; reg?: Regularizer; trainable?: boolean }): ParamRef;
  /** Byte pointer to the model's PRNG state (DESIGN §8: one seed controls everything). */
  readonly rng: number;
  /** Runs the layer's gemms. */
  readonly gemm: GemmRunner;
  /** The slice of the batch the current step runs on (DESIGN §7); the model keeps it up to date. */
  readonly slice: StepSlice;
  /** A random-stream id distinct for each layer that asks (dropout masks). */
  stream(): number;
  /** The model's engine (for layers that write their parameters outside a step: normalization.adapt). */
  readonly engine: Engine;
  /** Throws StateError unless the model is idle: neither fitting nor disposed. */
  checkIdle(where: string): void;
  /** The layer being built (set by Chain.build; parameters are named after it). */
  layer?: Layer;
  /** The shape of that layer's input, per sample: [H, W, C] for an image, [n] for features (set by Chain.build). */
  inputShape: readonly number[];
  /** The model's inputShape: a dense layer takes it flattened; after a conv or pooling layer it needs nn.flatten(). */
  readonly modelInputShape: readonly number[];
  /** The output shape of every layer built so far (Chain.build records them; summary prints them). */
  readonly shapes: Map<Layer, readonly number[]>;
}

/** An image shape [H, W, C] (channels last, as Keras and TF.js). */
export const isImage = (s: readonly number[]): boolean => s.length === 3;
/** 4×4×16 */
export const shapeText = (s: readonly number[]): string => s.join('×');
/**
 * Keras's axis −1 for per-feature layers (batch norm): on an image [H, W, C], C features over
 * batch·H·W rows; otherwise every value of a sample is a feature. Returns [features, rows per sample].
 */
export function featureAxis(s: readonly number[], size: number): [number, number] {
  return isImage(s) ? [s[2], size / s[2]] : [size, 1];
}

/**
 * Where a layer call runs in a data-parallel step (DESIGN §7): each of `threads` threads runs the
 * forward and backward of its own slice of the batch rows, in its own buffers. A layer sees only
 * its slice's rows; what needs the whole batch reads this.
 */
export interface StepSlice {
  /** This slice's thread (0: the calling thread) and the number of slices in the step. */
  thread: number;
  threads: number;
  /** The most threads a step of this model can have (shared buffers are sized for it). */
  readonly maxThreads: number;
  /** First row of this slice in the batch, and the batch's rows. */
  row0: number;
  total: number;
  /** Every slice waits here until all have arrived (batch statistics); nothing on one thread. */
  barrier(): void;
}

/** What a layer's float64 reference backward returns: dx and a gradient per trainable parameter. */
export interface RefGrads { dx: Float64Array; grads: Map<ParamRef, Float64Array> }

export interface Layer {
  readonly type: string;
  name: string;
  /**
   * false freezes the layer (Keras layer.trainable): its parameters stay as they are, get no
   * gradient and no optimizer state (a frozen batch norm also runs in inference mode). Set it
   * before compile; a frozen residual block freezes the layers inside. Default true.
   */
  trainable?: boolean;
  inputSize: number;
  outputSize: number;
  /** Set in build by layers that change the shape (dense, conv, pooling, flatten); the others keep their input's. */
  readonly outputShape?: readonly number[];
  build(b: Builder, inputSize: number): number;
  /** (Re)allocates activation buffers for up to `batch` rows. */
  reserve(e: Engine, batch: number): void;
  /** x: byte pointer to batch × inputSize floats; returns the output pointer. */
  forward(x: number, batch: number, training: boolean): number;
  /** dy: gradient w.r.t. the output; adds into parameter grads; returns dx (0 if !needDx). */
  backward(dy: number, batch: number, needDx: boolean): number;
  /** Penalty of activity regularizers from the last forward (batch mean), 0 when none. */
  activityPenalty(batch: number): number;
  params(): ParamRef[];
  config(): Record<string, unknown>;
  /** Float64 reference forward (keeps its cache for refBackward); params read as float64. */
  refForward(x: Float64Array, batch: number, training: boolean, read: (p: ParamRef) => Float64Array): Float64Array;
  refBackward(dy: Float64Array, batch: number, read: (p: ParamRef) => Float64Array): RefGrads;
  /** Throws ConfigError when the layer cannot run yet (a normalization that was never adapted). */
  checkReady?(where: string): void;
  /** Activity penalty of the last refForward (layers with activity regularizers). */
  refPenalty?(batch: number): number;
  /** Releases activation buffers. */
  dispose(): void;
}

/**
 * Activation buffers owned by one layer, grown on demand (a training step allocates nothing). One
 * set per thread of a data-parallel step (the engine's `bank` picks it), or, `shared`, one set
 * for all threads (what they exchange at a barrier). reserve returns the pointers of that set.
 */
export class Buffers {
  /** Bumped whenever any set moves: recorded steps that hold pointers are then stale. */
  static version = 0;
  private banks: { ptrs: number[]; capacity: number }[] = [];
  private e?: Engine;
  constructor(private readonly shared = false) {}
  /** Ensures room for `batch` rows in the current set; sizes(batch) gives each buffer's floats. */
  reserve(e: Engine, batch: number, sizes: (batch: number) => number[]): number[] {
    if (this.e !== e) this.dispose();
    const i = this.shared ? 0 : e.bank, have = this.banks[i];
    if (have && batch <= have.capacity) return have.ptrs;
    // The new buffers first, all or none: a refused request leaves the old ones in place.
    const want = sizes(batch);
    const got = e.allocAll(want.filter((n) => n > 0).map((n) => n * 4));
    if (have) for (const p of have.ptrs) if (p) e.release(p);
    this.e = e;
    Buffers.version++;
    const ptrs = want.map((n) => (n > 0 ? got.shift()! : 0));
    this.banks[i] = { ptrs, capacity: batch };
    return ptrs;
  }
  dispose(): void {
    if (this.e) for (const b of this.banks) if (b) for (const p of b.ptrs) if (p) this.e.release(p);
    this.banks = [];
    Buffers.version++;
  }
}

/** The `trainable` option of a layer's constructor: true unless false is given. */
export function checkTrainable(where: string, v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== 'boolean') reject(where, 'trainable', v, 'true or false');
  return v;
}

export function checkName(where: string, name: unknown): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.\-]{1,64}$/.test(name)) reject(where, 'name', name, '1–64 characters of A–Z, a–z, 0–9, _ . -');
  return name;
}

/** checkKeys lives in validate.ts; re-exported for the modules that import it from here. */
export { checkKeys };

/** Reads a Float32 region of engine memory as float64. */
export function readF64(e: Engine, ptr: number, n: number): Float64Array {
  return Float64Array.from(e.f32.subarray(ptr >> 2, (ptr >> 2) + n));
}
