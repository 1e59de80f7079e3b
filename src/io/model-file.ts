// Loading the native model file `.simdnn` (DESIGN §10; its layout is in model-bytes.ts): every
// number is validated before anything is allocated.
import { readFileSync } from 'node:fs';
import { ConfigError, ModelFormatError, show } from '../errors.js';
import type { Layer } from '../layers/layer.js';
import { LAYER_TYPES } from '../layers/registry.js';
import { isRngState } from '../random.js';
import { Sequential } from '../sequential.js';
import { FORMAT, FORMAT_VERSION, OPT_PREFIX } from './model-bytes.js';
import { optimizerFromConfig } from '../optimizers/index.js';
import { decodeSafetensors } from './safetensors.js';
import { modelFileError } from './model-diagnose.js';
import type { LossName } from '../losses.js';
import type { MetricName } from '../metrics.js';
import type { Engine } from '../wasm.js';

type LayerConfig = Record<string, unknown> & { type: string; name?: string };
const str = (v: unknown) => JSON.stringify(v);

/** Rebuilds a layer from its config() through the layer registry, rejecting unknown types and keys. */
function layerFromConfig(c: unknown, path: string): Layer {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new ModelFormatError(`architecture ${path}: must be an object`);
  const { type, ...o } = c as LayerConfig;
  const kind = LAYER_TYPES.get(type);
  if (!kind) throw new ModelFormatError(`architecture ${path}.type: unknown layer type ${str(type)}; known: ${[...LAYER_TYPES.keys()].join(', ')}`);
  const nested = (key: string, ls: unknown) => {
    if (!Array.isArray(ls)) throw new ModelFormatError(`architecture ${path}.${key}: must be an array`);
    return ls.map((l, i) => layerFromConfig(l, `${path}.${key}[${i}]`));
  };
  try {
    return kind.fromConfig(o, nested);
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
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (e) {
    throw modelFileError('loadModel', typeof src === 'string' ? src : 'the buffer', bytes, e);
  }
  const { tensors, metadata } = decoded;
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
  model.compile({ loss: c.loss as LossName, optimizer: opt, metrics: c.metrics as MetricName[] });
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
