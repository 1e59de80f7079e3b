// Loading a `.simdnn` file checks all of it before it builds anything: the metadata (epoch,
// compile, optimizer iterations and lr, PRNG state) and the optimizer state (every value finite,
// second moments ≥ 0, no tensor the optimizer does not have). A refusal allocates nothing in the
// engine. Files with 20k and 100k tensors load, or are refused, at the cost of reading them
// (a Map per name, not a scan).
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as nn from '../../src/index.js';
import { loadModelSync } from '../../src/io/model-file.js';
import { modelToBytes } from '../../src/io/model-bytes.js';
import { decodeSafetensors, encodeSafetensors, type StTensor } from '../../src/io/safetensors.js';

const engine = new nn.Engine();
const models: nn.Sequential[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

/** A small model trained 4 steps with opt (so its state holds real, signed values), saved with its optimizer. */
async function trained(opt: nn.Optimizer): Promise<Uint8Array> {
  const m = nn.sequential({ inputShape: [3], seed: 4, engine }, [nn.dense(4, { activation: 'tanh' }), nn.dense(2)]);
  models.push(m);
  m.compile({ loss: 'mse', optimizer: opt });
  const x = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), y = Float32Array.from({ length: 16 }, (_, i) => Math.cos(i));
  await m.fit(x, y, { epochs: 1, batchSize: 2, verbose: false });
  return modelToBytes(m, { includeOptimizer: true });
}

/** The file with its tensors and metadata edited. */
function edit(bytes: Uint8Array, f: (t: Map<string, StTensor>, meta: Record<string, string>, all: StTensor[]) => void): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  f(new Map(tensors.map((t) => [t.name, t])), metadata, tensors);
  return encodeSafetensors(tensors, { ...metadata });
}

/** Expects a ModelFormatError matching msg, with not one engine allocation: nothing was built. */
function refusedUnbuilt(bytes: Uint8Array, msg: RegExp): void {
  const alloc = vi.spyOn(engine, 'alloc');
  let err: unknown, calls: number;
  try {
    try { loadModelSync(bytes, { engine }).dispose(); } catch (e) { err = e; }
    calls = alloc.mock.calls.length;
  } finally {
    alloc.mockRestore();
  }
  expect(err, 'the file was accepted').toBeInstanceOf(nn.ModelFormatError);
  expect((err as Error).message).toMatch(msg);
  expect(calls, 'the model was built before the refusal').toBe(0);
}

describe('metadata is checked in full before the model is built', () => {
  let file: Uint8Array;
  it('the unedited file loads', async () => {
    file = await trained(nn.adam({ lr: 0.01 }));
    loadModelSync(file, { engine }).dispose();
  });
  const meta = (k: string, v: string | undefined) => (_t: unknown, m: Record<string, string>) => { if (v === undefined) delete m[k]; else m[k] = v; };
  const json = (k: string, f: (o: any) => void) => (_t: unknown, m: Record<string, string>) => { const o = JSON.parse(m[k]); f(o); m[k] = JSON.stringify(o); };
  it.each([
    ['epoch -1', meta('epoch', '-1'), /__metadata__\.epoch: "-1" must be a non-negative integer/],
    ['epoch 1.5', meta('epoch', '1.5'), /__metadata__\.epoch: "1\.5"/],
    ['an unknown loss', json('compile', (c) => (c.loss = 'hinge')), /__metadata__\.compile: .*loss is "hinge"/],
    ['an unknown optimizer', json('compile', (c) => (c.optimizer.name = 'lamb')), /__metadata__\.compile: .*optimizer is "lamb"; it must be one of/],
    ['compile lr 1e999', (_t: unknown, m: Record<string, string>) => { m.compile = m.compile.replace('"lr":0.01', '"lr":1e999'); }, /__metadata__\.compile: Adam: lr is Infinity; it must be > 0 \(or a schedule\)/],
    ['optimizer lr 1e999', (_t: unknown, m: Record<string, string>) => { m.optimizer = m.optimizer.replace(/"lr":[^,}]+/, '"lr":1e999'); }, /__metadata__\.optimizer: iterations 4, lr Infinity; iterations must be an integer ≥ 0 and lr finite and > 0/],
    ['optimizer lr 0', json('optimizer', (o) => (o.lr = 0)), /lr 0; iterations must be an integer ≥ 0 and lr finite and > 0/],
    ['iterations -1', json('optimizer', (o) => (o.iterations = -1)), /iterations -1, lr/],
    ['iterations 2.5', json('optimizer', (o) => (o.iterations = 2.5)), /iterations 2\.5, lr/],
    ['state names of another optimizer', json('optimizer', (o) => (o.state = ['sgd.v'])), /__metadata__\.optimizer\.state: \["sgd\.v"\] does not match \["adam\.m","adam\.v"\] of adam/],
    ['an rng of zeros', meta('rng', '[0,0,0,0]'), /__metadata__\.rng: \[0,0,0,0\]; it must be 4 integers/],
    ['optimizer state without compile', meta('compile', undefined), /__metadata__\.optimizer: present without __metadata__\.compile/],
  ])('%s', (_what, f, msg) => refusedUnbuilt(edit(file, f), msg));
});

describe('optimizer state: finite, second moments ≥ 0, nothing stray', () => {
  // Each optimizer's state after 4 real steps loads: first moments may be negative.
  const OPTS: [string, () => nn.Optimizer, string[]][] = [
    ['adam', () => nn.adam(), ['adam.m', 'adam.v']],
    ['adam amsgrad', () => nn.adam({ amsgrad: true }), ['adam.m', 'adam.v', 'adam.vmax']],
    ['rmsprop centered, momentum', () => nn.rmsprop({ centered: true, momentum: 0.9 }), ['rmsprop.ms', 'rmsprop.mom', 'rmsprop.mg']],
    ['adagrad', () => nn.adagrad(), ['adagrad.acc']],
    ['adadelta', () => nn.adadelta(), ['adadelta.accGrad', 'adadelta.accDelta']],
    ['adamax', () => nn.adamax(), ['adamax.m', 'adamax.u']],
    ['sgd momentum', () => nn.sgd({ momentum: 0.9 }), ['sgd.v']],
  ];
  const SECOND = new Set(['adam.v', 'adam.vmax', 'rmsprop.ms', 'adagrad.acc', 'adadelta.accGrad', 'adadelta.accDelta', 'adamax.u']);
  it.each(OPTS)('%s › the trained state loads, and each state tensor refuses NaN, ±Infinity and (second moments) -1', async (_what, make, states) => {
    const file = await trained(make());
    const m = loadModelSync(file, { engine });
    expect(m.optimizer!.stateTensors().map((s) => s.name)).toEqual(states);
    m.dispose();
    for (const s of states) {
      const bad = SECOND.has(s) ? [NaN, Infinity, -1] : [NaN, -Infinity];
      for (const v of bad) {
        const rule = SECOND.has(s) ? 'a second moment must be finite and ≥ 0' : 'every value must be finite';
        refusedUnbuilt(edit(file, (t) => (t.get(`optimizer/${s}`)!.data[5] = v)), new RegExp(`tensor "optimizer/${s.replace('.', '\\.')}": holds .*${String(v)}.* at \\[5\\]\\)?; ${rule}`));
      }
    }
  });

  it('a stray optimizer/* tensor (not in the optimizer\'s state) is refused', async () => {
    const file = await trained(nn.adam());
    const stray = edit(file, (_t, _m, all) => all.push({ name: 'optimizer/adam.x', dtype: 'F32', shape: [2], data: new Float32Array(2) }));
    refusedUnbuilt(stray, /tensor "optimizer\/adam\.x": not a state of the file's optimizer; its state tensors are \["optimizer\/adam\.m","optimizer\/adam\.v"\]/);
    const noOpt = edit(await trained(nn.sgd()), (_t, _m, all) => all.push({ name: 'optimizer/sgd.v', dtype: 'F32', shape: [2], data: new Float32Array(2) }));
    refusedUnbuilt(noOpt, /tensor "optimizer\/sgd\.v": not a state of the file's optimizer/);
  });

  it('a state tensor named in the metadata but absent is refused', async () => {
    const file = await trained(nn.adam());
    const i = (all: StTensor[]) => all.findIndex((t) => t.name === 'optimizer/adam.v');
    refusedUnbuilt(edit(file, (_t, _m, all) => all.splice(i(all), 1)), /tensor "optimizer\/adam\.v": missing from the file/);
  });
});

describe('many tensors', () => {
  /** A file of `layers` dense(1) layers (2 tensors each), written directly. */
  function wide(layers: number, meta: Record<string, string> = {}): Uint8Array {
    const arch = { name: 'wide', inputShape: [1], seed: 0, layers: Array.from({ length: layers }, (_, i) => ({ type: 'dense', name: `d${i}`, units: 1, activation: 'identity', init: 'glorotUniform', biasInit: 'zeros', useBias: true })) };
    const tensors = Array.from({ length: layers }, (_, i) => [
      { name: `d${i}/kernel`, shape: [1, 1], data: new Float32Array([1 + i / layers]) },
      { name: `d${i}/bias`, shape: [1], data: new Float32Array([i / layers]) },
    ]).flat();
    return encodeSafetensors(tensors, { format: 'simdnn', version: '1', architecture: JSON.stringify(arch), epoch: '3', ...meta });
  }

  it('100k tensors with a bad rng (the last metadata checked) are refused before anything is built', () => {
    refusedUnbuilt(wide(50_000, { compile: JSON.stringify({ loss: 'mse', metrics: [], optimizer: { name: 'adam', config: {} } }), optimizer: JSON.stringify({ iterations: 1, lr: 1e-3, state: ['adam.m', 'adam.v'] }), rng: '[1,2]' }),
      /__metadata__\.rng: \[1,2\]; it must be 4 integers/);
  });

  it('a 20k-tensor model loads with its weights', () => {
    const m = loadModelSync(wide(10_000), { engine });
    models.push(m);
    expect(m.paramRefs.length).toBe(20_000);
    expect(m.epoch).toBe(3);
    const w = m.getWeights();
    expect(w.get('d9999/kernel')![0]).toBeCloseTo(1 + 9999 / 10_000, 6);
    expect(w.get('d5000/bias')![0]).toBeCloseTo(0.5, 6);
  });
});
