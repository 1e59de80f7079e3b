// Activations: the spec a Dense layer fuses into its kernels, the Activation layer, and PReLU.
import { show } from '../errors.js';
import { checkNum, checkOneOf, reject } from '../validate.js';
import { ACT } from '../kernels.js';
import { ACT_F64, logSoftmaxBwdRef, logSoftmaxRef, preluBwdRef, preluFwdRef, softmaxBwdRef, softmaxRef } from '../reference.js';
import type { Engine } from '../wasm.js';
import { Buffers, checkKeys, checkName, featureAxis, type Builder, type Init, type Layer, type ParamRef, type RefGrads, checkInit } from './layer.js';

export type ElementwiseName = keyof typeof ACT;
export type ActivationName = ElementwiseName | 'linear' | 'softmax' | 'logSoftmax';
export const ACTIVATION_NAMES: readonly string[] = [...Object.keys(ACT), 'linear', 'softmax', 'logSoftmax'];
/** Default parameter: leakyRelu's slope (PyTorch's 0.01) and ELU's α (1). */
const DEFAULT_ALPHA: ReadonlyMap<string, number> = new Map([['leakyRelu', 0.01], ['elu', 1]]);

/** A resolved activation: its kernel code (or a row-wise kind) and parameter. */
export class Act {
  readonly name: Exclude<ActivationName, 'linear'>;
  readonly alpha: number;
  constructor(where: string, name: unknown = 'identity', alpha?: unknown) {
    checkOneOf(where, 'activation', name, ACTIVATION_NAMES);
    this.name = (name === 'linear' ? 'identity' : name) as Act['name'];
    const d = DEFAULT_ALPHA.get(this.name);
    if (alpha !== undefined && d === undefined) {
      reject(where, 'alpha', alpha, `left out: activation ${show(name)} takes no parameter; only leakyRelu and elu do`);
    }
    this.alpha = checkNum(where, 'alpha', alpha ?? d ?? 0, () => true, 'a finite number');
  }
  get rowwise(): boolean { return this.name === 'softmax' || this.name === 'logSoftmax'; }
  /** Kernel code for element-wise activations. */
  get code(): number { return this.rowwise ? 0 : ACT[this.name as ElementwiseName]; }
  /** Whether backward needs the pre-activation z kept (identity and relu can use y). */
  get needsZ(): boolean { return !this.rowwise && this.name !== 'identity' && this.name !== 'relu'; }

  /** y = act(z) for an M×N block (y may alias z for element-wise activations). */
  forward(e: Engine, y: number, z: number, M: number, N: number): void {
    if (this.name === 'softmax') e.k.f32_softmax_fwd(y, z, M, N);
    else if (this.name === 'logSoftmax') e.k.f32_log_softmax_fwd(y, z, M, N);
    else e.k.f32_act_fwd(y, z, M * N, this.code, this.alpha);
  }
  /** dz = dy ⊙ act'(z) (written); dbias += colsum(dz) when dbias ≠ 0. */
  backward(e: Engine, dz: number, dy: number, z: number, y: number, M: number, N: number, dbias: number): void {
    if (this.rowwise) {
      if (this.name === 'softmax') e.k.f32_softmax_bwd(dz, dy, y, M, N);
      else e.k.f32_log_softmax_bwd(dz, dy, y, M, N);
      if (dbias) e.k.f32_colsum_add(dbias, dz, M, N);
    } else {
      e.k.f32_act_bwd(dz, dy, z, y, M, N, this.code, this.alpha, dbias);
    }
  }
  refForward(z: Float64Array, M: number, N: number): Float64Array {
    if (this.rowwise) return (this.name === 'softmax' ? softmaxRef : logSoftmaxRef)(z, M, N);
    const f = ACT_F64[this.name].f;
    return z.map((v) => f(v, this.alpha));
  }
  /** dz from dy, the pre-activation z and the output y. */
  refBackward(dy: Float64Array, z: Float64Array, y: Float64Array, M: number, N: number): Float64Array {
    if (this.rowwise) return (this.name === 'softmax' ? softmaxBwdRef : logSoftmaxBwdRef)(dy, y, M, N);
    const dz = new Float64Array(dy.length);
    const df = ACT_F64[this.name].df;
    for (let k = 0; k < dy.length; k++) dz[k] = dy[k] * df(z[k], this.alpha);
    return dz;
  }
  config(): Record<string, unknown> {
    return DEFAULT_ALPHA.has(this.name) ? { activation: this.name, alpha: this.alpha } : { activation: this.name };
  }
}

/**
 * nn.activation(name, { alpha }): an activation as its own layer (e.g. after batch norm). softmax
 * and logSoftmax act on the last axis, as Keras: over the channels of each position of an image
 * [H, W, C] (batch·H·W rows of C), over all features otherwise.
 */
export class Activation implements Layer {
  readonly type = 'activation';
  name: string;
  inputSize = 0;
  outputSize = 0;
  readonly act: Act;
  private e?: Engine;
  private bufs = new Buffers();
  private y = 0; private dx = 0; private x = 0;
  /** Values per row (channels on an image) and rows per sample (H·W on an image, else 1). */
  private cols = 0; private perSample = 1;
  private ref?: { z: Float64Array; y: Float64Array };
  constructor(activation: ActivationName, opts: { alpha?: number; name?: string } = {}) {
    checkKeys('activation', opts, ['alpha', 'name']);
    this.act = new Act('activation', activation, opts.alpha);
    this.name = checkName('activation', opts.name) ?? '';
  }
  build(b: Builder, inputSize: number): number {
    [this.cols, this.perSample] = featureAxis(b.inputShape, inputSize);
    this.inputSize = this.outputSize = inputSize;
    return inputSize;
  }
  reserve(e: Engine, batch: number): void {
    this.e = e;
    const n = this.inputSize;
    const p = this.bufs.reserve(e, batch, (m) => [m * n, m * n]);
    if (p) [this.y, this.dx] = p;
  }
  forward(x: number, batch: number): number {
    this.x = x;
    this.act.forward(this.e!, this.y, x, batch * this.perSample, this.cols);
    return this.y;
  }
  backward(dy: number, batch: number, needDx: boolean): number {
    if (!needDx) return 0;
    this.act.backward(this.e!, this.dx, dy, this.x, this.y, batch * this.perSample, this.cols, 0);
    return this.dx;
  }
  activityPenalty(): number { return 0; }
  params(): ParamRef[] { return []; }
  config(): Record<string, unknown> { return this.act.config(); }
  refForward(x: Float64Array, batch: number): Float64Array {
    const y = this.act.refForward(x, batch * this.perSample, this.cols);
    this.ref = { z: x, y };
    return y;
  }
  refBackward(dy: Float64Array, batch: number): RefGrads {
    return { dx: this.act.refBackward(dy, this.ref!.z, this.ref!.y, batch * this.perSample, this.cols), grads: new Map() };
  }
  dispose(): void { this.bufs.dispose(); }
}

/** nn.prelu({ init }): leaky ReLU with a learned slope per unit, y = x > 0 ? x : α_j·x. */
export class PReLU implements Layer {
  readonly type = 'prelu';
  name: string;
  inputSize = 0;
  outputSize = 0;
  alpha!: ParamRef;
  private readonly init: Init;
  private e?: Engine;
  private bufs = new Buffers();
  private y = 0; private dx = 0; private x = 0;
  private ref?: Float64Array;
  constructor(opts: { init?: Init; name?: string } = {}) {
    checkKeys('prelu', opts, ['init', 'name']);
    // PyTorch's default initial slope.
    this.init = opts.init === undefined ? { constant: 0.25 } : checkInit('prelu', 'init', opts.init);
    this.name = checkName('prelu', opts.name) ?? '';
  }
  build(b: Builder, inputSize: number): number {
    this.inputSize = this.outputSize = inputSize;
    this.alpha = b.param('alpha', [inputSize], this.init, { fanIn: inputSize, fanOut: inputSize });
    return inputSize;
  }
  reserve(e: Engine, batch: number): void {
    this.e = e;
    const n = this.inputSize;
    const p = this.bufs.reserve(e, batch, (m) => [m * n, m * n]);
    if (p) [this.y, this.dx] = p;
  }
  forward(x: number, batch: number): number {
    this.x = x;
    this.e!.k.f32_prelu_fwd(this.y, x, this.alpha.ptr, batch, this.inputSize);
    return this.y;
  }
  backward(dy: number, batch: number, needDx: boolean): number {
    // dx is always computed: the kernel produces it in the pass that accumulates dα.
    this.e!.k.f32_prelu_bwd(this.dx, this.alpha.grad, dy, this.x, this.alpha.ptr, batch, this.inputSize);
    return needDx ? this.dx : 0;
  }
  activityPenalty(): number { return 0; }
  params(): ParamRef[] { return [this.alpha]; }
  config(): Record<string, unknown> { return { init: this.init }; }
  refForward(x: Float64Array, batch: number, _t: boolean, read: (p: ParamRef) => Float64Array): Float64Array {
    this.ref = x;
    return preluFwdRef(x, read(this.alpha), batch, this.inputSize);
  }
  refBackward(dy: Float64Array, batch: number, read: (p: ParamRef) => Float64Array): RefGrads {
    const { dx, dalpha } = preluBwdRef(dy, this.ref!, read(this.alpha), batch, this.inputSize);
    return { dx, grads: new Map([[this.alpha, dalpha]]) };
  }
  dispose(): void { this.bufs.dispose(); }
}
