// The native model file `.simdnn`: a safetensors file whose __metadata__ holds the architecture,
// the compile config, the epoch, the names of optimizer-state tensors (DESIGN §10) and, when set,
// what the model knows about its data (`metadata`: feature, target and class names, input kind, split).
import type { Model } from '../model.js';
import { encodeSafetensors } from './safetensors.js';
import { lossConfig } from '../losses.js';

export const FORMAT = 'simdnn';
export const FORMAT_VERSION = '1';
export const OPT_PREFIX = 'optimizer/';

/** The model as safetensors bytes: every parameter, and optimizer state if asked. */
export function modelToBytes(model: Model, opts: { includeOptimizer?: boolean } = {}): Uint8Array {
  const w = model.getWeights();
  const tensors = model.paramRefs.map((p) => ({ name: p.name, shape: p.shape, data: w.get(p.name)! }));
  const meta: Record<string, string> = {
    format: FORMAT, version: FORMAT_VERSION,
    architecture: JSON.stringify(model.config()),
    epoch: String(model.epoch),
  };
  if (model.metadata) meta.metadata = JSON.stringify(model.metadata);
  if (model.loss && model.optimizer) {
    const o = model.optimizer;
    // A loss with options is { name, config }; custom losses and metrics are recorded by name and
    // marked custom: their code is not in the file (loadModel asks for them in customObjects).
    const metrics = [...model.compiledMetrics.names, ...model.compiledMetrics.custom.map((m) => ({ name: m.name, custom: true }))];
    meta.compile = JSON.stringify({ loss: lossConfig(model.loss), metrics, optimizer: { name: o.name, config: o.config } });
    if (opts.includeOptimizer) {
      const e = model.engine;
      const st = o.stateTensors();
      meta.optimizer = JSON.stringify({ iterations: o.iterations, lr: o.lr, state: st.map((s) => s.name) });
      // The PRNG (shuffling, sampling, dropout) too: a resumed fit then draws what the
      // uninterrupted one would have.
      meta.rng = JSON.stringify(model.rngState);
      for (const s of st) tensors.push({ name: OPT_PREFIX + s.name, shape: [s.size], data: e.f32.slice(s.ptr >> 2, (s.ptr >> 2) + s.size) });
    }
  }
  return encodeSafetensors(tensors, meta);
}

