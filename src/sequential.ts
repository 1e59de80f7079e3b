// nn.sequential: the model (model.ts) with what a user calls on it beside its step — fit (the
// loop in train.ts) and saving (io/) — so that the model itself imports neither.
import { ConfigError, show } from './errors.js';
import { checkKeys, type Layer } from './layers/layer.js';
import { Model, type SequentialConfig } from './model.js';
import { writeAtomic } from './io/fs.js';
import { modelToBytes } from './io/model-bytes.js';
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
  /** Saves to a `.simdnn` file atomically (temp file, fsync, rename). */
  async save(path: string, opts: { includeOptimizer?: boolean } = {}): Promise<void> {
    if (typeof path !== 'string' || path === '') throw new ConfigError(`Sequential.save: path is ${show(path)}; it must be a file path`);
    writeAtomic(path, this.toBytes(opts));
  }
}

export function sequential(config: SequentialConfig, layers: Layer[]): Sequential {
  return new Sequential(config, layers);
}
