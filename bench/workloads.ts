// The compared workloads (issue: speed) and simdnn's runner for them. Each run happens in its own
// process (see compare.ts), so one library's JIT, heap and threads never affect another's.
import * as nn from '../src/index.js';
import { MOMENTUM, buildMlp } from '../src/bench.js';

/** An MLP on flat [n, 784] images with SGD momentum, or (net 'lenet') the LeNet on [n, 28, 28, 1] with Adam. */
export interface Workload { name: string; hidden: number[]; batch: number; what: string; net?: 'lenet' }
export const WORKLOADS: Workload[] = [
  { name: 'W1', hidden: [256, 128], batch: 128, what: 'train 784-256-128-10 ReLU, SGD momentum 0.9, lr 0.05, batch 128, one epoch' },
  { name: 'W2', hidden: [128], batch: 32, what: 'train 784-128-10 ReLU, same, batch 32, one epoch' },
  { name: 'W4', hidden: [128], batch: 64, net: 'lenet',
    what: 'train the LeNet (conv 16@5×5 relu, maxpool 2, conv 32@5×5 relu, maxpool 2, flatten, dense 128 relu, dense 10; Glorot uniform, zero biases) on [n, 28, 28, 1], Adam 1e-3, batch 64, one epoch' },
];
/** W3: inference of W1's network (after its epoch) on the 10k test images, batch 1000. */
export const W3 = { name: 'W3', batch: 1000, what: 'predict with W1\'s network, batch 1000, 10k test images' };
/** The inference figures: W3 of W1's network, "W4 infer" of the LeNet (same batch and images). */
export const INFERENCE = [
  { ...W3, of: 'W1' },
  { name: 'W4 infer', of: 'W4', batch: W3.batch, what: 'predict with W4\'s LeNet, batch 1000, 10k test images' },
];
/** SGD with buildMlp's MOMENTUM at this lr, for every library (the MLPs); Adam at LENET_LR (W4). */
export const LR = 0.05, LENET_LR = 1e-3, WARMUP_BATCHES = 30;
export { MOMENTUM };

/** W4's LeNet: the net with the layers' default init (Glorot uniform, zero biases; TF.js's too). */
export function buildLenet(opts: { threads?: number | 'auto'; seed?: number }): nn.Sequential {
  const m = nn.sequential({ inputShape: [28, 28, 1], seed: opts.seed ?? 1, threads: opts.threads }, [
    nn.conv2d(16, { kernelSize: 5, activation: 'relu' }), nn.maxPool2d({ poolSize: 2 }),
    nn.conv2d(32, { kernelSize: 5, activation: 'relu' }), nn.maxPool2d({ poolSize: 2 }),
    nn.flatten(), nn.dense(128, { activation: 'relu' }), nn.dense(10),
  ]);
  return m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: LENET_LR }), metrics: ['accuracy'] });
}
const build = (w: Workload, threads: number | 'auto', seed: number) => (w.net === 'lenet' ? buildLenet({ threads, seed }) : buildMlp(w.hidden, { lr: LR, threads, seed }));

/** What one library reports for one training workload (and W3 when it ran W1). */
export interface RunResult {
  lib: string; workload: string; samplesPerSec: number; seconds: number; samples: number;
  /** Fraction of the epoch done within the time budget (1 = the whole epoch). */
  epochFraction: number; testAccuracy: number; inferSamplesPerSec?: number;
  /** simdnn, W4, 1 thread: where the training step's time goes (profileConv). */
  conv?: ConvProfile;
}

/**
 * Per layer of a conv net's training step (single thread, the layers' forward and backward
 * timed around each call): ms per step forward and backward, and for conv layers GFLOP/s.
 * Forward FLOPs 2·N·Ho·Wo·Cout·K·K·Cin (the im2col gemm); backward counts the same FLOPs for the
 * weight gradient (colsᵀ·δ) and again for the input gradient (δ·Wᵀ, skipped by the first layer),
 * so 2× forward (1× for the first layer); the bias sum, activation′, im2col and col2im are in the
 * time but not in the count.
 */
export interface ConvProfile {
  steps: number; batch: number; stepMs: number;
  /** Time in conv layers (forward + backward) ÷ step time. */
  convShare: number;
  layers: { name: string; type: string; fwdMs: number; bwdMs: number; fwdGflops?: number; bwdGflops?: number }[];
}

/** Times an epoch of `steps` batches of x, y (fit, as the timed run) with each layer's forward and backward wrapped in a timer (1 thread only: with threads the step records its calls). */
export async function profileConv(m: nn.Sequential, x: nn.Tensor<Uint8Array>, y: Int32Array, batch: number, steps: number): Promise<ConvProfile> {
  const layers = m.layers as (nn.Layer & { geom?: { Ho: number; Wo: number; kh: number; kw: number; C: number }; filters?: number })[];
  const t = layers.map(() => ({ fwd: 0, bwd: 0 }));
  const saved = layers.map((l) => [l.forward, l.backward] as const);
  layers.forEach((l, i) => {
    const [f, b] = saved[i];
    l.forward = (...a) => { const t0 = performance.now(); const r = f.apply(l, a); t[i].fwd += performance.now() - t0; return r; };
    l.backward = (...a) => { const t0 = performance.now(); const r = b.apply(l, a); t[i].bwd += performance.now() - t0; return r; };
  });
  steps = Math.min(steps, Math.floor(x.rows / batch));
  let t0 = 0, stepMs = 0;
  await m.fit(x.slice(0, steps * batch), y.subarray(0, steps * batch), {
    epochs: 1, batchSize: batch,
    callbacks: [nn.callbacks.lambda({ onEpochBegin: () => { t0 = performance.now(); }, onEpochEnd: () => { stepMs = (performance.now() - t0) / steps; } })],
  });
  layers.forEach((l, i) => { l.forward = saved[i][0]; l.backward = saved[i][1]; });
  let conv = 0;
  const out = layers.map((l, i) => {
    const fwdMs = t[i].fwd / steps, bwdMs = t[i].bwd / steps;
    if (l.type !== 'conv2d') return { name: l.name, type: l.type, fwdMs, bwdMs };
    conv += fwdMs + bwdMs;
    const g = l.geom!, flops = 2 * batch * g.Ho * g.Wo * l.filters! * g.kh * g.kw * g.C;
    return { name: l.name, type: l.type, fwdMs, bwdMs, fwdGflops: flops / fwdMs / 1e6, bwdGflops: (i === 0 ? 1 : 2) * flops / bwdMs / 1e6 };
  });
  return { steps, batch, stepMs, convShare: conv / stepMs, layers: out };
}


/** Inference timings per run: best of 5, or 1 under a --budget of 30 s (a smoke run). */
export const inferReps = (budgetSec: number) => (budgetSec >= 30 ? 5 : 1);

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
export async function runSimdnn(w: Workload, threads: number | 'auto', budgetSec: number): Promise<RunResult> {
  const { train, test } = nn.datasets.fashionMnist({ shape: w.net === 'lenet' ? 'image' : 'flat' });
  const warm = build(w, threads, 1);
  await warm.fit(train.x.slice(0, WARMUP_BATCHES * w.batch), train.y.subarray(0, WARMUP_BATCHES * w.batch), { epochs: 1, batchSize: w.batch });
  warm.dispose();
  const m = build(w, threads, 42);
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
  if (INFERENCE.some((i) => i.of === w.name)) {
    m.predict(test.x, { batchSize: W3.batch });
    r.inferSamplesPerSec = test.x.rows / await best(inferReps(budgetSec), () => m.predict(test.x, { batchSize: W3.batch }));
  }
  // About min(10 s, budget/4) of steps at the speed just measured.
  const steps = Math.max(5, Math.round((Math.min(10, budgetSec / 4) * r.samplesPerSec) / w.batch));
  if (w.net === 'lenet' && threads === 1) r.conv = await profileConv(m, train.x as nn.Tensor<Uint8Array>, train.y as Int32Array, w.batch, steps);
  m.dispose();
  return r;
}
