// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), PyTorch form: m ← β1·m + (1−β1)g;
// v ← β2·v + (1−β2)g²; θ ← θ − lr/(1−β1^t) · m/(√v/√(1−β2^t) + eps), t = iterations + 1; amsgrad
// uses the running maximum of v. AdamW is Adam with decoupled weight decay
// θ ← θ·(1 − lr·weightDecay) applied to the pre-update θ (PyTorch's order).
import type { Kernels } from '../kernels.js';
import { BaseOptimizer, COMMON_DEFAULTS, type CommonOptions } from './base.js';
import type { Optimizer } from './types.js';
import { checkBool, checkNum } from '../validate.js';

export interface AdamOptions extends CommonOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Reddi et al. 2018: divide by the running maximum of v. */
  amsgrad?: boolean;
}

/** eps is PyTorch's 1e-8 (Keras uses 1e-7); lr and betas agree in both. */
export const ADAM_DEFAULTS = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, amsgrad: false, ...COMMON_DEFAULTS } as const;
/** Adam's defaults with PyTorch AdamW's weightDecay 0.01. */
export const ADAMW_DEFAULTS = { ...ADAM_DEFAULTS, weightDecay: 0.01 } as const;

const inUnit = (x: number) => x >= 0 && x < 1;

export class Adam extends BaseOptimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly amsgrad: boolean;
  constructor(opts?: AdamOptions, name = 'adam', where = 'Adam', defaults: Record<string, unknown> = ADAM_DEFAULTS) {
    super(name, where, opts, defaults);
    this.beta1 = checkNum(where, 'beta1', this.o.beta1, inUnit, 'in [0, 1)');
    this.beta2 = checkNum(where, 'beta2', this.o.beta2, inUnit, 'in [0, 1)');
    this.eps = checkNum(where, 'eps', this.o.eps, (x) => x > 0, '> 0');
    this.amsgrad = checkBool(where, 'amsgrad', this.o.amsgrad);
  }
  protected stateNames(): string[] {
    return this.amsgrad ? ['m', 'v', 'vmax'] : ['m', 'v'];
  }
  protected override nonNegativeStates(): readonly string[] {
    return ['v', 'vmax'];
  }
  protected kernel(k: Kernels, p: number, g: number, off: number, n: number, lr: number, l1: number, l2: number, gscale: number): void {
    k.f32_adam_step(p, g, this.statePtr(0, off), this.statePtr(1, off), this.amsgrad ? this.statePtr(2, off) : 0,
      this.beta1, this.beta2, this.eps, this.iterations + 1, this.amsgrad ? 1 : 0,
      n, lr, l1, l2, this.weightDecay, this.clipValue, gscale);
  }
}

/** Adam with PyTorch's defaults. */
export function adam(opts?: AdamOptions): Optimizer {
  return new Adam(opts);
}

/** AdamW: Adam with decoupled weight decay (default 0.01). */
export function adamw(opts?: AdamOptions): Optimizer {
  return new Adam(opts, 'adamw', 'AdamW', ADAMW_DEFAULTS);
}
