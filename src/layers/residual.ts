// Layer stacks: the chain shared by Sequential and residual blocks, and nn.residual (y = x + f(x)).
import { ShapeError } from '../errors.js';
import type { Engine } from '../wasm.js';
import { Buffers, checkKeys, checkName, shapeText, type Builder, type Layer, type ParamRef, type RefGrads } from './layer.js';

/** Layers applied in order; backward in reverse. */
export class Chain {
  /** The backward runs layers backwardStart … end (the model sets it past leading frozen layers). */
  backwardStart = 0;
  constructor(readonly layers: Layer[]) {}
  build(b: Builder, inputSize: number, where: string): number {
    let n = inputSize;
    for (const l of this.layers) {
      if (typeof (l as Partial<Layer>)?.build !== 'function') throw new ShapeError(`${where}: ${String(l)} is not a layer (use nn.dense(...), nn.dropout(...), …)`);
      const outer = b.layer, shape = b.inputShape;
      b.layer = l;
      const m = l.build(b, n);
      b.layer = outer;
      b.inputShape = l.outputShape ?? (m === n ? shape : [m]);
      b.shapes.set(l, b.inputShape);
      n = m;
    }
    return n;
  }
  reserve(e: Engine, batch: number): void { for (const l of this.layers) l.reserve(e, batch); }
  forward(x: number, batch: number, training: boolean): number {
    for (const l of this.layers) x = l.forward(x, batch, training);
    return x;
  }
  /** needDx: whether the first layer must produce dx (false for the model's first layer). */
  backward(dy: number, batch: number, needDx: boolean): number {
    const s = this.backwardStart;
    for (let i = this.layers.length - 1; i >= s; i--) dy = this.layers[i].backward(dy, batch, needDx || i > s);
    return s === 0 ? dy : 0;
  }
  activityPenalty(batch: number): number { return this.layers.reduce((s, l) => s + l.activityPenalty(batch), 0); }
  params(): ParamRef[] { return this.layers.flatMap((l) => l.params()); }
  refPenalty(batch: number): number { return this.layers.reduce((s, l) => s + (l.refPenalty?.(batch) ?? 0), 0); }
  refForward(x: Float64Array, batch: number, training: boolean, read: (p: ParamRef) => Float64Array): Float64Array {
    for (const l of this.layers) x = l.refForward(x, batch, training, read);
    return x;
  }
  refBackward(dy: Float64Array, batch: number, read: (p: ParamRef) => Float64Array): RefGrads {
    const grads = new Map<ParamRef, Float64Array>();
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const r = this.layers[i].refBackward(dy, batch, read);
      r.grads.forEach((g, p) => grads.set(p, g));
      dy = r.dx;
    }
    return { dx: dy, grads };
  }
  dispose(): void { for (const l of this.layers) l.dispose(); }
}

/** nn.residual([layers]): y = x + f(x); f must keep the width. Gradients fan in by addition. */
export class Residual implements Layer {
  readonly type = 'residual';
  name: string;
  inputSize = 0;
  outputSize = 0;
  readonly inner: Chain;
  private e?: Engine;
  private bufs = new Buffers();
  private y = 0; private dx = 0;
  constructor(layers: Layer[], opts: { name?: string } = {}) {
    checkKeys('residual', opts, ['name']);
    if (!Array.isArray(layers) || layers.length === 0) throw new ShapeError('residual: layers is empty; a residual block needs at least one layer');
    this.inner = new Chain(layers);
    this.name = checkName('residual', opts.name) ?? '';
  }
  build(b: Builder, n: number): number {
    const shape = b.inputShape;
    const out = this.inner.build(b, n, 'residual');
    if (out !== n) throw new ShapeError(`residual: the block maps ${n} features to ${out}; y = x + f(x) needs f to keep ${n}`);
    if (shapeText(b.inputShape) !== shapeText(shape)) {
      throw new ShapeError(`residual: the block maps ${shapeText(shape)} to ${shapeText(b.inputShape)}; y = x + f(x) needs f to keep the shape`);
    }
    this.inputSize = this.outputSize = n;
    return n;
  }
  reserve(e: Engine, batch: number): void {
    this.e = e;
    this.inner.reserve(e, batch);
    const n = this.inputSize;
    const p = this.bufs.reserve(e, batch, (m) => [m * n, m * n]);
    if (p) [this.y, this.dx] = p;
  }
  forward(x: number, batch: number, training: boolean): number {
    const f = this.inner.forward(x, batch, training);
    this.e!.k.f32_add(this.y, x, f, batch * this.inputSize);
    return this.y;
  }
  backward(dy: number, batch: number, needDx: boolean): number {
    const df = this.inner.backward(dy, batch, true);
    if (!needDx) return 0;
    this.e!.k.f32_add(this.dx, dy, df, batch * this.inputSize);
    return this.dx;
  }
  activityPenalty(batch: number): number { return this.inner.activityPenalty(batch); }
  refPenalty(batch: number): number { return this.inner.refPenalty(batch); }
  params(): ParamRef[] { return this.inner.params(); }
  config(): Record<string, unknown> { return {}; }
  refForward(x: Float64Array, batch: number, training: boolean, read: (p: ParamRef) => Float64Array): Float64Array {
    const f = this.inner.refForward(x, batch, training, read);
    return x.map((v, i) => v + f[i]);
  }
  refBackward(dy: Float64Array, batch: number, read: (p: ParamRef) => Float64Array): RefGrads {
    const r = this.inner.refBackward(dy, batch, read);
    return { dx: dy.map((v, i) => v + r.dx[i]), grads: r.grads };
  }
  dispose(): void { this.inner.dispose(); this.bufs.dispose(); }
}
