// Dense: y = act(x·W + b) in one fused kernel; backward δ = dy ⊙ act'(z) with db += colsum(δ) in
// one pass, then dW += xᵀ·δ and dx = δ·Wᵀ (skipped for the first layer).
import { ShapeError } from '../errors.js';
import { checkBool, checkInt } from '../validate.js';
import { activityGradRef, l1l2PenaltyRef, matmul } from '../reference.js';
import type { Engine } from '../wasm.js';
import type { GemmRunner } from '../threads.js';
import { Act, type ActivationName } from './activation.js';
import {
  Buffers, checkInit, checkKeys, checkName, checkRegularizer, checkTrainable, shapeText,
  type Builder, type Init, type Layer, type ParamRef, type RefGrads, type Regularizer, type StepSlice,
} from './layer.js';

/** What layers with a kernel and a bias take (dense, conv2d). */
export interface KernelLayerOptions {
  activation?: ActivationName;
  /** leakyRelu slope / ELU α. */
  alpha?: number;
  /** Kernel initializer (default glorotUniform, as Keras). */
  init?: Init;
  biasInit?: Init;
  useBias?: boolean;
  kernelRegularizer?: Regularizer;
  biasRegularizer?: Regularizer;
  name?: string;
  /** false: frozen (no updates, no gradient work); the same as setting layer.trainable before compile. */
  trainable?: boolean;
}
export interface DenseOptions extends KernelLayerOptions {
  activityRegularizer?: Regularizer;
}
const KEYS = ['activation', 'alpha', 'init', 'biasInit', 'useBias', 'kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'name', 'trainable'] as const;

export class Dense implements Layer {
  readonly type = 'dense';
  name: string;
  inputSize = 0;
  readonly outputSize: number;
  readonly outputShape: readonly number[];
  trainable: boolean;
  readonly act: Act;
  readonly opts: Required<Pick<DenseOptions, 'init' | 'biasInit' | 'useBias'>> & DenseOptions;
  W!: ParamRef;
  b?: ParamRef;
  private e?: Engine;
  private g!: GemmRunner;
  private slice!: StepSlice;
  private bufs = new Buffers();
  private z = 0; private y = 0; private delta = 0; private dx = 0; private x = 0;
  private ref?: { x: Float64Array; z: Float64Array; y: Float64Array };

  constructor(units: number, opts: DenseOptions = {}) {
    checkKeys('dense', opts, KEYS);
    checkInt('dense', 'units', units, 1, 1 << 24);
    if (opts.useBias !== undefined) checkBool('dense', 'useBias', opts.useBias);
    this.outputSize = units;
    this.outputShape = [units];
    this.act = new Act('dense', opts.activation, opts.alpha);
    this.opts = {
      ...opts,
      init: checkInit('dense', 'init', opts.init ?? 'glorotUniform'),
      biasInit: checkInit('dense', 'biasInit', opts.biasInit ?? 'zeros'),
      useBias: opts.useBias ?? true,
      kernelRegularizer: checkRegularizer('dense', 'kernelRegularizer', opts.kernelRegularizer),
      biasRegularizer: checkRegularizer('dense', 'biasRegularizer', opts.biasRegularizer),
      activityRegularizer: checkRegularizer('dense', 'activityRegularizer', opts.activityRegularizer),
    };
    this.name = checkName('dense', opts.name) ?? '';
    this.trainable = checkTrainable('dense', opts.trainable);
  }

  build(b: Builder, inputSize: number): number {
    const s = b.inputShape;
    if (s.length > 1 && s !== b.modelInputShape) {
      throw new ShapeError(`${this.name}: input ${shapeText(s)} is an image; a dense layer takes features: put nn.flatten() (or nn.globalAveragePooling2d()) before it`);
    }
    this.inputSize = inputSize;
    this.g = b.gemm;
    this.slice = b.slice;
    const fan = { fanIn: inputSize, fanOut: this.outputSize };
    this.W = b.param('kernel', [inputSize, this.outputSize], this.opts.init, { ...fan, reg: this.opts.kernelRegularizer });
    if (this.opts.useBias) this.b = b.param('bias', [this.outputSize], this.opts.biasInit, { ...fan, reg: this.opts.biasRegularizer });
    return this.outputSize;
  }

  reserve(e: Engine, batch: number): void {
    this.e = e;
    const n = this.outputSize;
    const z = this.act.needsZ || this.act.rowwise, k = this.inputSize;
    const p = this.bufs.reserve(e, batch, (m) => [z ? m * n : 0, m * n, m * n, m * k]);
    if (p) [this.z, this.y, this.delta, this.dx] = p;
  }

  forward(x: number, batch: number): number {
    const bias = this.b?.ptr ?? 0;
    this.x = x;
    if (this.act.rowwise) {
      this.g.denseFwd(this.z, x, this.W.ptr, bias, batch, this.inputSize, this.outputSize, 0, 0, 0);
      this.act.forward(this.e!, this.y, this.z, batch, this.outputSize);
    } else {
      this.g.denseFwd(this.y, x, this.W.ptr, bias, batch, this.inputSize, this.outputSize, this.act.code, this.act.alpha,
        this.act.needsZ ? this.z : 0);
    }
    return this.y;
  }

  backward(dy: number, batch: number, needDx: boolean): number {
    const e = this.e!, k = e.k, N = this.outputSize, K = this.inputSize;
    const r = this.opts.activityRegularizer;
    let delta = this.delta;
    if (r) {
      // Activity penalty (l1·Σ|y| + l2·Σy²)/batch: its gradient joins dy, in a copy (a residual
      // block reuses dy for its identity path).
      k.f32_scale(delta, dy, 1, batch * N);
      k.f32_activity_grad(delta, this.y, batch * N, r.l1, r.l2, 1 / this.slice.total);
      dy = delta;
    }
    if (this.act.name === 'identity') {
      delta = dy;
      if (this.b?.trainable) k.f32_colsum_add(this.b.grad, dy, batch, N);
    } else {
      this.act.backward(e, delta, dy, this.act.needsZ ? this.z : this.y, this.y, batch, N, this.b?.grad ?? 0);
    }
    // A frozen kernel has no gradient (W.grad is 0): its weight-gradient gemm is skipped.
    if (this.W.trainable) this.g.tn(this.W.grad, this.x, delta, K, batch, N, 1);
    if (!needDx) return 0;
    this.g.nt(this.dx, delta, this.W.ptr, batch, N, K, 0);
    return this.dx;
  }

  activityPenalty(batch: number): number {
    const r = this.opts.activityRegularizer;
    // This slice's share of the batch mean (the slices' shares add up to it).
    return r ? this.e!.k.f32_l1l2_penalty(this.y, batch * this.outputSize, r.l1, r.l2) / this.slice.total : 0;
  }

  refPenalty(batch: number): number {
    const r = this.opts.activityRegularizer, y = this.ref?.y;
    return r && y ? l1l2PenaltyRef(y, r.l1, r.l2) / batch : 0;
  }

  params(): ParamRef[] { return this.b ? [this.W, this.b] : [this.W]; }

  config(): Record<string, unknown> {
    const o = this.opts;
    return {
      units: this.outputSize, ...this.act.config(), init: o.init, biasInit: o.biasInit, useBias: o.useBias,
      ...(o.kernelRegularizer && { kernelRegularizer: o.kernelRegularizer }),
      ...(o.biasRegularizer && { biasRegularizer: o.biasRegularizer }),
      ...(o.activityRegularizer && { activityRegularizer: o.activityRegularizer }),
    };
  }

  refForward(x: Float64Array, batch: number, _t: boolean, read: (p: ParamRef) => Float64Array): Float64Array {
    const N = this.outputSize;
    const z = matmul(x, read(this.W), batch, this.inputSize, N);
    if (this.b) {
      const b = read(this.b);
      for (let i = 0; i < z.length; i++) z[i] += b[i % N];
    }
    const y = this.act.refForward(z, batch, N);
    this.ref = { x, z, y };
    return y;
  }

  refBackward(dyIn: Float64Array, batch: number, read: (p: ParamRef) => Float64Array): RefGrads {
    const { x, z, y } = this.ref!, N = this.outputSize, K = this.inputSize;
    const r = this.opts.activityRegularizer;
    const dy = r ? activityGradRef(dyIn, y, r.l1, r.l2, 1 / batch) : dyIn;
    const delta = this.act.refBackward(dy, z, y, batch, N);
    const grads = new Map<ParamRef, Float64Array>();
    if (this.W.trainable) grads.set(this.W, matmul(x, delta, K, batch, N, true));
    if (this.b?.trainable) {
      const db = new Float64Array(N);
      for (let i = 0; i < delta.length; i++) db[i % N] += delta[i];
      grads.set(this.b, db);
    }
    return { dx: matmul(delta, read(this.W), batch, N, K, false, true), grads };
  }

  dispose(): void { this.bufs.dispose(); }
}
