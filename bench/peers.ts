// The JavaScript peers' runners for the compared workloads: TensorFlow.js 4.22 (wasm and cpu
// backends) and brain.js. Same network, loss, optimizer and batch as simdnn's runner
// (workloads.ts); data is converted before the clock starts. PyTorch's runner is compare_torch.py.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as nn from '../src/index.js';
import { INFERENCE, LENET_LR, LR, MOMENTUM, WARMUP_BATCHES, W3, best, inferReps, type RunResult, type Workload } from './workloads.js';

const require = createRequire(import.meta.url);

/** Fashion-MNIST as floats in [0, 1] (the conversion every peer needs, untimed). */
function floats() {
  const { train, test } = nn.datasets.fashionMnist();
  const f = (x: Uint8Array) => Float32Array.from(x, (v) => v / 255);
  return { xTrain: f(train.x.data as Uint8Array), yTrain: train.y as Int32Array, xTest: f(test.x.data as Uint8Array), yTest: test.y as Int32Array };
}

function argmaxAccuracy(out: Float32Array, labels: Int32Array, N = 10): number {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    let b = 0;
    for (let j = 1; j < N; j++) if (out[i * N + j] > out[i * N + b]) b = j;
    if (b === labels[i]) hits++;
  }
  return hits / labels.length;
}

/** A deterministic permutation (xorshift), so every peer sees its samples in a shuffled order. */
function permutation(n: number, seed = 42): Uint32Array {
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const j = s % (i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/**
 * TF.js 4.22's wasm backend has no Conv2DBackpropFilter kernel (its Conv2D gradient fails with
 * "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'"), so a conv net cannot train on
 * it as shipped. This fills it with the backend's own wasm Conv3DBackpropFilterV2 at depth 1
 * (x [N, 1, H, W, C], dy [N, 1, Ho, Wo, Co], filter [1, kh, kw, Ci, Co]; reshapes share data):
 * TF.js's code, no JavaScript loops, as a TF.js user would patch it (exported for that check).
 */
export function registerWasmConv2dFilterGrad(tf: typeof import('@tensorflow/tfjs')): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  const conv3d = tf.getKernel('Conv3DBackpropFilterV2', 'wasm')!, reshape = tf.getKernel('Reshape', 'wasm')!;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter', backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }: { inputs: Record<string, any>; backend: any; attrs?: Record<string, any> }) => {
      const { x, dy } = inputs;
      const { strides, pad, filterShape, dataFormat } = attrs!;
      if (dataFormat && dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter (bench fill-in): dataFormat ${dataFormat}; only NHWC`);
      const s = typeof strides === 'number' ? [strides, strides] : strides;
      // Checked against tfjs-cpu's gradient at strides 1 (valid, same: within 3e-6); strides 2 with 'same' did not agree.
      if (s[0] !== 1 || s[1] !== 1) throw new Error(`Conv2DBackpropFilter (bench fill-in): strides ${s}; only 1`);
      const r = (t: any, shape: number[]) => reshape.kernelFunc({ inputs: { x: t }, backend, attrs: { shape } }) as any;
      const x5 = r(x, [x.shape[0], 1, ...x.shape.slice(1)]), dy5 = r(dy, [dy.shape[0], 1, ...dy.shape.slice(1)]);
      const dw5 = conv3d.kernelFunc({ inputs: { x: x5, dy: dy5 }, backend, attrs: { strides: [1, ...s], pad, filterShape: [1, ...filterShape] } }) as any;
      const dw = r(dw5, filterShape);
      for (const t of [x5, dy5, dw5]) backend.disposeData(t.dataId);
      return dw;
    },
  });
}

export async function runTfjs(w: Workload, backend: 'wasm' | 'cpu', budgetSec: number): Promise<RunResult> {
  const tf = await import('@tensorflow/tfjs');
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
  }
  await tf.setBackend(backend);
  await tf.ready();
  if (backend === 'wasm') registerWasmConv2dFilterGrad(tf);
  const d = floats();
  const n = d.yTrain.length;
  // W4's LeNet takes [n, 28, 28, 1] (channels last, TF.js's default); the MLPs [n, 784].
  const sample = w.net === 'lenet' ? [28, 28, 1] : [784];
  const xAll = tf.tensor(d.xTrain, [n, ...sample]);
  const yAll = tf.oneHot(tf.tensor1d(d.yTrain, 'int32'), 10).toFloat();
  const build = () => {
    const m = tf.sequential();
    if (w.net === 'lenet') {
      // TF.js's default init is simdnn's: Glorot uniform kernels, zero biases.
      m.add(tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu', inputShape: sample }));
      m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      m.add(tf.layers.conv2d({ filters: 32, kernelSize: 5, activation: 'relu' }));
      m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      m.add(tf.layers.flatten());
    }
    w.hidden.forEach((h, i) => m.add(tf.layers.dense({ units: h, activation: 'relu', ...(i === 0 && !w.net ? { inputShape: sample } : {}) })));
    m.add(tf.layers.dense({ units: 10 }));
    const optimizer = w.net === 'lenet' ? tf.train.adam(LENET_LR) : tf.train.momentum(LR, MOMENTUM);
    m.compile({ optimizer, loss: (y: any, logits: any) => tf.losses.softmaxCrossEntropy(y, logits) });
    return m;
  };
  // Batches are sliced out before the clock starts (data loading excluded); order is shuffled.
  const perm = permutation(n);
  const idx = tf.tensor1d(Int32Array.from(perm), 'int32');
  const xs = tf.gather(xAll, idx), ys = tf.gather(yAll, idx);
  const steps = Math.ceil(n / w.batch);
  const batches: [any, any][] = [];
  for (let s = 0; s < steps; s++) {
    const rows = Math.min(w.batch, n - s * w.batch);
    batches.push([xs.slice(s * w.batch, rows), ys.slice([s * w.batch, 0], [rows, 10])]);
  }
  const warm = build();
  for (let s = 0; s < Math.min(WARMUP_BATCHES, steps); s++) await warm.trainOnBatch(batches[s][0], batches[s][1]);
  warm.dispose();
  const m = build();
  let samples = 0;
  const t0 = performance.now();
  for (const [x, y] of batches) {
    await m.trainOnBatch(x, y);
    samples += x.shape[0];
    if ((performance.now() - t0) / 1000 > budgetSec) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  const xTest = tf.tensor(d.xTest, [d.yTest.length, ...sample]);
  const predict = () => { const p = m.predict(xTest, { batchSize: W3.batch }) as any; const v = p.dataSync() as Float32Array; p.dispose(); return v; };
  const r: RunResult = {
    lib: `tfjs-${backend}`, workload: w.name, samplesPerSec: samples / seconds, seconds, samples,
    epochFraction: samples / n, testAccuracy: argmaxAccuracy(predict(), d.yTest),
  };
  if (INFERENCE.some((i) => i.of === w.name)) r.inferSamplesPerSec = d.yTest.length / await best(backend === 'cpu' ? 1 : Math.min(3, inferReps(budgetSec)), predict);
  return r;
}

/**
 * brain.js trains one sample at a time (its `train` has no batch option) and applies one
 * activation to every layer, output included: with ReLU the 10 outputs die at once (accuracy 0.1),
 * so it gets sigmoid, with the same widths, lr and momentum. It reads plain arrays (a typed-array
 * output is taken for a key-value object).
 */
export async function runBrain(w: Workload, budgetSec: number): Promise<RunResult> {
  const brain = require('brain.js');
  const d = floats();
  const n = d.yTrain.length;
  const perm = permutation(n);
  const sample = (i: number) => {
    const out = new Array<number>(10).fill(0); out[d.yTrain[i]] = 1;
    return { input: Array.from(d.xTrain.subarray(i * 784, (i + 1) * 784)), output: out };
  };
  const data = Array.from(perm, sample);
  const opts = { iterations: 1, learningRate: LR, momentum: MOMENTUM, errorThresh: 1e-9, log: false };
  const make = () => new brain.NeuralNetwork({ hiddenLayers: w.hidden, activation: 'sigmoid' });
  make().train(data.slice(0, WARMUP_BATCHES * w.batch), opts);
  const net = make();
  const chunk = 1000;
  let samples = 0;
  const t0 = performance.now();
  while (samples < n && (performance.now() - t0) / 1000 <= budgetSec) {
    net.train(data.slice(samples, samples + chunk), opts);
    samples = Math.min(n, samples + chunk);
  }
  const seconds = (performance.now() - t0) / 1000;
  const predict = () => {
    const out = new Float32Array(d.yTest.length * 10);
    for (let i = 0; i < d.yTest.length; i++) out.set(net.run(Array.from(d.xTest.subarray(i * 784, (i + 1) * 784))), i * 10);
    return out;
  };
  const r: RunResult = {
    lib: 'brain.js', workload: w.name, samplesPerSec: samples / seconds, seconds, samples,
    epochFraction: samples / n, testAccuracy: argmaxAccuracy(predict(), d.yTest),
  };
  if (w.name === 'W1') r.inferSamplesPerSec = d.yTest.length / await best(1, predict);
  return r;
}
