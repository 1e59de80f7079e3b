// A custom training loop on the low-level API: data in wasm memory, forward, loss kernel,
// backward, optimizer step, with a learning rate you set yourself each step.
//   node examples/custom-loop.mjs [steps]
import * as nn from 'simdnn';

const steps = Number(process.argv[2] ?? 400);
const model = nn.sequential({ inputShape: [2], seed: 9 }, [nn.dense(8, { activation: 'tanh' }), nn.dense(1, { activation: 'sigmoid' })]);
model.compile({ loss: 'binaryCrossEntropy', optimizer: nn.adam({ lr: 0.05 }) });

// The batch lives in the model's wasm memory: pointers, not arrays.
const e = model.engine;
const x = e.upload(Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]));
const y = e.upload(Float32Array.from([0, 1, 1, 0]));
const dpred = e.alloc(4 * 4); // ∂loss/∂prediction, one float per row
const rows = 4, outputs = 1;

let first = NaN, loss = NaN;
for (let i = 0; i < steps; i++) {
  model.optimizer.lr = 0.05 * (1 - 0.5 * i / steps); // a linear decay, by hand
  const pred = model.forward(x, rows, true);
  loss = model.loss.kernel(e, dpred, pred, y, rows, outputs, 0, 0); // batch-mean loss; writes dpred
  if (i === 0) first = loss;
  model.zeroGrad();
  model.backward(dpred, rows);
  model.optimizer.step();
  if (i % 100 === 0) console.log(`step ${i}: loss ${loss.toFixed(4)}`);
}
const out = model.forward(x, rows, false) >> 2; // inference mode; a float index into e.f32
const p = e.f32.slice(out, out + rows);
console.log(`predictions ${Array.from(p, (v) => v.toFixed(3)).join(' ')}`);
console.log(`custom loop: ${steps} steps · loss ${first.toFixed(4)} → ${loss.toFixed(4)}`);
for (const ptr of [x, y, dpred]) e.release(ptr);
model.dispose();
