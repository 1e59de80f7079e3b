// bench/handoff: what one job costs the thread pool beyond its work (DESIGN §7). The calling
// thread hands each worker a one-kernel tape and waits until all are done; the figure is that
// round trip. It is measured for several spin lengths (how long a waiting thread spins before it
// sleeps in Atomics.wait) and idle gaps between jobs (the JavaScript a training loop runs between
// two steps), as the median and 90th percentile in µs. Writes build/bench/handoff.json.
//   node build/bench/handoff.js [--threads 2] [--jobs 3000]
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/wasm.js';
import { SPIN_MS, ThreadPool, type Tape } from '../src/threads.js';
import { pad, writeJson } from './common.js';

export const SPINS_MS = [0, 0.01, 0.05, 0.2, 1], GAPS_US = [0, 20, 200];

export interface HandoffRow { spinMs: number; gapUs: number; medianUs: number; p90Us: number }

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const busy = (us: number) => { const until = performance.now() + us / 1000; while (performance.now() < until); };

/** Round trips of `jobs` one-kernel jobs on a pool of `threads` with the given spin, after a warm-up. */
function roundTrips(e: Engine, threads: number, spinMs: number, gapUs: number, jobs: number): number[] {
  const pool = new ThreadPool(e, threads, spinMs);
  const fill = Object.keys(e.kernels).filter((n) => typeof (e.kernels as unknown as Record<string, unknown>)[n] === 'function').indexOf('f32_fill');
  const p = e.alloc(threads * 64);
  try {
    // Each thread fills its own cache line: the work is next to nothing, the round trip is the cost.
    const tapes: Tape[] = Array.from({ length: threads }, (_, t) => ({ id: pool.newId(), ops: [[fill, -1, p + t * 64, 1, 16]] }));
    const us: number[] = [];
    for (let i = 0; i < jobs + 200; i++) {
      busy(gapUs);
      const t0 = performance.now();
      pool.run(tapes);
      if (i >= 200) us.push((performance.now() - t0) * 1000);
    }
    return us.sort((a, b) => a - b);
  } finally {
    e.release(p);
    pool.dispose();
  }
}

export function handoff(threads: number, jobs: number, print = console.log): HandoffRow[] {
  const e = new Engine({ isa: 'simd' });
  const rows: HandoffRow[] = [];
  print(`thread-pool round trip of a one-kernel job, ${threads} threads, ${jobs} jobs per row (µs)`);
  print(`${pad('spin ms', 9)}${pad('gap µs', 8)}${pad('median', 9)}p90`);
  for (const spinMs of SPINS_MS) {
    for (const gapUs of GAPS_US) {
      const us = roundTrips(e, threads, spinMs, gapUs, jobs);
      const row = { spinMs, gapUs, medianUs: us[us.length >> 1], p90Us: us[Math.floor(us.length * 0.9)] };
      rows.push(row);
      print(`${pad(spinMs + (spinMs === SPIN_MS ? '*' : ''), 9)}${pad(gapUs, 8)}${pad(row.medianUs.toFixed(1), 9)}${row.p90Us.toFixed(1)}`);
    }
  }
  print(`* the pool's default spin (SPIN_MS); wrote ${writeJson('handoff.json', rows)}`);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) handoff(Number(arg('--threads', '2')), Number(arg('--jobs', '3000')));
