// The three builds, one engine each (the relaxed one needs --experimental-wasm-relaxed-simd on
// Node 20; vitest.config.ts passes it).
import { Engine, ISAS, type Isa } from '../../src/wasm.js';

const cache = new Map<Isa, Engine>();
export function engineFor(isa: Isa): Engine {
  let e = cache.get(isa);
  if (!e) cache.set(isa, (e = new Engine({ isa })));
  return e;
}
export const ALL_ISAS: readonly Isa[] = ISAS;

/** Copies data into e's memory at a fresh allocation; returns the pointer. */
export function put(e: Engine, data: Float32Array): number {
  return e.upload(data);
}
/** Reads n floats at ptr. */
export function get(e: Engine, ptr: number, n: number): Float32Array {
  return e.f32.slice(ptr >> 2, (ptr >> 2) + n);
}
