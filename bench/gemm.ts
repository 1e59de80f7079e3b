// bench/gemm: GFLOP/s of the gemms of a 784-256-128-10 MLP at batch 128, and 1024³, on the
// scalar, simd and relaxed builds and a plain JavaScript Float32Array loop.
// Each result is checked once against a float64 reference before it is timed.
import { Engine, runtimeAccepts, type Isa } from '../src/wasm.js';
import { pad, time, writeJson } from './common.js';
import { GEMM_SHAPES, type GemmVariant } from '../src/bench.js';

type Variant = GemmVariant;
const SHAPES = GEMM_SHAPES;

function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; a[i] = (s / 2 ** 32) * 2 - 1; }
  return a;
}
const at = (v: Variant, which: 'a' | 'b', M: number, K: number, N: number) =>
  which === 'a' ? (v === 'tn' ? (i: number, k: number) => k * M + i : (i: number, k: number) => i * K + k)
                : (v === 'nt' ? (k: number, j: number) => j * K + k : (k: number, j: number) => k * N + j);

/** The plain-JS baseline: i-k-j loops over Float32Arrays (the best order for row-major B). */
function jsGemm(v: Variant, c: Float32Array, a: Float32Array, b: Float32Array, M: number, K: number, N: number) {
  const ia = at(v, 'a', M, K, N), ib = at(v, 'b', M, K, N);
  c.fill(0);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) {
    const aik = a[ia(i, k)], row = i * N;
    for (let j = 0; j < N; j++) c[row + j] += aik * b[ib(k, j)];
  }
}

function check(v: Variant, got: Float32Array, a: Float32Array, b: Float32Array, M: number, K: number, N: number, what: string) {
  const ia = at(v, 'a', M, K, N), ib = at(v, 'b', M, K, N);
  // Spot-check 64 entries in float64.
  for (let t = 0; t < 64; t++) {
    const i = (t * 7919) % M, j = (t * 104729) % N;
    let s = 0;
    for (let k = 0; k < K; k++) s += a[ia(i, k)] * b[ib(k, j)];
    if (!(Math.abs(got[i * N + j] - s) <= 1e-5 + 1e-6 * K)) throw new Error(`${what}: C[${i},${j}] = ${got[i * N + j]}, reference ${s}`);
  }
}

export function benchGemm(opts: { isas?: Isa[]; js?: boolean; shapes?: string[] } = {}) {
  const isas = (opts.isas ?? ['scalar', 'simd', 'relaxed']).filter((i) => runtimeAccepts(i));
  const rows: Record<string, unknown>[] = [];
  console.log(`${pad('shape', 18)}${pad('impl', 9)}${pad('GFLOP/s', 10)}±rme%`);
  for (const s of SHAPES.filter((x) => !opts.shapes || opts.shapes.includes(x.name))) {
    const { v, M, K, N } = s;
    const flop = 2 * M * N * K;
    const a = fill(M * K, 1), b = fill(K * N, 2);
    const report = (impl: string, t: { mean: number; rme: number }) => {
      const gflops = flop / t.mean / 1e9;
      rows.push({ shape: s.name, variant: v, M, K, N, impl, gflops, rme: t.rme });
      console.log(`${pad(s.name, 18)}${pad(impl, 9)}${pad(gflops.toFixed(2), 10)}${t.rme.toFixed(1)}`);
    };
    for (const isa of isas) {
      const e = new Engine({ isa });
      const pa = e.upload(a), pb = e.upload(b), pc = e.alloc(M * N * 4);
      const f = e.k[`f32_gemm_${v}`];
      f(pc, pa, pb, M, K, N, 0);
      check(v, e.f32.slice(pc >> 2, (pc >> 2) + M * N), a, b, M, K, N, `${isa} ${s.name}`);
      report(isa, time(`${isa} ${s.name}`, () => f(pc, pa, pb, M, K, N, 0), isa === 'scalar' ? 1 : 1.5));
    }
    if (opts.js !== false) {
      const c = new Float32Array(M * N);
      jsGemm(v, c, a, b, M, K, N);
      check(v, c, a, b, M, K, N, `js ${s.name}`);
      report('js', time(`js ${s.name}`, () => jsGemm(v, c, a, b, M, K, N), 1));
    }
  }
  const ratio = (shape: string, x: string, y: string) => {
    const g = (impl: string) => rows.find((r) => r.shape === shape && r.impl === impl)?.gflops as number | undefined;
    const p = g(x), q = g(y);
    return p && q ? p / q : undefined;
  };
  const ratios = SHAPES.map((s) => ({ shape: s.name, simd_over_js: ratio(s.name, 'simd', 'js'), relaxed_over_simd: ratio(s.name, 'relaxed', 'simd') }));
  console.log('\nratios (same run):');
  for (const r of ratios) console.log(`${pad(r.shape, 18)}simd/js ${r.simd_over_js?.toFixed(1) ?? '–'}  relaxed/simd ${r.relaxed_over_simd?.toFixed(2) ?? '–'}`);
  const file = writeJson('gemm.json', { date: new Date().toISOString(), node: process.version, rows, ratios });
  console.log(`wrote ${file}`);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) benchGemm();
