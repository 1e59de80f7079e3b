// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2):
// c = β1·m + (1−β1)g; θ ← θ − lr·sign(c); m ← β2·m + (1−β2)g. weightDecay is the paper's
// decoupled decay θ ← θ·(1 − lr·λ), applied before the update (as every optimizer here does).
// The update has unit size per element: the paper uses an lr 3–10× smaller than AdamW's.
import type { Kernels } from '../kernels.js';
import { BaseOptimizer, COMMON_DEFAULTS, type CommonOptions } from './base.js';
import type { Optimizer } from './types.js';
import { checkNum } from '../validate.js';

export interface LionOptions extends CommonOptions {
  /** Interpolation of m and g for the update's sign, in [0, 1). */
  beta1?: number;
  /** Decay of the momentum m, in [0, 1). */
  beta2?: number;
}

/** The paper's defaults (β1 0.9, β2 0.99) with lr 1e-4 (lucidrains/lion-pytorch). */
export const LION_DEFAULTS = { lr: 1e-4, beta1: 0.9, beta2: 0.99, ...COMMON_DEFAULTS } as const;

const inUnit = (x: number) => x >= 0 && x < 1;

export class Lion extends BaseOptimizer {
  readonly beta1: number;
  readonly beta2: number;
  constructor(opts?: LionOptions) {
    super('lion', 'Lion', opts, LION_DEFAULTS);
    this.beta1 = checkNum(this.where, 'beta1', this.o.beta1, inUnit, 'in [0, 1)');
    this.beta2 = checkNum(this.where, 'beta2', this.o.beta2, inUnit, 'in [0, 1)');
  }
  protected stateNames(): string[] {
    return ['m'];
  }
  protected kernel(k: Kernels, p: number, g: number, off: number, n: number, lr: number, l1: number, l2: number, gscale: number): void {
    k.f32_lion_step(p, g, this.statePtr(0, off), this.beta1, this.beta2, n, lr, l1, l2, this.weightDecay, this.clipValue, gscale);
  }
}

/** Lion: the sign of an interpolated momentum, one moment of state. */
export function lion(opts?: LionOptions): Optimizer {
  return new Lion(opts);
}
