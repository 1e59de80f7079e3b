// Losses: each one fused kernel (loss value + gradient scaled by 1/batch, DESIGN §4) and its
// float64 reference. Classification losses take integer labels; one-hot is never materialised.
import { ConfigError, show } from './errors.js';
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

const logSigmoid = (z: number) => Math.min(z, 0) - Math.log1p(Math.exp(-Math.abs(z)));

function elementwise(name: LossName, f: (p: number, t: number) => [number, number],
                     kernel: Loss['kernel']): Loss {
  return {
    name, labels: false, kernel,
    ref(pred, target, M, N) {
      let loss = 0;
      const dpred = new Float64Array(M * N);
      for (let i = 0; i < M * N; i++) {
        const [l, d] = f(pred[i], target[i]);
        loss += l;
        dpred[i] = d / (M * N);
      }
      return { loss: loss / (M * N), dpred };
    },
  };
}

function classification(name: LossName, logits: 'logits' | 'logProbs' | 'probs', kernel: Loss['kernel']): Loss {
  return {
    name, labels: true, kernel,
    ref(pred, labels, M, N) {
      let loss = 0;
      const dpred = new Float64Array(M * N);
      for (let i = 0; i < M; i++) {
        const row = pred.subarray(i * N, i * N + N), y = labels[i];
        if (logits === 'logits') {
          let m = -Infinity;
          for (const v of row) if (v > m) m = v;
          const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
          loss += lse - row[y];
          for (let j = 0; j < N; j++) dpred[i * N + j] = (Math.exp(row[j] - lse) - (j === y ? 1 : 0)) / M;
        } else if (logits === 'logProbs') {
          loss -= row[y];
          dpred[i * N + y] = -1 / M;
        } else {
          const p = Math.min(Math.max(row[y], PROB_EPS), 1 - PROB_EPS);
          loss -= Math.log(p);
          dpred[i * N + y] = row[y] === p ? -1 / (M * p) : 0;
        }
      }
      return { loss: loss / M, dpred };
    },
  };
}

const LOSSES: Record<LossName, Loss> = {
  mse: elementwise('mse', (p, t) => [(p - t) ** 2, 2 * (p - t)],
    (e, d, p, t, M, N) => e.k.f32_mse(d, p, t, M, N)),
  mae: elementwise('mae', (p, t) => [Math.abs(p - t), Math.sign(p - t)],
    (e, d, p, t, M, N) => e.k.f32_mae(d, p, t, M, N)),
  // NOTE: from logits, −[t·logσ(z) + (1−t)·logσ(−z)] with a stable log-sigmoid; gradient σ(z) − t.
  sigmoidCrossEntropy: elementwise('sigmoidCrossEntropy',
    (z, t) => [-(t * logSigmoid(z) + (1 - t) * logSigmoid(-z)), 1 / (1 + Math.exp(-z)) - t],
    (e, d, p, t, M, N) => e.k.f32_bce_logits(d, p, t, M, N)),
  binaryCrossEntropy: elementwise('binaryCrossEntropy', (p, t) => {
    const c = Math.min(Math.max(p, PROB_EPS), 1 - PROB_EPS);
    return [-(t * Math.log(c) + (1 - t) * Math.log(1 - c)), c === p ? (c - t) / (c * (1 - c)) : 0];
  }, (e, d, p, t, M, N) => e.k.f32_bce_probs(d, p, t, M, N, PROB_EPS)),
  softmaxCrossEntropy: classification('softmaxCrossEntropy', 'logits',
    (e, d, p, t, M, N, w, c) => e.k.f32_softmax_xent(d, p, t, M, N, w, c)),
  nll: classification('nll', 'logProbs', (e, d, p, t, M, N, w, c) => e.k.f32_nll(d, p, t, M, N, w, c)),
  categoricalCrossEntropy: classification('categoricalCrossEntropy', 'probs',
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

export function getLoss(where: string, name: unknown): Loss {
  if (typeof name === 'string') {
    const l = LOSSES[(ALIASES[name] ?? name) as LossName];
    if (l) return l;
  }
  throw new ConfigError(`${where}: loss is ${show(name)}; it must be one of ${[...Object.keys(LOSSES), ...Object.keys(ALIASES)].join(', ')}`);
}
