// Seeded PRNG for tests (mulberry32, the library's own): same seed, same numbers.
export { mulberry32 as rng } from '../../src/random.js';

/** n uniform numbers in [lo, hi) as a Float32Array. */
export function uniform(r: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}
