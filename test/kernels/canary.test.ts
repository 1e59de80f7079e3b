// Writes stay inside their buffers: every output of the gemm, activation, loss, optimizer and
// gather kernels sits between two 64-byte canary bands (a NaN payload no kernel produces), on
// every build, for sizes around the tiles (1, 3, 4, 5, 7, 8, 9, 17, 37); the bands must be intact
// after each call. (Over-reads are covered by the operands-at-the-end-of-memory tests.)
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/wasm.js';
import { ALL_ISAS, engineFor } from '../util/engines.js';
import { rng, uniform } from '../util/rng.js';

const GUARD = 16, CANARY = 0x7fc0dead, SIZES = [1, 3, 4, 5, 7, 8, 9, 17, 37];

/** An output buffer of n floats between canary bands; check() names a damaged band. */
function guarded(e: Engine, n: number) {
  const base = e.alloc((n + 2 * GUARD) * 4), ptr = base + GUARD * 4;
  const u32 = () => new Uint32Array(e.memory.buffer);
  u32().fill(CANARY, base >> 2, (base >> 2) + n + 2 * GUARD);
  return {
    ptr,
    check(what: string) {
      const m = u32(), lo = base >> 2, hi = (ptr >> 2) + n;
      for (let i = 0; i < GUARD; i++) {
        expect(m[lo + i], `${what}: band before, word ${i}`).toBe(CANARY);
        expect(m[hi + i], `${what}: band after, word ${i}`).toBe(CANARY);
      }
    },
    release: () => e.release(base),
  };
}

it('the canary check sees a write one float past the end and one before the start', () => {
  const e = engineFor('scalar');
  for (const off of [-1, 5]) {
    const g = guarded(e, 5);
    e.f32[(g.ptr >> 2) + off] = 0;
    expect(() => g.check('self-test')).toThrow(/band (before|after)/);
    g.release();
  }
});

describe.each(ALL_ISAS)('canaries around outputs on the %s build', (isa) => {
  const e = engineFor(isa);
  const r = rng(7);

  it('gemm nn/nt/tn (C = and C +=), dense forward with z', () => {
    for (const M of SIZES) for (const K of [1, 5, 37]) for (const N of SIZES) {
      const a = e.upload(uniform(r, M * K)), b = e.upload(uniform(r, K * N)), bias = e.upload(uniform(r, N));
      for (const v of ['nn', 'nt', 'tn'] as const) for (const acc of [0, 1]) {
        const c = guarded(e, M * N);
        e.f32.fill(0, c.ptr >> 2, (c.ptr >> 2) + M * N);
        e.k[`f32_gemm_${v}`](c.ptr, a, b, M, K, N, acc);
        c.check(`gemm_${v} ${M}×${K}×${N} acc ${acc}`);
        c.release();
      }
      const out = guarded(e, M * N), z = guarded(e, M * N);
      e.k.f32_dense_fwd(out.ptr, a, b, bias, M, K, N, 1, 0, z.ptr);
      out.check(`dense_fwd out ${M}×${K}×${N}`);
      z.check(`dense_fwd z ${M}×${K}×${N}`);
      for (const g of [out, z]) g.release();
      for (const p of [a, b, bias]) e.release(p);
    }
  });

  it('activation backward with dbias, softmax cross-entropy, SGD and Adam steps, u8 gather', () => {
    for (const M of SIZES) for (const N of SIZES) {
      const n = M * N;
      const zp = e.upload(uniform(r, n, -3, 3)), dy = e.upload(uniform(r, n));
      const dz = guarded(e, n), db = guarded(e, N);
      e.f32.fill(0, db.ptr >> 2, (db.ptr >> 2) + N);
      e.k.f32_act_bwd(dz.ptr, dy, zp, 0, M, N, 1, 0, db.ptr);
      dz.check(`act_bwd ${M}×${N}`);
      db.check(`act_bwd dbias ${M}×${N}`);
      const labels = e.upload(Int32Array.from({ length: M }, (_, i) => i % N));
      const dl = guarded(e, n), correct = guarded(e, 1);
      e.k.f32_softmax_xent(dl.ptr, zp, labels, M, N, 0, 0, correct.ptr, 0);
      dl.check(`softmax_xent ${M}×${N}`);
      correct.check(`softmax_xent correct ${M}×${N}`);
      const p = guarded(e, n), v = guarded(e, n), m2 = guarded(e, n);
      for (const g of [p, v, m2]) e.f32.fill(0.5, g.ptr >> 2, (g.ptr >> 2) + n);
      e.k.f32_sgd_step(p.ptr, dy, v.ptr, 0.9, 0, 0, n, 0.1, 0, 0, 0, 0, 1);
      e.k.f32_adam_step(p.ptr, dy, v.ptr, m2.ptr, 0, 0.9, 0.999, 1e-7, 1, 0, n, 0.1, 1e-4, 0, 0, 0, 1);
      for (const [g, what] of [[p, 'θ'], [v, 'm'], [m2, 'v']] as const) g.check(`sgd/adam ${what} n=${n}`);
      const src = e.upload(Uint8Array.from({ length: n }, (_, i) => i % 256)), idx = e.upload(Int32Array.from({ length: M }, (_, i) => M - 1 - i));
      const out = guarded(e, n);
      e.k.u8_gather_rows_scale(out.ptr, src, idx, M, N, 1 / 255, 0);
      out.check(`u8_gather ${M}×${N}`);
      for (const g of [dz, db, dl, correct, p, v, m2, out]) g.release();
      for (const q of [zp, dy, labels, src, idx]) e.release(q);
    }
  });
});
