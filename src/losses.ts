// Losses: each one fused kernel (loss value + gradient scaled by 1/batch, DESIGN §4) and its
// float64 reference. Classification losses take integer labels; one-hot is never materialised.
import { bceLogitsRef, bceProbsRef, cceProbsRef, maeRef, mseRef, nllRef, softmaxXentRef, type LossRef } from './reference.js';
import { own, reject } from './validate.js';
import type { Engine } from './wasm.js';

export type LossName = 'mse' | 'mae' | 'binaryCrossEntropy' | 'sigmoidCrossEntropy' | 'softmaxCrossEntropy' | 'nll' | 'categoricalCrossEntropy';

export interface Loss {
  readonly name: LossName;
  /** Integer class labels (else real targets with one column per output). */
  readonly labels: boolean;
  /** Batch-mean loss; writes dpred (when ≠ 0); counts correct argmax predictions into *correct. */
  kernel(e: Engine, dpred: number, pred: number, target: number, M: number, N: number, classWeights: number, correct: number): number;
  /** Float64 reference: loss and ∂loss/∂pred. */
  ref(pred: Float64Array, target: ArrayLike<number>, M: number, N: number): { loss: number; dpred: Float64Array };
}

/** Clamp for losses on probabilities (Keras's epsilon). */
export const PROB_EPS = 1e-7;

/** A loss whose float64 reference is one of reference.ts's (its `grad` is Loss.ref's dpred). */
function loss(name: LossName, labels: boolean, ref: (p: Float64Array, t: ArrayLike<number>, M: number, N: number) => LossRef, kernel: Loss['kernel']): Loss {
  return { name, labels, kernel, ref: (p, t, M, N) => { const r = ref(p, t, M, N); return { loss: r.loss, dpred: r.grad }; } };
}

const LOSSES: Record<LossName, Loss> = {
  mse: loss('mse', false, mseRef, (e, d, p, t, M, N) => e.k.f32_mse(d, p, t, M, N)),
  mae: loss('mae', false, maeRef, (e, d, p, t, M, N) => e.k.f32_mae(d, p, t, M, N)),
  sigmoidCrossEntropy: loss('sigmoidCrossEntropy', false, bceLogitsRef, (e, d, p, t, M, N) => e.k.f32_bce_logits(d, p, t, M, N)),
  binaryCrossEntropy: loss('binaryCrossEntropy', false, (p, t) => bceProbsRef(p, t, PROB_EPS),
    (e, d, p, t, M, N) => e.k.f32_bce_probs(d, p, t, M, N, PROB_EPS)),
  softmaxCrossEntropy: loss('softmaxCrossEntropy', true, softmaxXentRef,
    (e, d, p, t, M, N, w, c) => e.k.f32_softmax_xent(d, p, t, M, N, w, c)),
  nll: loss('nll', true, nllRef, (e, d, p, t, M, N, w, c) => e.k.f32_nll(d, p, t, M, N, w, c)),
  categoricalCrossEntropy: loss('categoricalCrossEntropy', true, (p, t, M, N) => cceProbsRef(p, t, M, N, PROB_EPS),
    (e, d, p, t, M, N, w, c) => e.k.f32_cce_probs(d, p, t, M, N, w, c, PROB_EPS)),
};

const ALIASES: Record<string, LossName> = {
  meanSquaredError: 'mse', meanAbsoluteError: 'mae', bce: 'binaryCrossEntropy',
  binaryCrossEntropyFromLogits: 'sigmoidCrossEntropy', crossEntropy: 'softmaxCrossEntropy',
  sparseCategoricalCrossEntropy: 'categoricalCrossEntropy',
  // TF.js spellings (tf.losses / model.compile({ loss: 'sparseCategoricalCrossentropy' })): same meaning.
  sparseCategoricalCrossentropy: 'categoricalCrossEntropy', binaryCrossentropy: 'binaryCrossEntropy',
};
/** Other names accepted for a loss (Keras/TF.js spellings). */
export type LossAlias = 'meanSquaredError' | 'meanAbsoluteError' | 'bce' | 'binaryCrossEntropyFromLogits' | 'crossEntropy'
  | 'sparseCategoricalCrossEntropy' | 'sparseCategoricalCrossentropy' | 'binaryCrossentropy';

/** Every accepted loss name: the losses, then their aliases. */
export const LOSS_NAMES: readonly string[] = [...Object.keys(LOSSES), ...Object.keys(ALIASES)];

/** The loss by name or alias; own keys only, so '__proto__' or 'constructor' is an unknown name. */
export function getLoss(where: string, name: unknown): Loss {
  return own(LOSSES, own(ALIASES, name) ?? name)
    ?? reject(where, 'loss', name, `one of ${[...Object.keys(LOSSES), ...Object.keys(ALIASES)].join(', ')}`);
}
