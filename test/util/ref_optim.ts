// Float64 references of the optimizer kernels (assembly/optim.ts): the test oracle. Each takes θ,
// the gradient and the state as Float64Arrays and updates θ and state in place, element by element,
// in the kernels' order: gscale, clip, penalties, decoupled decay, update.
//
// Hyperparameters should be given as the f32 values the kernels receive (Math.fround), so that the
// reference and the kernel run the same method and differ only by rounding (1 − β2 with β2 = 0.999
// differs by 1.3e-5 relatively between f32 and f64).

export interface Common {
  lr: number;
  l1: number;
  l2: number;
  wd: number;
  clip: number;   // 0: off
  gscale: number; // 1: off
}
export const NO_EXTRAS: Omit<Common, 'lr'> = { l1: 0, l2: 0, wd: 0, clip: 0, gscale: 1 };


/** Effective gradient of one element: clamp(g·gscale, ±clip) + l1·sign(θ) + 2·l2·θ. */
export function geffRef(g: number, th: number, c: Common): number {
  let x = g * c.gscale;
  if (c.clip > 0) x = Math.min(c.clip, Math.max(-c.clip, x));
  return x + c.l1 * Math.sign(th) + 2 * c.l2 * th;
}

/** Global-norm clipping factor min(1, maxNorm/‖g‖) from Σg² (exact in f64 for f32 inputs). */
export function sumsqRef(g: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return s;
}
export function gscaleRef(g: ArrayLike<number>, maxNorm: number): number {
  const norm = Math.sqrt(sumsqRef(g));
  return norm > maxNorm ? maxNorm / norm : 1;
}

export type State = Record<string, Float64Array>;

/** Runs the shared steps 1–4 and subtracts f(i, g_eff, θ) from θ·(1 − lr·wd). */
function each(theta: Float64Array, grad: ArrayLike<number>, c: Common, f: (i: number, g: number, th: number) => number): void {
  const keep = 1 - c.lr * c.wd;
  for (let i = 0; i < theta.length; i++) {
    const th = theta[i];
    const g = geffRef(grad[i], th, c);
    theta[i] = th * keep - f(i, g, th);
  }
}

export interface SgdHp { momentum: number; nesterov: boolean; proximal?: boolean }
/** proximal: l1 leaves the gradient; after the update θ ← sign(θ)·max(|θ| − lr·l1, 0). */
export function sgdRef(theta: Float64Array, grad: ArrayLike<number>, s: State, hp: SgdHp, c: Common): void {
  const cg = hp.proximal ? { ...c, l1: 0 } : c;
  each(theta, grad, cg, (i, g) => {
    if (hp.momentum === 0) return c.lr * g;
    const v = (s.v[i] = hp.momentum * s.v[i] - c.lr * g);
    return hp.nesterov ? -(hp.momentum * v - c.lr * g) : -v;
  });
  if (!hp.proximal) return;
  const thr = Math.fround(c.lr * c.l1);
  for (let i = 0; i < theta.length; i++) theta[i] = Math.sign(theta[i]) * Math.max(Math.abs(theta[i]) - thr, 0);
}

export interface AdagradHp { eps: number }
export function adagradRef(theta: Float64Array, grad: ArrayLike<number>, s: State, hp: AdagradHp, c: Common): void {
  each(theta, grad, c, (i, g) => {
    const a = (s.acc[i] += g * g);
    return (c.lr * g) / (Math.sqrt(a) + hp.eps);
  });
}

export interface AdadeltaHp { rho: number; eps: number }
export function adadeltaRef(theta: Float64Array, grad: ArrayLike<number>, s: State, hp: AdadeltaHp, c: Common): void {
  const { rho, eps } = hp;
  each(theta, grad, c, (i, g) => {
    const ag = (s.accG[i] = rho * s.accG[i] + (1 - rho) * g * g);
    const d = (Math.sqrt(s.accD[i] + eps) / Math.sqrt(ag + eps)) * g;
    s.accD[i] = rho * s.accD[i] + (1 - rho) * d * d;
    return c.lr * d;
  });
}

export interface RmspropHp { rho: number; momentum: number; eps: number; centered: boolean }
export function rmspropRef(theta: Float64Array, grad: ArrayLike<number>, s: State, hp: RmspropHp, c: Common): void {
  const { rho, momentum, eps, centered } = hp;
  each(theta, grad, c, (i, g) => {
    const ms = (s.ms[i] = rho * s.ms[i] + (1 - rho) * g * g);
    let variance = ms;
    if (centered) {
      const mg = (s.mg[i] = rho * s.mg[i] + (1 - rho) * g);
      variance = Math.max(0, ms - mg * mg);
    }
    const upd = (c.lr * g) / (Math.sqrt(variance) + eps);
    if (momentum > 0) return (s.mom[i] = momentum * s.mom[i] + upd);
    return upd;
  });
}

export interface AdamHp { beta1: number; beta2: number; eps: number; amsgrad: boolean }
/** t ≥ 1 is the step number. */
export function adamRef(theta: Float64Array, grad: ArrayLike<number>, s: State, hp: AdamHp, c: Common, t: number): void {
  const { beta1, beta2, eps, amsgrad } = hp;
  const bc1 = 1 - Math.pow(beta1, t), bc2 = 1 - Math.pow(beta2, t);
  each(theta, grad, c, (i, g) => {
    const m = (s.m[i] = beta1 * s.m[i] + (1 - beta1) * g);
    let v = (s.v[i] = beta2 * s.v[i] + (1 - beta2) * g * g);
    if (amsgrad) v = s.vmax[i] = Math.max(s.vmax[i], v);
    return (c.lr * (m / bc1)) / (Math.sqrt(v / bc2) + eps);
  });
}

export interface AdamaxHp { beta1: number; beta2: number; eps: number }
export function adamaxRef(theta: Float64Array, grad: ArrayLike<number>, s: State, hp: AdamaxHp, c: Common, t: number): void {
  const { beta1, beta2, eps } = hp;
  const bc1 = 1 - Math.pow(beta1, t);
  each(theta, grad, c, (i, g) => {
    const m = (s.m[i] = beta1 * s.m[i] + (1 - beta1) * g);
    const u = (s.u[i] = Math.max(beta2 * s.u[i], Math.abs(g) + eps));
    return (c.lr / bc1) * (m / u);
  });
}

export interface NadamHp { beta1: number; beta2: number; eps: number; momentumDecay: number }
/** μ_t = β1·(1 − ½·0.96^(tψ)) (torch.optim.NAdam's schedule). */
export const nadamMu = (hp: NadamHp, t: number) => hp.beta1 * (1 - 0.5 * 0.96 ** (t * hp.momentumDecay));
/** torch.optim.NAdam (foreach path) at step t ≥ 1; s.prod holds Π_{i<t} μ_i in s.prod[0] (start 1), updated. */
export function nadamRef(theta: Float64Array, grad: ArrayLike<number>, s: State, hp: NadamHp, c: Common, t: number): void {
  const mu = nadamMu(hp, t), muNext = nadamMu(hp, t + 1);
  const prod = (s.prod[0] *= mu), prodNext = prod * muNext;
  const bc2 = 1 - Math.pow(hp.beta2, t);
  each(theta, grad, c, (i, g) => {
    const m = (s.m[i] = hp.beta1 * s.m[i] + (1 - hp.beta1) * g);
    const v = (s.v[i] = hp.beta2 * s.v[i] + (1 - hp.beta2) * g * g);
    const d = Math.sqrt(v / bc2) + hp.eps;
    return (c.lr * (1 - mu) / (1 - prod)) * g / d + (c.lr * muNext / (1 - prodNext)) * m / d;
  });
}

export interface LionHp { beta1: number; beta2: number }
/** Lion (Chen et al. 2023): θ −= lr·sign(β1·m + (1−β1)g); m = β2·m + (1−β2)g. */
export function lionRef(theta: Float64Array, grad: ArrayLike<number>, s: State, hp: LionHp, c: Common): void {
  each(theta, grad, c, (i, g) => {
    const u = Math.sign(hp.beta1 * s.m[i] + (1 - hp.beta1) * g);
    s.m[i] = hp.beta2 * s.m[i] + (1 - hp.beta2) * g;
    return c.lr * u;
  });
}
