// Keras's axis −1 on images: softmax / logSoftmax layers and layerNorm on [H, W, C] act on the C
// channels of each position (batch·H·W rows of C), γ and β of layerNorm per channel; on features
// they act on all of a sample's values as before. Each case: the wasm layer (three builds)
// against a float64 reference written here, then nn.gradCheck (reference backward against central
// differences, wasm backward against the reference).
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { ALL_ISAS, engineFor } from '../util/engines.js';
import { assertClose } from '../util/close.js';
import { rng, uniform } from '../util/rng.js';

const H = 3, W = 4, C = 5;

/** Per row of `cols` values: softmax, logSoftmax, or layer norm with γ, β (float64). */
function rowwise(x: ArrayLike<number>, cols: number, op: 'softmax' | 'logSoftmax' | 'layerNorm', gamma?: ArrayLike<number>, beta?: ArrayLike<number>, eps = 1e-3): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++) {
    const row = Array.from({ length: cols }, (_, j) => x[r * cols + j]);
    if (op === 'layerNorm') {
      const mean = row.reduce((a, b) => a + b, 0) / cols;
      const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / cols;
      row.forEach((a, j) => (out[r * cols + j] = ((a - mean) / Math.sqrt(v + eps)) * gamma![j] + beta![j]));
    } else {
      const m = Math.max(...row), lse = m + Math.log(row.reduce((a, b) => a + Math.exp(b - m), 0));
      row.forEach((a, j) => (out[r * cols + j] = op === 'softmax' ? Math.exp(a - lse) : a - lse));
    }
  }
  return out;
}

describe.each(ALL_ISAS)('image axis (%s)', (isa) => {
  const engine = engineFor(isa);
  const n = 4, x = uniform(rng(5), n * H * W * C, -3, 3);

  it.each(['softmax', 'logSoftmax'] as const)('nn.activation(%s) on [H, W, C] is over the C channels of each position', (op) => {
    const m = nn.sequential({ inputShape: [H, W, C], engine }, [nn.activation(op)]);
    const y = m.predict(nn.tensor(x, [n, H, W, C])).data;
    assertClose(y, rowwise(x, C, op), 1e-6, 1e-5, `${isa} ${op}`);
    // Not over the whole sample: the values of one sample's softmax sum to H·W, one per position.
    if (op === 'softmax') expect(y.subarray(0, H * W * C).reduce((a, b) => a + b, 0)).toBeCloseTo(H * W, 4);
    m.dispose();
  });

  it('nn.layerNorm on [H, W, C]: each position over its channels, γ and β of size C', () => {
    const m = nn.sequential({ inputShape: [H, W, C], engine }, [nn.layerNorm()]);
    const w = m.getWeights();
    expect(w.get('layerNorm_1/gamma')!.length).toBe(C);
    expect(w.get('layerNorm_1/beta')!.length).toBe(C);
    const gamma = uniform(rng(6), C, 0.5, 2), beta = uniform(rng(7), C);
    m.setWeights(new Map([['layerNorm_1/gamma', gamma], ['layerNorm_1/beta', beta]]));
    assertClose(m.predict(nn.tensor(x, [n, H, W, C])).data, rowwise(x, C, 'layerNorm', gamma, beta), 1e-5, 1e-4, `${isa} layerNorm`);
    m.dispose();
  });

  it('on features (and a rank-2 input) the three still act on all of a sample\'s values', () => {
    for (const shape of [[H * W * C], [H * W, C]]) {
      const m = nn.sequential({ inputShape: shape, engine }, [nn.layerNorm(), nn.activation('logSoftmax')]);
      expect(m.getWeights().get('layerNorm_1/gamma')!.length).toBe(H * W * C);
      const g = Float32Array.from({ length: H * W * C }, () => 1), b = new Float32Array(H * W * C);
      assertClose(m.predict(x).data, rowwise(rowwise(x, H * W * C, 'layerNorm', g, b), H * W * C, 'logSoftmax'), 1e-5, 1e-4, `${isa} ${shape}`);
      m.dispose();
    }
  });

  it('nn.gradCheck: conv → layerNorm → softmax → logSoftmax per position, then dense', () => {
    const m = nn.sequential({ inputShape: [H, W, 2], seed: 4, engine }, [
      nn.conv2d(C, { kernelSize: 2, padding: 'same' }), nn.layerNorm(), nn.activation('softmax'), nn.conv2d(3, { kernelSize: 1 }),
      nn.activation('logSoftmax'), nn.flatten(), nn.dense(3),
    ]).compile({ loss: 'softmaxCrossEntropy', optimizer: nn.sgd() });
    const xs = nn.tensor(uniform(rng(8), 5 * H * W * 2, -2, 2), [5, H, W, 2]);
    m.setWeights(new Map([['layerNorm_1/gamma', uniform(rng(9), C, 0.5, 2)], ['layerNorm_1/beta', uniform(rng(10), C)]]));
    const res = nn.gradCheck(m, xs, Int32Array.from([0, 1, 2, 1, 0]), { maxParams: 24 });
    expect(res.ok, JSON.stringify(res.perTensor)).toBe(true);
    expect(res.perTensor['layerNorm_1/gamma'].checked).toBe(C);
    expect(res.perTensor['layerNorm_1/beta'].wasm).toBeLessThan(2e-2);
    m.dispose();
  });
});
