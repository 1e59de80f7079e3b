// `simdnn bench`: gemm GFLOP/s on the shapes of a 784-256-128-10 MLP at batch 128 and training
// samples/s of that MLP, per build. (bench/ holds the full benchmark.js suites and peer comparisons.)
import { dense, sequential, sgd, tensor, type Sequential } from './index.js';
import { checkInt } from './validate.js';
import { Engine, runtimeAccepts, ISAS, type Isa } from './wasm.js';

export type GemmVariant = 'nn' | 'nt' | 'tn';
/** Named shapes: forward X·W, weight gradients Xᵀ·δ, input gradients δ·Wᵀ, and 1024³. */
export const GEMM_SHAPES: { name: string; v: GemmVariant; M: number; K: number; N: number }[] = [
  { name: 'fwd_128x784x256', v: 'nn', M: 128, K: 784, N: 256 },
  { name: 'fwd_128x256x128', v: 'nn', M: 128, K: 256, N: 128 },
  { name: 'fwd_128x128x10', v: 'nn', M: 128, K: 128, N: 10 },
  { name: 'dW_784x128x256', v: 'tn', M: 784, K: 128, N: 256 },
  { name: 'dW_256x128x128', v: 'tn', M: 256, K: 128, N: 128 },
  { name: 'dX_128x128x256', v: 'nt', M: 128, K: 128, N: 256 },
  { name: 'dX_128x10x128', v: 'nt', M: 128, K: 10, N: 128 },
  { name: 'square_1024', v: 'nn', M: 1024, K: 1024, N: 1024 },
];

/** Best-of-5 seconds per call, each sample long enough (≥ 50 ms) to swamp timer noise. */
export function bestSeconds(fn: () => void, minMs = 50): number {
  fn();
  let reps = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) fn();
    if (performance.now() - t >= minMs) break;
    reps *= 2;
  }
  let best = Infinity;
  for (let s = 0; s < 5; s++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) fn();
    best = Math.min(best, (performance.now() - t) / 1000 / reps);
  }
  return best;
}

/** Best of `steps` timed calls after one warm-up: a fixed amount of work, however fast the machine. */
export function bestOfSteps(fn: () => void, steps: number): number {
  fn();
  let best = Infinity;
  for (let s = 0; s < steps; s++) {
    const t = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return best;
}

export interface BenchRow { isa: Isa; name: string; gflops: number }

/**
 * Options of both runs. `steps` bounds the work instead of the time: each GEMM is called 1 + steps
 * times and each network trains 1 + steps batches (default: timed runs of ≥ 20–50 ms per sample and
 * a 4,096-sample epoch after a warm-up epoch).
 */
export interface BenchOptions { isas?: Isa[]; quick?: boolean; steps?: number; threads?: number; print?: (s: string) => void }

export function runBench(opts: BenchOptions = {}): BenchRow[] {
  const print = opts.print ?? console.log;
  if (opts.steps !== undefined) checkInt('runBench', 'steps', opts.steps, 1);
  const isas = (opts.isas ?? [...ISAS]).filter(runtimeAccepts);
  const shapes = opts.quick ? GEMM_SHAPES.slice(0, 3) : GEMM_SHAPES;
  const rows: BenchRow[] = [];
  print(`${'shape'.padEnd(18)}${isas.map((i) => i.padStart(10)).join('')}   (GFLOP/s, 2·M·N·K / best time)`);
  const engines = isas.map((isa) => new Engine({ isa }));
  for (const s of shapes) {
    const cells: string[] = [];
    for (const e of engines) {
      const a = e.alloc(s.M * s.K * 4), b = e.alloc(s.K * s.N * 4), c = e.alloc(s.M * s.N * 4);
      e.f32.fill(0.5, a >> 2, (a >> 2) + s.M * s.K);
      e.f32.fill(0.25, b >> 2, (b >> 2) + s.K * s.N);
      const f = e.k[`f32_gemm_${s.v}`];
      const call = () => f(c, a, b, s.M, s.K, s.N, 0);
      const sec = opts.steps ? bestOfSteps(call, opts.steps) : bestSeconds(call, opts.quick ? 20 : 50);
      const gflops = (2 * s.M * s.N * s.K) / sec / 1e9;
      rows.push({ isa: e.isa, name: s.name, gflops });
      cells.push(gflops.toFixed(1).padStart(10));
      for (const p of [a, b, c]) e.release(p);
    }
    print(`${s.name.padEnd(18)}${cells.join('')}`);
  }
  return rows;
}

/** Named training shapes: the compared workloads' networks (bench/compare runs them on real data). */
export const TRAIN_SHAPES = [
  { name: 'W1 784-256-128-10 b128', hidden: [256, 128], batch: 128 },
  { name: 'W2 784-128-10 b32', hidden: [128], batch: 32 },
];

/** The SGD momentum of every benchmark (and of bench/compare's peers). */
export const MOMENTUM = 0.9;

/** 784-hidden…-10 ReLU, softmax cross-entropy on logits, SGD with MOMENTUM: every benchmark's network. */
export function buildMlp(hidden: number[], opts: { lr: number; threads?: number | 'auto'; seed?: number; engine?: Engine }): Sequential {
  const m = sequential({ inputShape: [784], seed: opts.seed ?? 1, threads: opts.threads, engine: opts.engine }, [
    ...hidden.map((h) => dense(h, { activation: 'relu' })), dense(10),
  ]);
  return m.compile({ loss: 'softmaxCrossEntropy', optimizer: sgd({ lr: opts.lr, momentum: MOMENTUM }), metrics: ['accuracy'] });
}

export interface TrainRow { isa: Isa; threads: number; name: string; samplesPerSec: number }

/**
 * Training samples/s (ReLU, softmax cross-entropy, SGD momentum 0.9) on seeded random bytes
 * scaled to [0, 1] (speed does not depend on the values), after a warm-up.
 */
export async function runTrainBench(opts: BenchOptions = {}): Promise<TrainRow[]> {
  const print = opts.print ?? console.log;
  const threads = opts.threads ?? 1;
  if (opts.steps !== undefined) checkInt('runTrainBench', 'steps', opts.steps, 1);
  const isas = (opts.isas ?? [...ISAS]).filter(runtimeAccepts);
  const n = opts.steps ? opts.steps * Math.max(...TRAIN_SHAPES.map((t) => t.batch)) : 4096;
  const x = new Uint8Array(n * 784), y = new Int32Array(n);
  let s = 12345;
  for (let i = 0; i < x.length; i++) { s = (s * 1103515245 + 12345) >>> 0; x[i] = s >>> 24; }
  for (let i = 0; i < n; i++) y[i] = i % 10;
  const xt = tensor(x, [n, 784]);
  const rows: TrainRow[] = [];
  const budget = opts.steps ? `, ${opts.steps} step${opts.steps > 1 ? 's' : ''}` : '';
  print(`${'training'.padEnd(24)}${isas.map((i) => i.padStart(10)).join('')}   (samples/s, ${threads} thread${threads > 1 ? 's' : ''}${budget})`);
  for (const shape of TRAIN_SHAPES) {
    const cells: string[] = [];
    // With steps: one warm-up batch, then `steps` batches; else a warm-up epoch, then 1 or 3 epochs.
    const timed = opts.steps ? xt.take(Array.from({ length: opts.steps * shape.batch }, (_, i) => i)) : xt;
    const ty = y.subarray(0, timed.rows);
    const warm = opts.steps ? xt.take(Array.from({ length: shape.batch }, (_, i) => i)) : xt;
    for (const isa of isas) {
      // A small lr: the labels are arbitrary, and a diverging loss would stop the run.
      const m = buildMlp(shape.hidden, { lr: 0.01, threads, engine: new Engine({ isa }) });
      await m.fit(warm, y.subarray(0, warm.rows), { epochs: 1, batchSize: shape.batch });
      const epochs = opts.steps || opts.quick ? 1 : 3;
      const t = performance.now();
      await m.fit(timed, ty, { epochs, batchSize: shape.batch });
      const sps = (epochs * timed.rows) / ((performance.now() - t) / 1000);
      m.dispose();
      rows.push({ isa, threads, name: shape.name, samplesPerSec: sps });
      cells.push(sps.toFixed(0).padStart(10));
    }
    print(`${shape.name.padEnd(24)}${cells.join('')}`);
  }
  return rows;
}
