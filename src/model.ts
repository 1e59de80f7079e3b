// The model (DESIGN §2, §11): a stack of layers over flat arenas — one for parameters (the
// trainable ones first, then running statistics and frozen layers' parameters), one for gradients, one PRNG state — and
// everything else it owns: optimizer state, step buffers, its lifecycle (idle → fitting → idle;
// disposed). Its step (trainStep, lossAndGrad, evaluate, predict) runs on those buffers; fit is a
// loop over it (train.ts), files read and write it (io/), and neither is imported here.
import { ConfigError, MemoryLimitError, ShapeError, StateError, show } from './errors.js';
import { checkInt, checkKeys } from './validate.js';
import { allLayers, childrenOf, walkLayers, layerConfig } from './layers/registry.js';
import { Chain } from './layers/residual.js';
import { Buffers, INIT_NAMES, readF64, type StepSlice, type Builder, type Init, type Layer, type ParamRef } from './layers/layer.js';
import { getLoss, sampleWeightArray, type Loss, type LossAlias, type LossName } from './losses.js';
import { Meter, checkMetrics, type CustomMetric, type Logs, type MeterSums, type MetricAlias, type MetricName, type Metrics } from './metrics.js';
import type { Optimizer, ParamArena } from './optimizers/types.js';
import { optimizerFromConfig, type OptimizerName } from './optimizers/index.js';
import { checkMetadata, type ModelMetadata } from './metadata.js';
import { isRngState } from './random.js';
import { StepBuffers, WasmData, sst } from './step.js';
import { Tensor, asClassTargets, asInput, asTargets, type Input, type Target } from './tensor.js';
import { engine as sharedEngine, type Engine } from './wasm.js';
import { ThreadPool, checkThreads, serialGemm, type GemmRunner } from './threads.js';
import { Parallel, type Slice } from './parallel.js';
import { ACT } from './kernels.js';

export interface SequentialConfig {
  /**
   * The shape of one sample: [784] (features), or [28, 28, 1] (an image, channels last) for conv
   * and pooling layers. A dense layer takes the model's input flattened ([28, 28] is 784 features).
   */
  inputShape: number[];
  /** Seeds initialisation, shuffling and dropout (default 0). */
  seed?: number;
  name?: string;
  /** The wasm engine to live in (default: the process-wide one). */
  engine?: Engine;
  /**
   * Threads for a data-parallel step (DESIGN §7): each runs a slice of every batch's rows
   * (default 1: no worker is started). A count n: n slices whenever the batch has 4 rows a thread.
   * 'auto': up to one per core, and per step only as many as its work pays for (about 16 MFLOP a
   * thread: smaller steps run on fewer threads, often one).
   */
  threads?: number | 'auto';
  /**
   * Refuse architectures with more parameter values than this (default: no cap but the 4 GiB
   * wasm32 limit). Loaders pass the count the file holds, so a hostile architecture cannot make
   * them allocate more than the file describes.
   */
  maxParams?: number;
}

/** The wasm32 limit: every engine's memory must fit in 4 GiB. */
const WASM_LIMIT_BYTES = 2 ** 32;

export interface CompileConfig {
  /** A loss name, or a loss object from nn.losses (options such as labelSmoothing; custom losses). */
  loss: LossName | LossAlias | Loss;
  optimizer: Optimizer | OptimizerName;
  /** Metric names, or custom metrics { name, fn(pred, target) → number }. */
  metrics?: (MetricName | MetricAlias | CustomMetric)[];
}

/** Per-sample loss weights (Keras sample_weight): one finite weight ≥ 0 per sample. */
export type SampleWeight = Float32Array | readonly number[];

/**
 * What one step on a batch gave: the batch-mean loss (activity penalties included), argmax hits,
 * and per slice of rows (one per thread that ran) its outputs, its mean loss and its hits.
 */
export interface StepResult {
  loss: number; correct: number; slices: Slice[];
  /** The activity penalties' part of `loss` (batch mean). */
  penalty: number;
}

type Lifecycle = 'idle' | 'fitting' | 'disposed';

/** The live model each layer object was built into. */
const OWNER = new WeakMap<Layer, Model>();

export class Model {
  readonly engine: Engine;
  readonly name: string;
  readonly inputShape: number[];
  readonly inputSize: number;
  outputSize!: number;
  /** The last layer's output shape per sample ([10], or [H, W, C] for a net ending on a conv). */
  outputShape!: readonly number[];
  /** Every layer's output shape per sample (nested layers included), from build. */
  readonly outputShapes = new Map<Layer, readonly number[]>();
  readonly seed: number;
  readonly chain: Chain;
  readonly paramRefs: ParamRef[] = [];
  /** Byte pointers and float counts of the arenas. */
  params = 0; grads = 0; trainableSize!: number; totalSize!: number;
  readonly rng: number;
  /** Runs the layers' gemms (on the kernels the engine has at the call). */
  readonly gemm: GemmRunner;
  /** The slice of the batch the layers run on (the whole batch outside a data-parallel step). */
  readonly slice: StepSlice;
  /** The data-parallel step, with threads > 1. */
  private parallel?: Parallel;
  /** threads: 'auto' (the step's thread count follows its work). */
  readonly autoThreads: boolean;
  /** With threads: 'auto', the forward's floating-point operations per row (dense and conv kernels); else 0 (set at build). */
  readonly autoFlopsPerRow: number = 0;
  /** The worker pool of a model with threads > 1 (for diagnostics). */
  get threadPool(): ThreadPool | undefined { return this.parallel?.pool; }
  loss?: Loss;
  optimizer?: Optimizer;
  /** The compiled metrics' log names: the built-in ones, then the custom ones. */
  metrics: string[] = [];
  /** The compiled metrics: built-in names and custom metrics. */
  compiledMetrics: Metrics = { names: [], custom: [] };
  /** Completed epochs (for resuming). */
  epoch = 0;
  /** Set to true (by a callback, or anyone) to end a running fit after the current batch (Keras, TF.js). */
  stopTraining = false;
  /** Rows the layers' buffers hold. */
  capacity = 0;
  private lifecycle: Lifecycle = 'idle';
  /** dispose() was called while fitting: done when the fit settles. */
  private disposeRequested = false;
  /** The step buffers (grown on demand; held by a running fit). */
  private step?: StepBuffers;
  private byName = new Map<string, ParamRef>();
  private meta?: ModelMetadata;
  /** The layer that declared each parameter. */
  private owners = new Map<ParamRef, Layer>();
  /** Each layer's frozen state (layer.trainable false, or inside a frozen block) as the arenas were laid out for. */
  private frozenAtLayout = new Map<Layer, boolean>();

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
    const threads = checkThreads('sequential', config.threads ?? 1);
    this.autoThreads = config.threads === 'auto';
    const maxParams = config.maxParams ?? Number.MAX_SAFE_INTEGER;
    if (typeof maxParams !== 'number' || !(maxParams >= 0)) throw new ConfigError(`sequential: maxParams is ${show(maxParams)}; it must be a number ≥ 0`);
    const e = this.engine;
    this.gemm = serialGemm(e);
    this.slice = { thread: 0, threads: 1, maxThreads: threads, row0: 0, total: 0, barrier: () => this.parallel?.barrier() };
    this.rng = 0;
    // Before anything is built: building a layer of another live model would repoint it here.
    const claimed = this.claimable(layers);
    try {
      this.rng = e.alloc(16);
      this.declare(layers, maxParams);
      if (this.autoThreads) this.autoFlopsPerRow = forwardFlopsPerRow(this.layers);
      if (threads > 1) this.parallel = new Parallel(this, new ThreadPool(e, threads));
      for (const l of claimed) OWNER.set(l, this);
    } catch (err) {
      // Leave the engine as it was: a refused model must not leak arena blocks or workers.
      this.chain.dispose();
      this.parallel?.dispose();
      for (const p of [this.params, this.grads, this.rng]) if (p) this.engine.release(p);
      throw err;
    }
  }

  /**
   * The layer objects of `layers` (nested ones too); a layer that is given twice or belongs to
   * another live model (it holds that model's pointers) is a ConfigError. Weights are not shared
   * between models, as Keras would by reusing a layer: each model builds layers of its own.
   */
  private claimable(layers: Layer[]): Layer[] {
    const seen = new Set<Layer>();
    walkLayers(layers.filter((l) => typeof (l as Partial<Layer>)?.build === 'function'), (l, _d, path) => {
      const other = OWNER.get(l);
      const why = seen.has(l) ? 'is given twice' : other && other.lifecycle !== 'disposed' ? `already belongs to the model ${show(other.name)}` : '';
      if (why) throw new ConfigError(`sequential: ${path} (${show(l.name || l.type)}) ${why}; a layer object belongs to one model at a time (weights are not shared): create new layers, or use model.clone()`);
      seen.add(l);
    });
    return [...seen];
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
    let streams = 0;
    const builder: Builder = {
      rng: this.rng,
      gemm: this.gemm,
      slice: this.slice,
      stream: () => ++streams,
      engine: e,
      checkIdle: (where) => this.checkIdle(where),
      inputShape: this.inputShape,
      modelInputShape: this.inputShape,
      shapes: this.outputShapes,
      param: (pname, pshape, init, o = {}) => {
        const p: ParamRef = {
          name: `${builder.layer!.name}/${pname}`, shape: pshape, size: pshape.reduce((a, b) => a * b, 1), init,
          fanIn: o.fanIn ?? pshape[0], fanOut: o.fanOut ?? pshape[pshape.length - 1], reg: o.reg,
          learned: o.trainable ?? true, trainable: false, ptr: 0, grad: 0,
        };
        this.paramRefs.push(p);
        this.owners.set(p, builder.layer!);
        return p;
      },
    };
    walkLayers(layers, name);
    this.outputSize = this.chain.build(builder, this.inputSize, 'sequential');
    this.outputShape = builder.inputShape;
    const seen = new Set<string>();
    for (const p of this.paramRefs) {
      if (seen.has(p.name)) throw new ConfigError(`sequential: two parameters are named ${show(p.name)}; give the layers distinct names`);
      seen.add(p.name);
    }

    // Lay out the arenas: trainable parameters first, so an optimizer step is one pass over them;
    // running statistics and the parameters of frozen layers after them.
    this.frozenAtLayout = this.frozenLayers();
    const plan = this.layoutPlan(this.frozenAtLayout);
    for (const p of this.paramRefs) p.trainable = plan.trainable.get(p)!;
    this.paramRefs.sort((a, b) => Number(b.trainable) - Number(a.trainable));
    this.totalSize = this.paramRefs.reduce((s, p) => s + p.size, 0);
    this.trainableSize = plan.size;
    this.runningRefs = this.paramRefs.filter((p) => !p.learned);
    this.running = new Float32Array(this.runningRefs.reduce((s, p) => s + p.size, 0));
    // Refuse up front what cannot fit: parameters + gradients now, and up to two optimizer moments later.
    if (this.totalSize > maxParams) {
      throw new ConfigError(`sequential: the architecture declares ${this.totalSize} parameter values; at most ${maxParams} are allowed here`);
    }
    // The estimate is judged against what the arena can serve now (live blocks and free space),
    // not against memory grown once and never returned.
    const need = [this.totalSize * 4, Math.max(1, this.trainableSize) * 4, this.trainableSize * 4, this.trainableSize * 4];
    if (!e.canServe(need)) {
      const estimate = need.reduce((a, b) => a + b, 0);
      throw new MemoryLimitError(`sequential: the model needs an estimated ${estimate} bytes (${this.totalSize} parameters, their gradients and optimizer state) `
        + `on top of the ${e.liveBytes} bytes in use; the wasm32 limit is ${WASM_LIMIT_BYTES} bytes (4 GiB)`);
    }
    [this.params, this.grads] = e.allocAll(need.slice(0, 2));
    let off = 0;
    for (const p of this.paramRefs) {
      p.ptr = this.params + off * 4;
      p.grad = p.trainable ? this.grads + off * 4 : 0;
      off += p.size;
    }
    for (const p of this.paramRefs) this.initParam(p);
    this.byName = new Map(this.paramRefs.map((p) => [p.name, p]));
    this.setBackwardStart();
    this.zeroGrad();
  }

  /** The model's own layers (model.layers[i]; a residual block's inside is block.inner.layers). */
  get layers(): Layer[] { return this.chain.layers; }

  /** The layer named `name`, nested ones included (Keras model.get_layer); ConfigError listing the names when none is. */
  getLayer(name: string): Layer {
    this.alive('Sequential.getLayer');
    return this.findLayer('Sequential.getLayer', name);
  }
  private findLayer(where: string, name: string): Layer {
    const all = allLayers(this.layers), l = all.find((x) => x.name === name);
    if (!l) throw new ConfigError(`${where}: no layer is named ${show(name)}; the layers are ${all.map((x) => x.name).join(', ')}`);
    return l;
  }

  /** Each layer's frozen state now: layer.trainable false, or inside a frozen block (Keras). */
  private frozenLayers(): Map<Layer, boolean> {
    const out = new Map<Layer, boolean>();
    const visit = (ls: readonly Layer[], inherited: boolean) => {
      for (const l of ls) {
        if (l.trainable !== undefined && typeof l.trainable !== 'boolean') {
          throw new ConfigError(`sequential: layer ${l.name}'s trainable is ${show(l.trainable)}; it must be true or false`);
        }
        const f = inherited || l.trainable === false;
        out.set(l, f);
        visit(childrenOf(l), f);
      }
    };
    visit(this.layers, false);
    return out;
  }
  /** Which parameters are trainable for these frozen states, and the trainable region's floats. */
  private layoutPlan(frozen: Map<Layer, boolean>): { trainable: Map<ParamRef, boolean>; size: number } {
    const trainable = new Map(this.paramRefs.map((p) => [p, p.learned && !frozen.get(this.owners.get(p)!)]));
    return { trainable, size: this.paramRefs.reduce((s, p) => s + (trainable.get(p) ? p.size : 0), 0) };
  }
  /**
   * The backward stops at the first top-level layer holding a trainable parameter, which makes no
   * dx: the frozen layers before it do no gradient work at all.
   */
  private setBackwardStart(): void {
    const i = this.layers.findIndex((l) => allLayers([l]).some((x) => x.params().some((p) => p.trainable)));
    this.chain.backwardStart = i < 0 ? this.layers.length : i;
  }

  /**
   * Applies layer.trainable changes made since the arenas were laid out: compile (and, on an
   * uncompiled model, lossAndGrad and gradCheck) re-lays the arenas — trainable parameters first,
   * values kept, new arenas made before the old ones go — and returns true; a compiled model
   * whose flags changed refuses to train until compiled again (Keras applies trainable at
   * compile as well). Returns false when nothing changed.
   */
  applyTrainable(where: string, compiling = false): boolean {
    const now = this.frozenLayers();
    const changed = [...now].filter(([l, f]) => this.frozenAtLayout.get(l) !== f).map(([l]) => l.name);
    if (changed.length === 0) return false;
    if (!compiling && this.optimizer) {
      throw new StateError(`${where}: layer.trainable of ${changed.join(', ')} changed after compile; set it before compile, or call model.compile again to apply it`);
    }
    const e = this.engine, plan = this.layoutPlan(now);
    const order = [...this.paramRefs].sort((a, b) => Number(plan.trainable.get(b)) - Number(plan.trainable.get(a)));
    const [params, grads] = e.allocAll([this.totalSize * 4, Math.max(1, plan.size) * 4]);
    let parallel: Parallel | undefined;
    try {
      // The data-parallel step's gradient banks are sized for the trainable region: a new pool for the new one.
      if (this.parallel) parallel = new Parallel(this, new ThreadPool(e, this.parallel.pool.threads));
    } catch (err) {
      e.release(params); e.release(grads);
      throw err;
    }
    let off = 0;
    for (const p of order) {
      e.f32.copyWithin((params >> 2) + off, p.ptr >> 2, (p.ptr >> 2) + p.size);
      p.trainable = plan.trainable.get(p)!;
      p.ptr = params + off * 4;
      p.grad = p.trainable ? grads + off * 4 : 0;
      off += p.size;
    }
    this.paramRefs.splice(0, this.paramRefs.length, ...order);
    e.release(this.params); e.release(this.grads);
    [this.params, this.grads, this.trainableSize] = [params, grads, plan.size];
    this.parallel?.dispose();
    this.parallel = parallel;
    // Recorded steps hold the old pointers.
    Buffers.version++;
    this.frozenAtLayout = now;
    this.setBackwardStart();
    this.zeroGrad();
    return true;
  }

  private initParam(p: ParamRef): void {
    const k = this.engine.k, i = p.init;
    const { fanIn, fanOut } = p;
    if (i instanceof Float32Array) return void this.engine.f32.set(i, p.ptr >> 2);
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

  // ── Lifecycle ────────────────────────────────────────────────────────────────────────────────

  /** Whether dispose() was called (a dispose during fit counts from the call on). */
  get disposed(): boolean { return this.lifecycle === 'disposed' || this.disposeRequested; }
  /** Whether a fit is running. */
  get fitting(): boolean { return this.lifecycle === 'fitting'; }

  /** Throws StateError once the model is disposed (or its disposal is pending). */
  alive(where: string): void {
    if (this.disposed) throw new StateError(`${where}: the model was disposed; it cannot be used any more`);
  }
  /** Throws ConfigError when a layer cannot run yet (a normalization that was never adapted). */
  checkReady(where: string): void {
    walkLayers(this.layers, (l) => l.checkReady?.(where));
  }
  /** Throws StateError when disposed or fitting. */
  checkIdle(where: string): void {
    this.alive(where);
    if (this.fitting) throw new StateError(`${where}: the model is fitting; wait until that fit settles`);
  }

  /**
   * Runs a fit's body with the model's step buffers for `rows` rows, under the lifecycle: one fit
   * at a time, dispose() meanwhile deferred until the body settles.
   */
  async fitSession<T>(where: string, rows: number, body: (buf: StepBuffers) => Promise<T>): Promise<T> {
    this.checkIdle(where);
    const buf = this.stepBuffers(rows);
    this.lifecycle = 'fitting';
    try {
      return await body(buf);
    } finally {
      this.lifecycle = 'idle';
      if (this.disposeRequested) this.dispose();
    }
  }
  /** Inside a fit: throws StateError when dispose() was called meanwhile (nothing has been freed yet). */
  checkNotDisposed(where: string, at: string): void {
    if (this.disposeRequested) throw new StateError(`${where}: the model was disposed during fit (${at}); training stopped and its memory is released`);
  }

  /** Frees every buffer of this model in its engine; while a fit runs, once that fit settles. */
  dispose(): void {
    if (this.lifecycle === 'disposed') return;
    if (this.fitting) {
      this.disposeRequested = true;
      return;
    }
    this.lifecycle = 'disposed';
    this.disposeRequested = false;
    for (const l of allLayers(this.layers)) if (OWNER.get(l) === this) OWNER.delete(l);
    this.optimizer?.dispose();
    this.chain.dispose();
    this.parallel?.dispose();
    this.step?.release();
    this.step = undefined;
    for (const p of [this.params, this.grads, this.rng]) this.engine.release(p);
  }

  // ── The step ─────────────────────────────────────────────────────────────────────────────────

  /** Makes sure every layer has buffers for `batch` rows (new ones made before old ones go). */
  reserve(batch: number): void {
    this.alive('Sequential.reserve');
    if (batch > this.capacity) {
      this.chain.reserve(this.engine, batch);
      this.capacity = batch;
    }
  }
  /** The model's step buffers for `rows` rows: grown (new before old is released) when idle. */
  private stepBuffers(rows: number): StepBuffers {
    this.reserve(rows);
    if (!this.step || this.step.cap < rows) {
      const next = StepBuffers.allocate(this.engine, rows, this.inputSize, this.outputSize);
      this.step?.release();
      this.step = next;
    }
    return this.step;
  }
  /**
   * Runs body on step buffers for `rows` rows: the model's own when idle; while a fit holds those
   * (evaluate or predict from a callback), buffers of the call's own, released after.
   */
  private withStep<T>(rows: number, body: (buf: StepBuffers) => T): T {
    if (!this.fitting) return body(this.stepBuffers(rows));
    this.reserve(rows);
    const own = StepBuffers.allocate(this.engine, rows, this.inputSize, this.outputSize);
    try {
      return body(own);
    } finally {
      own.release();
    }
  }

  /**
   * One pass over the batch in buf: forward, loss (+ activity penalties); when training, backward
   * and the optimizer step — skipped, weights kept, when the loss or a gradient is not finite
   * (the loss is then NaN or ±Infinity).
   */
  runStep(buf: StepBuffers, rows: number, train: boolean): StepResult {
    const r = this.pass(buf, rows, train, this.loss!, buf.classWeights);
    if (train && Number.isFinite(r.loss)) {
      if (r.nonFinite > 0) r.loss = NaN;
      else this.optimizer!.step(r.slices.length > 1 ? this.parallel!.split(r.slices.length) : undefined);
    }
    return r;
  }
  /**
   * Forward and loss (+ activity penalties) of buf's rows; with `train`, also the backward into
   * the (zeroed) gradient arena and a count of its non-finite values. Over the threads when the
   * batch has rows enough for more than one slice.
   */
  private pass(buf: StepBuffers, rows: number, train: boolean, loss: Loss, classWeights: number): StepResult & { nonFinite: number } {
    const e = this.engine, k = e.k, parallel = this.parallel, batch = buf.take();
    Object.assign(this.slice, { thread: 0, threads: 1, row0: 0, total: rows });
    let slices: Slice[], nonFinite = 0, penalty = 0;
    if (train) this.runningStats('save');
    // Custom losses run JavaScript on the outputs: their steps stay on this thread.
    if (parallel && !loss.custom && parallel.slices(rows, train).length > 1) {
      slices = parallel.pass(buf, batch, rows, train, loss, classWeights);
      if (train) nonFinite = parallel.nonFinite(slices.length);
      if (this.hasActivity) {
        const pen = slices.reduce((sum, s, t) => {
          let p = 0;
          parallel.inBank(t, s.rows, () => { p = this.chain.activityPenalty(s.rows); });
          return sum + p;
        }, 0);
        for (const s of slices) s.loss += pen;
        penalty = pen;
      }
    } else {
      batch?.gather(0, rows);
      const pred = this.chain.forward(buf.x, rows, train);
      penalty = this.chain.activityPenalty(rows);
      const value = loss.kernel(e, train ? buf.dpred : 0, pred, buf.y, rows, this.outputSize, classWeights, buf.correct, buf.sampleWeights, buf.soft)
        + penalty;
      slices = [{ row0: 0, rows, pred, loss: value, correct: loss.labels ? e.i32[buf.correct >> 2] : 0 }];
      if (train && Number.isFinite(value)) {
        this.zeroGrad();
        this.chain.backward(buf.dpred, rows, false);
        nonFinite = k.f32_count_nonfinite(this.grads, this.trainableSize);
      }
    }
    // Dropout masks are drawn from the state of this step; the next step draws new ones.
    if (train) k.rng_next_u32(this.rng);
    const lossValue = slices.reduce((s, x) => s + x.loss * x.rows, 0) / rows;
    // A step that is not kept keeps the running statistics as they were, with the weights.
    if (train && (!Number.isFinite(lossValue) || nonFinite > 0)) this.runningStats('restore');
    return { loss: lossValue, correct: slices.reduce((s, x) => s + x.correct, 0), slices, nonFinite, penalty };
  }
  /** The parameters a training forward changes without the optimizer (batch norm's running statistics; fixed at declare). */
  private runningRefs: ParamRef[] = [];
  /** Their values before the current step: put back when the step is not kept. */
  private running = new Float32Array(0);
  /** Saves or restores runningRefs (a few values a layer: an element loop, nothing allocated in the step). */
  private runningStats(what: 'save' | 'restore'): void {
    const f32 = this.engine.f32, r = this.running;
    let at = 0;
    for (const p of this.runningRefs) {
      const o = p.ptr >> 2;
      if (what === 'save') for (let i = 0; i < p.size; i++) r[at + i] = f32[o + i];
      else for (let i = 0; i < p.size; i++) f32[o + i] = r[at + i];
      at += p.size;
    }
  }

  /**
   * Gradient accumulation (fit's accumulate): forward, loss and backward of one micro-batch of
   * `rows`; its gradient (a mean over its rows) times `scale` (rows / the rows of the whole
   * accumulated batch) is written (`first`) or added into `acc`, a float array of the trainable
   * region; with `last` the sum goes to the gradient arena and the optimizer steps on it — the
   * step of one batch of all the micro-batches' rows. A non-finite loss or gradient returns loss
   * NaN (or ±Infinity) before any step: the weights stay.
   */
  accumulateStep(buf: StepBuffers, rows: number, scale: number, acc: number, first: boolean, last: boolean): StepResult {
    const r = this.pass(buf, rows, true, this.loss!, buf.classWeights);
    if (!Number.isFinite(r.loss)) return r;
    if (r.nonFinite > 0) return { ...r, loss: NaN };
    const k = this.engine.k, n = this.trainableSize;
    if (first) k.f32_scale(acc, this.grads, scale, n);
    else {
      k.f32_scale(this.grads, this.grads, scale, n);
      k.f32_add_inplace(acc, this.grads, n);
    }
    if (last) {
      k.f32_scale(this.grads, acc, 1, n);
      this.optimizer!.step(r.slices.length > 1 ? this.parallel!.split(r.slices.length) : undefined);
    }
    return r;
  }

  /** Whether the model has weight penalties (on trainable tensors) or activity penalties: its logs then hold dataLoss. */
  get hasPenalties(): boolean { return this.hasActivity || this.paramRefs.some((p) => p.reg && p.trainable); }
  /**
   * Keras's loss: the data loss plus the activity penalties (`activity`, a mean over rows, already
   * in the meter's loss) plus the weight penalties (`weight`); for a model with penalties,
   * `dataLoss` (prefix 'val': valDataLoss) is the loss without either.
   */
  penaltyLogs(logs: Logs, prefix: string, activity: number, weight: number): Logs {
    if (!this.hasPenalties) return logs;
    const key = (k: string) => (prefix ? prefix + k[0].toUpperCase() + k.slice(1) : k), lk = key('loss');
    const { [lk]: loss, ...rest } = logs;
    return { [lk]: loss + weight, [key('dataLoss')]: loss - activity, ...rest };
  }
  /** Forward only (inference mode) of buf's rows: each slice's outputs. */
  private forwardRows(buf: StepBuffers, rows: number): Slice[] {
    const parallel = this.parallel, batch = buf.take();
    Object.assign(this.slice, { thread: 0, threads: 1, row0: 0, total: rows });
    if (parallel && parallel.slices(rows, false).length > 1) return parallel.pass(buf, batch, rows, false, undefined, 0);
    batch?.gather(0, rows);
    return [{ row0: 0, rows, pred: this.chain.forward(buf.x, rows, false), loss: 0, correct: 0 }];
  }
  /** Whether a layer has an activity regularizer (its penalty is summed per slice). */
  private get hasActivity(): boolean {
    return allLayers(this.layers).some((l) => (l as { opts?: { activityRegularizer?: unknown } }).opts?.activityRegularizer);
  }

  /** Validates a batch x, y for this model and a loss (by default the compiled one), as fit, evaluate and trainStep take them. */
  batch(where: string, x: unknown, y: unknown, loss: Loss = this.compiled(where)): { x: Tensor<Float32Array | Uint8Array>; y: Int32Array | Float32Array } {
    this.checkReady(where);
    const xt = this.input(where, x);
    const yd = loss.labels ? asClassTargets(where, 'y', y, xt.rows, this.outputSize, loss.soft) : asTargets(where, 'y', y, xt.rows, this.outputSize);
    return { x: xt, y: yd };
  }
  /** Validates sampleWeight (absent: undefined) for n samples and a loss (by default the compiled one). */
  sampleWeights(where: string, sw: unknown, n: number, loss: Loss = this.compiled(where)): Float32Array | undefined {
    return sw === undefined ? undefined : sampleWeightArray(where, sw, n, loss);
  }
  /** A Meter for the compiled loss and metrics (sst: the targets' total sum of squares, for R²). */
  meter(sst: number, from?: MeterSums): Meter {
    return new Meter(this.engine, this.loss!, this.compiledMetrics.names, this.outputSize, sst, from, this.compiledMetrics.custom);
  }
  /**
   * x as rows of inputSize values: flat [n, inputSize], or [n, ...inputShape]. For an image model a
   * tensor of another layout with the same size (NCHW [n, 1, 28, 28] is fine, [n, 3, 32, 32] for
   * [32, 32, 3] is not) is refused: only sizes-1 axes may differ.
   */
  private input(where: string, x: unknown): Tensor<Float32Array | Uint8Array> {
    const xt = asInput(where, 'x', x, this.inputSize);
    const squeeze = (s: readonly number[]) => s.filter((d) => d !== 1).join('×');
    if (this.inputShape.length === 3 && xt.shape.length > 2 && squeeze(xt.shape.slice(1)) !== squeeze(this.inputShape)) {
      throw new ShapeError(`${where}: x has shape ${show([...xt.shape])}; this model takes [n, ${this.inputShape.join(', ')}] (channels last) or flat [n, ${this.inputSize}]`);
    }
    return xt;
  }
  private compiled(where: string): Loss {
    this.alive(where);
    if (!this.loss || !this.optimizer) throw new ConfigError(`${where}: the model is not compiled; call model.compile({ loss, optimizer }) first`);
    return this.loss;
  }
  /** Copies a validated batch (and its sample weights) into step buffers (u8 pixels scaled on the fly, in wasm). */
  private load<T>(x: Tensor<Float32Array | Uint8Array>, y: Int32Array | Float32Array, sw: Float32Array | undefined, body: (buf: StepBuffers) => T): T {
    const rows = x.rows;
    return this.withStep(rows, (buf) => {
      buf.take();
      if (x.data instanceof Float32Array) this.engine.write(buf.x, x.data);
      else {
        const f = this.engine.f32, at = buf.x >> 2, lo = x.range[0], scale = (x.range[1] - lo) / 255;
        for (let i = 0; i < x.data.length; i++) f[at + i] = lo + x.data[i] * scale;
      }
      this.engine.write(buf.y, y);
      buf.soft = !(y instanceof Int32Array);
      if (sw) this.engine.write(buf.sw, sw);
      buf.sampleWeights = sw ? buf.sw : 0;
      return body(buf);
    });
  }

  /**
   * One optimizer step on the batch x, y (Keras train_on_batch): returns the batch loss and the
   * compiled metrics of the forward pass before the update. A non-finite loss or gradient leaves
   * the weights unchanged and returns loss NaN (or ±Infinity).
   */
  trainStep(x: Input, y: Target, opts: { sampleWeight?: SampleWeight } = {}): Logs {
    const where = 'Sequential.trainStep';
    this.checkIdle(where);
    checkKeys(where, opts, ['sampleWeight']);
    this.applyTrainable(where);
    const b = this.batch(where, x, y);
    const sw = this.sampleWeights(where, opts.sampleWeight, b.x.rows);
    return this.load(b.x, b.y, sw, (buf) => {
      const weight = this.weightPenalty();
      const r = this.runStep(buf, b.x.rows, true);
      const m = this.meter(sst(b.y));
      m.addStep(r, buf);
      return this.penaltyLogs(m.logs(), '', r.penalty, weight);
    });
  }

  /**
   * The batch loss (training mode: dropout on, batch statistics) and its gradient with respect to
   * every trainable parameter, by name; the weights do not change.
   */
  lossAndGrad(x: Input, y: Target, opts: { loss?: LossName | LossAlias | Loss; sampleWeight?: SampleWeight } = {}): { loss: number; grads: Map<string, Float32Array> } {
    const where = 'Sequential.lossAndGrad';
    this.checkIdle(where);
    checkKeys(where, opts, ['loss', 'sampleWeight']);
    this.applyTrainable(where);
    const lossFn = opts.loss !== undefined ? getLoss(where, opts.loss) : this.loss;
    if (!lossFn) throw new ConfigError(`${where}: the model is not compiled and no loss is given; pass { loss } or call model.compile first`);
    const b = this.batch(where, x, y, lossFn), rows = b.x.rows;
    const sw = this.sampleWeights(where, opts.sampleWeight, rows, lossFn);
    return this.load(b.x, b.y, sw, (buf) => {
      const { loss } = this.pass(buf, rows, true, lossFn, 0);
      this.runningStats('restore');
      const f32 = this.engine.f32;
      const grads = new Map(this.paramRefs.filter((p) => p.trainable).map((p) => [p.name, f32.slice(p.grad >> 2, (p.grad >> 2) + p.size)]));
      this.zeroGrad();
      return { loss, grads };
    });
  }

  /** Loss and metrics of a resident dataset in inference mode, on buf (`prefix` 'val' gives valLoss, …). */
  evaluateData(data: WasmData, buf: StepBuffers, batchSize: number, prefix = ''): Logs {
    const meter = this.meter(data.sst);
    let activity = 0;
    for (let start = 0; start < data.n; start += batchSize) {
      const rows = Math.min(batchSize, data.n - start);
      buf.gather(data, buf.indices(start, rows), rows, this.outputSize);
      const r = this.runStep(buf, rows, false);
      meter.addStep(r, buf);
      activity += r.penalty * rows;
    }
    return this.penaltyLogs(meter.logs(prefix), prefix, activity / data.n, this.weightPenalty());
  }

  /**
   * Loss (weighted by sampleWeight when given; with the weight and activity penalties, as Keras,
   * and dataLoss without them when the model has any) and compiled metrics on x, y in inference mode.
   */
  evaluate(x: Input, y: Target, opts: { batchSize?: number; sampleWeight?: SampleWeight } = {}): Logs {
    const where = 'Sequential.evaluate';
    checkKeys(where, opts, ['batchSize', 'sampleWeight']);
    const batchSize = checkInt(where, 'batchSize', opts.batchSize ?? 256, 1, 2 ** 31 - 1);
    const b = this.batch(where, x, y);
    const sw = this.sampleWeights(where, opts.sampleWeight, b.x.rows);
    const bs = Math.min(batchSize, b.x.rows);
    const data = new WasmData(this.engine, b.x, b.y, this.inputSize, sw);
    try {
      return this.withStep(bs, (buf) => this.evaluateData(data, buf, bs));
    } finally {
      data.release();
    }
  }

  /**
   * Outputs for each row of x, inference mode: a Float32Array tensor [n, outputs]. With `output`,
   * the outputs of the layer of that name instead (Keras: a model ending at
   * model.getLayer(name).output), nested layers included: [n, ...its output shape].
   */
  predict(x: Input, opts: { batchSize?: number; output?: string } = {}): Tensor<Float32Array> {
    const where = 'Sequential.predict';
    checkKeys(where, opts, ['batchSize', 'output']);
    const { output, ...rest } = opts;
    const f32 = (p: number, n: number) => this.engine.f32.subarray(p >> 2, (p >> 2) + n);
    if (output === undefined) return this.inferRows(where, x, rest, this.outputSize, Float32Array, (p, rows) => f32(p, rows * this.outputSize));
    this.alive(where);
    const target = this.findLayer(where, output), shape = this.outputShapes.get(target)!, W = shape.reduce((a, b) => a * b, 1);
    const t = this.inferRows(where, x, rest, W, Float32Array, (p, rows) => f32(p, rows * W), (buf, rows) => {
      // On this thread: the staged batch is gathered here, then the layers up to the target run.
      buf.take()?.gather(0, rows);
      Object.assign(this.slice, { thread: 0, threads: 1, row0: 0, total: rows });
      return [{ row0: 0, rows, pred: forwardTo(this.layers, target, buf.x, rows), loss: 0, correct: 0 }];
    });
    return new Tensor(t.data, [t.rows, ...shape]);
  }

  /**
   * Class probabilities for each row of x, by the compiled loss: softmax of the logits
   * (softmaxCrossEntropy), of the log-probabilities (nll), sigmoid of the logits
   * (sigmoidCrossEntropy), the outputs as they are (binaryCrossEntropy, categoricalCrossEntropy).
   * Regression losses (mse, mae) and uncompiled models are refused.
   */
  predictProba(x: Input, opts: { batchSize?: number } = {}): Tensor<Float32Array> {
    const where = 'Sequential.predictProba';
    const kind = this.outputKind(where), e = this.engine, N = this.outputSize;
    return this.inferRows(where, x, opts, N, Float32Array, (p, rows, scratch) => {
      if (kind === 'logits') e.k.f32_softmax_fwd(scratch, p, rows, N);
      else if (kind === 'sigmoid') e.k.f32_act_fwd(scratch, p, rows * N, ACT.sigmoid, 0);
      else scratch = p;
      return e.f32.subarray(scratch >> 2, (scratch >> 2) + rows * N);
    });
  }

  /**
   * The predicted class of each row of x (Keras predict_classes): the index of the largest output
   * (first on ties) when the model has several; for 1 output, 1 where the probability is > 0.5
   * (the logit > 0 for sigmoidCrossEntropy), else 0 — that needs a compiled sigmoid loss.
   * predictClassNames gives the names of metadata.classes instead.
   */
  predictClasses(x: Input, opts: { batchSize?: number } = {}): Int32Array {
    return this.classes('Sequential.predictClasses', x, opts);
  }
  /** metadata.classes[predictClasses(x)[i]] for each row (sklearn's predict on a classifier); needs metadata.classes. */
  predictClassNames(x: Input, opts: { batchSize?: number } = {}): string[] {
    const where = 'Sequential.predictClassNames';
    this.alive(where);
    const names = this.meta?.classes;
    if (!names) throw new ConfigError(`${where}: the model has no class names; set them with model.setMetadata({ classes: [...] }) or use predictClasses for indices`);
    return Array.from(this.classes(where, x, opts), (i) => names[i]);
  }
  private classes(where: string, x: Input, opts: { batchSize?: number }): Int32Array {
    const e = this.engine, N = this.outputSize;
    if (N > 1) {
      return this.inferRows(where, x, opts, 1, Int32Array, (p, rows, scratch) => {
        e.k.f32_argmax_rows(scratch, p, rows, N);
        return e.i32.subarray(scratch >> 2, (scratch >> 2) + rows);
      }).data;
    }
    const kind = this.outputKind(where);
    if (kind === 'logits') {
      throw new ConfigError(`${where}: a 1-output model's class needs a sigmoid loss (sigmoidCrossEntropy or binaryCrossEntropy); it is compiled with ${this.loss!.name}`);
    }
    const cut = kind === 'sigmoid' ? 0 : 0.5;
    return Int32Array.from(this.predict(x, opts).data, (v) => (v > cut ? 1 : 0));
  }
  /** What the outputs are, by the compiled loss: logits for softmax, logits for sigmoid, or probabilities. */
  private outputKind(where: string): 'logits' | 'sigmoid' | 'probabilities' {
    this.alive(where);
    const loss = this.loss?.name;
    switch (loss) {
      case 'softmaxCrossEntropy': case 'nll': return 'logits';
      case 'sigmoidCrossEntropy': return 'sigmoid';
      case 'binaryCrossEntropy': case 'categoricalCrossEntropy': return 'probabilities';
      case undefined: throw new ConfigError(`${where}: the model is not compiled; its loss tells whether the outputs are logits or probabilities — call model.compile first`);
      default: throw new ConfigError(`${where}: the model is compiled with ${loss}, a regression loss; its outputs are values, not class scores`);
    }
  }

  /**
   * Forward of x in inference mode, batch by batch: `take` gets each batch's outputs (byte
   * pointer p, rows × outputSize) and a rows × outputSize scratch buffer in wasm, and returns the
   * batch's `cols` values per row for the result tensor [n, cols].
   */
  private inferRows<T extends Float32Array | Int32Array>(where: string, x: Input, opts: { batchSize?: number }, cols: number,
      type: new (n: number) => T, take: (p: number, rows: number, scratch: number) => ArrayLike<number>,
      forward = (buf: StepBuffers, rows: number) => this.forwardRows(buf, rows)): Tensor<T> {
    this.alive(where);
    checkKeys(where, opts, ['batchSize']);
    const batchSize = checkInt(where, 'batchSize', opts.batchSize ?? 256, 1, 2 ** 31 - 1);
    const xt = this.input(where, x);
    this.checkReady(where);
    const e = this.engine, N = this.outputSize, bs = Math.min(batchSize, xt.rows);
    const out = new type(xt.rows * cols);
    const data = new WasmData(e, xt, undefined, this.inputSize);
    try {
      this.withStep(bs, (buf) => {
        for (let start = 0; start < data.n; start += bs) {
          const rows = Math.min(bs, data.n - start);
          buf.gather(data, buf.indices(start, rows), rows, N);
          for (const sl of forward(buf, rows)) {
            out.set(take(sl.pred, sl.rows, buf.dpred + sl.row0 * N * 4), (start + sl.row0) * cols);
          }
        }
      });
    } finally {
      data.release();
    }
    return new Tensor(out, [xt.rows, cols]);
  }

  /** Low level: forward of `batch` rows at byte pointer x; returns the output pointer. */
  forward(x: number, batch: number, training = false): number {
    this.reserve(batch);
    Object.assign(this.slice, { thread: 0, threads: 1, row0: 0, total: batch });
    return this.chain.forward(x, batch, training);
  }
  /** Low level: backward from dy (gradient of the loss w.r.t. the output); adds into the grads. */
  backward(dy: number, batch: number): void {
    this.alive('Sequential.backward');
    if (batch > this.capacity) throw new ShapeError(`Sequential.backward: batch is ${show(batch)}; the last forward reserved ${this.capacity} rows`);
    this.chain.backward(dy, batch, false);
  }
  /** Low level: sets every gradient to 0. */
  zeroGrad(): void {
    this.alive('Sequential.zeroGrad');
    this.engine.k.f32_fill(this.grads, 0, this.trainableSize);
  }
  /** Sum of the layers' activity penalties for the last forward. */
  activityPenalty(batch: number): number { this.alive('Sequential.activityPenalty'); return this.chain.activityPenalty(batch); }
  /** Sum of the weight penalties l1·Σ|w| + l2·Σw² over regularized trainable tensors (a frozen layer's are constant: left out, as Keras). */
  weightPenalty(): number {
    this.alive('Sequential.weightPenalty');
    let s = 0;
    for (const p of this.paramRefs) if (p.reg && p.trainable) s += this.engine.k.f32_l1l2_penalty(p.ptr, p.size, p.reg.l1, p.reg.l2);
    return s;
  }

  compile(config: CompileConfig): this {
    const where = 'Sequential.compile';
    this.checkIdle(where);
    checkKeys(where, config, ['loss', 'optimizer', 'metrics']);
    // Validate everything before changing the model: a refused compile leaves it as it was.
    const loss = getLoss(where, config?.loss);
    const opt = typeof config.optimizer === 'string' ? optimizerFromConfig(config.optimizer, {}) : config.optimizer;
    if (!opt || typeof (opt as Optimizer).step !== 'function') {
      throw new ConfigError(`${where}: optimizer is ${show(config.optimizer)}; use nn.sgd(...), nn.adam(...) or a name like 'adam'`);
    }
    const metrics = checkMetrics(where, config.metrics ?? [], loss);
    // layer.trainable set since the last layout: the arenas are laid out again, and the optimizer
    // state (over the trainable region) made anew — Keras too rebuilds it when compiling.
    if (this.applyTrainable(where, true) && this.optimizer) {
      this.optimizer.dispose();
      if (this.optimizer === opt) opt.bind(this.arena());
      else this.optimizer = undefined;
    }
    // The new optimizer's state is made before the old one's is released.
    if (this.optimizer !== opt) {
      opt.bind(this.arena());
      this.optimizer?.dispose();
      this.optimizer = opt;
    }
    this.loss = loss;
    this.compiledMetrics = metrics;
    this.metrics = [...metrics.names, ...metrics.custom.map((m) => m.name)];
    return this;
  }

  // ── What the model knows about its data ──────────────────────────────────────────────────────

  /** Feature, target and class names, input kind, data split (a frozen copy), or undefined when none was set. */
  get metadata(): Readonly<ModelMetadata> | undefined { return this.meta; }
  /**
   * Replaces the metadata (undefined clears it). Checked first: unknown keys are refused,
   * features.length must equal the model's inputs, classes.length its outputs (exactly 2 for a
   * 1-output sigmoid model: negative, positive). Saved with the model and shown by `simdnn info`.
   */
  setMetadata(m: ModelMetadata | undefined): this {
    const where = 'Sequential.setMetadata';
    this.alive(where);
    this.meta = m === undefined ? undefined : checkMetadata(where, m, { inputs: this.inputSize, outputs: this.outputSize });
    return this;
  }

  // ── Weights and state ────────────────────────────────────────────────────────────────────────

  /** Copies of every parameter tensor (trainable and running statistics), by name. */
  getWeights(): Map<string, Float32Array> {
    this.alive('Sequential.getWeights');
    return new Map(this.paramRefs.map((p) => [p.name, this.engine.f32.slice(p.ptr >> 2, (p.ptr >> 2) + p.size)]));
  }
  /** Sets parameter tensors by name (each must match its shape); all are checked before any is written. */
  setWeights(w: Map<string, Float32Array> | Record<string, Float32Array>): void {
    this.alive('Sequential.setWeights');
    const m = w instanceof Map ? w : new Map(Object.entries(w));
    const writes: [ParamRef, Float32Array][] = [];
    for (const [name, data] of m) {
      const p = this.byName.get(name);
      if (!p) throw new ConfigError(`Sequential.setWeights: no parameter named ${show(name)}; known: ${this.paramRefs.map((q) => q.name).join(', ')}`);
      if (!(data instanceof Float32Array) || data.length !== p.size) {
        throw new ShapeError(`Sequential.setWeights: ${name} has ${show(data)}; expected a Float32Array of ${p.size} (shape ${show(p.shape)})`);
      }
      writes.push([p, data]);
    }
    for (const [p, data] of writes) this.engine.f32.set(data, p.ptr >> 2);
  }

  /** The PRNG state (xoshiro128**: shuffling, sampling, dropout) as 4 unsigned 32-bit numbers (see isRngState). */
  get rngState(): number[] {
    this.alive('Sequential.rngState');
    const i = this.rng >> 2;
    return Array.from(this.engine.i32.subarray(i, i + 4), (v) => v >>> 0);
  }
  set rngState(state: number[]) {
    this.alive('Sequential.rngState');
    if (!isRngState(state)) throw new ConfigError(`Sequential.rngState: state is ${show(state)}; it must be 4 unsigned 32-bit integers, not all 0`);
    this.engine.i32.set(state.map((v) => v | 0), this.rng >> 2);
  }

  /** All parameters as bytes (arena order) — for hashing and exact comparisons. */
  weightBytes(): Uint8Array {
    this.alive('Sequential.weightBytes');
    return this.engine.u8.slice(this.params, this.params + this.totalSize * 4);
  }
  /** Reads a parameter tensor as float64 (the reference path). */
  readParam = (p: ParamRef): Float64Array => readF64(this.engine, p.ptr, p.size);

  /** Keras-style table: layer (type), output shape, parameter count. */
  summary(print: (s: string) => void = console.log): string {
    this.alive('Sequential.summary');
    // By the layers' trainable flags now (as Keras), applied to the arenas or not yet.
    const trainable = this.layoutPlan(this.frozenLayers()).size;
    const rows: [string, string, string][] = [];
    walkLayers(this.layers, (l, depth) => {
      const n = l.params().reduce((s, p) => s + p.size, 0);
      rows.push([`${'  '.repeat(depth)}${l.name} (${l.type})`, `[null, ${(this.outputShapes.get(l) ?? [l.outputSize]).join(', ')}]`, String(n)]);
    });
    let w0 = 24, w1 = 14;
    for (const r of rows) [w0, w1] = [Math.max(w0, r[0].length), Math.max(w1, r[1].length)];
    const w = [w0 + 2, w1 + 2, 10];
    const line = '─'.repeat(w[0] + w[1] + w[2]);
    const fmt = (r: string[]) => r.map((c, i) => c.padEnd(w[i])).join('');
    const out = [
      `Model: "${this.name}"  input [null, ${this.inputShape.join(', ')}]`, line, fmt(['Layer (type)', 'Output shape', 'Params']), line,
      ...rows.map(fmt), line,
      `Total params: ${this.totalSize.toLocaleString('en-US')}`,
      `Trainable params: ${trainable.toLocaleString('en-US')}`,
      `Non-trainable params: ${(this.totalSize - trainable).toLocaleString('en-US')}`,
    ].join('\n');
    print(out);
    return out;
  }

  config(): Record<string, unknown> {
    this.alive('Sequential.config');
    return { name: this.name, inputShape: this.inputShape, seed: this.seed, layers: this.layers.map(layerConfig) };
  }
}

/**
 * Inference forward of `layers` up to and including `target` (in them, or nested in one of them:
 * a block's layers run on the block's input); returns target's output pointer.
 */
function forwardTo(layers: readonly Layer[], target: Layer, x: number, batch: number): number {
  for (const l of layers) {
    if (l === target) return l.forward(x, batch, false);
    if (allLayers(childrenOf(l)).includes(target)) return forwardTo(childrenOf(l), target, x, batch);
    x = l.forward(x, batch, false);
  }
  throw new Error('forwardTo: the layer is not in the model');
}

/** Floating-point operations of a forward per row: each kernel [..., units] at outputSize / units positions (1 for dense, Ho·Wo for conv). */
function forwardFlopsPerRow(layers: Layer[]): number {
  let f = 0;
  for (const l of allLayers(layers)) {
    // A block's params() holds its layers' (counted with them): a layer's own kernel is named after it.
    for (const p of l.params()) if (p.name === `${l.name}/kernel`) f += 2 * p.size * (l.outputSize / p.shape[p.shape.length - 1]);
  }
  return f;
}
