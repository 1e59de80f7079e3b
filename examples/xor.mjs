// XOR with a 2-4-1 network: the smallest problem a linear model cannot solve.
//   node examples/xor.mjs [epochs]
import * as nn from 'simdnn';

const epochs = Number(process.argv[2] ?? 500);
const x = nn.tensor(Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), [4, 2]);
const y = Float32Array.from([0, 1, 1, 0]);

const model = nn.sequential({ inputShape: [2], seed: 1 }, [
  nn.dense(4, { activation: 'tanh' }),
  nn.dense(1, { activation: 'sigmoid' }),
]);
model.compile({ loss: 'binaryCrossEntropy', optimizer: nn.adam({ lr: 0.05 }), metrics: ['binaryAccuracy'] });
await model.fit(x, y, { epochs, batchSize: 4 });

const p = model.predict(x).data;
for (let i = 0; i < 4; i++) console.log(`${x.data[2 * i]} xor ${x.data[2 * i + 1]} → ${p[i].toFixed(3)}`);
const { loss, binaryAccuracy } = model.evaluate(x, y);
console.log(`xor: loss ${loss.toFixed(4)} · accuracy ${binaryAccuracy.toFixed(4)}`);
