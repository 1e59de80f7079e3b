// Fashion-MNIST with the Keras-style API: 784-256-128-10 ReLU, dropout, Adam, a progress line per
// epoch, evaluate, predict, save and load.
//   node examples/fashion-mnist.mjs [--train 60000] [--epochs 10]
// Needs Debian's dataset-fashion-mnist (or `simdnn download fashion-mnist`).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nn from 'simdnn';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : dflt; };
const nTrain = opt('--train', 60000), epochs = opt('--epochs', 10);

let data;
try {
  data = nn.datasets.fashionMnist();
} catch (e) {
  if (!(e instanceof nn.DataFormatError)) throw e;
  console.log(`fashion-mnist: skipped: ${e.message}`);
  process.exit(0);
}
const { train, test } = data;
const x = train.x.slice(0, nTrain), y = train.y.subarray(0, nTrain);

const model = nn.sequential({ inputShape: [784], seed: 42 }, [
  nn.dense(256, { activation: 'relu', init: 'he' }),
  nn.dropout(0.2),
  nn.dense(128, { activation: 'relu' }),
  nn.dense(10), // logits
]);
model.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 1e-3 }), metrics: ['accuracy'] });
model.summary();
await model.fit(x, y, { epochs, batchSize: 128, validationSplit: 0.1, verbose: true });

const { loss, accuracy } = model.evaluate(test.x, test.y);
const logits = model.predict(test.x.slice(0, 5));
const guess = nn.argMax(logits);                              // or model.predictClasses(x); predictProba(x) for softmax
console.log(`first 5 test images: predicted ${guess.join(' ')} · true ${Array.from(test.y.subarray(0, 5)).join(' ')}`);

const dir = mkdtempSync(join(tmpdir(), 'simdnn-'));
await model.save(join(dir, 'fashion.simdnn'));
const again = await nn.loadModel(join(dir, 'fashion.simdnn'));
rmSync(dir, { recursive: true });
const same = again.predict(test.x.slice(0, 5)).data.every((v, i) => v === logits.data[i]);
console.log(`fashion-mnist: test loss ${loss.toFixed(4)} · test accuracy ${accuracy.toFixed(4)} · reloaded model agrees: ${same}`);
