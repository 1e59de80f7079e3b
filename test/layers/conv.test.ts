// Image layers in a model: shapes checked at build (errors name the layer and the shapes), the
// summary's output shapes and counts, batch norm per channel, nn.gradCheck on a small conv net,
// the .simdnn round trip of every image layer, and image-shaped inputs.
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { layerConfig } from '../../src/layers/registry.js';
import { rng, uniform } from '../util/rng.js';

const engine = new nn.Engine();

function smallNet(seed = 3) {
  return nn.sequential({ inputShape: [9, 8, 3], seed, engine }, [
    nn.conv2d(4, { kernelSize: 3, padding: 'same', activation: 'tanh' }),
    nn.batchNorm(),
    nn.maxPool2d({ poolSize: 2 }),
    nn.conv2d(5, { kernelSize: [2, 3], strides: [1, 2], dilation: 1, activation: 'elu' }),
    nn.avgPool2d({ poolSize: 2, strides: 1, padding: 'same' }),
    nn.conv2d(6, { kernelSize: 1 }),
    nn.globalAveragePooling2d(),
    nn.dense(3),
  ]).compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam() });
}

describe('image layers in a model', () => {
  it('LeNet summary: output shapes and parameter counts as Keras gives them', () => {
    const m = nn.sequential({ inputShape: [28, 28, 1], engine }, [
      nn.conv2d(16, { kernelSize: 5, activation: 'relu' }), nn.maxPool2d(), nn.conv2d(32, { kernelSize: 5, activation: 'relu' }),
      nn.maxPool2d(), nn.flatten(), nn.dense(128, { activation: 'relu' }), nn.dense(10),
    ]);
    const s = m.summary(() => {});
    expect(s).toMatch(/input \[null, 28, 28, 1\]/);
    expect(s).toMatch(/conv2d_1 \(conv2d\)\s+\[null, 24, 24, 16\]\s+416\s/);
    expect(s).toMatch(/maxPool2d_1 \(maxPool2d\)\s+\[null, 12, 12, 16\]\s+0\s/);
    expect(s).toMatch(/conv2d_2 \(conv2d\)\s+\[null, 8, 8, 32\]\s+12832\s/);
    expect(s).toMatch(/flatten_1 \(flatten\)\s+\[null, 512\]\s+0\s/);
    expect(s).toMatch(/dense_1 \(dense\)\s+\[null, 128\]\s+65664\s/);
    expect(m.getWeights().get('conv2d_2/kernel')!.length).toBe(5 * 5 * 16 * 32);
    expect(m.outputShape).toEqual([10]);
    m.dispose();
  });

  it.each([
    ['kernel larger than the input', [nn.conv2d(8, { kernelSize: 3 }), nn.maxPool2d(), nn.conv2d(4, { kernelSize: 5 })],
      /conv2d_2: input 2×2×8 is smaller than kernel 5×5 with padding 'valid'/],
    ['dilated kernel', [nn.conv2d(2, { kernelSize: 3, dilation: 3 })], /conv2d_1: input 6×6×1 is smaller than kernel 3×3 \(dilated to 7×7\)/],
    ['pool larger than the input', [nn.maxPool2d({ poolSize: 7 })], /maxPool2d_1: input 6×6×1 is smaller than pool 7×7/],
    ['dense on a conv output', [nn.conv2d(2, { kernelSize: 3 }), nn.dense(3)], /dense_1: input 4×4×2 is an image; .*nn\.flatten\(\)/],
    ['residual changing the shape', [nn.residual([nn.conv2d(1, { kernelSize: 3, padding: 'same' }), nn.maxPool2d()])], /residual: the block maps 36 features to 9/],
  ] as const)('build rejects %s with a ShapeError naming layer and shapes', (_t, layers, msg) => {
    const f = () => nn.sequential({ inputShape: [6, 6, 1], engine }, [...layers] as nn.Layer[]);
    expect(f).toThrow(nn.ShapeError);
    expect(f).toThrow(msg);
  });

  it.each([
    ['conv on features', () => nn.sequential({ inputShape: [784], engine }, [nn.conv2d(2, { kernelSize: 3 })]), /conv2d_1: input 784 is not an image \[H, W, C\]/],
    ['no kernelSize', () => nn.conv2d(2, {} as never), /conv2d: kernelSize is undefined/],
    ['kernelSize 0', () => nn.conv2d(2, { kernelSize: 0 }), /kernelSize is 0; it must be an integer in \[1, 65536\]/],
    ['bad padding', () => nn.conv2d(2, { kernelSize: 3, padding: 'full' as never }), /padding is "full"; it must be one of valid, same/],
    ['strides [1]', () => nn.conv2d(2, { kernelSize: 3, strides: [1] as never }), /strides is \[1\]/],
    ['unknown option', () => nn.maxPool2d({ pool: 2 } as never), /maxPool2d: unknown option "pool"/],
    ['filters 0', () => nn.conv2d(0, { kernelSize: 1 }), /filters is 0/],
  ])('rejects %s', (_t, f, msg) => {
    expect(f).toThrow(nn.SimdnnError);
    expect(f).toThrow(msg);
  });

  it('batch norm after a conv keeps statistics per channel', () => {
    const m = smallNet();
    expect(m.getWeights().get('batchNorm_1/gamma')!.length).toBe(4);
    expect(m.getWeights().get('batchNorm_1/movingMean')!.length).toBe(4);
    m.dispose();
  });

  it('nn.gradCheck passes on a small conv net (conv, batch norm, max, avg and global pooling, 1×1 conv, dense)', () => {
    const m = smallNet(), r = rng(9);
    const x = nn.tensor(uniform(r, 6 * 9 * 8 * 3), [6, 9, 8, 3]), y = Int32Array.from([0, 1, 2, 0, 1, 2]);
    const res = nn.gradCheck(m, x, y, { maxParams: 16 });
    expect(res.ok, JSON.stringify(res.perTensor)).toBe(true);
    expect(Object.keys(res.perTensor)).toContain('conv2d_2/kernel');
    m.dispose();
  });

  it('.simdnn round trip: same config, weights and predictions; every image layer rebuilt', async () => {
    const m = smallNet(), r = rng(2);
    const x = nn.tensor(uniform(r, 4 * 9 * 8 * 3), [4, 9, 8, 3]);
    m.trainStep(x, Int32Array.from([0, 1, 2, 1]));
    const again = await nn.loadModel(m.toBytes(), { engine });
    expect(again.config()).toEqual(m.config());
    expect(again.layers.map(layerConfig)).toEqual(m.layers.map(layerConfig));
    expect(Buffer.from(again.weightBytes()).equals(Buffer.from(m.weightBytes()))).toBe(true);
    expect(Array.from(again.predict(x).data)).toEqual(Array.from(m.predict(x).data));
    const f = nn.sequential({ inputShape: [4, 4, 2], engine }, [nn.flatten(), nn.dense(2)]);
    expect((await nn.loadModel(f.toBytes(), { engine })).config()).toEqual(f.config());
    for (const q of [m, again, f]) q.dispose();
  });

  it('a model on [H, W, C] takes [n, H, W, C] tensors and the same values flat [n, H·W·C]', () => {
    const m = smallNet(), r = rng(4), v = uniform(r, 3 * 9 * 8 * 3);
    const a = m.predict(nn.tensor(v, [3, 9, 8, 3])), b = m.predict(v);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(a.shape).toEqual([3, 3]);
    m.dispose();
  });
});

describe('image data sets', () => {
  it("fashionMnist({ shape: 'image' }) gives [n, 28, 28, 1] over the same bytes; 'flat' gives [n, 784]; other shapes are refused", () => {
    const img = nn.datasets.fashionMnist({ shape: 'image' }), flat = nn.datasets.fashionMnist({ shape: 'flat' });
    expect(img.train.x.shape).toEqual([60000, 28, 28, 1]);
    expect(img.test.x.shape).toEqual([10000, 28, 28, 1]);
    expect(flat.train.x.shape).toEqual([60000, 784]);
    expect(Buffer.from(img.train.x.data).equals(Buffer.from(flat.train.x.data))).toBe(true);
    expect(img.train.y).toEqual(flat.train.y);
    expect(() => nn.datasets.fashionMnist({ shape: 'nchw' as never })).toThrow(/fashionMnist: shape is "nchw"; it must be one of flat, image/);
  });
});

describe('image inputs', () => {
  it('a tensor laid out otherwise (channels first) is refused with a ShapeError naming both layouts', () => {
    const m = nn.sequential({ inputShape: [4, 4, 3], engine }, [nn.conv2d(2, { kernelSize: 3 }), nn.flatten(), nn.dense(2)]);
    const x = new Float32Array(2 * 48);
    expect(() => m.predict(nn.tensor(x, [2, 3, 4, 4]))).toThrow(nn.ShapeError);
    expect(() => m.predict(nn.tensor(x, [2, 3, 4, 4]))).toThrow(/x has shape \[2, 3, 4, 4\]; this model takes \[n, 4, 4, 3\] \(channels last\) or flat \[n, 48\]/);
    expect(m.predict(nn.tensor(x, [2, 4, 4, 3])).shape).toEqual([2, 2]);
    m.dispose();
  });
});
