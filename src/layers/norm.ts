// Dropout, batch norm, layer norm and residual blocks.
import { batchnormBwdRef, batchnormInferRef, batchnormTrainRef, layernormBwdRef, layernormFwdRef } from '../reference.js';
import { checkRange } from '../validate.js';
import type { Engine } from '../wasm.js';
import { Buffers, checkKeys, checkName, featureAxis, type Builder, type Layer, type ParamRef, type RefGrads, type StepSlice } from './layer.js';

/** nn.dropout(rate): inverted dropout in training (mask from the model's seeded PRNG), identity at inference. */
export class Dropout implements Layer {
  readonly type = 'dropout';
  name: string;
  inputSize = 0;
  outputSize = 0;
  readonly rate: number;
  /** gradCheck turns dropout off to compare deterministic paths. */
  enabled = true;
  private e?: Engine;
  private rng = 0;
  private stream = 0;
  private slice!: StepSlice;
  private bufs = new Buffers();
  private y = 0; private mask = 0; private dx = 0;
  private dropped = false;
  constructor(rate: number, opts: { name?: string } = {}) {
    checkKeys('dropout', opts, ['name']);
    this.rate = checkRange('dropout', 'rate', rate, 0, 1);
    this.name = checkName('dropout', opts.name) ?? '';
  }
  build(b: Builder, inputSize: number): number {
    this.rng = b.rng;
    this.stream = b.stream();
    this.slice = b.slice;
    this.inputSize = this.outputSize = inputSize;
    return inputSize;
  }
  reserve(e: Engine, batch: number): void {
    this.e = e;
    const n = this.inputSize;
    const p = this.bufs.reserve(e, batch, (m) => [m * n, m * n, m * n]);
    if (p) [this.y, this.mask, this.dx] = p;
  }
  forward(x: number, batch: number, training: boolean): number {
    this.dropped = training && this.enabled && this.rate > 0;
    if (!this.dropped) return x;
    // One stream per batch row: a row's mask is the same whichever thread's slice holds it.
    this.e!.k.f32_dropout_rows_fwd(this.y, this.mask, x, batch, this.inputSize, this.rate, this.rng, this.slice.row0, this.stream);
    return this.y;
  }
  backward(dy: number, batch: number, needDx: boolean): number {
    if (!needDx) return 0;
    if (!this.dropped) return dy;
    this.e!.k.f32_dropout_bwd(this.dx, dy, this.mask, batch * this.inputSize);
    return this.dx;
  }
  activityPenalty(): number { return 0; }
  params(): ParamRef[] { return []; }
  config(): Record<string, unknown> { return { rate: this.rate }; }
  // The reference path evaluates dropout as identity (gradCheck compares deterministic paths).
  refForward(x: Float64Array): Float64Array { return x; }
  refBackward(dy: Float64Array): RefGrads { return { dx: dy, grads: new Map() }; }
  dispose(): void { this.bufs.dispose(); }
}

interface NormOptions { eps?: number; name?: string }

/**
 * nn.batchNorm({ momentum, eps }): per-feature (per-channel after a conv) batch statistics in training, running statistics
 * at inference (Keras defaults: momentum 0.99, eps 1e-3); learned scale γ and shift β.
 */
export class BatchNorm implements Layer {
  readonly type = 'batchNorm';
  name: string;
  inputSize = 0;
  outputSize = 0;
  readonly momentum: number;
  readonly eps: number;
  gamma!: ParamRef; beta!: ParamRef; runMean!: ParamRef; runVar!: ParamRef;
  private e?: Engine;
  private slice!: StepSlice;
  private bufs = new Buffers();
  /** Each thread's batch sums, forward and backward (2N f64 per thread each), read by all after a barrier. */
  private shared = new Buffers(true);
  private y = 0; private xhat = 0; private mean = 0; private invstd = 0; private dx = 0; private scratch = 0;
  private fwdParts = 0; private bwdParts = 0;
  private ref?: { xhat: Float64Array; invstd: Float64Array };
  constructor(opts: NormOptions & { momentum?: number } = {}) {
    checkKeys('batchNorm', opts, ['momentum', 'eps', 'name']);
    this.momentum = checkRange('batchNorm', 'momentum', opts.momentum ?? 0.99, 0, 1, false);
    this.eps = checkRange('batchNorm', 'eps', opts.eps ?? 1e-3, Number.MIN_VALUE, 1, false);
    this.name = checkName('batchNorm', opts.name) ?? '';
  }
  /** Features normalised (channels on an image) and rows per sample (H·W on an image, else 1). */
  private features = 0; private perSample = 1;
  build(b: Builder, n: number): number {
    this.inputSize = this.outputSize = n;
    // On an image [H, W, C] the statistics are per channel, over batch·H·W rows (Keras axis −1).
    [this.features, this.perSample] = featureAxis(b.inputShape, n);
    const c = this.features;
    this.gamma = b.param('gamma', [c], 'ones');
    this.beta = b.param('beta', [c], 'zeros');
    this.runMean = b.param('movingMean', [c], 'zeros', { trainable: false });
    this.runVar = b.param('movingVariance', [c], 'ones', { trainable: false });
    this.slice = b.slice;
    return n;
  }
  reserve(e: Engine, batch: number): void {
    this.e = e;
    const n = this.inputSize, c = this.features;
    [this.y, this.xhat, this.dx, this.mean, this.invstd, this.scratch] = this.bufs.reserve(e, batch, (m) => [m * n, m * n, m * n, c, c, 2 * c]);
    const T = this.slice.maxThreads;
    [this.fwdParts, this.bwdParts] = this.shared.reserve(e, T, (t) => [4 * c * t, 4 * c * t]);
  }
  forward(x: number, batch: number, training: boolean): number {
    const k = this.e!.k, c = this.features, M = batch * this.perSample;
    if (training) {
      // NOTE: statistics over the whole batch: each slice's sums, a barrier, then every slice
      // reads all of them; the first slice updates the running statistics.
      const s = this.slice;
      k.f64_batchnorm_stats(this.fwdParts + s.thread * 16 * c, x, M, c);
      s.barrier();
      k.f32_batchnorm_fwd_train(this.y, this.xhat, this.mean, this.invstd, x, this.gamma.ptr, this.beta.ptr,
        this.runMean.ptr, this.runVar.ptr, M, c, this.momentum, this.eps, this.fwdParts, s.threads, s.total * this.perSample, s.thread === 0 ? 1 : 0);
    } else {
      k.f32_batchnorm_fwd_infer(this.y, x, this.gamma.ptr, this.beta.ptr, this.runMean.ptr, this.runVar.ptr, M, c, this.eps);
    }
    return this.y;
  }
  backward(dy: number, batch: number, needDx: boolean): number {
    const k = this.e!.k, c = this.features, M = batch * this.perSample, s = this.slice;
    k.f64_batchnorm_bwd_sums(this.bwdParts + s.thread * 16 * c, this.gamma.grad, this.beta.grad, dy, this.xhat, M, c);
    s.barrier();
    k.f32_batchnorm_bwd(this.dx, dy, this.xhat, this.invstd, this.gamma.ptr, M, c, this.bwdParts, s.threads, s.total * this.perSample, this.scratch);
    return needDx ? this.dx : 0;
  }
  activityPenalty(): number { return 0; }
  params(): ParamRef[] { return [this.gamma, this.beta, this.runMean, this.runVar]; }
  config(): Record<string, unknown> { return { momentum: this.momentum, eps: this.eps }; }
  /** Training: batch statistics (the running ones are read, not updated). Inference: running statistics, no backward. */
  refForward(x: Float64Array, batch: number, training: boolean, read: (p: ParamRef) => Float64Array): Float64Array {
    const args = [read(this.gamma), read(this.beta), read(this.runMean), read(this.runVar), batch * this.perSample, this.features] as const;
    if (!training) {
      this.ref = undefined;
      return batchnormInferRef(x, ...args, this.eps);
    }
    const r = batchnormTrainRef(x, ...args, this.momentum, this.eps);
    this.ref = r;
    return r.out;
  }
  refBackward(dy: Float64Array, batch: number, read: (p: ParamRef) => Float64Array): RefGrads {
    if (!this.ref) throw new Error('batchNorm.refBackward: needs a training-mode refForward first');
    const { dx, dgamma, dbeta } = batchnormBwdRef(dy, this.ref.xhat, this.ref.invstd, read(this.gamma), batch * this.perSample, this.features);
    return { dx, grads: new Map([[this.gamma, dgamma], [this.beta, dbeta]]) };
  }
  dispose(): void { this.bufs.dispose(); this.shared.dispose(); }
}

/**
 * nn.layerNorm({ eps }): normalises each sample over its features, learned γ and β per feature;
 * on an image [H, W, C] each position over its C channels, γ and β per channel (Keras
 * LayerNormalization(axis=-1): batch·H·W rows of C).
 */
export class LayerNorm implements Layer {
  readonly type = 'layerNorm';
  name: string;
  inputSize = 0;
  outputSize = 0;
  readonly eps: number;
  gamma!: ParamRef; beta!: ParamRef;
  private e?: Engine;
  private bufs = new Buffers();
  private y = 0; private xhat = 0; private invstd = 0; private dx = 0;
  /** Features normalised together (channels on an image) and rows per sample (H·W on an image, else 1). */
  private features = 0; private perSample = 1;
  private ref?: { xhat: Float64Array; invstd: Float64Array };
  constructor(opts: NormOptions = {}) {
    checkKeys('layerNorm', opts, ['eps', 'name']);
    this.eps = checkRange('layerNorm', 'eps', opts.eps ?? 1e-3, Number.MIN_VALUE, 1, false);
    this.name = checkName('layerNorm', opts.name) ?? '';
  }
  build(b: Builder, n: number): number {
    this.inputSize = this.outputSize = n;
    [this.features, this.perSample] = featureAxis(b.inputShape, n);
    this.gamma = b.param('gamma', [this.features], 'ones');
    this.beta = b.param('beta', [this.features], 'zeros');
    return n;
  }
  reserve(e: Engine, batch: number): void {
    this.e = e;
    const n = this.inputSize, per = this.perSample;
    const p = this.bufs.reserve(e, batch, (m) => [m * n, m * n, m * per, m * n]);
    if (p) [this.y, this.xhat, this.invstd, this.dx] = p;
  }
  forward(x: number, batch: number): number {
    this.e!.k.f32_layernorm_fwd(this.y, this.xhat, this.invstd, x, this.gamma.ptr, this.beta.ptr, batch * this.perSample, this.features, this.eps);
    return this.y;
  }
  backward(dy: number, batch: number, needDx: boolean): number {
    this.e!.k.f32_layernorm_bwd(this.dx, this.gamma.grad, this.beta.grad, dy, this.xhat, this.invstd, this.gamma.ptr, batch * this.perSample, this.features);
    return needDx ? this.dx : 0;
  }
  activityPenalty(): number { return 0; }
  params(): ParamRef[] { return [this.gamma, this.beta]; }
  config(): Record<string, unknown> { return { eps: this.eps }; }
  refForward(x: Float64Array, batch: number, _t: boolean, read: (p: ParamRef) => Float64Array): Float64Array {
    const r = layernormFwdRef(x, read(this.gamma), read(this.beta), batch * this.perSample, this.features, this.eps);
    this.ref = r;
    return r.out;
  }
  refBackward(dy: Float64Array, batch: number, read: (p: ParamRef) => Float64Array): RefGrads {
    const { dx, dgamma, dbeta } = layernormBwdRef(dy, this.ref!.xhat, this.ref!.invstd, read(this.gamma), batch * this.perSample, this.features);
    return { dx, grads: new Map([[this.gamma, dgamma], [this.beta, dbeta]]) };
  }
  dispose(): void { this.bufs.dispose(); }
}
