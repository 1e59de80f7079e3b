// Convolution and pooling on channels-last images (NHWC, as Keras and TF.js), forward and backward
// side by side. A convolution is f32_im2col + the gemm with fused bias and activation
// (f32_dense_fwd on the column matrix); its weight gradient is colsᵀ·dY (f32_gemm_tn), its input
// gradient dY·Wᵀ (f32_gemm_nt) then f32_col2im_add. Only the data movement lives here.
//
// Layout: x is N×H×W×C row-major. cols is (N·Ho·Wo)×(kh·kw·C), one row per output position
// (n, oh, ow), columns in (i, j, c) order: the kernel [kh, kw, C, cout] flattened row-major is
// the (kh·kw·C)×cout matrix the gemm takes, as Keras and TF.js store it.
// Geometry: output (oh, ow) and kernel tap (i, j) read input row ih = oh·sh − pt + i·dh and
// column iw = ow·sw − pl + j·dw (pt, pl: the padding above and to the left); a tap outside the
// image reads 0 in a convolution and is left out of a pooling window.
// Forward outputs are WRITTEN; backward kernels ADD into dx (+=, DESIGN §1), so the caller zeroes
// dx first. Nothing is allocated; indices are trusted (the facade checks the geometry).

// ---- helpers: n contiguous floats --------------------------------------------------------------

// dst[0..n) = src[0..n).
@inline function copy_f32(dst: usize, src: usize, n: i32): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 4 <= n; c += 4) v128.store(dst + (<usize>c << 2), v128.load(src + (<usize>c << 2)));
  }
  for (; c < n; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 2)));
}

// dst[0..n) += s·src[0..n) (s = 1 for col2im: plain adds).
@inline function add_f32(dst: usize, src: usize, s: f32, n: i32): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    const vs = f32x4.splat(s);
    for (; c + 4 <= n; c += 4) {
      const o = <usize>c << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(v128.load(src + o), vs)));
    }
  }
  for (; c < n; c++) {
    const o = <usize>c << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o) * s);
  }
}

// ---- convolution: im2col and col2im ---------------------------------------------------------------

// cols (N·Ho·Wo × kh·kw·C) = the input patch of every output position, written (0 outside the
// image). With dw = 1 the taps of one kernel row are contiguous in x and in cols: one copy each.
export function f32_im2col(cols: usize, x: usize, N: i32, H: i32, W: i32, C: i32, kh: i32, kw: i32,
                           sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, Ho: i32, Wo: i32): void {
  const tapBytes = <usize>C << 2, rowBytes = <usize>kw * tapBytes;
  let r = cols;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * <usize>H * <usize>W * tapBytes;
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        const iw0 = ow * sw - pl;
        for (let i = 0; i < kh; i++) {
          const seg = r + <usize>i * rowBytes;
          const ih = oh * sh - pt + i * dh;
          if (ih < 0 || ih >= H) {
            memory.fill(seg, 0, rowBytes);
            continue;
          }
          const xrow = xn + <usize>ih * <usize>W * tapBytes;
          if (dw == 1) {
            const j0 = max(0, -iw0), j1 = min(kw, W - iw0);
            if (j1 <= j0) {
              memory.fill(seg, 0, rowBytes);
              continue;
            }
            if (j0 > 0) memory.fill(seg, 0, <usize>j0 * tapBytes);
            copy_f32(seg + <usize>j0 * tapBytes, xrow + <usize>(iw0 + j0) * tapBytes, (j1 - j0) * C);
            if (j1 < kw) memory.fill(seg + <usize>j1 * tapBytes, 0, <usize>(kw - j1) * tapBytes);
          } else {
            for (let j = 0; j < kw; j++) {
              const iw = iw0 + j * dw, d = seg + <usize>j * tapBytes;
              if (iw < 0 || iw >= W) memory.fill(d, 0, tapBytes);
              else copy_f32(d, xrow + <usize>iw * tapBytes, C);
            }
          }
        }
        r += <usize>kh * rowBytes;
      }
    }
  }
}

// dx (N×H×W×C) += each row of dcols scattered back to its patch (the transpose of f32_im2col);
// taps outside the image are dropped. Overlapping patches (stride < kernel) add up.
export function f32_col2im_add(dx: usize, dcols: usize, N: i32, H: i32, W: i32, C: i32, kh: i32, kw: i32,
                               sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, Ho: i32, Wo: i32): void {
  const tapBytes = <usize>C << 2, rowBytes = <usize>kw * tapBytes;
  let r = dcols;
  for (let n = 0; n < N; n++) {
    const xn = dx + <usize>n * <usize>H * <usize>W * tapBytes;
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++) {
        const iw0 = ow * sw - pl;
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh - pt + i * dh;
          if (ih < 0 || ih >= H) continue;
          const seg = r + <usize>i * rowBytes, xrow = xn + <usize>ih * <usize>W * tapBytes;
          if (dw == 1) {
            const j0 = max(0, -iw0), j1 = min(kw, W - iw0);
            if (j1 > j0) add_f32(xrow + <usize>(iw0 + j0) * tapBytes, seg + <usize>j0 * tapBytes, 1, (j1 - j0) * C);
          } else {
            for (let j = 0; j < kw; j++) {
              const iw = iw0 + j * dw;
              if (iw >= 0 && iw < W) add_f32(xrow + <usize>iw * tapBytes, seg + <usize>j * tapBytes, 1, C);
            }
          }
        }
        r += <usize>kh * rowBytes;
      }
    }
  }
}

// ---- pooling -----------------------------------------------------------------------------------------
// Window of output (oh, ow): rows ih ∈ [oh·sh − pt, +ph), columns iw ∈ [ow·sw − pl, +pw), clipped
// to the image. The facade's geometry (Keras 'valid'/'same') keeps at least one tap in every window.

// out (N×Ho×Wo×C) = the largest x of each window per channel; argmax (i32, same shape) = its
// element index in x (n·H·W·C + (ih·W + iw)·C + c), both written. Ties keep the first tap in
// row-major window order.
// NOTE: a NaN in a window wins (as PyTorch and TF propagate it); a later tap never replaces it.
export function f32_maxpool_fwd(out: usize, argmax: usize, x: usize, N: i32, H: i32, W: i32, C: i32,
                                ph: i32, pw: i32, sh: i32, sw: i32, pt: i32, pl: i32, Ho: i32, Wo: i32): void {
  let o = out, a = argmax;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      const ih0 = oh * sh - pt, i0 = max(0, -ih0), i1 = min(ph, H - ih0);
      for (let ow = 0; ow < Wo; ow++) {
        const iw0 = ow * sw - pl, j0 = max(0, -iw0), j1 = min(pw, W - iw0);
        const first = ((n * H + ih0 + i0) * W + iw0 + j0) * C;
        for (let c = 0; c < C; c++) {
          store<f32>(o + (<usize>c << 2), load<f32>(x + (<usize>(first + c) << 2)));
          store<i32>(a + (<usize>c << 2), first + c);
        }
        for (let i = i0; i < i1; i++) {
          for (let j = j0; j < j1; j++) {
            if (i == i0 && j == j0) continue;
            const p = ((n * H + ih0 + i) * W + iw0 + j) * C;
            let c = 0;
            if (ASC_FEATURE_SIMD) {
              const lane = i32x4(0, 1, 2, 3);
              for (; c + 4 <= C; c += 4) {
                const oc = <usize>c << 2;
                const vm = v128.load(o + oc), vx = v128.load(x + (<usize>(p + c) << 2));
                // Take x where x > max, or where x is NaN and max is not.
                const take = v128.and(v128.or(f32x4.gt(vx, vm), f32x4.ne(vx, vx)), f32x4.eq(vm, vm));
                v128.store(o + oc, v128.bitselect(vx, vm, take));
                v128.store(a + oc, v128.bitselect(i32x4.add(i32x4.splat(p + c), lane), v128.load(a + oc), take));
              }
            }
            for (; c < C; c++) {
              const oc = <usize>c << 2;
              const m = load<f32>(o + oc), v = load<f32>(x + (<usize>(p + c) << 2));
              if ((v > m || v != v) && m == m) {
                store<f32>(o + oc, v);
                store<i32>(a + oc, p + c);
              }
            }
          }
        }
        o += <usize>C << 2;
        a += <usize>C << 2;
      }
    }
  }
}

// dx[argmax[k]] += dy[k] for k < n (n = N·Ho·Wo·C outputs of the forward).
export function f32_maxpool_bwd(dx: usize, dy: usize, argmax: usize, n: i32): void {
  for (let k = 0; k < n; k++) {
    const d = dx + (<usize>load<i32>(argmax + (<usize>k << 2)) << 2);
    store<f32>(d, load<f32>(d) + load<f32>(dy + (<usize>k << 2)));
  }
}

// out (N×Ho×Wo×C) = the mean of x over each window's taps inside the image, written.
// NOTE: padding is left out of the count (Keras/TF 'same'; PyTorch count_include_pad=False).
// Global average pooling is this with ph = H, pw = W, strides 1, no padding (Ho = Wo = 1).
export function f32_avgpool_fwd(out: usize, x: usize, N: i32, H: i32, W: i32, C: i32,
                                ph: i32, pw: i32, sh: i32, sw: i32, pt: i32, pl: i32, Ho: i32, Wo: i32): void {
  const tapBytes = <usize>C << 2;
  let o = out;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      const ih0 = oh * sh - pt, i0 = max(0, -ih0), i1 = min(ph, H - ih0);
      for (let ow = 0; ow < Wo; ow++) {
        const iw0 = ow * sw - pl, j0 = max(0, -iw0), j1 = min(pw, W - iw0);
        memory.fill(o, 0, tapBytes);
        for (let i = i0; i < i1; i++) {
          const xr = x + <usize>((n * H + ih0 + i) * W + iw0) * tapBytes;
          for (let j = j0; j < j1; j++) add_f32(o, xr + <usize>j * tapBytes, 1, C);
        }
        const inv: f32 = <f32>1 / <f32>((i1 - i0) * (j1 - j0));
        let c = 0;
        if (ASC_FEATURE_SIMD) {
          const vi = f32x4.splat(inv);
          for (; c + 4 <= C; c += 4) v128.store(o + (<usize>c << 2), f32x4.mul(v128.load(o + (<usize>c << 2)), vi));
        }
        for (; c < C; c++) store<f32>(o + (<usize>c << 2), load<f32>(o + (<usize>c << 2)) * inv);
        o += tapBytes;
      }
    }
  }
}

// dx (N×H×W×C) += dy / count over each window's taps inside the image (the transpose of f32_avgpool_fwd).
export function f32_avgpool_bwd(dx: usize, dy: usize, N: i32, H: i32, W: i32, C: i32,
                                ph: i32, pw: i32, sh: i32, sw: i32, pt: i32, pl: i32, Ho: i32, Wo: i32): void {
  const tapBytes = <usize>C << 2;
  let g = dy;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      const ih0 = oh * sh - pt, i0 = max(0, -ih0), i1 = min(ph, H - ih0);
      for (let ow = 0; ow < Wo; ow++) {
        const iw0 = ow * sw - pl, j0 = max(0, -iw0), j1 = min(pw, W - iw0);
        const inv: f32 = <f32>1 / <f32>((i1 - i0) * (j1 - j0));
        for (let i = i0; i < i1; i++) {
          const xr = dx + <usize>((n * H + ih0 + i) * W + iw0) * tapBytes;
          for (let j = j0; j < j1; j++) add_f32(xr + <usize>j * tapBytes, g, inv, C);
        }
        g += tapBytes;
      }
    }
  }
}
