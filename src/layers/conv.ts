// Image layers on channels-last samples [H, W, C] (Keras, TF.js): conv2d as im2col + the fused
// gemm (bias + activation), max and average pooling, global average pooling, flatten.
// conv2d forward: cols = im2col(x) (N·Ho·Wo × kh·kw·cin), y = act(cols·W + b) with W the kernel
// [kh, kw, cin, cout] read as (kh·kw·cin) × cout. Backward: δ = dy ⊙ act'(z) with db += colsum(δ),
// dW += colsᵀ·δ, dcols = δ·Wᵀ, dx = col2im(dcols). A 1×1 kernel with strides 1 skips im2col.
import { ShapeError } from '../errors.js';
import {
  avgPool2dBwdRef, avgPool2dRef, conv2dBwdRef, conv2dRef, maxPool2dBwdRef, maxPool2dRef, type ImageGeometry,
} from '../reference.js';
import { checkBool, checkInt, checkOneOf, reject } from '../validate.js';
import type { Engine } from '../wasm.js';
import type { GemmRunner } from '../threads.js';
import { Act } from './activation.js';
import type { KernelLayerOptions } from './dense.js';
import {
  Buffers, checkInit, checkKeys, checkName, checkRegularizer, checkTrainable, isImage, shapeText,
  type Builder, type Init, type Layer, type ParamRef, type RefGrads, type Regularizer,
} from './layer.js';

export type Padding = 'valid' | 'same';
export const PADDINGS: readonly Padding[] = ['valid', 'same'];
/** A size per axis: one number for both, or [height, width]. */
export type Size2 = number | [number, number];

/** [h, w] from a number or a pair of integers in [min, 65536]. */
function pair(where: string, name: string, v: unknown, min: number): [number, number] {
  if (typeof v === 'number') return [checkInt(where, name, v, min, 65536), v];
  if (!Array.isArray(v) || v.length !== 2) reject(where, name, v, `an integer in [${min}, 65536] or [height, width] of them`);
  return [checkInt(where, `${name}[0]`, v[0], min, 65536), checkInt(where, `${name}[1]`, v[1], min, 65536)];
}

/**
 * One axis of a window over n inputs (Keras/TF rules): kernel k dilated by d spans ke = (k − 1)·d + 1;
 * 'valid' gives ⌊(n − ke)/s⌋ + 1 outputs and no padding (none when n < ke); 'same' gives ⌈n/s⌉
 * outputs with total padding max((out − 1)·s + ke − n, 0), the odd one after (below / right).
 */
export function axisGeometry(n: number, k: number, s: number, d: number, padding: Padding): { out: number; before: number } | undefined {
  const ke = (k - 1) * d + 1;
  if (padding === 'valid') return n < ke ? undefined : { out: Math.floor((n - ke) / s) + 1, before: 0 };
  const out = Math.ceil(n / s);
  return { out, before: Math.floor(Math.max((out - 1) * s + ke - n, 0) / 2) };
}

/** The geometry of a window layer on input [H, W, C] (N = 0: the batch is given per call), or a ShapeError naming the layer. */
export function imageGeometry(layer: string, shape: readonly number[], k: [number, number], s: [number, number], d: [number, number],
                       padding: Padding, what: string): ImageGeometry {
  if (!isImage(shape)) {
    throw new ShapeError(`${layer}: input ${shapeText(shape)} is not an image [H, W, C]; give the model an inputShape such as [28, 28, 1]`);
  }
  const [H, W, C] = shape;
  const gh = axisGeometry(H, k[0], s[0], d[0], padding), gw = axisGeometry(W, k[1], s[1], d[1], padding);
  if (!gh || !gw) {
    const dilated = d[0] > 1 || d[1] > 1 ? ` (dilated to ${(k[0] - 1) * d[0] + 1}×${(k[1] - 1) * d[1] + 1})` : '';
    throw new ShapeError(`${layer}: input ${shapeText(shape)} is smaller than ${what} ${k[0]}×${k[1]}${dilated} with padding 'valid'`);
  }
  return { N: 0, H, W, C, kh: k[0], kw: k[1], sh: s[0], sw: s[1], dh: d[0], dw: d[1], pt: gh.before, pl: gw.before, Ho: gh.out, Wo: gw.out };
}

/** The geometry arguments of the conv kernels for `batch` samples. */
const convArgs = (g: ImageGeometry, batch: number) =>
  [batch, g.H, g.W, g.C, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.Ho, g.Wo] as const;
/** The same for the pooling kernels (no dilation). */
const poolArgs = (g: ImageGeometry, batch: number) =>
  [batch, g.H, g.W, g.C, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.Ho, g.Wo] as const;

/** conv2d options: the kernel layer options (init fans kh·kw·cin and kh·kw·filters) and the geometry. */
export interface Conv2dOptions extends KernelLayerOptions {
  /** Kernel height and width (required). */
  kernelSize: Size2;
  /** Default 1. */
  strides?: Size2;
  /** 'valid' (default: no padding) or 'same' (output ⌈input/stride⌉, zeros around). */
  padding?: Padding;
  /** Dilation rate (default 1). */
  dilation?: Size2;
}

const CONV_KEYS = ['kernelSize', 'strides', 'padding', 'dilation', 'activation', 'alpha', 'init', 'biasInit', 'useBias',
  'kernelRegularizer', 'biasRegularizer', 'name', 'trainable'] as const;

/** nn.conv2d(filters, { kernelSize, strides, padding, dilation, activation, ... }): a 2-D convolution (cross-correlation, as Keras). */
export class Conv2D implements Layer {
  readonly type = 'conv2d';
  name: string;
  inputSize = 0;
  outputSize = 0;
  outputShape: readonly number[] = [];
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly dilation: [number, number];
  readonly padding: Padding;
  trainable: boolean;
  readonly act: Act;
  readonly opts: Required<Pick<Conv2dOptions, 'init' | 'biasInit' | 'useBias'>> & Pick<Conv2dOptions, 'kernelRegularizer' | 'biasRegularizer'>;
  W!: ParamRef;
  b?: ParamRef;
  geom!: ImageGeometry;
  private e?: Engine;
  private g!: GemmRunner;
  private bufs = new Buffers();
  /** A 1×1 kernel with strides 1: the input is its own column matrix. */
  private pointwise = false;
  private cols = 0; private z = 0; private y = 0; private delta = 0; private dx = 0; private x = 0;
  /** Whether cols holds im2col of x (backward overwrites it with dcols). */
  private colsHoldX = false;
  private ref?: { x: Float64Array; z: Float64Array; y: Float64Array };

  constructor(filters: number, opts: Conv2dOptions) {
    const where = 'conv2d';
    checkKeys(where, opts, CONV_KEYS);
    checkInt(where, 'filters', filters, 1, 1 << 16);
    if (opts?.kernelSize === undefined) reject(where, 'kernelSize', undefined, 'given: an integer ≥ 1 or [height, width]');
    this.filters = filters;
    this.kernelSize = pair(where, 'kernelSize', opts.kernelSize, 1);
    this.strides = pair(where, 'strides', opts.strides ?? 1, 1);
    this.dilation = pair(where, 'dilation', opts.dilation ?? 1, 1);
    this.padding = checkOneOf(where, 'padding', opts.padding ?? 'valid', PADDINGS);
    if (opts.useBias !== undefined) checkBool(where, 'useBias', opts.useBias);
    this.act = new Act(where, opts.activation, opts.alpha);
    this.opts = {
      init: checkInit(where, 'init', opts.init ?? 'glorotUniform'),
      biasInit: checkInit(where, 'biasInit', opts.biasInit ?? 'zeros'),
      useBias: opts.useBias ?? true,
      kernelRegularizer: checkRegularizer(where, 'kernelRegularizer', opts.kernelRegularizer),
      biasRegularizer: checkRegularizer(where, 'biasRegularizer', opts.biasRegularizer),
    };
    this.name = checkName(where, opts.name) ?? '';
    this.trainable = checkTrainable(where, opts.trainable);
  }

  build(b: Builder, inputSize: number): number {
    const [kh, kw] = this.kernelSize, F = this.filters;
    const g = imageGeometry(this.name, b.inputShape, this.kernelSize, this.strides, this.dilation, this.padding, 'kernel');
    this.geom = g;
    this.pointwise = kh === 1 && kw === 1 && g.sh === 1 && g.sw === 1;
    this.inputSize = inputSize;
    this.outputShape = [g.Ho, g.Wo, F];
    this.outputSize = g.Ho * g.Wo * F;
    this.g = b.gemm;
    const fan = { fanIn: kh * kw * g.C, fanOut: kh * kw * F };
    this.W = b.param('kernel', [kh, kw, g.C, F], this.opts.init, { ...fan, reg: this.opts.kernelRegularizer });
    if (this.opts.useBias) this.b = b.param('bias', [F], this.opts.biasInit, { ...fan, reg: this.opts.biasRegularizer });
    return this.outputSize;
  }

  reserve(e: Engine, batch: number): void {
    this.e = e;
    const g = this.geom, n = this.outputSize, K = g.kh * g.kw * g.C;
    const z = this.act.needsZ || this.act.rowwise;
    const p = this.bufs.reserve(e, batch, (m) => [this.pointwise ? 0 : m * g.Ho * g.Wo * K, z ? m * n : 0, m * n, m * n, m * this.inputSize]);
    if (p) [this.cols, this.z, this.y, this.delta, this.dx] = p;
  }

  /** The column matrix of the last forward's input (x itself for a pointwise kernel). */
  private columns(batch: number): number {
    if (this.pointwise) return this.x;
    if (!this.colsHoldX) this.e!.k.f32_im2col(this.cols, this.x, ...convArgs(this.geom, batch));
    this.colsHoldX = true;
    return this.cols;
  }

  forward(x: number, batch: number): number {
    const g = this.geom, rows = batch * g.Ho * g.Wo, K = g.kh * g.kw * g.C, F = this.filters;
    this.x = x;
    this.colsHoldX = false;
    const a = this.columns(batch), bias = this.b?.ptr ?? 0;
    if (this.act.rowwise) {
      // softmax / logSoftmax over the channels of each position (Keras axis −1).
      this.g.denseFwd(this.z, a, this.W.ptr, bias, rows, K, F, 0, 0, 0);
      this.act.forward(this.e!, this.y, this.z, rows, F);
    } else {
      this.g.denseFwd(this.y, a, this.W.ptr, bias, rows, K, F, this.act.code, this.act.alpha, this.act.needsZ ? this.z : 0);
    }
    return this.y;
  }

  backward(dy: number, batch: number, needDx: boolean): number {
    const e = this.e!, g = this.geom, rows = batch * g.Ho * g.Wo, K = g.kh * g.kw * g.C, F = this.filters;
    let delta = this.delta;
    if (this.act.name === 'identity') {
      delta = dy;
      if (this.b?.trainable) e.k.f32_colsum_add(this.b.grad, dy, rows, F);
    } else {
      this.act.backward(e, delta, dy, this.act.needsZ ? this.z : this.y, this.y, rows, F, this.b?.grad ?? 0);
    }
    // A frozen kernel has no gradient: its weight-gradient gemm (and im2col) is skipped.
    if (this.W.trainable) this.g.tn(this.W.grad, this.columns(batch), delta, K, rows, F, 1);
    if (!needDx) return 0;
    if (this.pointwise) {
      this.g.nt(this.dx, delta, this.W.ptr, rows, F, K, 0);
      return this.dx;
    }
    // NOTE: dcols reuses the column buffer (its last reader was the weight gradient above); a
    // second backward after one forward rebuilds the columns from x first (columns()).
    this.g.nt(this.cols, delta, this.W.ptr, rows, F, K, 0);
    this.colsHoldX = false;
    e.k.f32_fill(this.dx, 0, batch * this.inputSize);
    e.k.f32_col2im_add(this.dx, this.cols, ...convArgs(g, batch));
    return this.dx;
  }

  activityPenalty(): number { return 0; }
  params(): ParamRef[] { return this.b ? [this.W, this.b] : [this.W]; }

  config(): Record<string, unknown> {
    const o = this.opts;
    return {
      filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, dilation: this.dilation,
      ...this.act.config(), init: o.init, biasInit: o.biasInit, useBias: o.useBias,
      ...(o.kernelRegularizer && { kernelRegularizer: o.kernelRegularizer }),
      ...(o.biasRegularizer && { biasRegularizer: o.biasRegularizer }),
    };
  }

  refForward(x: Float64Array, batch: number, _t: boolean, read: (p: ParamRef) => Float64Array): Float64Array {
    const g = { ...this.geom, N: batch }, rows = batch * g.Ho * g.Wo;
    const z = conv2dRef(x, read(this.W), this.b && read(this.b), g, this.filters);
    const y = this.act.refForward(z, rows, this.filters);
    this.ref = { x, z, y };
    return y;
  }

  refBackward(dy: Float64Array, batch: number, read: (p: ParamRef) => Float64Array): RefGrads {
    const { x, z, y } = this.ref!, g = { ...this.geom, N: batch }, F = this.filters;
    const delta = this.act.refBackward(dy, z, y, batch * g.Ho * g.Wo, F);
    const r = conv2dBwdRef(delta, x, read(this.W), g, F);
    const grads = new Map<ParamRef, Float64Array>();
    if (this.W.trainable) grads.set(this.W, r.dw);
    if (this.b?.trainable) grads.set(this.b, r.db);
    return { dx: r.dx, grads };
  }

  dispose(): void { this.bufs.dispose(); }
}

export interface Pool2dOptions {
  /** Window height and width (default 2). */
  poolSize?: Size2;
  /** Default: the pool size. */
  strides?: Size2;
  /** 'valid' (default) or 'same'. */
  padding?: Padding;
  name?: string;
}

/** Max or average pooling over windows of each channel. */
abstract class Pool2D implements Layer {
  abstract readonly type: string;
  name: string;
  inputSize = 0;
  outputSize = 0;
  outputShape: readonly number[] = [];
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  geom!: ImageGeometry;
  protected e?: Engine;
  private bufs = new Buffers();
  protected y = 0; protected argmax = 0; protected dx = 0;
  protected refX?: Float64Array;

  constructor(where: string, opts: Pool2dOptions = {}) {
    checkKeys(where, opts, ['poolSize', 'strides', 'padding', 'name']);
    this.poolSize = pair(where, 'poolSize', opts.poolSize ?? 2, 1);
    this.strides = pair(where, 'strides', opts.strides ?? this.poolSize, 1);
    this.padding = checkOneOf(where, 'padding', opts.padding ?? 'valid', PADDINGS);
    this.name = checkName(where, opts.name) ?? '';
  }
  build(b: Builder, inputSize: number): number {
    const g = imageGeometry(this.name, b.inputShape, this.poolSize, this.strides, [1, 1], this.padding, 'pool');
    this.geom = g;
    this.inputSize = inputSize;
    this.outputShape = [g.Ho, g.Wo, g.C];
    return (this.outputSize = g.Ho * g.Wo * g.C);
  }
  reserve(e: Engine, batch: number): void {
    this.e = e;
    const argmax = this instanceof MaxPool2D;
    const p = this.bufs.reserve(e, batch, (m) => [m * this.outputSize, argmax ? m * this.outputSize : 0, m * this.inputSize]);
    if (p) [this.y, this.argmax, this.dx] = p;
  }
  abstract forward(x: number, batch: number): number;
  abstract backward(dy: number, batch: number, needDx: boolean): number;
  activityPenalty(): number { return 0; }
  params(): ParamRef[] { return []; }
  config(): Record<string, unknown> { return { poolSize: this.poolSize, strides: this.strides, padding: this.padding }; }
  abstract refForward(x: Float64Array, batch: number): Float64Array;
  abstract refBackward(dy: Float64Array, batch: number): RefGrads;
  dispose(): void { this.bufs.dispose(); }
}

/** nn.maxPool2d({ poolSize = 2, strides = poolSize, padding }): the largest value of each window per channel. */
export class MaxPool2D extends Pool2D {
  readonly type: string = 'maxPool2d';
  constructor(opts: Pool2dOptions = {}) { super('maxPool2d', opts); }
  forward(x: number, batch: number): number {
    this.e!.k.f32_maxpool_fwd(this.y, this.argmax, x, ...poolArgs(this.geom, batch));
    return this.y;
  }
  backward(dy: number, batch: number, needDx: boolean): number {
    if (!needDx) return 0;
    const k = this.e!.k;
    k.f32_fill(this.dx, 0, batch * this.inputSize);
    k.f32_maxpool_bwd(this.dx, dy, this.argmax, batch * this.outputSize);
    return this.dx;
  }
  refForward(x: Float64Array, batch: number): Float64Array {
    this.refX = x;
    return maxPool2dRef(x, { ...this.geom, N: batch }).out;
  }
  refBackward(dy: Float64Array, batch: number): RefGrads {
    return { dx: maxPool2dBwdRef(dy, this.refX!, { ...this.geom, N: batch }), grads: new Map() };
  }
}

/** nn.avgPool2d({ poolSize = 2, strides = poolSize, padding }): the mean of each window per channel ('same' leaves padding out of the count, as Keras). */
export class AvgPool2D extends Pool2D {
  readonly type: string = 'avgPool2d';
  constructor(opts: Pool2dOptions = {}) { super('avgPool2d', opts); }
  forward(x: number, batch: number): number {
    this.e!.k.f32_avgpool_fwd(this.y, x, ...poolArgs(this.geom, batch));
    return this.y;
  }
  backward(dy: number, batch: number, needDx: boolean): number {
    if (!needDx) return 0;
    const k = this.e!.k;
    k.f32_fill(this.dx, 0, batch * this.inputSize);
    k.f32_avgpool_bwd(this.dx, dy, ...poolArgs(this.geom, batch));
    return this.dx;
  }
  refForward(x: Float64Array, batch: number): Float64Array { return avgPool2dRef(x, { ...this.geom, N: batch }); }
  refBackward(dy: Float64Array, batch: number): RefGrads {
    return { dx: avgPool2dBwdRef(dy, { ...this.geom, N: batch }), grads: new Map() };
  }
}

/** nn.globalAveragePooling2d(): the mean of each channel over the image, [H, W, C] → [C]. */
export class GlobalAveragePooling2D extends AvgPool2D {
  constructor(opts: { name?: string } = {}) {
    checkKeys('globalAveragePooling2d', opts, ['name']);
    super({ name: checkName('globalAveragePooling2d', opts.name) });
  }
  override readonly type: string = 'globalAveragePooling2d';
  override build(b: Builder, inputSize: number): number {
    if (!isImage(b.inputShape)) return super.build(b, inputSize); // throws: not an image
    const [H, W, C] = b.inputShape;
    this.geom = { N: 0, H, W, C, kh: H, kw: W, sh: 1, sw: 1, dh: 1, dw: 1, pt: 0, pl: 0, Ho: 1, Wo: 1 };
    this.inputSize = inputSize;
    this.outputShape = [C];
    return (this.outputSize = C);
  }
  override config(): Record<string, unknown> { return {}; }
}

/** nn.flatten(): [H, W, C] → [H·W·C] (row-major, channels last, as Keras); no copy. */
export class Flatten implements Layer {
  readonly type = 'flatten';
  name: string;
  inputSize = 0;
  outputSize = 0;
  outputShape: readonly number[] = [];
  constructor(opts: { name?: string } = {}) {
    checkKeys('flatten', opts, ['name']);
    this.name = checkName('flatten', opts.name) ?? '';
  }
  build(_b: Builder, n: number): number {
    this.inputSize = this.outputSize = n;
    this.outputShape = [n];
    return n;
  }
  reserve(): void {}
  forward(x: number): number { return x; }
  backward(dy: number, _batch: number, needDx: boolean): number { return needDx ? dy : 0; }
  activityPenalty(): number { return 0; }
  params(): ParamRef[] { return []; }
  config(): Record<string, unknown> { return {}; }
  refForward(x: Float64Array): Float64Array { return x; }
  refBackward(dy: Float64Array): RefGrads { return { dx: dy, grads: new Map() }; }
  dispose(): void {}
}
