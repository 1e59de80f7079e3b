// Nadam (Dozat 2016, "Incorporating Nesterov Momentum into Adam"), as torch.optim.NAdam with its
// momentum-decay schedule μ_t = β1·(1 − ½·0.96^(t·ψ)): m ← β1·m + (1−β1)g; v ← β2·v + (1−β2)g²;
// d = √v/√(1−β2^t) + eps; θ ← θ − lr·(1−μ_t)/(1−Π_t)·g/d − lr·μ_{t+1}/(1−Π_t·μ_{t+1})·m/d, with
// Π_t = μ_1·…·μ_t, t = iterations + 1.
// NOTE: torch 1.13's default single-tensor path multiplies μ_t in twice for the second term
// (pytorch#92699, fixed upstream); its foreach=True path is the formula above, and so is this.
import type { Kernels } from '../kernels.js';
import { BaseOptimizer, COMMON_DEFAULTS, type CommonOptions } from './base.js';
import type { Optimizer, SplitStep } from './types.js';
import { checkNum } from '../validate.js';

export interface NadamOptions extends CommonOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** ψ of the momentum schedule (torch's momentum_decay), ≥ 0; 0 keeps μ_t = β1/2. */
  momentumDecay?: number;
}

/** torch.optim.NAdam's defaults (lr 2e-3, momentum_decay 4e-3). */
export const NADAM_DEFAULTS = { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, momentumDecay: 4e-3, ...COMMON_DEFAULTS } as const;

const inUnit = (x: number) => x >= 0 && x < 1;

export class Nadam extends BaseOptimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly momentumDecay: number;
  /** Π_{i ≤ t} μ_i for t = productAt (the product depends on every step: kept, recomputed after iterations is set). */
  private product = 1;
  private productAt = 0;
  constructor(opts?: NadamOptions) {
    super('nadam', 'Nadam', opts, NADAM_DEFAULTS);
    this.beta1 = checkNum(this.where, 'beta1', this.o.beta1, inUnit, 'in [0, 1)');
    this.beta2 = checkNum(this.where, 'beta2', this.o.beta2, inUnit, 'in [0, 1)');
    this.eps = checkNum(this.where, 'eps', this.o.eps, (x) => x > 0, '> 0');
    this.momentumDecay = checkNum(this.where, 'momentumDecay', this.o.momentumDecay, (x) => x >= 0, '≥ 0');
  }
  /** μ_t of the momentum schedule, with β1 as the kernel receives it (f32). */
  mu(t: number): number {
    return Math.fround(this.beta1) * (1 - 0.5 * 0.96 ** (t * Math.fround(this.momentumDecay)));
  }
  /** Π_{i ≤ t} μ_i. */
  private muProduct(t: number): number {
    if (t !== this.productAt + 1) {
      this.product = 1;
      for (let i = 1; i < t; i++) this.product *= this.mu(i);
      this.productAt = t - 1;
    }
    return this.product * this.mu(t);
  }
  protected stateNames(): string[] {
    return ['m', 'v'];
  }
  protected override nonNegativeStates(): readonly string[] {
    return ['v'];
  }
  protected kernel(k: Kernels, p: number, g: number, off: number, n: number, lr: number, l1: number, l2: number, gscale: number): void {
    const t = this.iterations + 1;
    k.f32_nadam_step(p, g, this.statePtr(0, off), this.statePtr(1, off), this.beta1, this.beta2, this.eps, this.momentumDecay,
      t, this.muProduct(t), n, lr, l1, l2, this.weightDecay, this.clipValue, gscale);
  }
  override step(split?: SplitStep): void {
    super.step(split);
    // The product advances once per step (a step may make several kernel calls, one per run).
    const t = this.iterations;
    this.product = this.muProduct(t);
    this.productAt = t;
  }
}

/** Nadam: Adam with Nesterov momentum and torch's momentum-decay schedule. */
export function nadam(opts?: NadamOptions): Optimizer {
  return new Nadam(opts);
}
