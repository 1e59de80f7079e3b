// Trains the small classifier the serverless handler serves (2 features → 2 classes: inside or
// outside the unit circle) and saves it, with its optimizer state, as model.simdnn.
//   node examples/serverless/make-model.mjs [out.simdnn]
import { fileURLToPath } from 'node:url';
import * as nn from 'simdnn';

const out = process.argv[2] ?? fileURLToPath(new URL('./model.simdnn', import.meta.url));
export function circle(n, seed = 1) {
  let s = seed;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const x = Array.from({ length: n }, () => [rnd() * 1.5, rnd() * 1.5]);
  const y = x.map(([a, b]) => (a * a + b * b < 1 ? 1 : 0));
  return { x, y };
}
const { x, y } = circle(512);
const model = nn.sequential({ inputShape: [2], seed: 3 }, [nn.dense(16, { activation: 'relu' }), nn.dense(16, { activation: 'relu' }), nn.dense(2)]);
model.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 0.01 }), metrics: ['accuracy'] });
await model.fit(x, Int32Array.from(y), { epochs: 40, batchSize: 32 });
console.log(`make-model: training accuracy ${model.evaluate(x, Int32Array.from(y)).accuracy.toFixed(4)}`);
await model.save(out, { includeOptimizer: true });
console.log(`make-model: saved ${out}`);
