// assembly/conv.ts on every build. First the float64 references (src/reference.ts: conv2d, max
// and average pooling) against central differences and one hand-solved case; then the kernels
// against them: im2col + f32_dense_fwd = conv2dRef, colsᵀ·dz (f32_gemm_tn) = dW, col2im(dz·Wᵀ)
// added into dx = dx0 + dX, and the pooling kernels, over strides, paddings ('valid', Keras
// 'same' with its odd pad after), dilations, odd sizes, 1×1 kernels, channels 1/3/16 and the
// LeNet's own shapes.
import { describe, expect, it } from 'vitest';
import { axisGeometry, imageGeometry, type Padding } from '../../src/layers/conv.js';
import {
  avgPool2dBwdRef, avgPool2dRef, conv2dBwdRef, conv2dRef, maxPool2dBwdRef, maxPool2dRef, type ImageGeometry,
} from '../../src/reference.js';
import type { Engine } from '../../src/wasm.js';
import { assertClose } from '../util/close.js';
import { ALL_ISAS, engineFor, get, put } from '../util/engines.js';
import { rng, uniform } from '../util/rng.js';

type K = Record<string, (...a: number[]) => void>;
const kern = (e: Engine) => e.k as unknown as K;

interface ConvCase { N: number; H: number; W: number; C: number; F: number; k: [number, number]; s: [number, number]; d: [number, number]; pad: Padding }
const conv = (N: number, H: number, W: number, C: number, F: number, k: number | [number, number], s: number | [number, number] = 1,
              d: number | [number, number] = 1, pad: Padding = 'valid'): ConvCase => {
  const two = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);
  return { N, H, W, C, F, k: two(k), s: two(s), d: two(d), pad };
};
const geomOf = (c: ConvCase): ImageGeometry => ({ ...imageGeometry('t', [c.H, c.W, c.C], c.k, c.s, c.d, c.pad, 'kernel'), N: c.N });
const title = (c: ConvCase) => `N${c.N} ${c.H}×${c.W}×${c.C}→${c.F} k${c.k.join('×')} s${c.s.join('×')} d${c.d.join('×')} ${c.pad}`;

const CONV_CASES: ConvCase[] = [
  conv(2, 28, 28, 1, 16, 5),                  // the LeNet's first conv
  conv(2, 12, 12, 16, 32, 5),                 // and its second
  conv(3, 5, 4, 3, 16, 1),                    // 1×1, strides 1: the input is its own column matrix
  conv(2, 5, 7, 3, 4, 1, 2),                  // 1×1 with strides 2 goes through im2col
  conv(2, 7, 9, 3, 5, 3, 2, 1, 'same'),       // odd sizes, stride 2, padding split 0 / 1
  conv(1, 5, 5, 16, 3, 2, 2, 1, 'same'),      // even kernel, 'same': the odd pad after
  conv(2, 6, 7, 1, 2, 4, 1, 1, 'same'),       // even kernel, stride 1: pad 1 above, 2 below
  conv(2, 9, 8, 3, 4, 3, 1, 2),               // dilation 2, 'valid'
  conv(1, 6, 7, 1, 3, 3, 1, 2, 'same'),       // dilation 2, 'same'
  conv(2, 7, 6, 3, 3, 3, 2, [1, 2], 'same'),  // dilation with strides (PyTorch allows it)
  conv(2, 5, 6, 4, 5, [2, 3], [2, 1], 1, 'same'),
  conv(1, 5, 5, 2, 3, 5),                     // kernel = image: one output
  conv(2, 1, 1, 5, 3, 3, 1, 1, 'same'),       // 1×1 image under a 3×3 'same' kernel
  conv(1, 37, 3, 3, 7, [3, 1], [3, 1]),       // a prime height, non-overlapping taps
];

// f32 dot products of K = kh·kw·C terms with inputs in [−1, 1].
const convTol = (K: number) => ({ atol: 1e-6 + 4e-7 * K, rtol: 1e-5 });

/** Central differences of f at x (entries idx), step h. */
function numericGrad(f: () => number, x: Float64Array, idx: number[], h = 1e-5): number[] {
  return idx.map((i) => {
    const v = x[i];
    x[i] = v + h; const up = f();
    x[i] = v - h; const dn = f();
    x[i] = v;
    return (up - dn) / (2 * h);
  });
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
const f64 = (r: () => number, n: number) => Float64Array.from(uniform(r, n));
const every = (n: number, most = 40) => Array.from({ length: Math.min(n, most) }, (_, i) => Math.floor((i * n) / Math.min(n, most)));

describe('geometry (Keras rules)', () => {
  it.each([
    // n, k, s, d, padding → out, before
    [28, 5, 1, 1, 'valid', 24, 0], [24, 2, 2, 1, 'valid', 12, 0], [7, 3, 2, 1, 'valid', 3, 0], [9, 3, 1, 2, 'valid', 5, 0],
    [28, 5, 1, 1, 'same', 28, 2], [5, 2, 2, 1, 'same', 3, 0], [6, 4, 1, 1, 'same', 6, 1], [7, 3, 2, 1, 'same', 4, 1],
    [6, 3, 1, 2, 'same', 6, 2], [1, 3, 1, 1, 'same', 1, 1], [8, 1, 3, 1, 'same', 3, 0],
  ] as const)('n %i, k %i, s %i, d %i, %s → %i outputs, %i padding before', (n, k, s, d, p, out, before) => {
    expect(axisGeometry(n, k, s, d, p)).toEqual({ out, before });
  });
  it("'valid' with the dilated kernel larger than the input has no output", () => {
    expect(axisGeometry(4, 5, 1, 1, 'valid')).toBeUndefined();
    expect(axisGeometry(8, 3, 1, 4, 'valid')).toBeUndefined();
    expect(axisGeometry(9, 3, 1, 4, 'valid')).toEqual({ out: 1, before: 0 });
  });
});

describe('references › central differences', () => {
  it('hand-solved: 3×3 image, 2×2 kernel, valid, one channel', () => {
    // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,0],[0,-1]], b = 0.5: z[0,0] = 1 − 5 + .5 = −3.5, and every
    // output is x[i][j] − x[i+1][j+1] + .5 = −3.5. With dz = 1 everywhere: db = 4,
    // dw[0][0] = 1+2+4+5 = 12, dw[1][1] = 5+6+8+9 = 28; dx = w summed over the patches covering it.
    const g = geomOf(conv(1, 3, 3, 1, 1, 2));
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9], w = [1, 0, 0, -1];
    expect(Array.from(conv2dRef(x, w, [0.5], g, 1))).toEqual([-3.5, -3.5, -3.5, -3.5]);
    const r = conv2dBwdRef([1, 1, 1, 1], x, w, g, 1);
    expect(Array.from(r.db)).toEqual([4]);
    expect(Array.from(r.dw)).toEqual([12, 16, 24, 28]);
    expect(Array.from(r.dx)).toEqual([1, 1, 0, 1, 0, -1, 0, -1, -1]);
    expect(Array.from(maxPool2dRef(x, { ...g, kh: 2, kw: 2, sh: 1, sw: 1 }).out)).toEqual([5, 6, 8, 9]);
    expect(Array.from(avgPool2dRef(x, { ...g, kh: 2, kw: 2, sh: 1, sw: 1 }))).toEqual([3, 4, 6, 7]);
  });

  it.each(CONV_CASES.filter((c) => c.H * c.W * c.C <= 400).map((c) => [title(c), c] as const))('conv2dBwdRef = ∂(Σ r·conv2dRef) › %s', (_t, c) => {
    const g = geomOf(c), r = rng(7);
    const x = f64(r, c.N * c.H * c.W * c.C), w = f64(r, c.k[0] * c.k[1] * c.C * c.F), b = f64(r, c.F);
    const dz = f64(r, c.N * g.Ho * g.Wo * c.F);
    const loss = () => dot(dz, conv2dRef(x, w, b, g, c.F));
    const an = conv2dBwdRef(dz, x, w, g, c.F);
    for (const [name, v, a] of [['x', x, an.dx], ['w', w, an.dw], ['b', b, an.db]] as const) {
      const idx = every(v.length);
      assertClose(numericGrad(loss, v, idx), idx.map((i) => a[i]), 1e-8, 1e-6, `${title(c)} d${name}`);
    }
  });

  it.each([
    ['2×2/2 valid', [2, 6, 6, 3], 2, 2, 'valid'], ['3×3/2 same', [1, 7, 7, 2], 3, 2, 'same'],
    ['2×3/1×2 same', [2, 5, 7, 1], [2, 3], [1, 2], 'same'], ['whole image', [2, 4, 5, 3], [4, 5], 1, 'valid'],
  ] as const)('pooling references = ∂(Σ r·pool) › %s', (_t, [N, H, W, C], p, s, pad) => {
    const two = (v: number | readonly number[]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
    const g = { ...imageGeometry('t', [H, W, C], two(p), two(s), [1, 1], pad, 'pool'), N };
    const r = rng(3);
    // Distinct values at least 1e-3 apart: a step of 1e-5 never changes a window's argmax.
    const x = Float64Array.from(shuffle(Array.from({ length: N * H * W * C }, (_, i) => i * 1e-3), r));
    const dy = f64(r, N * g.Ho * g.Wo * C), idx = every(x.length, 80);
    assertClose(numericGrad(() => dot(dy, maxPool2dRef(x, g).out), x, idx), idx.map((i) => maxPool2dBwdRef(dy, x, g)[i]), 1e-8, 1e-6, 'max');
    assertClose(numericGrad(() => dot(dy, avgPool2dRef(x, g)), x, idx), idx.map((i) => avgPool2dBwdRef(dy, g)[i]), 1e-8, 1e-6, 'avg');
  });

  it("'same' average pooling leaves the padding out of the count (Keras)", () => {
    // 3×3 window, stride 1, 'same' on a 3×3 image of ones: every mean is 1 (a count with padding would give 4/9 in a corner).
    const g = { ...imageGeometry('t', [3, 3, 1], [3, 3], [1, 1], [1, 1], 'same', 'pool'), N: 1 };
    assertClose(avgPool2dRef(new Float64Array(9).fill(1), g), new Array(9).fill(1), 1e-15, 0, 'same avg');
  });
});

function shuffle<T>(a: T[], r: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; }
  return a;
}
const args = (g: ImageGeometry) => [g.N, g.H, g.W, g.C, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.Ho, g.Wo];
const poolArgs = (g: ImageGeometry) => [g.N, g.H, g.W, g.C, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.Ho, g.Wo];

describe.each(ALL_ISAS)('conv kernels on the %s build', (isa) => {
  const e = engineFor(isa);

  it.each(CONV_CASES.map((c) => [title(c), c] as const))('f32_im2col + f32_dense_fwd, f32_gemm_tn, f32_gemm_nt + f32_col2im_add › %s', (_t, c) => {
    const g = geomOf(c), r = rng(11), k = kern(e);
    const rows = c.N * g.Ho * g.Wo, KK = c.k[0] * c.k[1] * c.C, nx = c.N * c.H * c.W * c.C;
    const x = uniform(r, nx), w = uniform(r, KK * c.F), b = uniform(r, c.F), dz = uniform(r, rows * c.F);
    const dx0 = uniform(r, nx), dw0 = uniform(r, KK * c.F);
    const px = put(e, x), pw = put(e, w), pb = put(e, b), pdz = put(e, dz), pdx = put(e, dx0), pdw = put(e, dw0);
    // Poisoned buffers: every entry of cols and z must be written.
    const pcols = put(e, new Float32Array(rows * KK).fill(NaN)), pz = put(e, new Float32Array(rows * c.F).fill(NaN));
    k.f32_im2col(pcols, px, ...args(g));
    k.f32_dense_fwd(pz, pcols, pw, pb, rows, KK, c.F, 0, 0, 0);
    const z = get(e, pz, rows * c.F);
    k.f32_gemm_tn(pdw, pcols, pdz, KK, rows, c.F, 1);
    k.f32_gemm_nt(pcols, pdz, pw, rows, c.F, KK, 0);
    k.f32_col2im_add(pdx, pcols, ...args(g));
    const dx = get(e, pdx, nx), dw = get(e, pdw, KK * c.F);
    for (const p of [px, pw, pb, pdz, pdx, pdw, pcols, pz]) e.release(p);
    const ref = conv2dBwdRef(dz, x, w, g, c.F), t = convTol(KK), tb = convTol(rows);
    assertClose(z, conv2dRef(x, w, b, g, c.F), t.atol, t.rtol, `${isa} forward ${title(c)}`);
    assertClose(dw, ref.dw.map((v, i) => v + dw0[i]), tb.atol, tb.rtol, `${isa} dW += ${title(c)}`);
    assertClose(dx, ref.dx.map((v, i) => v + dx0[i]), convTol(c.F * c.k[0] * c.k[1]).atol, 1e-5, `${isa} dx += ${title(c)}`);
  });

  const POOLS: [string, number[], [number, number], [number, number], Padding][] = [
    ['LeNet 24×24×16, 2/2', [2, 24, 24, 16], [2, 2], [2, 2], 'valid'], ['LeNet 8×8×32, 2/2', [1, 8, 8, 32], [2, 2], [2, 2], 'valid'],
    ['3/2 same, C 3', [2, 7, 7, 3], [3, 3], [2, 2], 'same'], ['2/1 valid, C 5', [2, 5, 6, 5], [2, 2], [1, 1], 'valid'],
    ['3/3 same, C 1', [1, 8, 8, 1], [3, 3], [3, 3], 'same'], ['2×3/1×2 same, C 4', [2, 5, 7, 4], [2, 3], [1, 2], 'same'],
    ['whole image (global), C 7', [2, 6, 5, 7], [6, 5], [1, 1], 'valid'], ['1×1 image, 2/2 same, C 9', [3, 1, 1, 9], [2, 2], [2, 2], 'same'],
  ];
  it.each(POOLS)('f32_maxpool_fwd/bwd, f32_avgpool_fwd/bwd › %s', (name, [N, H, W, C], p, s, pad) => {
    const g = { ...imageGeometry('t', [H, W, C], p, s, [1, 1], pad, 'pool'), N }, k = kern(e), r = rng(5);
    const nx = N * H * W * C, ny = N * g.Ho * g.Wo * C;
    // Values on a coarse grid, so windows hold ties (the first tap wins), and one NaN (it wins its windows).
    const x = Float32Array.from(uniform(r, nx), (v) => Math.round(v * 4) / 4);
    if (nx > 20) x[17] = NaN;
    const dy = uniform(r, ny), dx0 = uniform(r, nx);
    const px = put(e, x), pdy = put(e, dy), pdx = put(e, dx0), pdx2 = put(e, dx0);
    const py = put(e, new Float32Array(ny).fill(7)), pam = put(e, new Float32Array(ny).fill(7)), pavg = put(e, new Float32Array(ny).fill(7));
    k.f32_maxpool_fwd(py, pam, px, ...poolArgs(g));
    k.f32_maxpool_bwd(pdx, pdy, pam, ny);
    k.f32_avgpool_fwd(pavg, px, ...poolArgs(g));
    k.f32_avgpool_bwd(pdx2, pdy, ...poolArgs(g));
    const y = get(e, py, ny), am = e.i32.slice(pam >> 2, (pam >> 2) + ny), avg = get(e, pavg, ny);
    const dxMax = get(e, pdx, nx), dxAvg = get(e, pdx2, nx);
    for (const q of [px, pdy, pdx, pdx2, py, pam, pavg]) e.release(q);
    const ref = maxPool2dRef(x, g);
    expect(Array.from(am), `${isa} ${name} argmax`).toEqual(Array.from(ref.argmax));
    expect(Array.from(y), `${isa} ${name} max`).toEqual(Array.from(ref.out, (v) => Math.fround(v)));
    assertClose(dxMax, maxPool2dBwdRef(dy, x, g).map((v, i) => v + dx0[i]), 1e-6, 1e-6, `${isa} ${name} max dx +=`);
    const finite = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? 1e9 : v));
    assertClose(finite(avg), finite(avgPool2dRef(x, g)), 1e-6, 1e-5, `${isa} ${name} avg`);
    assertClose(dxAvg, avgPool2dBwdRef(dy, g).map((v, i) => v + dx0[i]), 1e-6, 1e-5, `${isa} ${name} avg dx +=`);
  });
});
