// Element-wise activations, forward and backward side by side.
// Codes (shared with src/kernels.ts ACT): 0 identity, 1 relu.

export const ACT_IDENTITY: i32 = 0;
export const ACT_RELU: i32 = 1;

// p[0..n) = act(p[0..n)) in place; alpha is the activation's parameter where it has one.
export function act_fwd_inplace(p: usize, n: i32, act: i32, alpha: f32): void {
  if (act == ACT_IDENTITY) return;
  let i = 0;
  if (act == ACT_RELU) {
    if (ASC_FEATURE_SIMD) {
      const zero = f32x4.splat(0);
      for (; i + 4 <= n; i += 4) {
        const q = p + <usize>i * 4;
        v128.store(q, f32x4.max(v128.load(q), zero));
      }
    }
    for (; i < n; i++) {
      const q = p + <usize>i * 4;
      const v = load<f32>(q);
      store<f32>(q, v > 0 ? v : 0);
    }
  }
}
