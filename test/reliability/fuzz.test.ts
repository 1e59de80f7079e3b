// Property-based fuzzing (fast-check) of every loader: the native model file (byte and header-JSON
// mutations), IDX, CSV and TF.js model.json + weights. Each run must either load or throw the
// loader's documented error class (ModelFormatError / DataFormatError) — never a TypeError,
// RangeError or a crash. Counts are fixed and seeded so CI runs are reproducible; the total is
// printed. Failing inputs found while writing this became the regression tests at the bottom.
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { parseCsv } from '../../src/io/csv.js';
import { parseIdx } from '../../src/io/idx.js';
import { loadModelSync } from '../../src/io/model-file.js';
import { modelToBytes } from '../../src/io/model-bytes.js';
import { importTfjs, tfjsArtifacts } from '../../src/io/tfjs.js';

const SEED = 20261123;
let total = 0;
afterAll(() => console.log(`fuzz: ${total} cases in all`));

const engine = new nn.Engine();
const model = nn.sequential({ inputShape: [3], seed: 3, engine }, [nn.dense(4, { activation: 'relu' }), nn.layerNorm(), nn.dense(2)]);
model.compile({ loss: 'mse', optimizer: nn.adam() });
afterAll(() => model.dispose());

/** A byte mutation: overwrite, insert, delete or truncate at a position scaled to the input. */
const byteEdit = fc.record({ kind: fc.constantFrom('set', 'insert', 'delete', 'truncate'), at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.nat(255) });
function applyBytes(src: Uint8Array, edits: { kind: string; at: number; byte: number }[]): Uint8Array {
  let b = Array.from(src);
  for (const e of edits) {
    const i = Math.min(b.length, Math.floor(e.at * (b.length + 1)));
    if (e.kind === 'set' && i < b.length) b[i] = e.byte;
    else if (e.kind === 'insert') b.splice(i, 0, e.byte);
    else if (e.kind === 'delete') b.splice(i, 1);
    else if (e.kind === 'truncate') b = b.slice(0, i);
  }
  return Uint8Array.from(b);
}

/** Values a hostile writer would try. */
const nasty = fc.oneof(
  fc.constantFrom(null, true, -1, 0, 0.5, 2 ** 32 - 1, 2 ** 53, 1e308, -0, '', '__proto__', 'constructor', '../x', '/etc/passwd', 'F16', 'NaN', [], {}, [0], [-1, 1], [2 ** 31, 2 ** 31]),
  fc.anything({ maxDepth: 2, maxKeys: 3 }),
);
/** All paths (arrays of keys) in a JSON value. */
function paths(v: unknown, pre: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(pre);
  if (v && typeof v === 'object') for (const k of Object.keys(v)) paths((v as any)[k], [...pre, Array.isArray(v) ? Number(k) : k], out);
  return out;
}
/** Replaces (or deletes, or adds a sibling key to) the value at one path of a deep copy. */
const jsonEdit = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), op: fc.constantFrom('replace', 'delete', 'add'), key: fc.constantFrom('__proto__', 'constructor', 'x', 'name', 'shape'), value: nasty });
function applyJson(src: unknown, edits: { at: number; op: string; key: string; value: unknown }[]): unknown {
  let root = JSON.parse(JSON.stringify(src));
  for (const e of edits) {
    const ps = paths(root);
    const p = ps[Math.min(ps.length - 1, Math.floor(e.at * ps.length))];
    if (p.length === 0) { if (e.op === 'replace') root = e.value; continue; }
    let parent = root;
    for (const k of p.slice(0, -1)) parent = parent[k];
    const last = p[p.length - 1];
    if (e.op === 'replace') parent[last] = e.value;
    else if (e.op === 'delete') Array.isArray(parent) ? parent.splice(last as number, 1) : delete parent[last];
    else if (parent[last] && typeof parent[last] === 'object' && !Array.isArray(parent[last])) Object.defineProperty(parent[last], e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

/** Runs fn, asserting it returns or throws one of the allowed classes; returns whether it threw. */
function only(allowed: (new (...a: never[]) => Error)[], fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!allowed.some((c) => e instanceof c)) throw new Error(`unexpected ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  }
}

const valid = modelToBytes(model, { includeOptimizer: true });
const hlen = Number(new DataView(valid.buffer, valid.byteOffset).getBigUint64(0, true));
const header = JSON.parse(new TextDecoder().decode(valid.subarray(8, 8 + hlen)));
const data = valid.subarray(8 + hlen);
function withHeader(h: unknown): Uint8Array {
  const j = new TextEncoder().encode(JSON.stringify(h) ?? 'undefined');
  const out = new Uint8Array(8 + j.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(j.length), true);
  out.set(j, 8); out.set(data, 8 + j.length);
  return out;
}

describe('fuzz: loaders throw only their documented errors', () => {
  it('.simdnn byte mutations (3000 cases)', () => {
    fc.assert(fc.property(fc.array(byteEdit, { minLength: 1, maxLength: 6 }), (edits) => {
      total++;
      only([nn.ModelFormatError], () => loadModelSync(applyBytes(valid, edits), { engine }).dispose());
    }), { numRuns: 3000, seed: SEED });
    expect(engine.liveAllocations).toBeLessThanOrEqual(model.paramRefs.length + 20);
  });

  it('.simdnn header JSON mutations (3000 cases)', () => {
    const live = engine.liveAllocations;
    fc.assert(fc.property(fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), (edits) => {
      total++;
      only([nn.ModelFormatError], () => loadModelSync(withHeader(applyJson(header, edits)), { engine }).dispose());
    }), { numRuns: 3000, seed: SEED });
    // Metadata mutations reach layer and optimizer construction; a refused file leaks nothing.
    expect(engine.liveAllocations).toBe(live);
  });

  it('.simdnn metadata (architecture/compile/optimizer JSON) mutations (2000 cases)', () => {
    const live = engine.liveAllocations;
    const meta = header.__metadata__;
    const fields = ['architecture', 'compile', 'optimizer'] as const;
    fc.assert(fc.property(fc.constantFrom(...fields), fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), (f, edits) => {
      total++;
      const v = applyJson(JSON.parse(meta[f]), edits);
      only([nn.ModelFormatError], () => loadModelSync(withHeader({ ...header, __metadata__: { ...meta, [f]: JSON.stringify(v) ?? '' } }), { engine }).dispose());
    }), { numRuns: 2000, seed: SEED });
    expect(engine.liveAllocations).toBe(live);
  });

  it('IDX byte mutations, raw and gzipped (2000 cases)', () => {
    const idx = new Uint8Array([0, 0, 0x0d, 2, 0, 0, 0, 2, 0, 0, 0, 3, ...new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer).reverse()]);
    fc.assert(fc.property(fc.array(byteEdit, { minLength: 1, maxLength: 6 }), fc.boolean(), (edits, gz) => {
      total++;
      const b = applyBytes(idx, edits);
      only([nn.DataFormatError], () => parseIdx(gz ? gzipSync(b) : b));
      if (gz) only([nn.DataFormatError], () => parseIdx(applyBytes(gzipSync(idx), edits)));
    }), { numRuns: 2000, seed: SEED });
  });

  it('CSV text mutations (2000 cases)', () => {
    const csv = '\ufeffa,b,"c"\r\n1,2.5,-3\n4,"5",6e2\n';
    const chunk = fc.constantFrom('"', ',', '\n', '\r', '""', 'NaN', 'inf', '', ' ', '\ufeff', '1e999', '-', 'x', '0');
    const edit = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), del: fc.nat(3), ins: fc.oneof(chunk, fc.string({ maxLength: 4 })) });
    fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 5 }), fc.constantFrom<'error' | 'mean'>('error', 'mean'), (edits, missing) => {
      total++;
      let t = csv;
      for (const e of edits) {
        const i = Math.floor(e.at * (t.length + 1));
        t = t.slice(0, i) + e.ins + t.slice(i + e.del);
      }
      only([nn.DataFormatError], () => {
        const r = parseCsv(t, 'f.csv', { missing });
        // What parses is all finite: no NaN or ∞ slips through.
        if (!r.data.every(Number.isFinite)) throw new Error(`non-finite value accepted from ${JSON.stringify(t)}`);
      });
    }), { numRuns: 2000, seed: SEED });
  });

  it('TF.js model.json and weights mutations (1500 cases)', async () => {
    const tfjsModel = nn.sequential({ inputShape: [3], seed: 5, engine }, [nn.dense(4, { activation: 'relu', name: 'd1' }), nn.batchNorm({ name: 'bn' }), nn.dense(2, { name: 'd2' })]);
    const a = tfjsArtifacts(tfjsModel);
    tfjsModel.dispose();
    const live = engine.liveAllocations;
    await fc.assert(fc.asyncProperty(fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), fc.option(fc.array(byteEdit, { maxLength: 3 })), async (edits, wEdits) => {
      total++;
      const modelJson = applyJson(a.modelJson, edits);
      const weights = wEdits ? applyBytes(a.weights, wEdits) : a.weights;
      try {
        (await importTfjs({ modelJson, weights }, { engine })).dispose();
      } catch (e) {
        const ok = e instanceof nn.ModelFormatError || (e instanceof nn.ConfigError && /modelJson is/.test(e.message));
        if (!ok) throw new Error(`unexpected ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      }
    }), { numRuns: 1500, seed: SEED });
    expect(engine.liveAllocations).toBe(live);
  });
});
