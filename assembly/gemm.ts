// f32 matrix multiply: C (M×N) = [C +] op(A)·op(B) [+ bias], row-major, sizes in elements.
//
//   f32_gemm_nn: A is M×K, B is K×N        (forward:      X·W)
//   f32_gemm_nt: A is M×K, B is N×K (A·Bᵀ) (input grad:   δ·Wᵀ)
//   f32_gemm_tn: A is K×M, B is K×N (Aᵀ·B) (weight grad:  Xᵀ·δ)
//
//   f32_dense_fwd: X·W + bias, then an activation (the fused forward of a dense layer)
//   f32_gemm_ex:   any strides (the thread pool's row slices); *_scalar: the scalar reference
//
// All of them reduce to one register-blocked 4×8 micro-kernel over packed panels; only the
// packing reads A and B with different strides. Loop order (Goto/BLIS): N blocks → K blocks
// (pack B) → M blocks (pack A) → NR-wide B panels → MR-high A panels → MR×NR micro-kernel. With at
// most MR rows (batch 1–4) a twin kernel reads B in place instead. `accumulate` = 1 adds into C
// (backward kernels add into gradient buffers, DESIGN §1). Tails are computed in registers on
// zero-padded panels and stored through a scratch tile, so no kernel reads or writes past any
// operand. The scalar build runs the i-k-j scalar reference for every export.
import { act_fwd_inplace } from './activation';
import { madd } from './simd';

// Micro-tile: MR rows × NR columns of f32x4 accumulators (NR/4 vectors per row); both kernels
// hold exactly 4 rows. 5×8 and 6×8 were measured 40–55% slower with relaxed_madd (V8 spills).
export const MR: i32 = 4;
export const NR: i32 = 8;
// Cache blocking: a KC×NR B panel (≤ 16 KiB) stays in L1, an MC×KC A block (≤ 240 KiB) in L2,
// a KC×NC B block (≤ 2 MiB) in L2/L3. K is cut into equal blocks of at most KC (784 → 2 × 392,
// not 512 + 272), so no block is a short, store-bound remnant.
const KC: i32 = 512;
const MC: i32 = 128;
const NC: i32 = 1024;

// Workspace (packed A, packed B, a scratch tile for edges, a bias tile) is owned by the facade
// (DESIGN §2): it allocates gemm_workspace_bytes() once and hands the pointer over.
let wsA: usize = 0;
let wsB: usize = 0;
let wsTile: usize = 0;
let wsBias: usize = 0;

export function gemm_workspace_bytes(): i32 {
  return (MC * KC + KC * NC + MR * NR + NR) * 4 + 64;
}

export function gemm_set_workspace(ptr: usize): void {
  const base = (ptr + 15) & ~(<usize>15);
  wsA = base;
  wsB = wsA + <usize>(MC * KC * 4);
  wsTile = wsB + <usize>(KC * NC * 4);
  wsBias = wsTile + <usize>(MR * NR * 4);
}

@inline function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

// The K block length: K split into ⌈K/KC⌉ near-equal blocks.
@inline function kblock(K: i32): i32 {
  const blocks = (K + KC - 1) / KC;
  return (K + blocks - 1) / blocks;
}

// ---- packing -------------------------------------------------------------------------------
// A element (i, k) sits at a + (i·rsA + k·csA)·4; B element (k, j) at b + (k·rsB + j·csB)·4.

// Reads 4 rows of 4 floats (row stride `stride` bytes) at p and stores them transposed as 4 rows
// of 4 floats at dst, dst + row, dst + 2·row, dst + 3·row.
@inline function transpose4_store(dst: usize, row: usize, p: usize, stride: usize): void {
  const r0 = v128.load(p);
  const r1 = v128.load(p + stride);
  const r2 = v128.load(p + 2 * stride);
  const r3 = v128.load(p + 3 * stride);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + row, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * row, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * row, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

// Packs a kc×nc block of B into NR-wide panels, each kc×NR contiguous, zero-padded on the right.
function pack_b(dst: usize, b: usize, rsB: i32, csB: i32, kc: i32, nc: i32): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = imin(NR, nc - jr);
    let src = b + <usize>(jr * csB) * 4;
    if (ASC_FEATURE_SIMD && nr == NR && csB == 1) {
      const step = <usize>rsB * 4;
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        dst += 32;
        src += step;
      }
    } else {
      let k = 0;
      if (ASC_FEATURE_SIMD && nr == NR && rsB == 1) {
        // Bᵀ stored (A·Bᵀ): each of the 8 columns is contiguous in k; transpose 4×4 blocks.
        const cs = <usize>csB * 4;
        for (; k + 4 <= kc; k += 4) {
          const p = src + <usize>k * 4;
          transpose4_store(dst, <usize>NR * 4, p, cs);
          transpose4_store(dst + 16, <usize>NR * 4, p + 4 * cs, cs);
          dst += 4 * <usize>NR * 4;
        }
      }
      for (; k < kc; k++) {
        for (let jj = 0; jj < NR; jj++) {
          store<f32>(dst + <usize>jj * 4, jj < nr ? load<f32>(src + <usize>(k * rsB + jj * csB) * 4) : 0);
        }
        dst += <usize>NR * 4;
      }
    }
  }
}

// Packs an mc×kc block of A into MR-high panels, each kc×MR contiguous (column of the panel
// first), zero-padded below.
function pack_a(dst: usize, a: usize, rsA: i32, csA: i32, mc: i32, kc: i32): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = imin(MR, mc - ir);
    const src = a + <usize>(ir * rsA) * 4;
    let k = 0;
    if (ASC_FEATURE_SIMD && mr == 4 && csA == 1) {
      // Row-major A: transpose 4×4 blocks (4 rows × 4 k) into 4 k-columns.
      const r = <usize>rsA * 4;
      for (; k + 4 <= kc; k += 4) {
        transpose4_store(dst, 16, src + <usize>k * 4, r);
        dst += 64;
      }
    } else if (ASC_FEATURE_SIMD && mr == 4 && rsA == 1) {
      // Transposed A (Aᵀ·B): the 4 rows of a panel are contiguous for each k.
      const step = <usize>csA * 4;
      let p = src;
      for (; k < kc; k++) {
        v128.store(dst, v128.load(p));
        dst += 16;
        p += step;
      }
    }
    for (; k < kc; k++) {
      for (let ii = 0; ii < MR; ii++) {
        store<f32>(dst + <usize>ii * 4, ii < mr ? load<f32>(src + <usize>(ii * rsA + k * csA) * 4) : 0);
      }
      dst += <usize>MR * 4;
    }
  }
}

// ---- micro-kernel --------------------------------------------------------------------------

// Stores one accumulator row (8 lanes) to C: full width directly, a tail through the scratch tile.
@inline function store_row(c: usize, v0: v128, v1: v128, nr: i32, accumulate: bool): void {
  if (nr == NR) {
    if (accumulate) {
      v0 = f32x4.add(v0, v128.load(c));
      v1 = f32x4.add(v1, v128.load(c, 16));
    }
    v128.store(c, v0);
    v128.store(c, v1, 16);
  } else {
    v128.store(wsTile, v0);
    v128.store(wsTile, v1, 16);
    for (let j = 0; j < nr; j++) {
      const p = c + <usize>j * 4;
      const v = load<f32>(wsTile + <usize>j * 4);
      store<f32>(p, accumulate ? load<f32>(p) + v : v);
    }
  }
}

// NR bias values for a tile of nr columns: in place when the tile is full, else zero-padded in
// the bias scratch (so nothing past the bias vector is read).
@inline function bias_row(bias: usize, nr: i32): usize {
  if (nr == NR) return bias;
  for (let j = 0; j < NR; j++) store<f32>(wsBias + <usize>j * 4, j < nr ? load<f32>(bias + <usize>j * 4) : 0);
  return wsBias;
}

// C tile (mr×nr of an MR×NR micro-tile) [+]= packed A panel · packed B panel (+ bias row).
// NOTE: the k loop ends on a pointer compare: the loop is bound by instruction count, and V8
// keeps all accumulators in registers only while the tile fits in ~15 vector registers.
function kernel_simd(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, mr: i32, nr: i32,
                     accumulate: bool, bias: usize): void {
  let vb0 = f32x4.splat(0);
  let vb1 = vb0;
  if (bias != 0) {
    const row = bias_row(bias, nr);
    vb0 = v128.load(row);
    vb1 = v128.load(row, 16);
  }
  let vacc0x0123 = vb0, vacc0x4567 = vb1;
  let vacc1x0123 = vb0, vacc1x4567 = vb1;
  let vacc2x0123 = vb0, vacc2x4567 = vb1;
  let vacc3x0123 = vb0, vacc3x4567 = vb1;
  const paEnd = pa + <usize>(kc * MR) * 4;
  do {
    const vb0123 = v128.load(pb);
    const vb4567 = v128.load(pb, 16);
    let va = v128.load32_splat(pa);
    vacc0x0123 = madd(va, vb0123, vacc0x0123);
    vacc0x4567 = madd(va, vb4567, vacc0x4567);
    va = v128.load32_splat(pa, 4);
    vacc1x0123 = madd(va, vb0123, vacc1x0123);
    vacc1x4567 = madd(va, vb4567, vacc1x4567);
    va = v128.load32_splat(pa, 8);
    vacc2x0123 = madd(va, vb0123, vacc2x0123);
    vacc2x4567 = madd(va, vb4567, vacc2x4567);
    va = v128.load32_splat(pa, 12);
    vacc3x0123 = madd(va, vb0123, vacc3x0123);
    vacc3x4567 = madd(va, vb4567, vacc3x4567);
    pa += <usize>MR * 4;
    pb += <usize>NR * 4;
  } while (pa != paEnd);
  const ld = <usize>ldc * 4;
  store_row(c, vacc0x0123, vacc0x4567, nr, accumulate);
  if (mr > 1) store_row(c + ld, vacc1x0123, vacc1x4567, nr, accumulate);
  if (mr > 2) store_row(c + 2 * ld, vacc2x0123, vacc2x4567, nr, accumulate);
  if (mr > 3) store_row(c + 3 * ld, vacc3x0123, vacc3x4567, nr, accumulate);
}

// Up to MR rows of C [+]= A·B over a KC block with B read in place (B rows contiguous, row stride
// rsB): the arithmetic of kernel_simd, lane for lane, so results do not depend on which path (or
// which thread's row slice) computed them. A column tail (nr < NR) is copied, zero-padded, through
// the (then unused) A workspace so nothing past B is read.
function kernel_direct(kc: i32, a: usize, rsA: i32, csA: i32, b: usize, rsB: i32, c: usize, ldc: i32,
                       mr: i32, nr: i32, accumulate: bool, bias: usize): void {
  let vb0 = f32x4.splat(0);
  let vb1 = vb0;
  if (bias != 0) {
    const row = bias_row(bias, nr);
    vb0 = v128.load(row);
    vb1 = v128.load(row, 16);
  }
  let vacc0x0123 = vb0, vacc0x4567 = vb1;
  let vacc1x0123 = vb0, vacc1x4567 = vb1;
  let vacc2x0123 = vb0, vacc2x4567 = vb1;
  let vacc3x0123 = vb0, vacc3x4567 = vb1;
  const sa = <usize>rsA * 4, ka = <usize>csA * 4, kb = <usize>rsB * 4;
  const a1 = mr > 1 ? a + sa : a, a2 = mr > 2 ? a + 2 * sa : a, a3 = mr > 3 ? a + 3 * sa : a;
  let pb = b;
  if (nr < NR) {
    for (let j = 0; j < NR; j++) store<f32>(wsA + <usize>j * 4, 0);
  }
  for (let k = 0; k < kc; k++) {
    let vb0123: v128, vb4567: v128;
    if (nr == NR) {
      vb0123 = v128.load(pb);
      vb4567 = v128.load(pb, 16);
    } else {
      for (let j = 0; j < nr; j++) store<f32>(wsA + <usize>j * 4, load<f32>(pb + <usize>j * 4));
      vb0123 = v128.load(wsA);
      vb4567 = v128.load(wsA, 16);
    }
    const o = <usize>k * ka;
    let va = v128.load32_splat(a + o);
    vacc0x0123 = madd(va, vb0123, vacc0x0123);
    vacc0x4567 = madd(va, vb4567, vacc0x4567);
    va = v128.load32_splat(a1 + o);
    vacc1x0123 = madd(va, vb0123, vacc1x0123);
    vacc1x4567 = madd(va, vb4567, vacc1x4567);
    va = v128.load32_splat(a2 + o);
    vacc2x0123 = madd(va, vb0123, vacc2x0123);
    vacc2x4567 = madd(va, vb4567, vacc2x4567);
    va = v128.load32_splat(a3 + o);
    vacc3x0123 = madd(va, vb0123, vacc3x0123);
    vacc3x4567 = madd(va, vb4567, vacc3x4567);
    pb += kb;
  }
  const ld = <usize>ldc * 4;
  store_row(c, vacc0x0123, vacc0x4567, nr, accumulate);
  if (mr > 1) store_row(c + ld, vacc1x0123, vacc1x4567, nr, accumulate);
  if (mr > 2) store_row(c + 2 * ld, vacc2x0123, vacc2x4567, nr, accumulate);
  if (mr > 3) store_row(c + 3 * ld, vacc3x0123, vacc3x4567, nr, accumulate);
}

// ---- drivers -------------------------------------------------------------------------------

// Applies the activation to rows of a finished block, first saving the pre-activation to z.
function epilogue(c: usize, ldc: i32, rows: i32, cols: i32, act: i32, alpha: f32, z: usize): void {
  for (let r = 0; r < rows; r++) {
    const off = <usize>(r * ldc) * 4;
    if (z != 0) memory.copy(z + off, c + off, <usize>cols * 4);
    act_fwd_inplace(c + off, cols, act, alpha);
  }
}

// C (M×N) = [C +] A·B + bias, then act (z ← pre-activation when z ≠ 0). Packed, blocked, SIMD.
function gemm_packed(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32,
                            rsA: i32, csA: i32, rsB: i32, csB: i32, accumulate: bool,
                            bias: usize, act: i32, alpha: f32, z: usize): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    gemm_scalar(c, a, b, M, K, N, rsA, csA, rsB, csB, accumulate, bias, act, alpha, z);
    return;
  }
  const post = act != 0 || z != 0;
  const kb = kblock(K);
  if (M <= MR && csB == 1) {
    // A few rows (batch 1–4): packing B would cost as much as the product; read it in place.
    for (let pc = 0; pc < K; pc += kb) {
      const kc = imin(kb, K - pc);
      const ap = a + <usize>(pc * csA) * 4, bp = b + <usize>(pc * rsB) * 4;
      for (let j = 0; j < N; j += NR) {
        kernel_direct(kc, ap, rsA, csA, bp + <usize>j * 4, rsB, c + <usize>j * 4, N, M, imin(NR, N - j),
                      accumulate || pc > 0, pc == 0 && bias != 0 ? bias + <usize>j * 4 : 0);
      }
    }
    if (post) epilogue(c, N, M, N, act, alpha, z);
    return;
  }
  for (let jc = 0; jc < N; jc += NC) {
    const nc = imin(NC, N - jc);
    for (let pc = 0; pc < K; pc += kb) {
      const kc = imin(kb, K - pc);
      pack_b(wsB, b + <usize>(pc * rsB + jc * csB) * 4, rsB, csB, kc, nc);
      const acc = accumulate || pc > 0;
      const brow = pc == 0 && bias != 0 ? bias + <usize>jc * 4 : 0;
      for (let ic = 0; ic < M; ic += MC) {
        const mc = imin(MC, M - ic);
        pack_a(wsA, a + <usize>(ic * rsA + pc * csA) * 4, rsA, csA, mc, kc);
        const cblk = c + <usize>(ic * N + jc) * 4;
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = imin(NR, nc - jr);
          const pb = wsB + <usize>(jr * kc) * 4;
          const bj = brow != 0 ? brow + <usize>jr * 4 : 0;
          for (let ir = 0; ir < mc; ir += MR) {
            kernel_simd(kc, wsA + <usize>(ir * kc) * 4, pb, cblk + <usize>(ir * N + jr) * 4, N,
                        imin(MR, mc - ir), nr, acc, bj);
          }
        }
        if (post && pc + kc >= K) {
          epilogue(cblk, N, mc, nc, act, alpha, z != 0 ? z + <usize>(ic * N + jc) * 4 : 0);
        }
      }
    }
  }
}

// Scalar reference (and the scalar build's kernel): same contract as gemm_packed, i-k-j order.
function gemm_scalar(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32,
                            rsA: i32, csA: i32, rsB: i32, csB: i32, accumulate: bool,
                            bias: usize, act: i32, alpha: f32, z: usize): void {
  for (let i = 0; i < M; i++) {
    const crow = c + <usize>(i * N) * 4;
    for (let j = 0; j < N; j++) {
      const p = crow + <usize>j * 4;
      let v: f32 = accumulate ? load<f32>(p) : 0;
      if (bias != 0) v += load<f32>(bias + <usize>j * 4);
      store<f32>(p, v);
    }
    for (let k = 0; k < K; k++) {
      const aik = load<f32>(a + <usize>(i * rsA + k * csA) * 4);
      const brow = b + <usize>(k * rsB) * 4;
      for (let j = 0; j < N; j++) {
        const p = crow + <usize>j * 4;
        store<f32>(p, load<f32>(p) + aik * load<f32>(brow + <usize>(j * csB) * 4));
      }
    }
  }
  if (act != 0 || z != 0) epilogue(c, N, M, N, act, alpha, z);
}

@inline function gemm(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32,
                      rsA: i32, csA: i32, rsB: i32, csB: i32, accumulate: bool,
                      bias: usize, act: i32, alpha: f32, z: usize): void {
  if (ASC_FEATURE_SIMD) gemm_packed(c, a, b, M, K, N, rsA, csA, rsB, csB, accumulate, bias, act, alpha, z);
  else gemm_scalar(c, a, b, M, K, N, rsA, csA, rsB, csB, accumulate, bias, act, alpha, z);
}

export function f32_gemm_nn(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  gemm(c, a, b, M, K, N, K, 1, N, 1, accumulate, 0, 0, 0, 0);
}
export function f32_gemm_nt(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  gemm(c, a, b, M, K, N, K, 1, 1, K, accumulate, 0, 0, 0, 0);
}
export function f32_gemm_tn(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  gemm(c, a, b, M, K, N, 1, M, N, 1, accumulate, 0, 0, 0, 0);
}
// out (M×N) = act(a (M×K) · w (K×N) + bias (N)); z (M×N) keeps the pre-activation when z ≠ 0.
export function f32_dense_fwd(out: usize, a: usize, w: usize, bias: usize, M: i32, K: i32, N: i32,
                              act: i32, alpha: f32, z: usize): void {
  gemm(out, a, w, M, K, N, K, 1, N, 1, false, bias, act, alpha, z);
}

export function f32_gemm_nn_scalar(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  gemm_scalar(c, a, b, M, K, N, K, 1, N, 1, accumulate, 0, 0, 0, 0);
}
export function f32_gemm_nt_scalar(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  gemm_scalar(c, a, b, M, K, N, K, 1, 1, K, accumulate, 0, 0, 0, 0);
}
export function f32_gemm_tn_scalar(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, accumulate: bool): void {
  gemm_scalar(c, a, b, M, K, N, 1, M, N, 1, accumulate, 0, 0, 0, 0);
}
export function f32_dense_fwd_scalar(out: usize, a: usize, w: usize, bias: usize, M: i32, K: i32, N: i32,
                                     act: i32, alpha: f32, z: usize): void {
  gemm_scalar(out, a, w, M, K, N, K, 1, N, 1, false, bias, act, alpha, z);
}

// The general form behind all of the above, for the thread pool to run row slices of C:
// A element (i, k) at a + (i·rsA + k·csA)·4, B element (k, j) at b + (k·rsB + j·csB)·4, C is
// M×N with row stride N. bias, z may be 0; act as in assembly/activation.ts.
export function f32_gemm_ex(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32,
                            rsA: i32, csA: i32, rsB: i32, csB: i32, accumulate: bool,
                            bias: usize, act: i32, alpha: f32, z: usize): void {
  gemm(c, a, b, M, K, N, rsA, csA, rsB, csB, accumulate, bias, act, alpha, z);
}
