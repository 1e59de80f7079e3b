// Hostile `.simdnn` files (DESIGN §10): every truncation, seeded bit flips, lying header lengths,
// entry floods, bad offsets, overflowing shapes, unknown dtypes, prototype keys, metadata that
// does not match the tensors. Each must give a ModelFormatError naming the field — never a
// TypeError/RangeError — and must not grow wasm memory beyond what the file can describe.
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES, MAX_TENSORS } from '../../src/io/safetensors.js';
import { loadModelSync } from '../../src/io/model-file.js';
import { modelToBytes } from '../../src/io/model-bytes.js';
import { rng } from '../util/rng.js';

const engine = new nn.Engine();
const models: nn.Sequential[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

function small(): nn.Sequential {
  const m = nn.sequential({ inputShape: [3], seed: 7, engine }, [nn.dense(4, { activation: 'relu' }), nn.dense(2)]);
  m.compile({ loss: 'mse', optimizer: nn.adam({ lr: 0.01 }) });
  models.push(m);
  return m;
}
const valid = modelToBytes(small(), { includeOptimizer: true });

/** The header JSON and data section of a valid file, for surgical edits. */
function split(b: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))), data: b.subarray(8 + n) };
}
function join(header: unknown, data: Uint8Array, lenOverride?: bigint): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lenOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Loads, expecting a ModelFormatError whose message matches `field`; checks wasm memory stays bounded. */
function expectRefused(bytes: Uint8Array, field?: RegExp): nn.ModelFormatError {
  const before = engine.memoryBytes, liveBefore = engine.liveAllocations;
  let err: unknown;
  try {
    const m = loadModelSync(bytes, { engine });
    m.dispose();
  } catch (e) {
    err = e;
  }
  expect(err, 'the loader accepted a hostile file').toBeInstanceOf(nn.ModelFormatError);
  if (field) expect((err as Error).message).toMatch(field);
  // Nothing leaked in the arena; memory grew by at most the file size plus a small constant.
  expect(engine.liveAllocations).toBe(liveBefore);
  expect(engine.memoryBytes - before).toBeLessThanOrEqual(bytes.length + (1 << 20));
  return err as nn.ModelFormatError;
}

describe('hostile .simdnn files', () => {
  it('the valid file loads (the mutations below start from a good file)', () => {
    const m = loadModelSync(valid, { engine });
    expect(m.paramRefs.length).toBe(4);
    m.dispose();
  });

  it('every truncation length is refused with ModelFormatError', () => {
    for (let len = 0; len < valid.length; len++) expectRefused(valid.subarray(0, len));
  });

  it('seeded random bit flips never give anything but a clean load or ModelFormatError', () => {
    const r = rng(20261123);
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const b = valid.slice();
      const flips = 1 + Math.floor(r() * 3);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(r() * b.length);
        b[at] ^= 1 << Math.floor(r() * 8);
      }
      try {
        loadModelSync(b, { engine }).dispose();
      } catch (e) {
        expect(e, `flip case ${i}: ${(e as Error).message}`).toBeInstanceOf(nn.ModelFormatError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('header length larger than the file', () => {
    const { header, data } = split(valid);
    expectRefused(join(header, data, BigInt(valid.length - 7)), /header length/);
    expectRefused(join(header, data, 2n ** 64n - 1n), /header length/);
  });

  it('header over the size cap (without reading it)', () => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    expectRefused(b, /header length.*cap/);
  });

  it('10⁶ header entries are refused by the entry cap', () => {
    const h: Record<string, unknown> = {};
    for (let i = 0; i < 1_000_000; i++) h['t' + i] = 0;
    const b = join(h, new Uint8Array(0));
    expect(b.length).toBeLessThan(MAX_HEADER_BYTES);
    expectRefused(b, new RegExp(`cap of ${MAX_TENSORS}`));
  });

  it('overlapping, gapped and out-of-range data offsets', () => {
    const { header, data } = split(valid);
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    const [a, b] = names.map((n) => header[n]).sort((x, y) => x.data_offsets[0] - y.data_offsets[0]);
    // Edits a deep copy, so each case starts from the valid header.
    const edit = (fn: (a: any, b: any) => void) => {
      const h = JSON.parse(JSON.stringify(header));
      const [ca, cb] = names.map((n) => h[n]).sort((x: any, y: any) => x.data_offsets[0] - y.data_offsets[0]);
      fn(ca, cb);
      return join(h, data);
    };
    // Overlap: b starts 4 bytes into a (keeping its length).
    expectRefused(edit((a, b) => { const len = b.data_offsets[1] - b.data_offsets[0]; b.data_offsets = [a.data_offsets[1] - 4, a.data_offsets[1] - 4 + len]; }), /data_offsets|data:/);
    // Gap: data has extra bytes between a and b.
    const gapped = new Uint8Array(data.length + 4);
    gapped.set(data.subarray(0, a.data_offsets[1]));
    gapped.set(data.subarray(a.data_offsets[1]), a.data_offsets[1] + 4);
    expectRefused(join(JSON.parse(JSON.stringify(header, (k, v) => (k === 'data_offsets' && v[0] >= a.data_offsets[1] ? [v[0] + 4, v[1] + 4] : v))), gapped), /gap|data_offsets/);
    // Out of range, negative, fractional, unsafe, wrong arity.
    for (const off of [[0, data.length + 4], [-4, 0], [0.5, 4.5], [2 ** 53, 2 ** 53 + 4], [0], 'x', null]) {
      expectRefused(edit((a) => { a.data_offsets = off; }), /data_offsets/);
    }
    // Trailing bytes not described by the header.
    expectRefused(join(header, new Uint8Array([...data, 0, 0, 0, 0])), /data|data_offsets|shape/);
  });

  it('a shape whose element product overflows 2⁵³ or exceeds the bytes', () => {
    const { header, data } = split(valid);
    const name = Object.keys(header).find((k) => k !== '__metadata__')!;
    for (const shape of [[2 ** 31, 2 ** 31, 2 ** 31], [2 ** 53], [1e6, 1e6], [data.length], [-1], [1.5], ['4'], [1, 2, 3, 4, 5, 6, 7, 8, 9], 'abc']) {
      const h = { ...header, [name]: { ...header[name], shape } };
      expectRefused(join(h, data), /shape/);
    }
  });

  it('unknown dtype', () => {
    const { header, data } = split(valid);
    const name = Object.keys(header).find((k) => k !== '__metadata__')!;
    for (const dtype of ['F16', 'I64', 'BF16', '', null, 7]) {
      expectRefused(join({ ...header, [name]: { ...header[name], dtype } }, data), /dtype/);
    }
  });

  it('__proto__ and constructor keys do not pollute prototypes', () => {
    const { header, data } = split(valid);
    for (const key of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty']) {
      const raw = JSON.stringify(header).replace(/^\{/, `{${JSON.stringify(key)}:{"dtype":"F32","shape":[0],"data_offsets":[0,0],"polluted":1},`);
      const h = new TextEncoder().encode(raw);
      const b = new Uint8Array(8 + h.length + data.length);
      new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
      b.set(h, 8); b.set(data, 8 + h.length);
      expectRefused(b, new RegExp(key));
      // Metadata keys too.
      const meta = JSON.stringify(header).replace('"__metadata__":{', `"__metadata__":{${JSON.stringify(key)}:{"polluted":1},`);
      expectRefused(join(JSON.parse(meta), data), /__metadata__/);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('metadata naming unknown layers or wrong parameter shapes', () => {
    const { header, data } = split(valid);
    const meta = header.__metadata__;
    const arch = JSON.parse(meta.architecture);
    const withArch = (a: unknown) => join({ ...header, __metadata__: { ...meta, architecture: JSON.stringify(a) } }, data);
    expectRefused(withArch({ ...arch, layers: [{ type: 'eval', code: 'process.exit(1)' }] }), /type.*unknown layer type/);
    expectRefused(withArch({ ...arch, layers: [{ ...arch.layers[0], units: 5 }, arch.layers[1]] }), /parameter values; at most 26/);
    // Same byte count, wrong parameter shape: kernel [3, 4] declared as [4, 3] in the header.
    const kernel = Object.keys(header).find((k) => /dense_1\/kernel$/.test(k))!;
    expectRefused(join({ ...header, [kernel]: { ...header[kernel], shape: [4, 3] } }, data), /dense_1\/kernel.*shape/);
    expectRefused(withArch({ ...arch, layers: [arch.layers[0], { ...arch.layers[1], name: 'other' }] }), /"other\/kernel": missing/);
    expectRefused(withArch({ ...arch, layers: [arch.layers[0]] }), /not a parameter|needs/);
    expectRefused(withArch({ ...arch, inputShape: [-3] }), /architecture/);
    expectRefused(withArch({ ...arch, layers: 'dense' }), /architecture\.layers/);
    expectRefused(withArch({ ...arch, layers: [{ ...arch.layers[0], units: 1e9 }, arch.layers[1]] }), /architecture|parameters/);
    expectRefused(withArch({ ...arch, layers: [{ ...arch.layers[0], units: 40000 }, { ...arch.layers[1], units: 40000 }] }), /architecture|parameters/);
    expectRefused(join({ ...header, __metadata__: { ...meta, format: 'pickle' } }, data), /__metadata__\.format/);
    expectRefused(join({ ...header, __metadata__: { ...meta, version: '99' } }, data), /__metadata__\.version/);
    expectRefused(join({ ...header, __metadata__: { ...meta, architecture: '{' } }, data), /__metadata__\.architecture/);
    expectRefused(join({ ...header, __metadata__: { ...meta, epoch: '-1' } }, data), /epoch/);
    expectRefused(join({ ...header, __metadata__: { ...meta, compile: '{"loss":"mse","optimizer":{"name":"evil","config":{}}}' } }, data), /compile|optimizer/);
    expectRefused(join({ ...header, __metadata__: { ...meta, compile: 'null' } }, data), /compile/);
    expectRefused(join({ ...header, __metadata__: { ...meta, optimizer: '{"iterations":-1,"lr":1,"state":[]}' } }, data), /optimizer/);
    expectRefused(join({ ...header, __metadata__: { ...meta, optimizer: 'null' } }, data), /optimizer/);
  });

  it('non-finite weights are refused', () => {
    const { header, data } = split(valid);
    const d = data.slice();
    new DataView(d.buffer).setFloat32(0, NaN, true);
    expectRefused(join(header, d), /non-finite/);
  });

  it('decodeSafetensors on non-bytes input is a ModelFormatError', () => {
    for (const v of [null, 'abc', [1, 2, 3], {}]) expect(() => decodeSafetensors(v as never)).toThrow(nn.ModelFormatError);
    expect(decodeSafetensors(encodeSafetensors([], {})).tensors).toEqual([]);
  });
});
