// Batch making in wasm (DESIGN §3): a dataset is copied in once; each batch is gathered from a
// permutation (or sampled indices) held in wasm, u8 pixels scaled to f32 on the fly.
// Indices are i32 row numbers, trusted (the facade makes them in range). All outputs are written.
// Also the argmax of each row (predicted classes).
import { row_argmax } from './reduce';

// out[r, :] = src[idx[r], :] for r < rows (f32, rows of `cols`). out must not overlap src.
export function f32_gather_rows(out: usize, src: usize, idx: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const k = <usize>load<i32>(idx + (<usize>r << 2));
    memory.copy(out + <usize>r * rowBytes, src + k * rowBytes, rowBytes);
  }
}

// out (f32) [r, :] = src (u8) [idx[r], :]·scale + shift, written; rounded as f32(f32(v·scale) + shift)
// on every build ([0,1]: scale 1/255, shift 0; [−1,1]: scale 1/127.5, shift −1).
// NOTE: plain mul then add, never the relaxed fused madd, so all three builds give the same bits.
export function u8_gather_rows_scale(out: usize, src: usize, idx: usize, rows: i32, cols: i32,
                                     scale: f32, shift: f32): void {
  for (let r = 0; r < rows; r++) {
    const s = src + <usize>load<i32>(idx + (<usize>r << 2)) * <usize>cols;
    const o = out + (<usize>r * <usize>cols << 2);
    let c = 0;
    if (ASC_FEATURE_SIMD) {
      // The zero-extended bytes are 0…255, so the signed convert (one instruction on x64; the
      // unsigned one is a sequence) gives the same floats.
      const vs = f32x4.splat(scale), vh = f32x4.splat(shift);
      for (; c + 16 <= cols; c += 16) {
        const b = v128.load(s + <usize>c);
        const lo = i16x8.extend_low_i8x16_u(b);
        const hi = i16x8.extend_high_i8x16_u(b);
        const q = o + (<usize>c << 2);
        const f0 = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(lo));
        const f1 = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(lo));
        const f2 = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(hi));
        const f3 = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(hi));
        v128.store(q, f32x4.add(f32x4.mul(f0, vs), vh));
        v128.store(q, f32x4.add(f32x4.mul(f1, vs), vh), 16);
        v128.store(q, f32x4.add(f32x4.mul(f2, vs), vh), 32);
        v128.store(q, f32x4.add(f32x4.mul(f3, vs), vh), 48);
      }
      for (; c + 4 <= cols; c += 4) {
        // 4 bytes → 4 lanes (reads exactly 4 bytes).
        const b = v128.load32_zero(s + <usize>c);
        const f = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(b)));
        v128.store(o + (<usize>c << 2), f32x4.add(f32x4.mul(f, vs), vh));
      }
    }
    for (; c < cols; c++) {
      const v = <f32>load<u8>(s + <usize>c);
      store<f32>(o + (<usize>c << 2), v * scale + shift);
    }
  }
}

// out[i] = src[idx[i]] for i < n (i32 labels).
export function i32_gather(out: usize, src: usize, idx: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<i32>(out + o, load<i32>(src + (<usize>load<i32>(idx + o) << 2)));
  }
}

// out[i] (i32) = the column of the largest value in row i of x (M×N), written; ties give the first.
// NOTE: NaN never compares greater, so a NaN wins only in column 0. N ≤ 0 writes 0.
export function f32_argmax_rows(out: usize, x: usize, M: i32, N: i32): void {
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) store<i32>(out + (<usize>i << 2), row_argmax(x + <usize>i * rowBytes, N));
}
