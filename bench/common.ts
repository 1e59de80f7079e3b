// Shared by the benchmark suites: relaxed-SIMD enablement, timing with benchmark.js, JSON output.
import { mkdirSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import Benchmark from 'benchmark';

// Node 20 validates the relaxed build only with this V8 flag; setting it before any module is
// compiled works (NODE_OPTIONS refuses it). Node 22+ accepts relaxed SIMD by default.
setFlagsFromString('--experimental-wasm-relaxed-simd');

export interface Timing { mean: number; rme: number; samples: number }

/** Times fn with benchmark.js; returns mean seconds per call and the relative margin of error. */
export function time(name: string, fn: () => void, maxTime = 1.5): Timing {
  const b = new Benchmark(name, fn, { maxTime, minSamples: 5, initCount: 1 });
  b.run({ async: false });
  if (b.error) throw b.error;
  return { mean: b.stats.mean, rme: b.stats.rme, samples: b.stats.sample.length };
}

/** Writes a result file under build/bench/. */
export function writeJson(file: string, data: unknown): string {
  const dir = new URL('../../build/bench/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const path = new URL(file, dir);
  writeFileSync(path, JSON.stringify(data, null, 2) + '\n');
  return path.pathname;
}

export function pad(s: string | number, n: number): string {
  return String(s).padEnd(n);
}
