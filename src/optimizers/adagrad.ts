// AdaGrad (Duchi et al. 2011), PyTorch form: acc ← acc + g²; θ ← θ − lr·g/(√acc + eps).
import { checkNum } from '../validate.js';
import type { Kernels } from '../kernels.js';
import { BaseOptimizer, COMMON_DEFAULTS, type CommonOptions } from './base.js';
import type { Optimizer } from './types.js';

export interface AdagradOptions extends CommonOptions {
  eps?: number;
  /** Starting value of the accumulator (Keras uses 0.1). */
  initialAccumulator?: number;
}

/** PyTorch's defaults. */
export const ADAGRAD_DEFAULTS = { lr: 0.01, eps: 1e-10, initialAccumulator: 0, ...COMMON_DEFAULTS } as const;

export class Adagrad extends BaseOptimizer {
  readonly eps: number;
  readonly initialAccumulator: number;
  constructor(opts?: AdagradOptions) {
    super('adagrad', 'Adagrad', opts, ADAGRAD_DEFAULTS);
    this.eps = checkNum(this.where, 'eps', this.o.eps, (x) => x > 0, '> 0');
    this.initialAccumulator = checkNum(this.where, 'initialAccumulator', this.o.initialAccumulator, (x) => x >= 0, '≥ 0');
  }
  protected stateNames(): string[] {
    return ['acc'];
  }
  protected override nonNegativeStates(): readonly string[] {
    return ['acc'];
  }
  protected override initialState(): number {
    return this.initialAccumulator;
  }
  protected kernel(k: Kernels, p: number, g: number, off: number, n: number, lr: number, l1: number, l2: number, gscale: number): void {
    k.f32_adagrad_step(p, g, this.statePtr(0, off), this.eps, n, lr, l1, l2, this.weightDecay, this.clipValue, gscale);
  }
}

/** AdaGrad: per-parameter steps shrinking with the accumulated squared gradient. */
export function adagrad(opts?: AdagradOptions): Optimizer {
  return new Adagrad(opts);
}
