// nn.gradCheck: backpropagation checked by central differences, on the float64 reference path,
// and the wasm backward checked against the reference backward.
import { ConfigError } from './errors.js';
import { checkKeys, type ParamRef } from './layers/layer.js';
import { Dropout } from './layers/norm.js';
import { Residual } from './layers/residual.js';
import type { Layer } from './layers/layer.js';
import { getLoss, type Loss } from './losses.js';
import type { Model } from './model.js';
import { Tensor } from './tensor.js';

export interface GradCheckResult {
  /** Per parameter tensor: max relative error of the reference backward against central
   *  differences (`reference`) and of the wasm backward against the reference backward (`wasm`). */
  params: Record<string, { reference: number; wasm: number }>;
  /** Max relative error of ∂loss/∂x (reference backward vs central differences). */
  input: number;
  /** The largest `reference` error over all tensors and the input. */
  maxReference: number;
  /** The largest `wasm` error over all tensors. */
  maxWasm: number;
}

/** |a − b| / max(|a| + |b|, floor): relative, but absolute for values near 0. */
export function relError(a: number, b: number, floor = 1e-8): number {
  return Math.abs(a - b) / Math.max(Math.abs(a) + Math.abs(b), floor);
}

function layersOf(ls: Layer[]): Layer[] {
  return ls.flatMap((l) => (l instanceof Residual ? [l, ...layersOf(l.inner.layers)] : [l]));
}

/**
 * Dropout is evaluated as identity and batch norm with batch statistics (training mode). The loss
 * is the data loss plus activity penalties; weight penalties are applied by the optimizer, not
 * backpropagated, and are left out.
 */
export function gradCheck(model: Model, x: unknown, y: unknown, opts: { eps?: number; loss?: string } = {}): GradCheckResult {
  const where = 'gradCheck';
  checkKeys(where, opts, ['eps', 'loss']);
  const eps = opts.eps ?? 1e-3;
  if (typeof eps !== 'number' || !(eps > 0 && eps < 1)) throw new ConfigError(`${where}: eps must be in (0, 1), got ${eps}`);
  const loss: Loss = opts.loss !== undefined ? getLoss(where, opts.loss) : model.loss ?? getLoss(where, undefined);
  const { x: xt, y: target } = model.batch(where, x, y, loss);
  const M = xt.rows, N = model.outputSize;
  const x64 = Float64Array.from(xt.data, (v) => (xt.data instanceof Uint8Array ? xt.range[0] + (v * (xt.range[1] - xt.range[0])) / 255 : v));

  const all = layersOf(model.layers);
  const dropouts = all.filter((l): l is Dropout => l instanceof Dropout);
  const saved = model.getWeights();
  dropouts.forEach((d) => (d.enabled = false));
  try {
    const base = new Map(model.paramRefs.map((p) => [p, model.readParam(p)]));
    const read = (p: ParamRef) => base.get(p)!;
    const refLoss = (xin: Float64Array) => {
      const out = model.chain.refForward(xin, M, true, read);
      return loss.ref(out, target, M, N).loss + model.chain.refPenalty(M);
    };
    // Reference backward.
    const out = model.chain.refForward(x64, M, true, read);
    const ref = model.chain.refBackward(loss.ref(out, target, M, N).dpred, M, read);

    // Central differences at h and h/2 combined by Richardson extrapolation: error O(h⁴), so h
    // can stay large enough that rounding in the loss does not dominate.
    const central = (bump: (d: number) => void) => {
      const diff = (h: number) => {
        bump(h); const lp = refLoss(x64);
        bump(-2 * h); const lm = refLoss(x64);
        bump(h);
        return (lp - lm) / (2 * h);
      };
      return (4 * diff(eps / 2) - diff(eps)) / 3;
    };
    // Entries far below the model's largest gradient are judged against that scale: a relative
    // error of an entry of 1e-12 next to entries of 1 says nothing about backpropagation.
    const gmax = Math.max(...[...ref.grads.values(), ref.dx].map((g) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
    const floor = Math.max(1e-12, 1e-6 * gmax);
    const params: GradCheckResult['params'] = {};
    for (const p of model.paramRefs.filter((q) => q.trainable)) {
      const v = base.get(p)!, g = ref.grads.get(p)!;
      let worst = 0;
      for (let i = 0; i < v.length; i++) worst = Math.max(worst, relError(g[i], central((d) => (v[i] += d)), floor));
      params[p.name] = { reference: worst, wasm: 0 };
    }
    let input = 0;
    for (let i = 0; i < x64.length; i++) input = Math.max(input, relError(ref.dx[i], central((d) => (x64[i] += d)), floor));

    // The model's own step (wasm forward, loss, backward) on the same batch, against the reference backward.
    const wasm = model.lossAndGrad(new Tensor(Float32Array.from(x64), [M, model.inputSize]), target, { loss: loss.name }).grads;
    for (const p of model.paramRefs.filter((q) => q.trainable)) {
      const g = ref.grads.get(p)!, w = wasm.get(p.name)!;
      const scale = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      // float32 noise is relative to the tensor's largest gradient, so that is the floor.
      let worst = 0;
      for (let i = 0; i < g.length; i++) worst = Math.max(worst, relError(w[i], g[i], Math.max(1e-8, 1e-3 * scale)));
      params[p.name].wasm = worst;
    }
    const vals = Object.values(params);
    return {
      params, input,
      maxReference: Math.max(input, ...vals.map((v) => v.reference)),
      maxWasm: Math.max(0, ...vals.map((v) => v.wasm)),
    };
  } finally {
    dropouts.forEach((d) => (d.enabled = true));
    model.setWeights(saved);
  }
}
