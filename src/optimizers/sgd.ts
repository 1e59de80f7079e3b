// Stochastic gradient descent with optional (Nesterov) momentum, in the course notes' form
// v ← γv − lr·g; θ ← θ + v (Nesterov, Keras form: θ ← θ + γv − lr·g). Full-batch GD is sgd on
// the whole training set as one batch. weightDecay is decoupled here too (unlike PyTorch SGD's
// weight_decay, which is an L2 penalty; use l2 for that). proximal: the L1 penalties (l1 and the
// layers' L1 regularizers) act as their proximal operator, a soft threshold after each update
// θ ← sign(θ)·max(|θ| − lr·l1, 0), instead of the subgradient l1·sign(θ): weights the penalty
// drives to zero become exactly 0 (proximal gradient descent, ISTA), where the subgradient makes
// them oscillate around 0 by ±lr·l1.
import { ConfigError } from '../errors.js';
import type { Kernels } from '../kernels.js';
import { BaseOptimizer, COMMON_DEFAULTS, type CommonOptions } from './base.js';
import type { Optimizer } from './types.js';
import { checkBool, checkNum } from '../validate.js';

export interface SgdOptions extends CommonOptions {
  /** γ in [0, 1); 0: plain SGD. */
  momentum?: number;
  /** Nesterov accelerated gradient (needs momentum > 0). */
  nesterov?: boolean;
  /** Apply the L1 penalties as a soft threshold after the step (exact zeros) instead of adding l1·sign(θ) to g. */
  proximal?: boolean;
}

/** Keras' lr (PyTorch has none); momentum off. */
export const SGD_DEFAULTS = { lr: 0.01, momentum: 0, nesterov: false, proximal: false, ...COMMON_DEFAULTS } as const;

export class Sgd extends BaseOptimizer {
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly proximal: boolean;
  constructor(opts?: SgdOptions) {
    super('sgd', 'SGD', opts, SGD_DEFAULTS);
    this.momentum = checkNum(this.where, 'momentum', this.o.momentum, (x) => x >= 0 && x < 1, 'in [0, 1)');
    this.nesterov = checkBool(this.where, 'nesterov', this.o.nesterov);
    this.proximal = checkBool(this.where, 'proximal', this.o.proximal);
    if (this.nesterov && this.momentum === 0) {
      throw new ConfigError(`${this.where}: nesterov is true with momentum 0; nesterov needs momentum > 0`);
    }
  }
  protected stateNames(): string[] {
    return this.momentum > 0 ? ['v'] : [];
  }
  protected kernel(k: Kernels, p: number, g: number, off: number, n: number, lr: number, l1: number, l2: number, gscale: number): void {
    const v = this.momentum > 0 ? this.statePtr(0, off) : 0;
    k.f32_sgd_step(p, g, v, this.momentum, this.nesterov ? 1 : 0, this.proximal ? 1 : 0, n, lr, l1, l2, this.weightDecay, this.clipValue, gscale);
  }
}

/** SGD, optionally with momentum or Nesterov momentum. */
export function sgd(opts?: SgdOptions): Optimizer {
  return new Sgd(opts);
}
