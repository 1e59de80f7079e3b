// The thread pool: gemm row slices on workers sharing the engine's memory give the same bits as
// one thread (each element's summation order does not depend on the slicing), and workers end.
import { describe, expect, it } from 'vitest';
import { ThreadPool, serialGemm } from '../../src/threads.js';
import { ACT } from '../../src/kernels.js';
import { ALL_ISAS, engineFor, put } from '../util/engines.js';
import { rng, uniform } from '../util/rng.js';

describe.each(ALL_ISAS)('ThreadPool on the %s build', (isa) => {
  it('2 and 3 threads match 1 thread bit for bit on the MLP shapes and odd sizes', () => {
    const e = engineFor(isa);
    const serial = serialGemm(e);
    for (const threads of [2, 3]) {
      const pool = new ThreadPool(e, threads, e.module);
      for (const [M, K, N] of [[128, 784, 256], [784, 128, 256], [128, 128, 10], [37, 301, 19], [5, 1000, 600]]) {
        const r = rng(M + K + N);
        const a = put(e, uniform(r, M * K)), b = put(e, uniform(r, K * N)), bias = put(e, uniform(r, N));
        const at = put(e, uniform(r, K * M)), bt = put(e, uniform(r, N * K));
        const c1 = e.alloc(M * N * 4), c2 = e.alloc(M * N * 4), z1 = e.alloc(M * N * 4), z2 = e.alloc(M * N * 4);
        const bytes = (p: number) => Buffer.from(e.u8.buffer, p, M * N * 4);
        const same = (what: string, p = c1, q = c2) => expect(bytes(q).equals(bytes(p)), `${what} ${M}×${K}×${N} T=${threads}`).toBe(true);
        serial.denseFwd(c1, a, b, bias, M, K, N, ACT.relu, 0, z1);
        pool.denseFwd(c2, a, b, bias, M, K, N, ACT.relu, 0, z2);
        same('denseFwd');
        same('denseFwd z', z1, z2);
        serial.tn(c1, at, b, M, K, N, 1);
        pool.tn(c2, at, b, M, K, N, 1);
        same('tn');
        serial.nt(c1, a, bt, M, K, N, 0);
        pool.nt(c2, a, bt, M, K, N, 0);
        same('nt');
        for (const p of [a, b, bias, at, bt, c1, c2, z1, z2]) e.release(p);
      }
      const live = e.liveAllocations;
      pool.dispose();
      expect(e.liveAllocations).toBe(live - threads);
      expect(() => pool.tn(0, 0, 0, 1, 1, 1, 0)).toThrow(/after dispose/);
    }
  });
});
