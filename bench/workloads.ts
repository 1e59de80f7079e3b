// The compared workloads (issue: speed) and simdnn's runner for them. Each run happens in its own
// process (see compare.ts), so one library's JIT, heap and threads never affect another's.
import * as nn from '../src/index.js';
import { MOMENTUM, buildMlp } from '../src/bench.js';

export interface Workload { name: string; hidden: number[]; batch: number; what: string }
export const WORKLOADS: Workload[] = [
  { name: 'W1', hidden: [256, 128], batch: 128, what: 'train 784-256-128-10 ReLU, SGD momentum 0.9, lr 0.05, batch 128, one epoch' },
  { name: 'W2', hidden: [128], batch: 32, what: 'train 784-128-10 ReLU, same, batch 32, one epoch' },
];
/** W3: inference of W1's network (after its epoch) on the 10k test images, batch 1000. */
export const W3 = { name: 'W3', batch: 1000, what: 'predict with W1\'s network, batch 1000, 10k test images' };
/** SGD with buildMlp's MOMENTUM at this lr, for every library. */
export const LR = 0.05, WARMUP_BATCHES = 30;
export { MOMENTUM };

/** What one library reports for one training workload (and W3 when it ran W1). */
export interface RunResult {
  lib: string; workload: string; samplesPerSec: number; seconds: number; samples: number;
  /** Fraction of the epoch done within the time budget (1 = the whole epoch). */
  epochFraction: number; testAccuracy: number; inferSamplesPerSec?: number;
}

/** Best of `reps` timings of fn, in seconds. */
export async function best(reps: number, fn: () => unknown): Promise<number> {
  let b = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    b = Math.min(b, (performance.now() - t) / 1000);
  }
  return b;
}

/** simdnn: a warm-up on a throwaway model, then one timed epoch on a fresh one (data already resident). */
export async function runSimdnn(w: Workload, threads: number, budgetSec: number): Promise<RunResult> {
  const { train, test } = nn.datasets.fashionMnist();
  const warm = buildMlp(w.hidden, { lr: LR, threads, seed: 1 });
  await warm.fit(train.x.slice(0, WARMUP_BATCHES * w.batch), train.y.subarray(0, WARMUP_BATCHES * w.batch), { epochs: 1, batchSize: w.batch });
  warm.dispose();
  const m = buildMlp(w.hidden, { lr: LR, threads, seed: 42 });
  let t0 = 0, seconds = 0, samples = 0;
  await m.fit(train.x, train.y, {
    epochs: 1, batchSize: w.batch,
    callbacks: [nn.callbacks.lambda({
      onEpochBegin: () => { t0 = performance.now(); },
      onBatchEnd: (_s, logs, ctx) => {
        samples += logs.size;
        seconds = (performance.now() - t0) / 1000;
        if (seconds > budgetSec) ctx.stopTraining = true;
      },
    })],
  });
  const testAccuracy = m.evaluate(test.x, test.y).accuracy;
  const r: RunResult = {
    lib: 'simdnn', workload: w.name, samplesPerSec: samples / seconds, seconds, samples,
    epochFraction: samples / train.x.rows, testAccuracy,
  };
  if (w.name === 'W1') {
    m.predict(test.x, { batchSize: W3.batch });
    r.inferSamplesPerSec = test.x.rows / await best(5, () => m.predict(test.x, { batchSize: W3.batch }));
  }
  m.dispose();
  return r;
}
