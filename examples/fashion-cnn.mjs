// A LeNet-style conv net on Fashion-MNIST (channels last, as Keras): conv 16@5×5 relu, max pool 2,
// conv 32@5×5 relu, max pool 2, flatten, dense 128 relu, dense 10; Adam 1e-3, batch 64. About 0.85
// test accuracy after one epoch of the 60,000 images and 0.90 after ten.
//   node examples/fashion-cnn.mjs [--train 60000] [--epochs 10]
// Needs Debian's dataset-fashion-mnist (or `simdnn download fashion-mnist`); skips without it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nn from 'simdnn';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : dflt; };
const nTrain = opt('--train', 60000), epochs = opt('--epochs', 10);

let data;
try {
  data = nn.datasets.fashionMnist({ shape: 'image' });           // x: [n, 28, 28, 1] bytes, scaled to [0, 1] in wasm
} catch (e) {
  if (!(e instanceof nn.DataFormatError)) throw e;
  console.log(`fashion-cnn: skipped: ${e.message}`);
  process.exit(0);
}
const { train, test } = data;
const x = train.x.slice(0, nTrain), y = train.y.subarray(0, nTrain);

const model = nn.sequential({ inputShape: [28, 28, 1], seed: 1 }, [
  nn.conv2d(16, { kernelSize: 5, activation: 'relu' }),         // → 24×24×16
  nn.maxPool2d({ poolSize: 2 }),                                 // → 12×12×16
  nn.conv2d(32, { kernelSize: 5, activation: 'relu' }),         // → 8×8×32
  nn.maxPool2d({ poolSize: 2 }),                                 // → 4×4×32
  nn.flatten(),                                                  // → 512
  nn.dense(128, { activation: 'relu' }),
  nn.dense(10),                                                  // logits
]);
model.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 1e-3 }), metrics: ['accuracy'] });
model.summary();
await model.fit(x, y, { epochs, batchSize: 64, verbose: true });

const { loss, accuracy } = model.evaluate(test.x, test.y);
const first = test.x.slice(0, 5);
const names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const guess = model.predictClasses(first);
console.log(`first 5 test images: predicted ${Array.from(guess, (c) => names[c]).join(', ')} · true ${Array.from(test.y.subarray(0, 5), (c) => names[c]).join(', ')}`);

const dir = mkdtempSync(join(tmpdir(), 'simdnn-'));
await model.save(join(dir, 'fashion-cnn.simdnn'));
const again = await nn.loadModel(join(dir, 'fashion-cnn.simdnn'));
rmSync(dir, { recursive: true });
const logits = model.predict(first), back = again.predict(first);
const same = back.data.every((v, i) => v === logits.data[i]);
console.log(`fashion-cnn: test loss ${loss.toFixed(4)} · test accuracy ${accuracy.toFixed(4)} · reloaded model agrees: ${same}`);
model.dispose();
again.dispose();
