// What a model knows about its data (DESIGN §11): feature names and order, the target, class
// names, the input kind and the split it was trained on. Saved in the `.simdnn` __metadata__ and
// shown by `simdnn info`; checked here, one place, for setMetadata and for the loader.
import { ConfigError, ShapeError, show } from './errors.js';
import { checkBool, checkInt, checkNum, checkOneOf, reject } from './validate.js';

export const INPUT_KINDS = ['csv', 'idx', 'tensor'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

export interface ModelMetadata {
  /** Names of the input features, in column order; one per model input. */
  features?: string[];
  /** The target column (a classifier's label column, or one regression output), or one name per output. */
  target?: string | string[];
  /** Class names by index: one per output; a 1-output (sigmoid) model takes 2, negative then positive. */
  classes?: string[];
  /** Where the inputs came from; JSON-safe extra fields (a separator, the image shape) are kept as given. */
  input?: { kind: InputKind; [k: string]: unknown };
  /** The split the model was trained on: fractions of the rows held out for validation and test. */
  split?: { seed: number; validation: number; test: number; stratified: boolean };
}

const KEYS = ['features', 'target', 'classes', 'input', 'split'] as const;
const SPLIT_KEYS = ['seed', 'validation', 'test', 'stratified'] as const;
/** Bounds a hostile file cannot pass: names are short, lists no longer than any model, extras small. */
const MAX_NAME = 1024;
const MAX_INPUT_JSON = 1 << 16;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Refuses keys outside `known` (own keys only: "__proto__" is unknown like any other). */
function unknownKeys(where: string, o: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new ConfigError(`${where}: unknown key ${show(k)}; known: ${known.join(', ')}`);
}

/** A list of distinct non-empty strings (names are how columns and classes are found again). */
function names(where: string, name: string, v: unknown): string[] {
  if (!Array.isArray(v)) reject(where, name, v, 'an array of strings');
  const seen = new Set<string>();
  v.forEach((s, i) => {
    if (typeof s !== 'string' || s.length === 0 || s.length > MAX_NAME) reject(where, `${name}[${i}]`, s, `a non-empty string of at most ${MAX_NAME} characters`);
    if (seen.has(s)) reject(where, `${name}[${i}]`, s, `distinct from the names before it (${show(s)} appears twice)`);
    seen.add(s);
  });
  return [...v];
}

/** Plain JSON data (null, booleans, finite numbers, strings, arrays, plain objects), copied. */
function jsonData(where: string, name: string, v: unknown, depth = 0): unknown {
  if (depth > 16) reject(where, name, v, 'JSON data nested at most 16 deep');
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return checkNum(where, name, v, () => true, 'a finite number');
  if (Array.isArray(v)) return v.map((x, i) => jsonData(where, `${name}[${i}]`, x, depth + 1));
  if (isObj(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: jsonData(where, `${name}.${k}`, x, depth + 1), enumerable: true, writable: true });
    return out;
  }
  reject(where, name, v, 'JSON data (null, a boolean, a finite number, a string, an array or a plain object)');
}

/** Deep-freezes plain data (the read-only view model.metadata gives). */
function freeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) freeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * Checks metadata and returns a frozen copy. With `sizes`, feature and class counts are checked
 * against the model: features.length = inputs; classes.length = outputs (2 for a 1-output model);
 * a target list has one name per output. Throws ConfigError (ShapeError for a count) naming the field.
 */
export function checkMetadata(where: string, m: unknown, sizes?: { inputs: number; outputs: number }): ModelMetadata {
  if (!isObj(m)) reject(where, 'metadata', m, 'an object with features, target, classes, input or split');
  const f = `${where}: metadata`;
  unknownKeys(f, m, KEYS);
  const out: ModelMetadata = {};
  if (m.features !== undefined) out.features = names(f, 'features', m.features);
  if (m.target !== undefined) {
    if (typeof m.target === 'string') {
      if (m.target.length === 0 || m.target.length > MAX_NAME) reject(f, 'target', m.target, `a non-empty string of at most ${MAX_NAME} characters, or an array of them`);
      out.target = m.target;
    } else out.target = names(f, 'target', m.target);
  }
  if (m.classes !== undefined) out.classes = names(f, 'classes', m.classes);
  if (m.input !== undefined) {
    if (!isObj(m.input)) reject(f, 'input', m.input, `an object { kind: ${INPUT_KINDS.map((k) => `'${k}'`).join(' | ')}, … }`);
    checkOneOf(f, 'input.kind', m.input.kind, INPUT_KINDS);
    const input = jsonData(f, 'input', m.input) as ModelMetadata['input'];
    if (JSON.stringify(input).length > MAX_INPUT_JSON) reject(f, 'input', m.input, `at most ${MAX_INPUT_JSON} characters of JSON`);
    out.input = input;
  }
  if (m.split !== undefined) {
    const s = m.split;
    if (!isObj(s)) reject(f, 'split', s, '{ seed, validation, test, stratified }');
    unknownKeys(`${f}.split`, s, SPLIT_KEYS);
    for (const k of SPLIT_KEYS) if (s[k] === undefined) reject(f, `split.${k}`, undefined, 'given (split needs seed, validation, test and stratified)');
    const seed = checkInt(f, 'split.seed', s.seed, 0, 0xffffffff);
    const validation = checkNum(f, 'split.validation', s.validation, (x) => x >= 0 && x < 1, 'in [0, 1)');
    const test = checkNum(f, 'split.test', s.test, (x) => x >= 0 && x < 1, 'in [0, 1)');
    if (validation + test >= 1) reject(f, 'split.validation + split.test', validation + test, 'less than 1 (some rows must be left to train on)');
    out.split = { seed, validation, test, stratified: checkBool(f, 'split.stratified', s.stratified) };
  }
  if (sizes) {
    if (out.features && out.features.length !== sizes.inputs) {
      throw new ShapeError(`${f}: features has ${out.features.length} names; the model has ${sizes.inputs} inputs`);
    }
    const want = sizes.outputs === 1 ? 2 : sizes.outputs;
    if (out.classes && out.classes.length !== want) {
      throw new ShapeError(`${f}: classes has ${out.classes.length} names; the model has ${sizes.outputs} outputs`
        + `${sizes.outputs === 1 ? ' (a 1-output model takes 2 names: negative, positive)' : ''}`);
    }
    if (Array.isArray(out.target) && out.target.length !== sizes.outputs) {
      throw new ShapeError(`${f}: target has ${out.target.length} names; the model has ${sizes.outputs} outputs (give one name per output, or one string)`);
    }
  }
  if (out.classes && Array.isArray(out.target)) throw new ConfigError(`${f}: target is a list of ${out.target.length} names with classes; a classifier has one label column (a string)`);
  return freeze(out);
}
