// A custom training loop on the model's own step: model.trainStep(x, y) runs forward, loss,
// backward and one optimizer update on a batch; here the learning rate is set by hand each step.
//   node examples/custom-loop.mjs [steps]
import * as nn from 'simdnn';

const steps = Number(process.argv[2] ?? 400);
const model = nn.sequential({ inputShape: [2], seed: 9 }, [nn.dense(8, { activation: 'tanh' }), nn.dense(1, { activation: 'sigmoid' })]);
model.compile({ loss: 'binaryCrossEntropy', optimizer: nn.adam({ lr: 0.05 }), metrics: ['binaryAccuracy'] });

const x = nn.tensor([0, 0, 0, 1, 1, 0, 1, 1], [4, 2]);
const y = Float32Array.from([0, 1, 1, 0]);

let first = NaN, logs;
for (let i = 0; i < steps; i++) {
  model.optimizer.lr = 0.05 * (1 - 0.5 * i / steps); // a linear decay, by hand
  logs = model.trainStep(x, y);                        // { loss, binaryAccuracy } before this update
  if (i === 0) first = logs.loss;
  if (i % 100 === 0) console.log(`step ${i}: loss ${logs.loss.toFixed(4)}`);
}
// The gradient of the loss, by parameter name, without an update (what gradCheck compares).
const { grads } = model.lossAndGrad(x, y);
console.log(`|∂L/∂kernel of dense_1|max ${Math.max(...grads.get('dense_1/kernel').map(Math.abs)).toExponential(2)}`);
const p = model.predict(x).data;
console.log(`predictions ${Array.from(p, (v) => v.toFixed(3)).join(' ')}`);
console.log(`custom loop: ${steps} steps · loss ${first.toFixed(4)} → ${logs.loss.toFixed(4)}`);
model.dispose();
