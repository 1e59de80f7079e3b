// RMSProp (Hinton 2012), PyTorch form with eps outside the square root: ms ← ρ·ms + (1−ρ)g²;
// centered: mg ← ρ·mg + (1−ρ)g, d = √(ms − mg²) + eps, else d = √ms + eps; θ ← θ − lr·g/d, or with
// momentum b ← μ·b + lr·g/d, θ ← θ − b (lr inside the buffer, Keras form; the same as PyTorch's
// while lr is constant).
import type { Kernels } from '../kernels.js';
import { BaseOptimizer, COMMON_DEFAULTS, type CommonOptions } from './base.js';
import type { Optimizer } from './types.js';
import { checkBool, checkNum } from '../validate.js';

export interface RmspropOptions extends CommonOptions {
  /** Decay of the running average of g² (PyTorch's alpha), in [0, 1). */
  rho?: number;
  /** μ in [0, 1); 0: no momentum buffer. */
  momentum?: number;
  /** Divide by an estimate of the variance of g instead of its second moment. */
  centered?: boolean;
  eps?: number;
}

/** PyTorch's defaults (Keras: lr 0.001, rho 0.9, eps 1e-7). */
export const RMSPROP_DEFAULTS = { lr: 0.01, rho: 0.99, momentum: 0, centered: false, eps: 1e-8, ...COMMON_DEFAULTS } as const;

export class Rmsprop extends BaseOptimizer {
  readonly rho: number;
  readonly momentum: number;
  readonly centered: boolean;
  readonly eps: number;
  constructor(opts?: RmspropOptions) {
    super('rmsprop', 'RMSprop', opts, RMSPROP_DEFAULTS);
    this.rho = checkNum(this.where, 'rho', this.o.rho, (x) => x >= 0 && x < 1, 'in [0, 1)');
    this.momentum = checkNum(this.where, 'momentum', this.o.momentum, (x) => x >= 0 && x < 1, 'in [0, 1)');
    this.centered = checkBool(this.where, 'centered', this.o.centered);
    this.eps = checkNum(this.where, 'eps', this.o.eps, (x) => x > 0, '> 0');
  }
  protected stateNames(): string[] {
    const s = ['ms'];
    if (this.momentum > 0) s.push('mom');
    if (this.centered) s.push('mg');
    return s;
  }
  protected override nonNegativeStates(): readonly string[] {
    return ['ms'];
  }
  protected kernel(k: Kernels, p: number, g: number, off: number, n: number, lr: number, l1: number, l2: number, gscale: number): void {
    const mom = this.momentum > 0 ? this.statePtr(1, off) : 0;
    const mg = this.centered ? this.statePtr(this.momentum > 0 ? 2 : 1, off) : 0;
    k.f32_rmsprop_step(p, g, this.statePtr(0, off), mom, mg, this.rho, this.momentum, this.eps, this.centered ? 1 : 0,
      n, lr, l1, l2, this.weightDecay, this.clipValue, gscale);
  }
}

/** RMSProp: steps divided by a running root mean square of the gradient. */
export function rmsprop(opts?: RmspropOptions): Optimizer {
  return new Rmsprop(opts);
}
