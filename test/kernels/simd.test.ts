// The element-wise array kernels of assembly/simd.ts on every build: add, add in place, scale and
// fill over n across the f32x4 width (tails 1–3, 37, 784), with the output aliasing an input.
// Each result is one f32 rounding of the exact value, so the builds agree bit for bit.
import { describe, it } from 'vitest';
import type { Engine } from '../../src/wasm.js';
import { assertClose } from '../util/close.js';
import { ALL_ISAS, engineFor, get, put } from '../util/engines.js';
import { addRef, scaleRef } from '../util/ref_norm.js';
import { rng, uniform } from '../util/rng.js';

const NS = [1, 2, 3, 4, 5, 7, 8, 9, 37, 128, 784];

type K = Record<string, (...a: number[]) => number>;
const kern = (e: Engine) => e.k as unknown as K;

describe.each(ALL_ISAS)('element-wise kernels on the %s build', (isa) => {
  const e = engineFor(isa);

  it(`f32_add, f32_add_inplace, f32_scale, f32_fill › n in {${NS.join(',')}}, aliasing`, () => {
    for (const n of NS) {
      const r = rng(n);
      const a = uniform(r, n, -300, 300), b = uniform(r, n);
      const pa = put(e, a), pb = put(e, b), po = e.alloc(n * 4);
      const exact = (ref: Float64Array) => Float32Array.from(ref); // one f32 rounding of the exact result
      kern(e).f32_add(po, pa, pb, n);
      assertClose(get(e, po, n), exact(addRef(a, b)), 0, 0, `f32_add n=${n}`);
      kern(e).f32_add(pb, pa, pb, n);
      assertClose(get(e, pb, n), exact(addRef(a, b)), 0, 0, `f32_add out = b n=${n}`);
      e.f32.set(b, pb >> 2);
      kern(e).f32_add_inplace(pa, pb, n);
      assertClose(get(e, pa, n), exact(addRef(a, b)), 0, 0, `f32_add_inplace n=${n}`);
      e.f32.set(a, pa >> 2);
      kern(e).f32_scale(pa, pa, -0.375, n);
      assertClose(get(e, pa, n), exact(scaleRef(a, -0.375)), 0, 0, `f32_scale in place n=${n}`);
      kern(e).f32_fill(po, 0.25, n);
      assertClose(get(e, po, n), new Float64Array(n).fill(0.25), 0, 0, `f32_fill n=${n}`);
      for (const p of [pa, pb, po]) e.release(p);
    }
  });
});
