// Preprocessing layers (Keras names): what turns raw input into what the network was trained on,
// inside the model (DESIGN §11) — saved with it, exported with it, run in wasm in the forward pass.
// Both are one per-column affine map, y = (x − shift[j])·scale[j] + offset[j]
// (f32_col_affine_fwd); neither has trainable parameters, and both pass gradients to their input
// (dx = dy·scale[j]), so they may sit anywhere in a model.
import { ConfigError, ShapeError, show } from '../errors.js';
import { NORM_EPS, colAffineBwdRef, colAffineRef, columnStatsRef, invStdRef } from '../reference.js';
import { Tensor, asInput, fromNested } from '../tensor.js';
import { checkNum, reject } from '../validate.js';
import type { Engine } from '../wasm.js';
import { Buffers, checkKeys, checkName, featureAxis, type Builder, type Layer, type ParamRef, type RefGrads } from './layer.js';

/** A mean or variance as given: one number for every feature, or one per feature. */
export type Stat = number | ArrayLike<number>;

export interface NormalizationOptions {
  /** The axis statistics are kept along: -1 (or 1), per feature — layers see rows of features. */
  axis?: number;
  /** Per-feature mean (or one number for all); with variance, the layer needs no adapt. */
  mean?: Stat;
  /** Per-feature variance ≥ 0 (or one number for all). */
  variance?: Stat;
  name?: string;
}

/** A mean or variance option checked (finite; a variance ≥ 0), copied. */
function checkStat(where: string, name: string, v: unknown, min: number): number | Float32Array {
  const rule = min === 0 ? 'a finite number ≥ 0' : 'a finite number';
  if (typeof v === 'number') return checkNum(where, name, v, (x) => x >= min, rule);
  if (!(ArrayBuffer.isView(v) || Array.isArray(v))) reject(where, name, v, `${rule}, or an array of them (one per feature)`);
  const a = Array.isArray(v) ? fromNested(where, name, v).data : Float32Array.from(v as unknown as ArrayLike<number>);
  const bad = a.findIndex((x) => !(Number.isFinite(x) && x >= min));
  if (bad >= 0) reject(where, `${name}[${bad}]`, a[bad], rule);
  if (a.length === 0) reject(where, name, v, 'non-empty');
  return a;
}
/** A stat for n features as the parameter's init: a number broadcast (filled in wasm), an array of exactly n. */
function perFeature(where: string, name: string, v: number | Float32Array, n: number): Float32Array | { constant: number } {
  // Nothing of size n is made here: a hostile file's inputShape is checked against its tensors after build.
  if (typeof v === 'number') return { constant: v };
  if (v.length !== n) throw new ShapeError(`${where}: ${name} has ${v.length} values; the layer has ${n} features (the last axis of its input)`);
  return v;
}

/**
 * nn.normalization({ axis, mean, variance }): y = (x − mean)/max(√variance, 1e-7) per feature of
 * the last axis (Keras Normalization, axis −1): per channel on an image [H, W, C], per value on
 * features. mean and variance come from the options or from layer.adapt(x), and are
 * non-trainable weights: saved and loaded with the model, never updated by an optimizer.
 */
export class Normalization implements Layer {
  readonly type = 'normalization';
  name: string;
  inputSize = 0;
  outputSize = 0;
  readonly axis = -1;
  mean?: ParamRef; variance?: ParamRef;
  private given?: { mean: number | Float32Array; variance: number | Float32Array };
  private b?: Builder;
  private e?: Engine;
  private bufs = new Buffers();
  private y = 0; private dx = 0; private s = 0;
  /** Features of the last axis (channels on an image) and rows per sample (H·W on an image, else 1). */
  private cols = 0; private perSample = 1;

  constructor(opts: NormalizationOptions = {}) {
    const where = 'normalization';
    checkKeys(where, opts, ['axis', 'mean', 'variance', 'name']);
    if (opts.axis !== undefined && opts.axis !== -1 && opts.axis !== 1) {
      reject(where, 'axis', opts.axis, '-1 (or 1): statistics per feature of the last axis (per channel on an image)');
    }
    if ((opts.mean === undefined) !== (opts.variance === undefined)) {
      throw new ConfigError(`${where}: mean is ${show(opts.mean)} and variance is ${show(opts.variance)}; give both, or neither and call layer.adapt(x)`);
    }
    if (opts.mean !== undefined) {
      this.given = { mean: checkStat(where, 'mean', opts.mean, -Infinity), variance: checkStat(where, 'variance', opts.variance, 0) };
    }
    this.name = checkName(where, opts.name) ?? '';
  }

  /** Whether the layer has its statistics (from the options or adapt). */
  get adapted(): boolean { return this.given !== undefined; }

  /**
   * Sets mean and population variance per feature of the last axis (per channel of images
   * [n, H, W, C], as Keras's adapt) from a data set of the layer's inputs, accumulated in float64;
   * a constant feature gets variance 0 and maps to 0. Before the layer is in a model x must carry
   * its shape (a Tensor or nested arrays); after, it is checked against the layer's input and the
   * model's weights change — refused while it fits.
   */
  adapt(x: Tensor | Float32Array | Uint8Array | number[][] | number[][][][]): this {
    const where = `${this.name || 'normalization'}.adapt`;
    this.b?.checkIdle(where);
    let t: Tensor<Float32Array | Uint8Array>, n: number;
    if (this.b) [t, n] = [asInput(where, 'x', x, this.inputSize), this.cols];
    else if (x instanceof Tensor || Array.isArray(x)) {
      const nested = Array.isArray(x) ? fromNested(where, 'x', x) : undefined;
      const u = x instanceof Tensor ? x : new Tensor(nested!.data, nested!.shape);
      // Keras: statistics over every axis but the last (an image's channels).
      n = u.shape.length >= 3 ? u.shape[u.shape.length - 1] : Math.max(u.cols, 1);
      t = asInput(where, 'x', u, Math.max(u.cols, 1));
    } else {
      throw new ShapeError(`${where}: x is ${show(x)} and the layer is in no model yet, so its feature count is unknown; pass a Tensor with a shape or nested arrays`);
    }
    const M = t.data.length / n;
    const range = t.range, d = t.data;
    const v = d instanceof Uint8Array ? Float64Array.from(d, (b) => range[0] + b * ((range[1] - range[0]) / 255)) : d;
    const bad = v.findIndex((u) => !Number.isFinite(u));
    if (bad >= 0) reject(where, `x[${Math.floor(bad / n)}][${bad % n}]`, v[bad], 'a finite number');
    const st = columnStatsRef(v, M, n);
    const mean = Float32Array.from(st.mean), variance = Float32Array.from(st.variance);
    if (this.b && this.mean && this.variance) {
      const f32 = this.b.engine.f32;
      f32.set(mean, this.mean.ptr >> 2);
      f32.set(variance, this.variance.ptr >> 2);
    }
    this.given = { mean, variance };
    return this;
  }

  checkReady(where: string): void {
    if (!this.given) {
      throw new ConfigError(`${where}: layer ${show(this.name)} (normalization) has no mean and variance; call layer.adapt(x) on the training inputs first, or pass nn.normalization({ mean, variance })`);
    }
  }

  build(b: Builder, n: number): number {
    const where = `${this.name || 'normalization'}`;
    const [c, perSample] = featureAxis(b.inputShape, n);
    const init = this.given
      ? { mean: perFeature(where, 'mean', this.given.mean, c), variance: perFeature(where, 'variance', this.given.variance, c) }
      : undefined;
    this.inputSize = this.outputSize = n;
    [this.cols, this.perSample] = [c, perSample];
    this.b = b;
    this.e = b.engine;
    this.mean = b.param('mean', [c], init?.mean ?? 'zeros', { trainable: false });
    this.variance = b.param('variance', [c], init?.variance ?? 'ones', { trainable: false });
    return n;
  }
  reserve(e: Engine, batch: number): void {
    this.e = e;
    const n = this.inputSize;
    const p = this.bufs.reserve(e, batch, (m) => [m * n, m * n, this.cols]);
    if (p) [this.y, this.dx, this.s] = p;
  }
  forward(x: number, batch: number): number {
    const k = this.e!.k, c = this.cols;
    // The scale from the variance weight each pass: setWeights or a loaded file may have changed it.
    k.f32_inv_std(this.s, this.variance!.ptr, c, NORM_EPS);
    k.f32_col_affine_fwd(this.y, x, this.mean!.ptr, this.s, 0, batch * this.perSample, c);
    return this.y;
  }
  backward(dy: number, batch: number, needDx: boolean): number {
    if (!needDx) return 0;
    this.e!.k.f32_col_affine_bwd(this.dx, dy, this.s, batch * this.perSample, this.cols);
    return this.dx;
  }
  activityPenalty(): number { return 0; }
  params(): ParamRef[] { return this.mean ? [this.mean, this.variance!] : []; }
  /** axis, and the statistics when the layer has them (read from the model's weights once built). */
  config(): Record<string, unknown> {
    if (!this.given) return { axis: this.axis };
    const read = (p: ParamRef | undefined, v: number | Float32Array) =>
      p && this.e ? Array.from(this.e.f32.subarray(p.ptr >> 2, (p.ptr >> 2) + p.size)) : typeof v === 'number' ? v : Array.from(v);
    return { axis: this.axis, mean: read(this.mean, this.given.mean), variance: read(this.variance, this.given.variance) };
  }
  refForward(x: Float64Array, batch: number, _t: boolean, read: (p: ParamRef) => Float64Array): Float64Array {
    return colAffineRef(x, read(this.mean!), invStdRef(read(this.variance!)), undefined, batch * this.perSample, this.cols);
  }
  refBackward(dy: Float64Array, batch: number, read: (p: ParamRef) => Float64Array): RefGrads {
    return { dx: colAffineBwdRef(dy, invStdRef(read(this.variance!)), batch * this.perSample, this.cols), grads: new Map() };
  }
  dispose(): void { this.bufs.dispose(); }
}

/**
 * nn.rescaling(scale, offset = 0): y = x·scale + offset (Keras Rescaling): 1/255 maps pixels to
 * [0, 1]; scale 1/127.5, offset −1 to [−1, 1] (what nn.data.scaleImages does outside the model).
 */
export class Rescaling implements Layer {
  readonly type = 'rescaling';
  name: string;
  inputSize = 0;
  outputSize = 0;
  readonly scale: number;
  readonly offset: number;
  private e?: Engine;
  private bufs = new Buffers();
  private y = 0; private dx = 0; private sv = 0; private ov = 0;
  constructor(scale: number, offset = 0, opts: { name?: string } = {}) {
    checkKeys('rescaling', opts, ['name']);
    this.scale = checkNum('rescaling', 'scale', scale, () => true, 'a finite number');
    this.offset = checkNum('rescaling', 'offset', offset, () => true, 'a finite number');
    this.name = checkName('rescaling', opts.name) ?? '';
  }
  build(_b: Builder, n: number): number { this.inputSize = this.outputSize = n; return n; }
  reserve(e: Engine, batch: number): void {
    this.e = e;
    const n = this.inputSize;
    const p = this.bufs.reserve(e, batch, (m) => [m * n, m * n, n, n]);
    if (!p) return;
    [this.y, this.dx, this.sv, this.ov] = p;
  }
  forward(x: number, batch: number): number {
    const k = this.e!.k, n = this.inputSize;
    // The constants per column, written each pass (n floats) so the buffers need no other upkeep.
    k.f32_fill(this.sv, this.scale, n);
    k.f32_fill(this.ov, this.offset, n);
    k.f32_col_affine_fwd(this.y, x, 0, this.sv, this.offset === 0 ? 0 : this.ov, batch, n);
    return this.y;
  }
  backward(dy: number, batch: number, needDx: boolean): number {
    if (!needDx) return 0;
    this.e!.k.f32_col_affine_bwd(this.dx, dy, this.sv, batch, this.inputSize);
    return this.dx;
  }
  activityPenalty(): number { return 0; }
  params(): ParamRef[] { return []; }
  config(): Record<string, unknown> { return { scale: this.scale, offset: this.offset }; }
  refForward(x: Float64Array, batch: number): Float64Array {
    const n = this.inputSize;
    return colAffineRef(x, undefined, new Float64Array(n).fill(this.scale), new Float64Array(n).fill(this.offset), batch, n);
  }
  refBackward(dy: Float64Array, batch: number): RefGrads {
    return { dx: colAffineBwdRef(dy, new Float64Array(this.inputSize).fill(this.scale), batch, this.inputSize), grads: new Map() };
  }
  dispose(): void { this.bufs.dispose(); }
}
