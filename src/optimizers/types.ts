// The contract between a model and its optimizer (DESIGN §2): one flat parameter arena, one
// gradient arena of the same size, and the optimizer's own state arenas of that size.
import type { Engine } from '../wasm.js';
import type { Kernels } from '../kernels.js';

/** One parameter tensor inside the arena, with its Keras-style penalties (l1·Σ|θ| + l2·Σθ²). */
export interface ParamSegment { name: string; offset: number /* float index from arena.params */; size: number; l1: number; l2: number; }
/** Parameters and gradients as two parallel float arrays in one engine's memory. */
export interface ParamArena { engine: Engine; params: number /* byte ptr */; grads: number /* byte ptr */; size: number /* floats */; segments: ParamSegment[]; }
/** One state array of an optimizer, parallel to the parameter arena. */
export interface StateTensor { name: string; ptr: number; size: number; }
/** A step split over threads by arena ranges (DESIGN §7): the model's data-parallel step gives it. */
export interface SplitStep {
  /** Σ g² over the whole gradient arena (reduced from the threads' ranges). */
  sumsq(): number;
  /** Runs update(kernels, lo, hi) once per thread, on that thread, over its range of the arena. */
  run(update: (k: Kernels, lo: number, hi: number) => void): void;
}

export interface Optimizer {
  readonly name: string;                        // 'sgd' | 'adam' | …
  readonly config: Record<string, unknown>;     // JSON-serialisable, enough to rebuild it with nn.<name>(config)
  lr: number;                                   // current learning rate (schedules/callbacks set it)
  iterations: number;                           // steps taken (Adam's t = iterations + 1 during a step)
  bind(arena: ParamArena): void;                // allocates state in arena.engine (zeroed), once
  step(split?: SplitStep): void;                // one update from arena.grads (split over threads when given); allocates nothing
  stateTensors(): StateTensor[];                // for saving/resuming; names like 'adam.m'
  dispose(): void;                              // releases state
}
