// Every export of the wasm module. Only pointers and numbers cross the boundary (DESIGN §1).
export {
  gemm_workspace_bytes, gemm_set_workspace,
  f32_gemm_nn, f32_gemm_nt, f32_gemm_tn, f32_dense_fwd, f32_gemm_ex,
  f32_gemm_nn_scalar, f32_gemm_nt_scalar, f32_gemm_tn_scalar, f32_dense_fwd_scalar,
} from './gemm';
// @family activation
// @family loss
export {
  f32_sgd_step, f32_adagrad_step, f32_adadelta_step, f32_rmsprop_step, f32_adam_step, f32_adamax_step,
  f32_sumsq, f32_count_nonfinite,
} from './optim';
// @family norm-random

// First byte the facade's arena may use: static data of the module ends below it.
export function heap_base(): usize {
  return __heap_base;
}
