// bench/threads: how much a second thread buys on the training workloads, against what the machine
// itself gives two independent processes. Each round runs, one after the other, each in its own
// process: simdnn simd and relaxed with 1 and 2 threads, then two 1-thread simd processes at once
// (their summed samples/s over one alone is the machine's ceiling for two threads). A ratio is
// taken within one round (neighbours in time), and the median over rounds is reported, so a
// drifting machine moves both sides of a ratio together. Writes build/bench/threads.json.
//   node build/bench/threads.js [--rounds 3] [--seconds 3] [--workloads W1,W2]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pad, writeJson } from './common.js';
import { WORKLOADS, runSimdnn, type RunResult } from './workloads.js';

const SELF = fileURLToPath(import.meta.url);

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

/** One training run in a child process: its samples/s. */
function child(isa: string, workload: string, threads: number, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--experimental-wasm-relaxed-simd', SELF, '--child', workload, String(threads), String(seconds)],
      { env: { ...process.env, SIMDNN_ISA: isa }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`child ${isa} ${workload} ${threads}t exited ${code}: ${out}`));
      else resolve((JSON.parse(line) as RunResult).samplesPerSec);
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export interface ThreadsRow { workload: string; config: string; samplesPerSec: number[]; ratio: number[] }

export async function threads(): Promise<ThreadsRow[]> {
  const rounds = Number(arg('--rounds', '3')), seconds = Number(arg('--seconds', '3'));
  const wanted = arg('--workloads', 'W1,W2').split(',');
  const rows: ThreadsRow[] = [];
  for (const w of WORKLOADS.filter((x) => wanted.includes(x.name))) {
    const row = (config: string): ThreadsRow => {
      let r = rows.find((x) => x.workload === w.name && x.config === config);
      if (!r) rows.push((r = { workload: w.name, config, samplesPerSec: [], ratio: [] }));
      return r;
    };
    for (let round = 0; round < rounds; round++) {
      for (const isa of ['simd', 'relaxed']) {
        const one = await child(isa, w.name, 1, seconds), two = await child(isa, w.name, 2, seconds);
        row(`${isa} 1t`).samplesPerSec.push(one);
        row(`${isa} 2t`).samplesPerSec.push(two);
        row(`${isa} 2t`).ratio.push(two / one);
        if (isa === 'simd') {
          const both = await Promise.all([child(isa, w.name, 1, seconds), child(isa, w.name, 1, seconds)]);
          row('simd 2 processes × 1t').samplesPerSec.push(both[0] + both[1]);
          row('simd 2 processes × 1t').ratio.push((both[0] + both[1]) / one);
        }
      }
    }
  }
  console.log(`median over rounds; ratio: over 1 thread of the same build in the same round`);
  console.log(`${pad('workload', 10)}${pad('config', 26)}${pad('samples/s', 12)}× 1t`);
  for (const r of rows) {
    console.log(`${pad(r.workload, 10)}${pad(r.config, 26)}${pad(median(r.samplesPerSec).toFixed(0), 12)}${r.ratio.length ? `${median(r.ratio).toFixed(2)}×  (rounds: ${r.ratio.map((x) => x.toFixed(2)).join(', ')})` : ''}`);
  }
  for (const w of wanted) {
    const ceiling = rows.find((r) => r.workload === w && r.config.startsWith('simd 2 processes'));
    const two = rows.find((r) => r.workload === w && r.config === 'simd 2t');
    if (ceiling && two) console.log(`${w}: simd 2 threads reach ${(100 * median(two.ratio) / median(ceiling.ratio)).toFixed(0)}% of what two independent processes reach`);
  }
  console.log(`wrote ${writeJson('threads.json', { rounds, seconds, rows })}`);
  return rows;
}

if (process.argv[2] === '--child') {
  const w = WORKLOADS.find((x) => x.name === process.argv[3])!;
  const r = await runSimdnn(w, Number(process.argv[4]), Number(process.argv[5]));
  console.log(JSON.stringify(r));
  process.exit(0);
} else if (process.argv[1] === SELF) {
  await threads();
}
