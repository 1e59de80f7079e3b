// Loading the native model file `.simdnn` (DESIGN §10; its layout is in model-bytes.ts): the
// header and all metadata are checked before a tensor is read, and the tensors before the model
// is built. A file that does not decode is diagnosed (truncated, another format) by model-diagnose.ts.
import { ConfigError, ModelFormatError, show } from '../errors.js';
import type { Layer } from '../layers/layer.js';
import { LAYER_TYPES } from '../layers/registry.js';
import { isLoss, lossFromConfig, type Loss } from '../losses.js';
import type { CustomMetric, MetricName } from '../metrics.js';
import { checkBool, checkKeys, own, reject } from '../validate.js';
import { BaseOptimizer, optimizerFromConfig, type StateSpec } from '../optimizers/index.js';
import { checkMetadata as checkModelMetadata, type ModelMetadata } from '../metadata.js';
import { isRngState } from '../random.js';
import { Sequential } from '../sequential.js';
import type { Engine } from '../wasm.js';
import { withFile } from './fs.js';
import { modelFileError, type ReadAt } from './model-diagnose.js';
import { FORMAT, FORMAT_VERSION, OPT_PREFIX } from './model-bytes.js';
import { headerLength, parseHeader, readTensors, type StTensor } from './safetensors.js';

type LayerConfig = Record<string, unknown> & { type: string; name?: string };
const str = (v: unknown) => JSON.stringify(v);

/** Rebuilds a layer from its config() through the layer registry, rejecting unknown types and keys. */
function layerFromConfig(c: unknown, path: string): Layer {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new ModelFormatError(`architecture ${path}: must be an object`);
  const { type, trainable, ...o } = c as LayerConfig;
  if (trainable !== undefined && trainable !== false) throw new ModelFormatError(`architecture ${path}.trainable: is ${str(trainable)}; it is false (a frozen layer) or absent`);
  const kind = LAYER_TYPES.get(type);
  if (!kind) throw new ModelFormatError(`architecture ${path}.type: unknown layer type ${str(type)}; known: ${[...LAYER_TYPES.keys()].join(', ')}`);
  const nested = (key: string, ls: unknown) => {
    if (!Array.isArray(ls)) throw new ModelFormatError(`architecture ${path}.${key}: must be an array`);
    return ls.map((l, i) => layerFromConfig(l, `${path}.${key}[${i}]`));
  };
  try {
    const layer = kind.fromConfig(o, nested);
    if (trainable === false) layer.trainable = false;
    return layer;
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

/** Largest model file read: the wasm32 limit, which no model can exceed. */
export const MAX_MODEL_BYTES = 2 ** 32;

/** The compile settings of a file, checked: the optimizer is built (not bound), its saved state described. */
interface CompilePlan {
  loss: Loss;
  metrics: (string | CustomMetric)[];
  optimizer: BaseOptimizer;
  state?: { iterations: number; lr: number; spec: StateSpec[]; rng?: number[] };
}
/** Everything the metadata says, checked before a tensor is read or the model is built. */
interface Plan { arch: Record<string, unknown>; layers: Layer[]; epoch: number; compile?: CompilePlan; data?: ModelMetadata }

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** loadModel's options: the engine and threads of the model; customObjects supplies custom losses and metrics by name. */
export interface LoadOptions {
  engine?: Engine;
  threads?: number | 'auto';
  /** Custom losses (nn.losses.custom) and metrics ({ name, fn }) the model was compiled with, by name (Keras's custom_objects). */
  customObjects?: Record<string, Loss | CustomMetric>;
  /** Compile the model as saved (default true); false loads architecture and weights only (Keras's compile=False). */
  compile?: boolean;
}

function checkMetadata(metadata: Record<string, string>, opts: LoadOptions): Plan {
  if (metadata.format !== FORMAT) throw new ModelFormatError(`__metadata__.format: ${str(metadata.format)}; expected "${FORMAT}"`);
  if (metadata.version !== FORMAT_VERSION) throw new ModelFormatError(`__metadata__.version: ${str(metadata.version)}; this simdnn reads version ${FORMAT_VERSION}`);
  const epoch = Number(metadata.epoch ?? 0);
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new ModelFormatError(`__metadata__.epoch: ${str(metadata.epoch)} must be a non-negative integer`);
  if (metadata.compile === undefined && metadata.optimizer !== undefined) {
    throw new ModelFormatError('__metadata__.optimizer: present without __metadata__.compile; optimizer state needs the optimizer it belongs to');
  }
  const compile = metadata.compile === undefined || opts.compile === false ? undefined : checkCompile(metadata, opts.customObjects ?? {});
  const data = metadata.metadata === undefined ? undefined : checkData(parseJson('metadata', metadata.metadata));
  // The layers last: the costliest check.
  const arch = parseJson('architecture', metadata.architecture);
  if (!isObj(arch) || !Array.isArray(arch.layers)) throw new ModelFormatError('__metadata__.architecture.layers: must be an array');
  return { arch, layers: arch.layers.map((l, i) => layerFromConfig(l, `layers[${i}]`)), epoch, compile, data };
}

/** The model's data metadata (names, input kind, split), checked as setMetadata checks it; sizes once the model is built. */
function checkData(m: unknown, sizes?: { inputs: number; outputs: number }): ModelMetadata {
  try {
    return checkModelMetadata('__metadata__', m, sizes);
  } catch (e) {
    throw new ModelFormatError((e as Error).message);
  }
}

function checkCompile(metadata: Record<string, string>, customObjects: Record<string, unknown>): CompilePlan {
  const c = parseJson('compile', metadata.compile);
  if (!isObj(c) || !isObj(c.optimizer)) throw new ModelFormatError('__metadata__.compile: must hold loss and optimizer');
  let loss: Loss;
  try {
    loss = lossFromConfig('__metadata__.compile', c.loss, customObjects);
  } catch (e) {
    // A custom loss not supplied again is the caller's to fix, not the file's.
    if (isObj(c.loss) && c.loss.custom === true) throw new ConfigError(`loadModel: ${(e as Error).message}`);
    throw new ModelFormatError((e as Error).message);
  }
  if (!Array.isArray(c.metrics)) throw new ModelFormatError(`__metadata__.compile.metrics: ${str(c.metrics)}; must be an array`);
  const metrics = c.metrics.map((m): string | CustomMetric => {
    if (!isObj(m)) return m as string;
    const fn = own(customObjects as Record<string, unknown>, m.name);
    if (m.custom === true && typeof fn === 'object' && fn !== null && !isLoss(fn) && (fn as CustomMetric).name === m.name) return fn as CustomMetric;
    throw new ConfigError(`loadModel: the model was compiled with the custom metric ${str(m.name)}, which a file cannot hold; `
      + `pass it again: loadModel(src, { customObjects: { ${String(m.name)}: { name: ${str(m.name)}, fn } } }), or load with { compile: false }`);
  });
  let optimizer: BaseOptimizer;
  try {
    const o = optimizerFromConfig(c.optimizer.name as string, c.optimizer.config as Record<string, unknown>);
    if (!(o instanceof BaseOptimizer)) throw new ConfigError(`optimizer ${str(c.optimizer.name)} is not one of simdnn's`);
    optimizer = o;
  } catch (e) {
    throw new ModelFormatError(`__metadata__.compile: ${(e as Error).message}`);
  }
  const plan: CompilePlan = { loss, metrics, optimizer };
  if (metadata.optimizer === undefined) return plan;
  const o = parseJson('optimizer', metadata.optimizer);
  if (!isObj(o) || !Number.isSafeInteger(o.iterations) || (o.iterations as number) < 0 || typeof o.lr !== 'number' || !(o.lr > 0 && o.lr < Infinity)) {
    throw new ModelFormatError(`__metadata__.optimizer: iterations ${show(isObj(o) ? o.iterations : o)}, lr ${show(isObj(o) ? o.lr : o)}; iterations must be an integer ≥ 0 and lr finite and > 0`);
  }
  const spec = optimizer.stateSpec(), names = spec.map((s) => s.name);
  if (!Array.isArray(o.state) || o.state.join('\n') !== names.join('\n')) {
    throw new ModelFormatError(`__metadata__.optimizer.state: ${str(o.state)} does not match ${str(names)} of ${optimizer.name}`);
  }
  plan.state = { iterations: o.iterations as number, lr: o.lr, spec };
  if (metadata.rng === undefined) return plan;
  const r = parseJson('rng', metadata.rng);
  if (!isRngState(r)) throw new ModelFormatError(`__metadata__.rng: ${str(r)}; it must be 4 integers in [0, 2³²), not all 0`);
  plan.state.rng = r;
  return plan;
}

/** Checks every tensor's values (finite; optimizer second moments ≥ 0) and that optimizer tensors are exactly the saved state. */
function checkTensors(tensors: StTensor[], plan: Plan): Map<string, StTensor> {
  const state = new Map((plan.compile?.state?.spec ?? []).map((s) => [OPT_PREFIX + s.name, s]));
  for (const t of tensors) {
    const s = state.get(t.name);
    if (!s && t.name.startsWith(OPT_PREFIX)) {
      throw new ModelFormatError(`tensor ${str(t.name)}: not a state of the file's optimizer; its state tensors are ${str([...state.keys()])}`);
    }
    const i = s?.nonNegative ? t.data.findIndex((v) => !(v >= 0 && v < Infinity)) : t.data.findIndex((v) => !Number.isFinite(v));
    if (i >= 0) {
      throw new ModelFormatError(s?.nonNegative
        ? `tensor ${str(t.name)}: holds ${t.data[i]} at [${i}]; a second moment must be finite and ≥ 0`
        : `tensor ${str(t.name)}: holds non-finite values (${t.data[i]} at [${i}]); every value must be finite`);
    }
  }
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const name of state.keys()) if (!byName.has(name)) throw new ModelFormatError(`tensor ${str(name)}: missing from the file (__metadata__.optimizer.state names it)`);
  return byName;
}

/** The header, then the metadata (before the tensors are read), then the tensors, of the file `name` of `size` bytes. */
function parseFile(name: string, size: number, read: ReadAt, opts: LoadOptions): { plan: Plan; tensors: StTensor[] } {
  let n: number, header: ReturnType<typeof parseHeader>;
  try {
    n = headerLength(read(0, Math.min(8, size)), size);
    header = parseHeader(read(8, n), size - 8 - n);
  } catch (e) {
    throw modelFileError('loadModel', name, size, read, e);
  }
  const plan = checkMetadata(header.metadata, opts);
  const tensors = readTensors(header.entries, read(8 + n, size - 8 - n));
  return { plan, tensors };
}

/** Loads a model from a `.simdnn` path or its bytes (async for symmetry with save). */
export async function loadModel(src: string | Uint8Array, opts: LoadOptions = {}): Promise<Sequential> {
  return loadModelSync(src, opts);
}

/** Loads a model from a `.simdnn` path or its bytes. Validates everything before allocating. */
export function loadModelSync(src: string | Uint8Array, opts: LoadOptions = {}): Sequential {
  checkKeys('loadModel', opts, ['engine', 'threads', 'customObjects', 'compile']);
  if (opts.compile !== undefined) checkBool('loadModel', 'compile', opts.compile);
  const co = opts.customObjects;
  if (co !== undefined && (typeof co !== 'object' || co === null || Array.isArray(co))) reject('loadModel', 'customObjects', co, 'an object of name → custom loss or metric');
  let file: { plan: Plan; tensors: StTensor[] };
  if (typeof src === 'string') file = withFile(src, (m) => new ConfigError(`loadModel: ${m}`), { maxBytes: MAX_MODEL_BYTES }, (f) => parseFile(src, f.size, f.read, opts));
  else if (src instanceof Uint8Array) file = parseFile('the buffer', src.length, (pos, len) => src.subarray(pos, pos + len), opts);
  else throw new ConfigError(`loadModel: source is ${show(src)}; it must be a path or a Uint8Array`);
  const { plan, tensors } = file;
  const byName = checkTensors(tensors, plan);
  let model: Sequential;
  try {
    // The file's tensors bound the parameters: a hostile architecture cannot make us allocate more.
    const maxParams = tensors.reduce((s, t) => s + (t.name.startsWith(OPT_PREFIX) ? 0 : t.data.length), 0);
    const a = plan.arch;
    model = new Sequential({ inputShape: a.inputShape as number[], seed: a.seed as number, name: a.name as string, engine: opts.engine, threads: opts.threads, maxParams }, plan.layers);
  } catch (e) {
    throw new ModelFormatError(`__metadata__.architecture: ${(e as Error).message}`);
  }
  try {
    const known = new Set<string>();
    for (const p of model.paramRefs) {
      const t = byName.get(p.name);
      if (!t) throw new ModelFormatError(`tensor ${str(p.name)}: missing from the file (the architecture declares it)`);
      if (t.data.length !== p.size || t.shape.join(',') !== p.shape.join(',')) {
        throw new ModelFormatError(`tensor ${str(p.name)}.shape: ${str(t.shape)} in the file, the architecture needs ${str(p.shape)}`);
      }
      known.add(p.name);
    }
    for (const t of tensors) {
      if (!known.has(t.name) && !t.name.startsWith(OPT_PREFIX)) throw new ModelFormatError(`tensor ${str(t.name)}: not a parameter of the architecture`);
    }
    model.setWeights(new Map(model.paramRefs.map((p) => [p.name, byName.get(p.name)!.data])));
    model.epoch = plan.epoch;
    if (plan.data) model.setMetadata(checkData(plan.data, { inputs: model.inputSize, outputs: model.outputSize }));
    if (plan.compile) restoreCompile(model, plan.compile, byName);
  } catch (e) {
    model.dispose();
    throw e instanceof ModelFormatError ? e : new ModelFormatError(`loadModel: ${(e as Error).message}`);
  }
  return model;
}

/** Compiles the model as saved and restores the optimizer's state (checked by checkCompile and checkTensors). */
function restoreCompile(model: Sequential, c: CompilePlan, byName: Map<string, StTensor>): void {
  model.compile({ loss: c.loss, optimizer: c.optimizer, metrics: c.metrics as (MetricName | CustomMetric)[] });
  if (!c.state) return;
  for (const s of c.optimizer.stateTensors()) {
    const t = byName.get(OPT_PREFIX + s.name)!;
    if (t.data.length !== s.size) throw new ModelFormatError(`tensor ${str(OPT_PREFIX + s.name)}: ${t.data.length} values; the optimizer's state has ${s.size}`);
    model.engine.f32.set(t.data, s.ptr >> 2);
  }
  c.optimizer.iterations = c.state.iterations;
  c.optimizer.lr = c.state.lr;
  if (c.state.rng) model.rngState = c.state.rng;
}
