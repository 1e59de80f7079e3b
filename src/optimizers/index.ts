// Optimizers: factories with exported defaults, and optimizerFromConfig for model files.
import { ConfigError } from '../errors.js';
import { own, reject } from '../validate.js';
import { scheduleFromConfig } from '../schedules.js';
import { adadelta } from './adadelta.js';
import { adagrad } from './adagrad.js';
import { adam, adamw } from './adam.js';
import { adamax } from './adamax.js';
import { lion } from './lion.js';
import { nadam } from './nadam.js';
import { rmsprop } from './rmsprop.js';
import { sgd } from './sgd.js';
import type { Optimizer } from './types.js';

export type { Optimizer, ParamArena, ParamSegment, StateTensor } from './types.js';
export { BaseOptimizer, COMMON_DEFAULTS, planRuns, type CommonOptions, type KernelRun, type StateSpec } from './base.js';
export { Sgd, sgd, SGD_DEFAULTS, type SgdOptions } from './sgd.js';
export { Adagrad, adagrad, ADAGRAD_DEFAULTS, type AdagradOptions } from './adagrad.js';
export { Adadelta, adadelta, ADADELTA_DEFAULTS, type AdadeltaOptions } from './adadelta.js';
export { Rmsprop, rmsprop, RMSPROP_DEFAULTS, type RmspropOptions } from './rmsprop.js';
export { Adam, adam, adamw, ADAM_DEFAULTS, ADAMW_DEFAULTS, type AdamOptions } from './adam.js';
export { Adamax, adamax, ADAMAX_DEFAULTS, type AdamaxOptions } from './adamax.js';
export { Nadam, nadam, NADAM_DEFAULTS, type NadamOptions } from './nadam.js';
export { Lion, lion, LION_DEFAULTS, type LionOptions } from './lion.js';

/** An optimizer's registry name ('adam'), as compile({ optimizer }) takes it. */
export type OptimizerName = 'sgd' | 'adagrad' | 'adadelta' | 'rmsprop' | 'adam' | 'adamw' | 'adamax' | 'nadam' | 'lion';

/** Every optimizer by its registry name (Optimizer.name). */
export const OPTIMIZERS: Readonly<Record<OptimizerName, (opts?: Record<string, unknown>) => Optimizer>> = {
  sgd, adagrad, adadelta, rmsprop, adam, adamw, adamax, nadam, lion,
};

/**
 * Rebuilds an optimizer from its name and `config` (as stored in a model file); `lr` may be a
 * schedule's config object. Iteration count and state are restored separately.
 */
export function optimizerFromConfig(name: string, config: Record<string, unknown> = {}): Optimizer {
  const where = 'optimizerFromConfig';
  const make = own(OPTIMIZERS, name) ?? reject(where, 'optimizer', name, `one of ${Object.keys(OPTIMIZERS).join(', ')}`);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) reject(where, `config of ${name}`, config, 'an object');
  const lr = config.lr;
  if (typeof lr === 'object' && lr !== null) {
    if ((lr as { name?: unknown }).name === 'custom') {
      throw new ConfigError(`${where}: ${name} was saved with a custom lr function, which cannot be rebuilt; pass lr yourself`);
    }
    return make({ ...config, lr: scheduleFromConfig(lr) });
  }
  return make(config);
}
