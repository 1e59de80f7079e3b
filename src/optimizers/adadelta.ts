// AdaDelta (Zeiler 2012), PyTorch form: accG ← ρ·accG + (1−ρ)g²; Δ = √(accD + eps)/√(accG + eps)·g;
// accD ← ρ·accD + (1−ρ)Δ²; θ ← θ − lr·Δ, with lr a multiplier (1 is Zeiler's method).
import { checkNum } from '../validate.js';
import type { Kernels } from '../kernels.js';
import { BaseOptimizer, COMMON_DEFAULTS, type CommonOptions } from './base.js';
import type { Optimizer } from './types.js';

export interface AdadeltaOptions extends CommonOptions {
  /** Decay of both running averages, in [0, 1). */
  rho?: number;
  eps?: number;
}

/** PyTorch's defaults (Keras: lr 0.001, rho 0.95, eps 1e-7). */
export const ADADELTA_DEFAULTS = { lr: 1.0, rho: 0.9, eps: 1e-6, ...COMMON_DEFAULTS } as const;

export class Adadelta extends BaseOptimizer {
  readonly rho: number;
  readonly eps: number;
  constructor(opts?: AdadeltaOptions) {
    super('adadelta', 'Adadelta', opts, ADADELTA_DEFAULTS);
    this.rho = checkNum(this.where, 'rho', this.o.rho, (x) => x >= 0 && x < 1, 'in [0, 1)');
    this.eps = checkNum(this.where, 'eps', this.o.eps, (x) => x > 0, '> 0');
  }
  protected stateNames(): string[] {
    return ['accGrad', 'accDelta'];
  }
  protected override nonNegativeStates(): readonly string[] {
    return ['accGrad', 'accDelta'];
  }
  protected kernel(k: Kernels, p: number, g: number, off: number, n: number, lr: number, l1: number, l2: number, gscale: number): void {
    k.f32_adadelta_step(p, g, this.statePtr(0, off), this.statePtr(1, off), this.rho, this.eps,
      n, lr, l1, l2, this.weightDecay, this.clipValue, gscale);
  }
}

/** AdaDelta: steps in the units of θ, from running averages of g² and of past steps². */
export function adadelta(opts?: AdadeltaOptions): Optimizer {
  return new Adadelta(opts);
}
