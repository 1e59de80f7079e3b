// bench/scaling: simdnn training samples/s over batch size and hidden width (784-w-10 ReLU, SGD
// momentum, Fashion-MNIST), so users see how cost grows with work. Writes build/bench/scaling.json
// and scaling.svg. A threads axis (default 1, 2, 4, 8: beyond the cores they share them) shows
// each count's speed-up over one thread in the same run, and marks where the rows per thread get
// too few for a second thread to pay (speed-up < 1.2).
//   node build/bench/scaling.js [--threads 1,2,4,8] [--seconds 0.6]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as nn from '../src/index.js';
import { writeJson } from './common.js';
import { lineChart } from './svg.js';
import { buildMlp } from '../src/bench.js';
import { LR } from './workloads.js';

export const BATCHES = [1, 8, 32, 128, 512], WIDTHS = [64, 256, 1024];

/** Samples/s of training steps on `x`, after a short warm-up, over about `seconds`. */
async function samplesPerSec(x: nn.Tensor<Uint8Array>, y: Int32Array, width: number, batch: number, threads: number, seconds: number): Promise<number> {
  const m = buildMlp([width], { lr: LR, threads });
  let t0 = 0, samples = 0, warm = 0;
  await m.fit(x, y, {
    epochs: 1000, batchSize: batch,
    callbacks: [nn.callbacks.lambda({
      onBatchEnd: (_s, logs, ctx) => {
        if (warm < 3) { if (++warm === 3) t0 = performance.now(); return; }
        samples += logs.size;
        if (performance.now() - t0 > seconds * 1000) ctx.stopTraining = true;
      },
    })],
  });
  const sec = (performance.now() - t0) / 1000;
  m.dispose();
  return samples / sec;
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

export async function scaling(): Promise<void> {
  const counts = arg('--threads', '1,2,4,8').split(',').map(Number), seconds = Number(arg('--seconds', '0.6'));
  const { train } = nn.datasets.fashionMnist();
  const x = train.x.slice(0, 8192) as nn.Tensor<Uint8Array>, y = (train.y as Int32Array).subarray(0, 8192);
  const rows: { threads: number; width: number; batch: number; samplesPerSec: number; gflops: number; speedup: number }[] = [];
  for (const threads of counts) {
    console.log(`${nn.backendInfo()} · ${threads} thread(s) · training samples/s of 784-w-10 ReLU${threads > 1 ? ' (× one thread; * below 1.2×: too little work per thread)' : ''}`);
    console.log(`${'width \\ batch'.padEnd(14)}${BATCHES.map((b) => String(b).padStart(16)).join('')}`);
    for (const width of WIDTHS) {
      const cells: string[] = [];
      for (const batch of BATCHES) {
        const sps = await samplesPerSec(x, y, width, batch, threads, seconds);
        // forward 2·(784w + 10w), weight gradients as much again, input gradient of the last layer 2·10w.
        const gflops = (sps * (4 * (784 * width + 10 * width) + 2 * 10 * width)) / 1e9;
        const one = rows.find((r) => r.threads === counts[0] && r.width === width && r.batch === batch)?.samplesPerSec ?? sps;
        const speedup = sps / one;
        rows.push({ threads, width, batch, samplesPerSec: sps, gflops, speedup });
        cells.push((threads === counts[0] ? sps.toFixed(0) : `${sps.toFixed(0)} ${speedup.toFixed(2)}×${speedup < 1.2 ? '*' : ' '}`).padStart(16));
      }
      console.log(`${String(width).padEnd(14)}${cells.join('')}`);
    }
  }
  writeJson('scaling.json', { backend: nn.backendInfo(), threads: counts, rows });
  const first = rows.filter((r) => r.threads === counts[0]);
  const svg = lineChart(`simdnn training samples/s, 784-w-10 ReLU (${counts[0]} thread${counts[0] > 1 ? 's' : ''})`, 'batch size', 'samples/s',
    BATCHES, WIDTHS.map((w) => ({ name: `width ${w}`, ys: BATCHES.map((b) => first.find((r) => r.width === w && r.batch === b)!.samplesPerSec) })));
  const path = new URL('../../build/bench/scaling.svg', import.meta.url);
  writeFileSync(path, svg);
  console.log(`wrote build/bench/scaling.json and ${fileURLToPath(path)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await scaling();
