// nn.sequential: the model (model.ts) with what a user calls on it beside its step — fit (the
// loop in train.ts) and saving (io/) — so that the model itself imports neither.
import { ConfigError, show } from './errors.js';
import { checkKeys, type Layer } from './layers/layer.js';
import { Model, type SequentialConfig } from './model.js';
import { writeAtomic } from './io/fs.js';
import { modelToBytes } from './io/model-bytes.js';
import { loadModelSync } from './io/model-file.js';
import type { History } from './callbacks.js';
import type { Input, Target } from './tensor.js';
import { fit, type FitOptions } from './train.js';

export class Sequential extends Model {
  /** Trains on x, y (async: yields to the event loop between batches). */
  fit(x: Input, y: Target, opts?: FitOptions): Promise<History> {
    return fit(this, x, y, opts);
  }
  /** The model as `.simdnn` (safetensors) bytes; includeOptimizer keeps optimizer state for resuming. */
  toBytes(opts: { includeOptimizer?: boolean } = {}): Uint8Array {
    this.alive('Sequential.toBytes');
    checkKeys('Sequential.toBytes', opts, ['includeOptimizer']);
    return modelToBytes(this, opts);
  }
  /**
   * A copy of the model (Keras clone_model, with the weights copied): the same architecture,
   * weights, frozen layers, metadata, epoch and compile config (loss, metrics, the optimizer's
   * settings) in memory of its own in the same engine, with its own thread pool. Optimizer state
   * is not copied (as Keras): a compiled clone's optimizer starts fresh. The clone and the
   * original then train independently.
   */
  clone(): Sequential {
    this.alive('Sequential.clone');
    const customObjects = Object.fromEntries([
      ...(this.loss?.custom ? [[this.loss.name, this.loss]] : []),
      ...this.compiledMetrics.custom.map((m) => [m.name, m]),
    ]);
    return loadModelSync(this.toBytes(), { engine: this.engine, threads: this.autoThreads ? 'auto' : this.slice.maxThreads, customObjects });
  }
  /** Saves to a `.simdnn` file atomically (temp file, fsync, rename). */
  async save(path: string, opts: { includeOptimizer?: boolean } = {}): Promise<void> {
    if (typeof path !== 'string' || path === '') throw new ConfigError(`Sequential.save: path is ${show(path)}; it must be a file path`);
    writeAtomic(path, this.toBytes(opts));
  }
}

export function sequential(config: SequentialConfig, layers: Layer[]): Sequential {
  return new Sequential(config, layers);
}
