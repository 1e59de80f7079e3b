// The native model file `.simdnn`: a safetensors file whose __metadata__ holds the architecture,
// the compile config, the epoch and the names of optimizer-state tensors (DESIGN §10). Saves are
// atomic (writeAtomic in ./fs.ts).
import { readFileSync } from 'node:fs';
import { ConfigError, ModelFormatError, show } from '../errors.js';
import { Activation, PReLU } from '../layers/activation.js';
import { Dense } from '../layers/dense.js';
import type { Layer } from '../layers/layer.js';
import { BatchNorm, Dropout, LayerNorm } from '../layers/norm.js';
import { Residual } from '../layers/residual.js';
import { Sequential, isRngState } from '../model.js';
import { optimizerFromConfig } from '../optimizers/index.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
// NOTE: re-exported for src/model.ts (being rewritten elsewhere); the implementation lives in ./fs.ts.
export { writeAtomic } from './fs.js';
import type { Engine } from '../wasm.js';

export const FORMAT = 'simdnn';
export const FORMAT_VERSION = '1';
const OPT_PREFIX = 'optimizer/';

/** The model as safetensors bytes: every parameter, and optimizer state if asked. */
export function modelToBytes(model: Sequential, opts: { includeOptimizer?: boolean } = {}): Uint8Array {
  const w = model.getWeights();
  const tensors = model.paramRefs.map((p) => ({ name: p.name, shape: p.shape, data: w.get(p.name)! }));
  const meta: Record<string, string> = {
    format: FORMAT, version: FORMAT_VERSION,
    architecture: JSON.stringify(model.config()),
    epoch: String(model.epoch),
  };
  if (model.loss && model.optimizer) {
    const o = model.optimizer;
    meta.compile = JSON.stringify({ loss: model.loss.name, metrics: model.metrics, optimizer: { name: o.name, config: o.config } });
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

type LayerConfig = Record<string, unknown> & { type: string; name?: string };
const str = (v: unknown) => JSON.stringify(v);

/** Rebuilds a layer from its config(), rejecting unknown types and keys. */
function layerFromConfig(c: unknown, path: string): Layer {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new ModelFormatError(`architecture ${path}: must be an object`);
  const { type, ...o } = c as LayerConfig;
  try {
    switch (type) {
      case 'dense': {
        const { units, ...rest } = o;
        return new Dense(units as number, rest);
      }
      case 'activation': {
        const { activation, ...rest } = o;
        return new Activation(activation as never, rest);
      }
      case 'prelu': return new PReLU(o);
      case 'dropout': {
        const { rate, ...rest } = o;
        return new Dropout(rate as number, rest);
      }
      case 'batchNorm': return new BatchNorm(o);
      case 'layerNorm': return new LayerNorm(o);
      case 'residual': {
        const { layers, ...rest } = o;
        if (!Array.isArray(layers)) throw new ModelFormatError(`architecture ${path}.layers: must be an array`);
        return new Residual(layers.map((l, i) => layerFromConfig(l, `${path}.layers[${i}]`)), rest);
      }
      default:
        throw new ModelFormatError(`architecture ${path}.type: unknown layer type ${str(type)}`);
    }
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError(`architecture ${path}: ${(e as Error).message}`);
  }
}

function parseJson(field: string, s: string | undefined): unknown {
  if (s === undefined) throw new ModelFormatError(`__metadata__.${field}: missing`);
  try {
    return JSON.parse(s);
  } catch (e) {
    throw new ModelFormatError(`__metadata__.${field}: not valid JSON (${(e as Error).message})`);
  }
}

/** Loads a model from a `.simdnn` path or its bytes (async for symmetry with save). */
export async function loadModel(src: string | Uint8Array, opts: { engine?: Engine; threads?: number } = {}): Promise<Sequential> {
  return loadModelSync(src, opts);
}

/** Loads a model from a `.simdnn` path or its bytes. Validates everything before allocating. */
export function loadModelSync(src: string | Uint8Array, opts: { engine?: Engine; threads?: number } = {}): Sequential {
  let bytes: Uint8Array;
  if (typeof src === 'string') {
    try {
      bytes = readFileSync(src);
    } catch (e) {
      throw new ConfigError(`loadModel: cannot read ${src}: ${(e as Error).message}`);
    }
  } else if (src instanceof Uint8Array) bytes = src;
  else throw new ConfigError(`loadModel: source is ${show(src)}; it must be a path or a Uint8Array`);
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== FORMAT) throw new ModelFormatError(`__metadata__.format: ${str(metadata.format)}; expected "${FORMAT}"`);
  if (metadata.version !== FORMAT_VERSION) throw new ModelFormatError(`__metadata__.version: ${str(metadata.version)}; this simdnn reads version ${FORMAT_VERSION}`);
  const arch = parseJson('architecture', metadata.architecture) as Record<string, unknown>;
  if (typeof arch !== 'object' || arch === null || !Array.isArray(arch.layers)) throw new ModelFormatError('__metadata__.architecture.layers: must be an array');
  const layers = arch.layers.map((l, i) => layerFromConfig(l, `layers[${i}]`));
  const byName = new Map(tensors.map((t) => [t.name, t]));
  let model: Sequential;
  try {
    // The file's tensors bound the parameters: a hostile architecture cannot make us allocate more.
    const maxParams = tensors.reduce((s, t) => s + (t.name.startsWith(OPT_PREFIX) ? 0 : t.data.length), 0);
    model = new Sequential({ inputShape: arch.inputShape as number[], seed: arch.seed as number, name: arch.name as string, engine: opts.engine, threads: opts.threads, maxParams }, layers);
  } catch (e) {
    throw new ModelFormatError(`__metadata__.architecture: ${(e as Error).message}`);
  }
  try {
    for (const p of model.paramRefs) {
      const t = byName.get(p.name);
      if (!t) throw new ModelFormatError(`tensor ${str(p.name)}: missing from the file (the architecture declares it)`);
      if (t.data.length !== p.size || t.shape.join(',') !== p.shape.join(',')) {
        throw new ModelFormatError(`tensor ${str(p.name)}.shape: ${str(t.shape)} in the file, the architecture needs ${str(p.shape)}`);
      }
    }
    const known = new Set(model.paramRefs.map((p) => p.name));
    for (const t of tensors) {
      if (!known.has(t.name) && !t.name.startsWith(OPT_PREFIX)) throw new ModelFormatError(`tensor ${str(t.name)}: not a parameter of the architecture`);
      if (known.has(t.name) && t.data.some((v) => !Number.isFinite(v))) throw new ModelFormatError(`tensor ${str(t.name)}: holds non-finite values`);
    }
    model.setWeights(new Map(model.paramRefs.map((p) => [p.name, byName.get(p.name)!.data])));
    const epoch = Number(metadata.epoch ?? 0);
    if (!Number.isInteger(epoch) || epoch < 0) throw new ModelFormatError(`__metadata__.epoch: ${str(metadata.epoch)} must be a non-negative integer`);
    model.epoch = epoch;
    if (metadata.compile !== undefined) restoreCompile(model, metadata, byName);
  } catch (e) {
    model.dispose();
    throw e instanceof ModelFormatError ? e : new ModelFormatError(`loadModel: ${(e as Error).message}`);
  }
  return model;
}

function restoreCompile(model: Sequential, metadata: Record<string, string>, byName: Map<string, { data: Float32Array; shape: number[] }>): void {
  const c = parseJson('compile', metadata.compile) as { loss: string; metrics: string[]; optimizer: { name: string; config: Record<string, unknown> } };
  if (typeof c !== 'object' || c === null || typeof c.optimizer !== 'object' || c.optimizer === null) throw new ModelFormatError('__metadata__.compile: must hold loss and optimizer');
  const opt = optimizerFromConfig(c.optimizer.name, c.optimizer.config);
  model.compile({ loss: c.loss, optimizer: opt, metrics: c.metrics });
  if (metadata.optimizer === undefined) return;
  const o = parseJson('optimizer', metadata.optimizer) as { iterations: number; lr: number; state: string[] };
  if (typeof o !== 'object' || o === null || !Number.isInteger(o.iterations) || o.iterations < 0 || typeof o.lr !== 'number' || !(o.lr > 0)) {
    throw new ModelFormatError('__metadata__.optimizer: iterations must be an integer ≥ 0 and lr > 0');
  }
  const st = opt.stateTensors();
  if (!Array.isArray(o.state) || o.state.join('\n') !== st.map((s) => s.name).join('\n')) {
    throw new ModelFormatError(`__metadata__.optimizer.state: ${str(o.state)} does not match ${str(st.map((s) => s.name))} of ${c.optimizer.name}`);
  }
  for (const s of st) {
    const t = byName.get(OPT_PREFIX + s.name);
    if (!t || t.data.length !== s.size) throw new ModelFormatError(`tensor ${str(OPT_PREFIX + s.name)}: missing or not ${s.size} values`);
    model.engine.f32.set(t.data, s.ptr >> 2);
  }
  opt.iterations = o.iterations;
  opt.lr = o.lr;
  if (metadata.rng === undefined) return;
  const r = parseJson('rng', metadata.rng);
  if (!isRngState(r)) throw new ModelFormatError(`__metadata__.rng: ${str(r)}; it must be 4 integers in [0, 2³²), not all 0`);
  model.rngState = r;
}
