// `simdnn bench`: gemm GFLOP/s on the shapes of a 784-256-128-10 MLP at batch 128 and training
// samples/s of that MLP, per build. (bench/ holds the full benchmark.js suites and peer comparisons.)
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

export interface BenchRow { isa: Isa; name: string; gflops: number }

export function runBench(opts: { isas?: Isa[]; quick?: boolean; print?: (s: string) => void } = {}): BenchRow[] {
  const print = opts.print ?? console.log;
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
      const sec = bestSeconds(() => f(c, a, b, s.M, s.K, s.N, 0), opts.quick ? 20 : 50);
      const gflops = (2 * s.M * s.N * s.K) / sec / 1e9;
      rows.push({ isa: e.isa, name: s.name, gflops });
      cells.push(gflops.toFixed(1).padStart(10));
      for (const p of [a, b, c]) e.release(p);
    }
    print(`${s.name.padEnd(18)}${cells.join('')}`);
  }
  return rows;
}
