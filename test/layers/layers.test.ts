// Layer construction, summary, validation errors, model files.
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';

describe('layers and models', () => {
  it('summary lists layers, output shapes and parameter counts', () => {
    const m = nn.sequential({ inputShape: [784], seed: 1 }, [
      nn.dense(256, { activation: 'relu', init: 'he' }), nn.dropout(0.2), nn.dense(128, { activation: 'relu' }), nn.batchNorm(), nn.dense(10),
    ]);
    const lines: string[] = [];
    const s = m.summary((l) => lines.push(l));
    expect(s).toMatch(/dense_1 \(dense\)\s+\[null, 256\]\s+200960/);
    expect(s).toMatch(/dropout_1 \(dropout\)\s+\[null, 256\]\s+0/);
    expect(s).toMatch(/batchNorm_1 \(batchNorm\)\s+\[null, 128\]\s+512/);
    expect(s).toMatch(/Total params: 235,658/);
    expect(s).toMatch(/Trainable params: 235,402/);
    expect(s).toMatch(/Non-trainable params: 256/);
    expect(lines.length).toBe(1);
    m.dispose();
  });

  it('initializers: He normal has std √(2/fanIn); Glorot uniform stays within √(6/(fanIn+fanOut)); seeds reproduce', () => {
    const a = nn.sequential({ inputShape: [400], seed: 5 }, [nn.dense(300, { init: 'heNormal' }), nn.dense(200)]);
    const b = nn.sequential({ inputShape: [400], seed: 5 }, [nn.dense(300, { init: 'heNormal' }), nn.dense(200)]);
    const c = nn.sequential({ inputShape: [400], seed: 6 }, [nn.dense(300, { init: 'heNormal' }), nn.dense(200)]);
    const w = a.getWeights().get('dense_1/kernel')!;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(Math.sqrt(2 / 400) * 0.97);
    expect(std).toBeLessThan(Math.sqrt(2 / 400) * 1.03);
    const g = a.getWeights().get('dense_2/kernel')!, lim = Math.sqrt(6 / 500);
    expect(Math.max(...g.map(Math.abs))).toBeLessThanOrEqual(lim);
    expect(Math.max(...g.map(Math.abs))).toBeGreaterThan(lim * 0.99);
    expect(a.getWeights().get('dense_1/bias')!.every((v) => v === 0)).toBe(true);
    expect(a.weightBytes()).toEqual(b.weightBytes());
    expect(a.weightBytes()).not.toEqual(c.weightBytes());
    for (const m of [a, b, c]) m.dispose();
  });

  it.each([
    ['units 0', () => nn.dense(0), /dense: units is 0; it must be an integer/],
    ['fractional units', () => nn.dense(2.5), /units is 2.5/],
    ['unknown activation', () => nn.dense(3, { activation: 'swish' as never }), /activation is "swish"; it must be one of/],
    ['alpha on relu', () => nn.dense(3, { activation: 'relu', alpha: 0.1 }), /takes no parameter/],
    ['unknown option', () => nn.dense(3, { units: 4 } as never), /dense: unknown option "units"/],
    ['unknown init', () => nn.dense(3, { init: 'orthogonal' as never }), /init is "orthogonal"/],
    ['dropout rate 1', () => nn.dropout(1), /dropout: rate is 1; it must be in \[0, 1\)/],
    ['negative l2', () => nn.l2(-1), /l2: l2 is -1; it must be a finite number ≥ 0/],
    ['empty inputShape', () => nn.sequential({ inputShape: [] }, [nn.dense(1)]), /inputShape is \[\]/],
    ['no layers', () => nn.sequential({ inputShape: [2] }, []), /give at least one layer/],
    ['bad seed', () => nn.sequential({ inputShape: [2], seed: -1 }, [nn.dense(1)]), /seed is -1/],
    ['residual changing width', () => nn.sequential({ inputShape: [4] }, [nn.residual([nn.dense(3)])]), /maps 4 features to 3/],
  ])('rejects %s', (_n, f, msg) => {
    expect(f).toThrow(nn.SimdnnError);
    expect(f).toThrow(msg);
  });

  it('rejects bad compile, fit, evaluate and predict arguments before any wasm call', async () => {
    const m = nn.sequential({ inputShape: [2] }, [nn.dense(3)]);
    expect(() => m.compile({ loss: 'hinge', optimizer: 'adam' })).toThrow(/loss is "hinge"/);
    expect(() => m.compile({ loss: 'mse', optimizer: 'adam', metrics: ['accuracy'] })).toThrow(/metric "accuracy" needs a classification loss/);
    await expect(m.fit([[1, 2]], [0])).rejects.toThrow(/not compiled/);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd({ lr: 0.1 }), metrics: ['accuracy'] });
    await expect(m.fit([[1, 2]], [3])).rejects.toThrow(/y\[0\] is 3; labels must be integers in \[0, 3\)/);
    await expect(m.fit([[1, 2, 3]], [0])).rejects.toThrow(/x\[0\] has 3 features, expected 2/);
    await expect(m.fit([[1, 2]], [0], { batchSize: 0 })).rejects.toThrow(/batchSize is 0/);
    await expect(m.fit([[1, 2]], [0], { epochs: 1.5 })).rejects.toThrow(/epochs is 1.5/);
    await expect(m.fit([[1, 2]], [0], { sampling: 'random' as never })).rejects.toThrow(/sampling is "random"/);
    await expect(m.fit([[1, 2]], [0], { shuffle: true } as never)).rejects.toThrow(/unknown option "shuffle"/);
    expect(() => m.predict(Float32Array.from([1, 2, 3]))).toThrow(/3 values, not a multiple of 2/);
    expect(() => m.evaluate([[1, 2]], [0.5])).toThrow(/y\[0\] is 0.5/);
    m.dispose();
    expect(() => m.predict([[1, 2]])).toThrow(/disposed/);
  });

  it('model files: save → load gives the same predictions; the file is safetensors', async () => {
    const m = nn.sequential({ inputShape: [4], seed: 2 }, [nn.dense(6, { activation: 'gelu' }), nn.batchNorm(), nn.residual([nn.dense(6, { activation: 'tanh' })]), nn.dense(3)]);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 0.01 }), metrics: ['accuracy'] });
    const x = Float32Array.from({ length: 40 }, (_, i) => Math.cos(i));
    const y = Int32Array.from({ length: 10 }, (_, i) => i % 3);
    await m.fit(x, y, { epochs: 2, batchSize: 4 });
    const bytes = m.toBytes();
    // An independent reading of the format: u64 LE header length, JSON header, data.
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.__metadata__.format).toBe('simdnn');
    expect(header['dense_1/kernel']).toEqual({ dtype: 'F32', shape: [4, 6], data_offsets: [0, 96] });
    const k = new Float32Array(bytes.slice(8 + n, 8 + n + 96).buffer);
    expect(Array.from(k)).toEqual(Array.from(m.getWeights().get('dense_1/kernel')!));
    const again = await nn.loadModel(bytes);
    expect(again.predict(x).data).toEqual(m.predict(x).data);
    expect(again.loss!.name).toBe('softmaxCrossEntropy');
    expect(again.epoch).toBe(2);
    m.dispose(); again.dispose();
  });
});
