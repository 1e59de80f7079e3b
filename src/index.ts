// simdnn's public API: import * as nn from 'simdnn'.
import { Activation, PReLU, type ActivationName } from './layers/activation.js';
import { Dense, type DenseOptions } from './layers/dense.js';
import type { Init, Layer } from './layers/layer.js';
import { BatchNorm, Dropout, LayerNorm } from './layers/norm.js';
import { Normalization, Rescaling, type NormalizationOptions } from './layers/preprocess.js';
import { Residual } from './layers/residual.js';
import {
  AvgPool2D, Conv2D, Flatten, GlobalAveragePooling2D, MaxPool2D, type Conv2dOptions, type Pool2dOptions,
} from './layers/conv.js';

export { Model, type SequentialConfig, type CompileConfig, type StepResult, type SampleWeight } from './model.js';
export { sequential, Sequential } from './sequential.js';
export { INPUT_KINDS, type ModelMetadata, type InputKind } from './metadata.js';
export { METRIC_NAMES, type MetricName, type Logs, type CustomMetric } from './metrics.js';
export { l1, l2, l1l2, type Layer, type Regularizer, type Init, type InitName, type InitAlias } from './layers/layer.js';
export { Dense, Activation, PReLU, Dropout, BatchNorm, LayerNorm, Residual, Normalization, Rescaling, type NormalizationOptions };
export { Conv2D, MaxPool2D, AvgPool2D, GlobalAveragePooling2D, Flatten, type Conv2dOptions, type Pool2dOptions, type Padding, type Size2 } from './layers/conv.js';
export { tensor, argMax, Tensor, type Input, type Target, type NestedNumbers } from './tensor.js';
export { gradCheck, type GradCheckResult, type GradCheckOptions, type TensorCheck } from './gradcheck.js';
export { crossValidate, type CrossValidationResult } from './crossval.js';
export { getLoss, losses, LOSS_NAMES, type Loss, type LossName, type LossAlias, type LossOptions, type CustomLossSpec, type FloatArray } from './losses.js';
export type { FitOptions, ResumeState } from './train.js';
export type { History } from './callbacks.js';
export * as callbacks from './callbacks.js';
export * from './optimizers/index.js';
export * as schedules from './schedules.js';
export * from './errors.js';
export { checkInt, checkNum } from './validate.js';
export { init, backendInfo, Engine, type Isa, type EngineOptions } from './wasm.js';

export function dense(units: number, opts?: DenseOptions): Dense { return new Dense(units, opts); }
export function activation(name: ActivationName, opts?: { alpha?: number; name?: string }): Activation { return new Activation(name, opts); }
export function prelu(opts?: { init?: Init; name?: string }): PReLU { return new PReLU(opts); }
export function dropout(rate: number, opts?: { name?: string }): Dropout { return new Dropout(rate, opts); }
export function batchNorm(opts?: { momentum?: number; eps?: number; name?: string }): BatchNorm { return new BatchNorm(opts); }
export function layerNorm(opts?: { eps?: number; name?: string }): LayerNorm { return new LayerNorm(opts); }
/** Keras Normalization: (x − mean)/max(√variance, 1e-7) per feature; mean and variance given or from layer.adapt(x). */
export function normalization(opts?: NormalizationOptions): Normalization { return new Normalization(opts); }
/** Keras Rescaling: x·scale + offset (1/255 for pixels in [0, 1]). */
export function rescaling(scale: number, offset?: number, opts?: { name?: string }): Rescaling { return new Rescaling(scale, offset, opts); }
export function residual(layers: Layer[], opts?: { name?: string }): Residual { return new Residual(layers, opts); }
export function conv2d(filters: number, opts: Conv2dOptions): Conv2D { return new Conv2D(filters, opts); }
export function maxPool2d(opts?: Pool2dOptions): MaxPool2D { return new MaxPool2D(opts); }
export function avgPool2d(opts?: Pool2dOptions): AvgPool2D { return new AvgPool2D(opts); }
export function globalAveragePooling2d(opts?: { name?: string }): GlobalAveragePooling2D { return new GlobalAveragePooling2D(opts); }
export function flatten(opts?: { name?: string }): Flatten { return new Flatten(opts); }
export * as datasets from './data/datasets.js';
export * as data from './data/preprocess.js';
export * as io from './io/index.js';
export { loadModel, loadModelSync, type LoadOptions } from './io/model-file.js';
