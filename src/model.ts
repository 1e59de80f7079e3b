// nn.sequential: builds a stack of layers over flat arenas (DESIGN §2): one for parameters (the
// trainable ones first, then running statistics), one for gradients, one PRNG state.
import { ConfigError, MemoryLimitError, ShapeError, show } from './errors.js';
import { Chain, Residual } from './layers/residual.js';
import { INIT_NAMES, checkKeys, readF64, type Builder, type Init, type Layer, type ParamRef } from './layers/layer.js';
import { getLoss, type Loss, type LossName } from './losses.js';
import type { Optimizer, ParamArena } from './optimizers/types.js';
import { optimizerFromConfig } from './optimizers/index.js';
import { engine as sharedEngine, type Engine } from './wasm.js';
import { ThreadPool, serialGemm, type GemmRunner } from './threads.js';
import { evaluate, fit, predict, type FitOptions, type History } from './train.js';
import type { Logs } from './callbacks.js';
import type { Tensor } from './tensor.js';
import { modelToBytes, writeAtomic } from './io/model-file.js';

export interface SequentialConfig {
  /** Features per sample, e.g. [784] or [28, 28] (flattened). */
  inputShape: number[];
  /** Seeds initialisation, shuffling and dropout (default 0). */
  seed?: number;
  name?: string;
  /** The wasm engine to live in (default: the process-wide one). */
  engine?: Engine;
  /** Threads for the large gemms (default 1: no worker is started). */
  threads?: number;
  /**
   * Refuse architectures with more parameter values than this (default: no cap but the 4 GiB
   * wasm32 limit). Loaders pass the count the file holds, so a hostile architecture cannot make
   * them allocate more than the file describes.
   */
  maxParams?: number;
}

/** The wasm32 limit: every engine's memory must fit in 4 GiB. */
const WASM_LIMIT_BYTES = 2 ** 32;

/** A valid PRNG state: 4 unsigned 32-bit integers, not all 0 (xoshiro128** never leaves 0). */
export function isRngState(a: unknown): a is number[] {
  return Array.isArray(a) && a.length === 4 && a.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32) && a.some((v) => v !== 0);
}

export interface CompileConfig {
  loss: LossName | string;
  optimizer: Optimizer | string;
  metrics?: string[];
}

export const METRIC_NAMES = ['accuracy', 'topKAccuracy', 'binaryAccuracy', 'mse', 'mae', 'r2'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export class Sequential {
  readonly engine: Engine;
  readonly name: string;
  readonly inputShape: number[];
  readonly inputSize: number;
  outputSize!: number;
  readonly seed: number;
  readonly chain: Chain;
  readonly paramRefs: ParamRef[] = [];
  /** Byte pointers and float counts of the arenas. */
  params = 0; grads = 0; trainableSize!: number; totalSize!: number;
  readonly rng: number;
  /** Runs the dense layers' gemms: serially, or over `threads` threads. */
  readonly gemm: GemmRunner;
  loss?: Loss;
  optimizer?: Optimizer;
  metrics: MetricName[] = [];
  /** Completed epochs (for resuming). */
  epoch = 0;
  stopTraining = false;
  private capacity = 0;
  private disposed = false;

  constructor(config: SequentialConfig, layers: Layer[]) {
    checkKeys('sequential', config, ['inputShape', 'seed', 'name', 'engine', 'threads', 'maxParams']);
    const shape = config?.inputShape;
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new ShapeError(`sequential: inputShape is ${show(shape)}; it must be a non-empty array of positive integers such as [784]`);
    }
    if (!Array.isArray(layers) || layers.length === 0) throw new ConfigError(`sequential: layers is ${show(layers)}; give at least one layer`);
    const seed = config.seed ?? 0;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ConfigError(`sequential: seed is ${show(seed)}; it must be an integer in [0, 4294967295]`);
    this.seed = seed;
    this.engine = config.engine ?? sharedEngine();
    this.name = config.name ?? 'sequential';
    this.inputShape = [...shape];
    this.inputSize = shape.reduce((a, b) => a * b, 1);
    this.chain = new Chain(layers);
    const threads = config.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new ConfigError(`sequential: threads is ${show(threads)}; it must be an integer in [1, 64]`);
    const maxParams = config.maxParams ?? Number.MAX_SAFE_INTEGER;
    if (typeof maxParams !== 'number' || !(maxParams >= 0)) throw new ConfigError(`sequential: maxParams is ${show(maxParams)}; it must be a number ≥ 0`);
    const e = this.engine;
    this.gemm = threads > 1 ? new ThreadPool(e, threads, e.module) : serialGemm(e);
    this.rng = e.alloc(16);
    try {
      this.declare(layers, maxParams);
    } catch (err) {
      // Leave the engine as it was: a refused model must not leak arena blocks or workers.
      this.chain.dispose();
      this.gemm.dispose();
      for (const p of [this.params, this.grads, this.rng]) if (p) this.engine.release(p);
      throw err;
    }
  }

  /** Builds the layers, checks the memory estimate, lays out and initialises the parameters. */
  private declare(layers: Layer[], maxParams: number): void {
    const e = this.engine;
    e.k.rng_seed(this.rng, this.seed);

    // Declare parameters, naming layers Keras-style (dense_1, dense_2, …).
    const counts = new Map<string, number>();
    const name = (l: Layer) => {
      const c = (counts.get(l.type) ?? 0) + 1;
      counts.set(l.type, c);
      if (!l.name) l.name = `${l.type}_${c}`;
    };
    const builder: Builder = {
      rng: this.rng,
      gemm: this.gemm,
      param: (pname, pshape, init, o = {}) => {
        const p: ParamRef = {
          name: `${builder.layer!.name}/${pname}`, shape: pshape, size: pshape.reduce((a, b) => a * b, 1), init,
          fanIn: o.fanIn ?? pshape[0], fanOut: o.fanOut ?? pshape[pshape.length - 1], reg: o.reg,
          trainable: o.trainable ?? true, ptr: 0, grad: 0,
        };
        this.paramRefs.push(p);
        return p;
      },
    };
    const visit = (ls: Layer[]) => {
      for (const l of ls) {
        name(l);
        if (l instanceof Residual) visit(l.inner.layers);
      }
    };
    visit(layers);
    this.outputSize = this.chain.build(builder, this.inputSize, 'sequential');
    const seen = new Set<string>();
    for (const p of this.paramRefs) {
      if (seen.has(p.name)) throw new ConfigError(`sequential: two parameters are named ${show(p.name)}; give the layers distinct names`);
      seen.add(p.name);
    }

    // Lay out the arenas: trainable parameters first, so an optimizer step is one pass over them.
    this.paramRefs.sort((a, b) => Number(b.trainable) - Number(a.trainable));
    this.totalSize = this.paramRefs.reduce((s, p) => s + p.size, 0);
    this.trainableSize = this.paramRefs.filter((p) => p.trainable).reduce((s, p) => s + p.size, 0);
    // Refuse up front what cannot fit: parameters + gradients now, and up to two optimizer moments later.
    if (this.totalSize > maxParams) {
      throw new ConfigError(`sequential: the architecture declares ${this.totalSize} parameter values; at most ${maxParams} are allowed here`);
    }
    const estimate = (this.totalSize + 3 * this.trainableSize) * 4;
    if (e.memoryBytes + estimate > WASM_LIMIT_BYTES) {
      throw new MemoryLimitError(`sequential: the model needs an estimated ${estimate} bytes (${this.totalSize} parameters, their gradients and optimizer state) `
        + `on top of the ${e.memoryBytes} bytes in use; the wasm32 limit is ${WASM_LIMIT_BYTES} bytes (4 GiB)`);
    }
    this.params = e.alloc(this.totalSize * 4);
    this.grads = e.alloc(Math.max(1, this.trainableSize) * 4);
    let off = 0;
    for (const p of this.paramRefs) {
      p.ptr = this.params + off * 4;
      p.grad = p.trainable ? this.grads + off * 4 : 0;
      off += p.size;
    }
    for (const p of this.paramRefs) this.initParam(p);
    this.zeroGrad();
  }

  get layers(): Layer[] { return this.chain.layers; }

  private initParam(p: ParamRef): void {
    const k = this.engine.k, i: Init = p.init;
    const { fanIn, fanOut } = p;
    if (typeof i === 'object') return void k.f32_fill(p.ptr, i.constant, p.size);
    switch (i) {
      case 'zeros': return void k.f32_fill(p.ptr, 0, p.size);
      case 'ones': return void k.f32_fill(p.ptr, 1, p.size);
      case 'glorotUniform': { const l = Math.sqrt(6 / (fanIn + fanOut)); return void k.f32_fill_uniform(p.ptr, p.size, -l, l, this.rng); }
      case 'glorotNormal': return void k.f32_fill_normal(p.ptr, p.size, 0, Math.sqrt(2 / (fanIn + fanOut)), 0, this.rng);
      case 'heUniform': { const l = Math.sqrt(6 / fanIn); return void k.f32_fill_uniform(p.ptr, p.size, -l, l, this.rng); }
      case 'heNormal': return void k.f32_fill_normal(p.ptr, p.size, 0, Math.sqrt(2 / fanIn), 0, this.rng);
      case 'lecunUniform': { const l = Math.sqrt(3 / fanIn); return void k.f32_fill_uniform(p.ptr, p.size, -l, l, this.rng); }
      case 'lecunNormal': return void k.f32_fill_normal(p.ptr, p.size, 0, Math.sqrt(1 / fanIn), 0, this.rng);
      default: throw new ConfigError(`sequential: unknown initializer ${show(i)}; known: ${INIT_NAMES.join(', ')}`);
    }
  }

  /** The trainable region of the arenas, with each tensor's penalties, for an optimizer. */
  arena(): ParamArena {
    return {
      engine: this.engine, params: this.params, grads: this.grads, size: this.trainableSize,
      segments: this.paramRefs.filter((p) => p.trainable).map((p) => ({
        name: p.name, offset: (p.ptr - this.params) / 4, size: p.size, l1: p.reg?.l1 ?? 0, l2: p.reg?.l2 ?? 0,
      })),
    };
  }

  private alive(where: string): void {
    if (this.disposed) throw new ConfigError(`${where}: the model was disposed`);
  }

  /** Makes sure every layer has buffers for `batch` rows. */
  reserve(batch: number): void {
    this.alive('Sequential.reserve');
    if (batch > this.capacity) {
      this.chain.reserve(this.engine, batch);
      this.capacity = batch;
    }
  }

  /** Low level: forward of `batch` rows at byte pointer x; returns the output pointer. */
  forward(x: number, batch: number, training = false): number {
    this.reserve(batch);
    return this.chain.forward(x, batch, training);
  }
  /** Low level: backward from dy (gradient of the loss w.r.t. the output); adds into the grads. */
  backward(dy: number, batch: number): void {
    this.chain.backward(dy, batch, false);
  }
  /** Low level: sets every gradient to 0. */
  zeroGrad(): void {
    this.engine.k.f32_fill(this.grads, 0, this.trainableSize);
  }
  /** Sum of the layers' activity penalties for the last forward. */
  activityPenalty(batch: number): number { return this.chain.activityPenalty(batch); }
  /** Sum of the weight penalties l1·Σ|w| + l2·Σw² over regularized tensors. */
  weightPenalty(): number {
    let s = 0;
    for (const p of this.paramRefs) if (p.reg) s += this.engine.k.f32_l1l2_penalty(p.ptr, p.size, p.reg.l1, p.reg.l2);
    return s;
  }

  compile(config: CompileConfig): this {
    this.alive('Sequential.compile');
    checkKeys('Sequential.compile', config, ['loss', 'optimizer', 'metrics']);
    // Validate everything before changing the model: a refused compile leaves it as it was.
    const loss = getLoss('Sequential.compile', config?.loss);
    const opt = typeof config.optimizer === 'string' ? optimizerFromConfig(config.optimizer, {}) : config.optimizer;
    if (!opt || typeof (opt as Optimizer).step !== 'function') {
      throw new ConfigError(`Sequential.compile: optimizer is ${show(config.optimizer)}; use nn.sgd(...), nn.adam(...) or a name like 'adam'`);
    }
    const metrics = config.metrics ?? [];
    if (!Array.isArray(metrics)) throw new ConfigError(`Sequential.compile: metrics is ${show(metrics)}; it must be an array of names`);
    for (const m of metrics) {
      if (!(METRIC_NAMES as readonly string[]).includes(m)) {
        throw new ConfigError(`Sequential.compile: metric ${show(m)} is unknown; known: ${METRIC_NAMES.join(', ')}`);
      }
      if ((m === 'accuracy' || m === 'topKAccuracy') && !loss.labels) {
        throw new ConfigError(`Sequential.compile: metric ${show(m)} needs a classification loss with integer labels, got loss ${show(loss.name)}`);
      }
    }
    if (this.optimizer && this.optimizer !== opt) this.optimizer.dispose();
    this.loss = loss;
    this.metrics = metrics as MetricName[];
    if (this.optimizer !== opt) {
      opt.bind(this.arena());
      this.optimizer = opt;
    }
    return this;
  }

  /** Trains on x, y (async: yields to the event loop between batches). */
  fit(x: unknown, y: unknown, opts?: FitOptions): Promise<History> {
    this.alive('Sequential.fit');
    return fit(this, x, y, opts);
  }
  /** Loss and compiled metrics on x, y in inference mode. */
  evaluate(x: unknown, y: unknown, opts?: { batchSize?: number }): Logs {
    this.alive('Sequential.evaluate');
    return evaluate(this, x, y, opts);
  }
  /** Outputs for each row of x, inference mode: a Float32Array tensor [n, outputs]. */
  predict(x: unknown, opts?: { batchSize?: number }): Tensor<Float32Array> {
    this.alive('Sequential.predict');
    return predict(this, x, opts);
  }

  /** The model as `.simdnn` (safetensors) bytes; includeOptimizer keeps optimizer state for resuming. */
  toBytes(opts: { includeOptimizer?: boolean } = {}): Uint8Array {
    this.alive('Sequential.toBytes');
    checkKeys('Sequential.toBytes', opts, ['includeOptimizer']);
    return modelToBytes(this, opts);
  }
  /** Saves to a `.simdnn` file atomically (temp file, fsync, rename). */
  async save(path: string, opts: { includeOptimizer?: boolean } = {}): Promise<void> {
    if (typeof path !== 'string' || path === '') throw new ConfigError(`Sequential.save: path is ${show(path)}; it must be a file path`);
    writeAtomic(path, this.toBytes(opts));
  }

  /** Copies of every parameter tensor (trainable and running statistics), by name. */
  getWeights(): Map<string, Float32Array> {
    this.alive('Sequential.getWeights');
    return new Map(this.paramRefs.map((p) => [p.name, this.engine.f32.slice(p.ptr >> 2, (p.ptr >> 2) + p.size)]));
  }
  /** Sets parameter tensors by name (each must match its shape). */
  setWeights(w: Map<string, Float32Array> | Record<string, Float32Array>): void {
    this.alive('Sequential.setWeights');
    const m = w instanceof Map ? w : new Map(Object.entries(w));
    const refs = new Map(this.paramRefs.map((p) => [p.name, p]));
    for (const [name, data] of m) {
      const p = refs.get(name);
      if (!p) throw new ConfigError(`Sequential.setWeights: no parameter named ${show(name)}; known: ${this.paramRefs.map((q) => q.name).join(', ')}`);
      if (!(data instanceof Float32Array) || data.length !== p.size) {
        throw new ShapeError(`Sequential.setWeights: ${name} has ${show(data)}; expected a Float32Array of ${p.size} (shape ${show(p.shape)})`);
      }
    }
    for (const [name, data] of m) this.engine.f32.set(data, refs.get(name)!.ptr >> 2);
  }
  /** All parameters as one Float32Array (arena order) — for hashing and exact comparisons. */
  /** The PRNG state (xoshiro128**: shuffling, sampling, dropout) as 4 unsigned 32-bit numbers (see isRngState). */
  get rngState(): number[] {
    const i = this.rng >> 2;
    return Array.from(this.engine.i32.subarray(i, i + 4), (v) => v >>> 0);
  }
  set rngState(state: number[]) {
    this.engine.i32.set(state.map((v) => v | 0), this.rng >> 2);
  }

  weightBytes(): Uint8Array {
    return this.engine.u8.slice(this.params, this.params + this.totalSize * 4);
  }
  /** Reads a parameter tensor as float64 (the reference path). */
  readParam = (p: ParamRef): Float64Array => readF64(this.engine, p.ptr, p.size);

  /** Keras-style table: layer (type), output shape, parameter count. */
  summary(print: (s: string) => void = console.log): string {
    const rows: [string, string, string][] = [];
    const walk = (ls: Layer[], indent: string) => {
      for (const l of ls) {
        const n = l.params().reduce((s, p) => s + p.size, 0);
        rows.push([`${indent}${l.name} (${l.type})`, `[null, ${l.outputSize}]`, String(n)]);
        if (l instanceof Residual) walk(l.inner.layers, indent + '  ');
      }
    };
    walk(this.layers, '');
    const w = [Math.max(24, ...rows.map((r) => r[0].length)) + 2, 16, 10];
    const line = '─'.repeat(w[0] + w[1] + w[2]);
    const fmt = (r: string[]) => r.map((c, i) => c.padEnd(w[i])).join('');
    const out = [
      `Model: "${this.name}"  input [null, ${this.inputSize}]`, line, fmt(['Layer (type)', 'Output shape', 'Params']), line,
      ...rows.map(fmt), line,
      `Total params: ${this.totalSize.toLocaleString('en-US')}`,
      `Trainable params: ${this.trainableSize.toLocaleString('en-US')}`,
      `Non-trainable params: ${(this.totalSize - this.trainableSize).toLocaleString('en-US')}`,
    ].join('\n');
    print(out);
    return out;
  }

  config(): Record<string, unknown> {
    const layer = (l: Layer): Record<string, unknown> => ({
      type: l.type, name: l.name, ...l.config(),
      ...(l instanceof Residual ? { layers: l.inner.layers.map(layer) } : {}),
    });
    return { name: this.name, inputShape: this.inputShape, seed: this.seed, layers: this.layers.map(layer) };
  }

  /** Frees every buffer of this model in its engine. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer?.dispose();
    this.chain.dispose();
    this.gemm.dispose();
    for (const p of [this.params, this.grads, this.rng]) this.engine.release(p);
    this.releaseData?.();
  }
  /** Set by the training loop: releases datasets it copied into wasm memory. */
  releaseData?: () => void;
}

export function sequential(config: SequentialConfig, layers: Layer[]): Sequential {
  return new Sequential(config, layers);
}
