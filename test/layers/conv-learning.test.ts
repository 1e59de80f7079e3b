// The learning bar: a LeNet-like net (conv 16@5×5 relu, maxpool 2, conv 32@5×5 relu,
// maxpool 2, flatten, dense 128 relu, dense 10) on Fashion-MNIST, Adam 1e-3, batch 64, one epoch
// of the 60,000 training images with a fixed seed: test accuracy ≥ 0.84 (PyTorch with the same
// init measured 0.842–0.855 over three seeds). One epoch, single thread: about 20 s here.
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { HAVE_DEBIAN_FASHION } from '../util/fashion.js';

describe.skipIf(!HAVE_DEBIAN_FASHION)('LeNet on Fashion-MNIST', () => {
  it('one epoch, Adam 1e-3, batch 64, seed 1: test accuracy ≥ 0.84', async () => {
    const { train, test } = nn.datasets.fashionMnist({ shape: 'image' });
    const m = nn.sequential({ inputShape: [28, 28, 1], seed: 1 }, [
      nn.conv2d(16, { kernelSize: 5, activation: 'relu' }), nn.maxPool2d(), nn.conv2d(32, { kernelSize: 5, activation: 'relu' }),
      nn.maxPool2d(), nn.flatten(), nn.dense(128, { activation: 'relu' }), nn.dense(10),
    ]).compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 1e-3 }), metrics: ['accuracy'] });
    const h = await m.fit(train.x, train.y, { epochs: 1, batchSize: 64 });
    expect(h.epoch).toEqual([0]);
    expect(h.stopped).toBeUndefined();
    const { accuracy } = m.evaluate(test.x, test.y);
    expect(accuracy).toBeGreaterThanOrEqual(0.84);
    m.dispose();
  });
});
