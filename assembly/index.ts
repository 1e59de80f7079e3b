// Every export of the wasm module. Only pointers and numbers cross the boundary (DESIGN §1).
export {
  gemm_workspace_bytes, gemm_set_workspace,
  f32_gemm_nn, f32_gemm_nt, f32_gemm_tn, f32_dense_fwd, f32_gemm_ex,
  f32_gemm_nn_scalar, f32_gemm_nt_scalar, f32_gemm_tn_scalar, f32_dense_fwd_scalar,
} from './gemm';
export {
  f32_act_fwd, f32_act_bwd, f32_softmax_fwd, f32_log_softmax_fwd, f32_softmax_bwd, f32_log_softmax_bwd,
  f32_prelu_fwd, f32_prelu_bwd,
} from './activation';
export {
  f32_mse, f32_mae, f32_bce_logits, f32_bce_probs, f32_softmax_xent, f32_softmax_xent_soft, f32_nll, f32_nll_soft,
  f32_cce_probs, f32_cce_probs_soft,
} from './loss';
export {
  f32_sgd_step, f32_adagrad_step, f32_adadelta_step, f32_rmsprop_step, f32_adam_step, f32_adamax_step,
  f32_nadam_step, f32_lion_step,
} from './optim';
export { f32_colsum_add, f32_sumsq, f32_l1l2_penalty, f32_count_nonfinite } from './reduce';
export { f32_add, f32_add_inplace, f32_scale, f32_fill } from './simd';
export {
  rng_seed, rng_next_u32, f32_fill_uniform, f32_fill_normal, i32_permutation, i32_sample,
  f32_dropout_rows_fwd, f32_dropout_bwd,
} from './random';
export {
  f64_batchnorm_stats, f32_batchnorm_fwd_train, f32_batchnorm_fwd_infer, f64_batchnorm_bwd_sums, f32_batchnorm_bwd,
  f32_layernorm_fwd, f32_layernorm_bwd, f32_activity_grad,
  f32_col_affine_fwd, f32_col_affine_bwd, f32_inv_std,
} from './norm';
export { f32_gather_rows, u8_gather_rows_scale, i32_gather, f32_argmax_rows } from './data';
export {
  f32_im2col, f32_col2im_add, f32_maxpool_fwd, f32_maxpool_bwd, f32_avgpool_fwd, f32_avgpool_bwd,
} from './conv';

// First byte the facade's arena may use: static data of the module ends below it.
export function heap_base(): usize {
  return __heap_base;
}
