// Adamax (Kingma & Ba 2015, §7.1), PyTorch form: m ← β1·m + (1−β1)g; u ← max(β2·u, |g| + eps);
// θ ← θ − lr/(1−β1^t) · m/u, t = iterations + 1.
import { checkNum } from '../validate.js';
import type { Kernels } from '../kernels.js';
import { BaseOptimizer, COMMON_DEFAULTS, type CommonOptions } from './base.js';
import type { Optimizer } from './types.js';

export interface AdamaxOptions extends CommonOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** PyTorch's defaults (Keras: lr 0.001, eps 1e-7). */
export const ADAMAX_DEFAULTS = { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, ...COMMON_DEFAULTS } as const;

const inUnit = (x: number) => x >= 0 && x < 1;

export class Adamax extends BaseOptimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  constructor(opts?: AdamaxOptions) {
    super('adamax', 'Adamax', opts, ADAMAX_DEFAULTS);
    this.beta1 = checkNum(this.where, 'beta1', this.o.beta1, inUnit, 'in [0, 1)');
    this.beta2 = checkNum(this.where, 'beta2', this.o.beta2, inUnit, 'in [0, 1)');
    this.eps = checkNum(this.where, 'eps', this.o.eps, (x) => x > 0, '> 0');
  }
  protected stateNames(): string[] {
    return ['m', 'u'];
  }
  protected override nonNegativeStates(): readonly string[] {
    return ['u'];
  }
  protected kernel(k: Kernels, p: number, g: number, off: number, n: number, lr: number, l1: number, l2: number, gscale: number): void {
    k.f32_adamax_step(p, g, this.statePtr(0, off), this.statePtr(1, off), this.beta1, this.beta2, this.eps, this.iterations + 1,
      n, lr, l1, l2, this.weightDecay, this.clipValue, gscale);
  }
}

/** Adamax: Adam with the infinity norm in place of the second moment. */
export function adamax(opts?: AdamaxOptions): Optimizer {
  return new Adamax(opts);
}
