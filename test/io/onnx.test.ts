// ONNX export: every layer and activation, run in onnxruntime-web (wasm backend), against model.predict.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { exportOnnx, onnxBytes, ONNX_OPSET } from '../../src/io/onnx.js';
import type { Layer } from '../../src/layers/layer.js';
import { assertClose } from '../util/close.js';
import { rng, uniform } from '../util/rng.js';

// float32 graphs computed in a different order: |onnx − simdnn| ≤ 1e-4 + 1e-4·|simdnn|.
const ATOL = 1e-4, RTOL = 1e-4;
const dir = mkdtempSync(join(tmpdir(), 'simdnn-onnx-'));
const models: nn.Sequential[] = [];
const model = (inputShape: number[], layers: Layer[], seed = 1) => {
  const m = nn.sequential({ inputShape, seed }, layers);
  models.push(m);
  return m;
};

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});
afterAll(() => models.forEach((m) => m.dispose()));

/** Runs the exported model in onnxruntime on rows of x (shape [n, ...inputShape]) and returns the output. */
async function runOnnx(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const r = await session.run({ input: new ort.Tensor('float32', x, shape) });
    return { data: r.output.data as Float32Array, dims: r.output.dims };
  } finally {
    await session.release();
  }
}

/** Exports m, runs n rows through onnxruntime and simdnn, and compares. */
async function agree(m: nn.Sequential, n: number, what: string, scale = 3): Promise<void> {
  const x = uniform(rng(n + 7), n * m.inputSize, -scale, scale);
  const { data, dims } = await runOnnx(await onnxBytes(m), x, [n, ...m.inputShape]);
  expect(dims).toEqual([n, m.outputSize]);
  assertClose(data, m.predict(nn.tensor(x, [n, ...m.inputShape])).data, ATOL, RTOL, what);
}

const ACTIVATIONS = ['identity', 'relu', 'sigmoid', 'tanh', 'leakyRelu', 'elu', 'selu', 'softplus', 'gelu', 'geluErf', 'softmax', 'logSoftmax'] as const;
const ALPHA: Partial<Record<string, number>> = { leakyRelu: 0.2, elu: 0.7 };

describe('exportOnnx › onnxruntime-web agrees with model.predict', () => {
  it.each(ACTIVATIONS)('activation %s, fused into dense and as its own layer', async (a) => {
    const alpha = ALPHA[a];
    const m = model([5], [nn.dense(7, { activation: a, alpha }), nn.dense(6), nn.activation(a, { alpha }), nn.dense(3)]);
    await agree(m, 9, a);
  });

  it('a trained model with batch norm (running statistics), PReLU, dropout, a residual block with layer norm', async () => {
    const m = model([6], [
      nn.dense(8, { activation: 'tanh' }), nn.batchNorm({ momentum: 0.5 }), nn.prelu(), nn.dropout(0.3),
      nn.residual([nn.dense(8, { activation: 'elu' }), nn.layerNorm(), nn.dropout(0.1)]),
      nn.dense(4, { activation: 'logSoftmax' }),
    ], 3);
    const r = rng(11), n = 64;
    const x = uniform(r, n * 6, -2, 2);
    const y = Int32Array.from({ length: n }, (_, i) => (x[i * 6] > 0 ? 1 : 0) + (x[i * 6 + 1] > 0 ? 2 : 0));
    m.compile({ loss: 'nll', optimizer: nn.adam({ lr: 0.05 }) });
    await m.fit(x, y, { epochs: 3, batchSize: 16 });
    // The state the export must carry is non-trivial: running statistics moved, slopes and γ learned.
    const w = m.getWeights();
    expect(w.get('batchNorm_1/movingMean')!.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    expect(w.get('batchNorm_1/movingVariance')!.some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
    expect(new Set(w.get('prelu_1/alpha')).size).toBeGreaterThan(1);
    expect(w.get('layerNorm_1/gamma')!.some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
    await agree(m, 13, 'trained model', 2);
  });

  it('dense without bias, a constant-1 scalar shared by two GELUs, batch sizes 1 and 33', async () => {
    const m = model([4], [nn.dense(5, { useBias: false, activation: 'gelu' }), nn.dense(5, { activation: 'gelu' }), nn.dense(2, { useBias: false })]);
    await agree(m, 1, 'batch 1');
    await agree(m, 33, 'batch 33');
  });

  it('a model that computes the identity still names its output: an Identity node from input', async () => {
    const m = model([3], [nn.activation('identity')]);
    await agree(m, 4, 'identity model');
  });

  it('inputs of rank > 1 are flattened: input [batch, 2, 3]', async () => {
    const m = model([2, 3], [nn.dense(4, { activation: 'relu' }), nn.dense(2)]);
    await agree(m, 5, 'rank-3 input');
  });

  it('extreme pre-activations: softplus, sigmoid, selu, elu and both GELUs at ±30', async () => {
    for (const a of ['softplus', 'sigmoid', 'selu', 'elu', 'gelu', 'geluErf'] as const) {
      const m = model([3], [nn.activation(a)]);
      await agree(m, 8, `${a} ±30`, 30);
    }
  });

  it('exportOnnx writes the same bytes to a file that onnxruntime loads', async () => {
    const m = model([3], [nn.dense(2, { activation: 'sigmoid' })]);
    const path = join(dir, 'm.onnx');
    await exportOnnx(m, path);
    const file = new Uint8Array(readFileSync(path));
    expect(file).toEqual(await onnxBytes(m));
    const x = Float32Array.from([0.5, -1, 2]);
    assertClose((await runOnnx(file, x, [1, 3])).data, m.predict(nn.tensor(x, [1, 3])).data, ATOL, RTOL, 'file');
  });
});

describe('exportOnnx › the file', () => {
  // onnxruntime-web's own protobufjs decoder for onnx.proto: independent of the exporter's schema.
  const { onnx } = createRequire(import.meta.url)(new URL('../../node_modules/onnxruntime-web/lib/onnxjs/ort-schema/protobuf/onnx.js', import.meta.url).pathname);

  it('a tiny model decodes to opset 17, Gemm + Relu, named input/output with a dynamic batch, weights as initializers', async () => {
    const m = model([3], [nn.dense(2, { activation: 'relu' })]);
    const p = onnx.ModelProto.decode(await onnxBytes(m));
    expect(Number(p.irVersion)).toBe(8);
    expect(p.opsetImport.map((o: { domain: string; version: unknown }) => [o.domain, Number(o.version)])).toEqual([['', ONNX_OPSET]]);
    expect(ONNX_OPSET).toBe(17);
    const g = p.graph;
    expect(g.node.map((n: { opType: string }) => n.opType)).toEqual(['Gemm', 'Relu']);
    expect(g.node[0].input).toEqual(['input', 'dense_1/kernel', 'dense_1/bias']);
    expect(g.node[1].output).toEqual(['output']);
    const dims = (v: { type: { tensorType: { elemType: number; shape: { dim: { dimParam: string; dimValue: unknown }[] } } } }) =>
      v.type.tensorType.shape.dim.map((d) => d.dimParam || Number(d.dimValue));
    expect(g.input.map((v: { name: string }) => v.name)).toEqual(['input']);
    expect(dims(g.input[0])).toEqual(['batch', 3]);
    expect(g.input[0].type.tensorType.elemType).toBe(1);
    expect(dims(g.output[0])).toEqual(['batch', 2]);
    const init = new Map(g.initializer.map((t: { name: string }) => [t.name, t]));
    const kernel = init.get('dense_1/kernel') as { dims: unknown[]; dataType: number; rawData: Uint8Array };
    expect(kernel.dims.map(Number)).toEqual([3, 2]);
    expect(kernel.dataType).toBe(1);
    const raw = kernel.rawData;
    expect(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))).toEqual(m.getWeights().get('dense_1/kernel'));
  });

  it('dropout is Identity, batch norm BatchNormalization with ε, layer norm LayerNormalization, residual Add, GELU composed with Erf', async () => {
    const m = model([3], [nn.dropout(0.5), nn.batchNorm({ eps: 0.01 }), nn.residual([nn.layerNorm()]), nn.activation('geluErf')]);
    const g = onnx.ModelProto.decode(await onnxBytes(m)).graph;
    const ops = g.node.map((n: { opType: string }) => n.opType);
    expect(ops.slice(0, 4)).toEqual(['Identity', 'BatchNormalization', 'LayerNormalization', 'Add']);
    expect(ops).toContain('Erf');
    const bn = g.node[1];
    expect(bn.input.slice(1)).toEqual(['batchNorm_1/gamma', 'batchNorm_1/beta', 'batchNorm_1/movingMean', 'batchNorm_1/movingVariance']);
    expect(bn.attribute[0].name).toBe('epsilon');
    expect(bn.attribute[0].f).toBeCloseTo(0.01, 7);
    expect(g.node[3].input).toEqual([g.node[1].output[0], g.node[2].output[0]]);
  });

  it('loading simdnn does not load protobufjs; exporting does', () => {
    const script = `
      import { createRequire } from 'node:module';
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).some((k) => k.includes('/node_modules/protobufjs/'));
      const nn = await import(${JSON.stringify(new URL('../../build/src/index.js', import.meta.url).pathname)});
      const before = loaded();
      const m = nn.sequential({ inputShape: [2] }, [nn.dense(1)]);
      await nn.io.onnxBytes(m);
      console.log(JSON.stringify({ before, after: loaded() }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ before: false, after: true });
  });
});

describe('exportOnnx › errors', () => {
  it('rejects what is not a model, a bad path, a disposed model and a layer it does not know, before writing', async () => {
    await expect(onnxBytes({} as never)).rejects.toThrow(nn.ConfigError);
    await expect(onnxBytes({} as never)).rejects.toThrow(/onnxBytes: model is \[object Object\]; it must be a model/);
    const m = model([2], [nn.dense(1)]);
    await expect(exportOnnx(m, '')).rejects.toThrow(/exportOnnx: path is ""; it must be a file path/);
    const custom: Layer = {
      type: 'custom', name: 'mine', inputSize: 0, outputSize: 0,
      build: (_b, n) => n, reserve: () => {}, forward: (x) => x, backward: (dy) => dy, activityPenalty: () => 0, params: () => [],
      config: () => ({}), refForward: (x) => x, refBackward: (dy) => ({ dx: dy, grads: new Map() }), dispose: () => {},
    };
    const c = model([2], [nn.dense(2), custom]);
    await expect(exportOnnx(c, join(dir, 'c.onnx'))).rejects.toThrow(/exportOnnx: layer "mine" has type "custom"; ONNX export knows dense/);
    const d = nn.sequential({ inputShape: [2] }, [nn.dense(1)]);
    d.dispose();
    await expect(onnxBytes(d)).rejects.toThrow(/the model was disposed/);
  });
});
