// PRNG helpers on the JS side. The model's generator (xoshiro128**, DESIGN §8) runs in wasm; its
// state crosses the boundary as 4 unsigned 32-bit integers.

/** A valid PRNG state: 4 unsigned 32-bit integers, not all 0 (xoshiro128** never leaves 0). */
export function isRngState(a: unknown): a is number[] {
  return Array.isArray(a) && a.length === 4 && a.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32) && a.some((v) => v !== 0);
}

/** mulberry32: a small seeded generator of floats in [0, 1) (JS-side orders and test data). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded Fisher–Yates, for orders that must not touch a model's PRNG (folds, splits). */
export function shuffled(n: number, seed: number): number[] {
  const next = mulberry32(seed);
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
