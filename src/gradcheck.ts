// nn.gradCheck: backpropagation checked by central differences on the float64 reference path,
// and the model's own (wasm) step checked against the reference backward. Parameters and rows
// are sampled (seeded), so a real model answers in seconds; a difference quotient that straddles
// a kink (relu at 0, |p − t|) or meets an exactly-zero gradient is reported apart, not as a failure.
import type { ParamRef } from './layers/layer.js';
import { Dropout } from './layers/norm.js';
import { allLayers } from './layers/registry.js';
import { checkInt, checkKeys, checkNum } from './validate.js';
import { getLoss, type Loss } from './losses.js';
import type { Model } from './model.js';
import { shuffled } from './random.js';
import { Tensor } from './tensor.js';

export interface GradCheckOptions {
  /** Step of the central differences (default 1e-3; Richardson-extrapolated from h and h/2). */
  eps?: number;
  /** Loss to check, a name or a loss object such as nn.losses.custom(...) (default: the compiled one). */
  loss?: string | Loss;
  /** Entries checked per parameter tensor and of the input, sampled without replacement (default 32). */
  maxParams?: number;
  /** Rows of x used, sampled without replacement (default 16). */
  maxSamples?: number;
  /** Seed of both samples (default 0). */
  seed?: number;
  /** Largest relative error of the reference backward against central differences that passes (default 1e-5). */
  tolerance?: number;
  /** Largest error of the float32 wasm gradient against the reference, relative to each tensor's largest entry (default 2e-2). */
  wasmTolerance?: number;
}

export interface TensorCheck {
  /** Entries checked of `size`. */
  checked: number;
  size: number;
  /** Worst relative error of the reference backward against central differences (kinks and zeros left out). */
  reference: number;
  /** Worst error of the wasm gradient against the reference (whole tensor), relative to its largest entry. */
  wasm: number;
  /** Entries whose difference quotient straddled a kink (the loss is not smooth within the step). */
  kinks: number;
  /** Entries whose gradient is exactly 0 and whose difference quotient is noise. */
  zeros: number;
}

export interface GradCheckResult {
  /** Whether every checked entry is within `tolerance` and every wasm gradient within `wasmTolerance`. */
  ok: boolean;
  tolerance: number;
  wasmTolerance: number;
  /** The worst checked entry (reference against central differences), or null when none was checked. */
  worst: { tensor: string; index: number; analytic: number; numeric: number; error: number } | null;
  /** Each parameter tensor, and 'input' (∂loss/∂x). */
  perTensor: Record<string, TensorCheck>;
  /** Rows used of the rows given. */
  samples: number;
  rows: number;
  kinks: number;
  zeros: number;
  /** Per parameter tensor: `reference` and `wasm` errors as in perTensor (kept for older callers). */
  params: Record<string, { reference: number; wasm: number }>;
  /** Worst reference error of ∂loss/∂x. */
  input: number;
  /** The largest `reference` error over all tensors and the input; the largest `wasm` error. */
  maxReference: number;
  maxWasm: number;
}

/** |a − b| / max(|a| + |b|, floor): relative, but absolute for values near 0. */
export function relError(a: number, b: number, floor = 1e-8): number {
  return Math.abs(a - b) / Math.max(Math.abs(a) + Math.abs(b), floor);
}

const unit = (x: number) => x > 0 && x < 1;
const KEYS = ['eps', 'loss', 'maxParams', 'maxSamples', 'seed', 'tolerance', 'wasmTolerance'];
/**
 * A custom loss (nn.losses.custom) is checked the same way: its backward against central
 * differences of its forward, both called on Float64Array copies so the differences are exact
 * enough; a wrong backward fails the check.
 * Dropout is evaluated as identity and batch norm with batch statistics (training mode). The loss
 * is the data loss plus activity penalties; weight penalties are applied by the optimizer, not
 * backpropagated, and are left out. Frozen parameters (layer.trainable false) are not checked; a
 * frozen batch norm runs in inference mode. The model is left as it was found.
 */
export function gradCheck(model: Model, x: unknown, y: unknown, opts: GradCheckOptions = {}): GradCheckResult {
  const where = 'gradCheck';
  checkKeys(where, opts, KEYS);
  const eps = checkNum(where, 'eps', opts.eps ?? 1e-3, unit, 'in (0, 1)');
  const tolerance = checkNum(where, 'tolerance', opts.tolerance ?? 1e-5, unit, 'in (0, 1)');
  const wasmTolerance = checkNum(where, 'wasmTolerance', opts.wasmTolerance ?? 2e-2, unit, 'in (0, 1)');
  const maxParams = checkInt(where, 'maxParams', opts.maxParams ?? 32, 1);
  const maxSamples = checkInt(where, 'maxSamples', opts.maxSamples ?? 16, 1);
  const seed = checkInt(where, 'seed', opts.seed ?? 0, 0, 2 ** 32 - 1);
  model.applyTrainable(where);
  const loss: Loss = opts.loss !== undefined ? getLoss(where, opts.loss) : model.loss ?? getLoss(where, undefined);
  const all = model.batch(where, x, y, loss);
  const rows = all.x.rows, per = all.y.length / rows;
  const pick = rows > maxSamples ? shuffled(rows, seed).slice(0, maxSamples).sort((a, b) => a - b) : undefined;
  const xt = pick ? all.x.take(pick) : all.x;
  const target = pick ? pickRows(all.y, pick, per) : all.y;
  const M = xt.rows, N = model.outputSize;
  const x64 = Float64Array.from(xt.data, (v) => (xt.data instanceof Uint8Array ? xt.range[0] + (v * (xt.range[1] - xt.range[0])) / 255 : v));

  const dropouts = allLayers(model.layers).filter((l): l is Dropout => l instanceof Dropout);
  const saved = model.getWeights();
  dropouts.forEach((d) => (d.enabled = false));
  try {
    const base = new Map(model.paramRefs.map((p) => [p, model.readParam(p)]));
    const read = (p: ParamRef) => base.get(p)!;
    // Perturbing a parameter of top-level layer i changes nothing before it: start there, with
    // the unperturbed inputs and activity penalties of the layers before.
    const top = model.layers;
    const inputs: Float64Array[] = [], penalties: number[] = [];
    const lossFrom = (i: number) => {
      let h = inputs[i], pen = 0;
      for (let j = 0; j < i; j++) pen += penalties[j];
      for (let j = i; j < top.length; j++) { h = top[j].refForward(h, M, true, read); pen += top[j].refPenalty?.(M) ?? 0; }
      return loss.ref(h, target, M, N).loss + pen;
    };
    let out: Float64Array = x64;
    for (const l of top) {
      inputs.push(out);
      out = l.refForward(out, M, true, read);
      penalties.push(l.refPenalty?.(M) ?? 0);
    }
    const base0 = loss.ref(out, target, M, N);
    const l0 = base0.loss + penalties.reduce((a, b) => a + b, 0);
    const ref = model.chain.refBackward(base0.dpred, M, read);

    let gmax = 0;
    for (const g of [...ref.grads.values(), ref.dx]) for (const v of g) gmax = Math.max(gmax, Math.abs(v));
    // Entries far below the model's largest gradient are judged against that scale: a relative
    // error of an entry of 1e-12 next to entries of 1 says nothing about backpropagation.
    const floor = Math.max(1e-12, 1e-6 * gmax);
    const perTensor: Record<string, TensorCheck> = {};
    let worst: GradCheckResult['worst'] = null;

    /** Checks sampled entries of v (bumped in place) against the analytic gradient g; loss from layer `from`. */
    const check = (name: string, v: Float64Array, g: Float64Array, from: number, stream: number) => {
      const idx = v.length > maxParams ? shuffled(v.length, (seed + stream * 0x9e3779b9) >>> 0).slice(0, maxParams) : [...v.keys()];
      const t: TensorCheck = { checked: idx.length, size: v.length, reference: 0, wasm: 0, kinks: 0, zeros: 0 };
      for (const i of idx) {
        const at = (d: number) => { const keep = v[i]; v[i] = keep + d; const l = lossFrom(from); v[i] = keep; return l; };
        const [p1, m1, p2, m2] = [at(eps), at(-eps), at(eps / 2), at(-eps / 2)];
        // Central differences at h and h/2 combined by Richardson extrapolation: error O(h⁴), so h
        // can stay large enough that rounding in the loss does not dominate.
        const numeric = (4 * ((p2 - m2) / eps) - (p1 - m1) / (2 * eps)) / 3;
        const err = relError(g[i], numeric, floor);
        const judge = () => {
          t.reference = Math.max(t.reference, err);
          if (!worst || err > worst.error) worst = { tensor: name, index: i, analytic: g[i], numeric, error: err };
        };
        if (err <= tolerance) { judge(); continue; }
        if (g[i] === 0 && Math.abs(numeric) <= floor) { t.zeros++; continue; }
        // NOTE: smooth within the step, the one-sided slopes differ by ≈ L''·s for a step s: twice as
        // much at h as at h/2, and at h/2 as at h/4. A kink at a distance δ < h breaks one of those
        // ratios: a − 2b = Δ·(3δ/h − 1) is 0 only at δ = h/3, where b − 2c = Δ/3 is not.
        const slopes = (s: number, p: number, m: number) => (p - l0) / s - (l0 - m) / s;
        const kinked = (a: number, b: number) => Math.abs(a - 2 * b) > 0.05 * Math.max(Math.abs(a), 2 * Math.abs(b));
        const a = slopes(eps, p1, m1), b = slopes(eps / 2, p2, m2);
        if (kinked(a, b) || kinked(b, slopes(eps / 4, at(eps / 4), at(-eps / 4)))) { t.kinks++; continue; }
        judge();
      }
      perTensor[name] = t;
    };
    const owner = (p: ParamRef) => top.findIndex((l) => l.params().includes(p));
    model.paramRefs.filter((p) => p.trainable).forEach((p, s) => check(p.name, base.get(p)!, ref.grads.get(p)!, owner(p), s + 1));
    check('input', x64, ref.dx, 0, 0);

    // The model's own step (wasm forward, loss, backward) on the same rows, against the reference backward.
    const wasm = model.lossAndGrad(new Tensor(Float32Array.from(x64), [M, model.inputSize]), target, { loss }).grads;
    for (const p of model.paramRefs.filter((q) => q.trainable)) {
      const g = ref.grads.get(p)!, w = wasm.get(p.name)!;
      let scale = 0;
      for (const v of g) scale = Math.max(scale, Math.abs(v));
      // float32 noise is relative to the tensor's largest gradient, and a tensor whose gradient is
      // (exactly or nearly) 0 next to the model's largest shows only noise: those are the floors.
      const wfloor = Math.max(1e-8, 1e-3 * scale, 1e-4 * gmax);
      let e = 0;
      for (let i = 0; i < g.length; i++) e = Math.max(e, relError(w[i], g[i], wfloor));
      perTensor[p.name].wasm = e;
    }
    const tensors = Object.entries(perTensor);
    const params = Object.fromEntries(tensors.filter(([k]) => k !== 'input').map(([k, t]) => [k, { reference: t.reference, wasm: t.wasm }]));
    const maxReference = Math.max(0, ...tensors.map(([, t]) => t.reference));
    const maxWasm = Math.max(0, ...tensors.map(([, t]) => t.wasm));
    return {
      ok: maxReference <= tolerance && maxWasm <= wasmTolerance, tolerance, wasmTolerance, worst, perTensor,
      samples: M, rows, kinks: tensors.reduce((s, [, t]) => s + t.kinks, 0), zeros: tensors.reduce((s, [, t]) => s + t.zeros, 0),
      params, input: perTensor.input.reference, maxReference, maxWasm,
    };
  } finally {
    dropouts.forEach((d) => (d.enabled = true));
    model.setWeights(saved);
  }
}

function pickRows<T extends Float32Array | Int32Array>(y: T, rows: number[], per: number): T {
  const out = new (y.constructor as new (n: number) => T)(rows.length * per);
  rows.forEach((r, i) => out.set(y.subarray(r * per, r * per + per), i * per));
  return out;
}
