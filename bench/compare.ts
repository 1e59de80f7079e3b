// bench/compare: the same workloads (workloads.ts) on simdnn (simd and relaxed builds, 1 and 2
// threads), TensorFlow.js 4.22 (wasm and cpu backends; cpu not on W4's conv net), brain.js (the
// MLPs only: it has no convolutions) and PyTorch CPU (when `python3 -c "import torch"` works), one after the other,
// each in its own process. Prints samples/s, test accuracy after the epoch, the inference figures
// (W3 of W1's network, "W4 infer" of the LeNet) and simdnn's ratio to each peer; for W4 on one
// simdnn thread also the conv share of the step and each conv layer's GFLOP/s (profileConv);
// writes build/bench/compare.json and compare.svg.
//   node build/bench/compare.js [--budget 120] [--only simdnn,tfjs-wasm,...] [--workloads W1,W2,W4]
// A run stops at the first batch boundary past --budget seconds and reports the fraction of the
// epoch it did (slow peers would otherwise take minutes per epoch); under a --budget of 30 s the
// inference is timed once instead of best of 5 (a smoke run, not a measurement).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as nn from '../src/index.js';
import { writeJson } from './common.js';
import { runBrain, runTfjs } from './peers.js';
import { barChart } from './svg.js';
import { INFERENCE, WORKLOADS, runSimdnn, type ConvProfile, type RunResult } from './workloads.js';

const SELF = fileURLToPath(import.meta.url);
const RELAXED = '--experimental-wasm-relaxed-simd';

interface Runner { id: string; label: string; run(workload: string, budget: number): RunResult | string }

/** Runs this file in a child process in `--child` mode; returns its RunResult, or why it failed. */
function child(args: string[], env: Record<string, string> = {}): RunResult | string {
  const r = spawnSync(process.execPath, [RELAXED, SELF, '--child', ...args], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return `failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`;
  return JSON.parse(line) as RunResult;
}

function fashionDir(): string {
  const d = nn.datasets.dataDirs('fashion-mnist').find((p) => existsSync(`${p}/train-images-idx3-ubyte.gz`));
  if (!d) throw new Error('Fashion-MNIST not found: apt-get install dataset-fashion-mnist, or simdnn download fashion-mnist');
  return d;
}

/** PyTorch through Debian's python3-torch; OpenBLAS with pthreads when installed (else reference BLAS, ~25× slower). */
function torchRunner(threads: number): Runner {
  const py = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const blas = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
  // OpenMP threads that spin while OpenBLAS's own threads work would starve them on 2 cores
  // (measured: W1 with 2 threads 16k samples/s spinning, 66k passive).
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', ...(existsSync(blas) ? { LD_LIBRARY_PATH: blas } : {}) };
  const script = fileURLToPath(new URL('../../bench/compare_torch.py', import.meta.url));
  return {
    id: 'pytorch', label: `PyTorch ${threads}t`,
    run(w, budget) {
      const probe = spawnSync(py, ['-c', 'import torch'], { env });
      if (probe.status !== 0) return 'skipped: python3 -c "import torch" fails (apt-get install python3-torch)';
      try {
        const out = execFileSync(py, [script, w, String(threads), String(budget), fashionDir()], { env, encoding: 'utf8' });
        return JSON.parse(out.trim().split('\n').pop()!) as RunResult;
      } catch (e) {
        return `failed: ${(e as Error).message.split('\n')[0]}`;
      }
    },
  };
}

const RUNNERS: Runner[] = [
  // 'auto': threads by each step's work, up to one per core (SequentialConfig.threads).
  ...(['simd', 'relaxed'] as const).flatMap((isa) => [1, 2, 'auto'].map((t): Runner => ({
    id: 'simdnn', label: `simdnn ${isa} ${t === 'auto' ? 'auto' : `${t}t`}`,
    run: (w, budget) => child(['simdnn', w, String(t), String(budget)], { SIMDNN_ISA: isa }),
  }))),
  { id: 'tfjs-wasm', label: 'tfjs-wasm', run: (w, budget) => child(['tfjs-wasm', w, '1', String(budget)]) },
  {
    // Its conv kernels are plain JS loops: one prediction of the 10k test images by the LeNet takes minutes.
    id: 'tfjs-cpu', label: 'tfjs-cpu',
    run: (w, budget) => (WORKLOADS.find((x) => x.name === w)!.net ? 'skipped: conv nets (minutes per 10k-image prediction; W4 compares tfjs-wasm)' : child(['tfjs-cpu', w, '1', String(budget)])),
  },
  {
    id: 'brain.js', label: 'brain.js',
    run: (w, budget) => (WORKLOADS.find((x) => x.name === w)!.net ? 'skipped: brain.js has no convolution layers' : child(['brain.js', w, '1', String(budget)])),
  },
  torchRunner(1), torchRunner(2),
];

async function childMain(lib: string, wname: string, threads: number | 'auto', budget: number): Promise<void> {
  const w = WORKLOADS.find((x) => x.name === wname)!;
  const r = lib === 'simdnn' ? await runSimdnn(w, threads, budget)
    : lib === 'brain.js' ? await runBrain(w, budget)
      : await runTfjs(w, lib === 'tfjs-wasm' ? 'wasm' : 'cpu', budget);
  console.log(JSON.stringify(r));
  process.exit(0); // tfjs keeps handles open
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export async function compare(): Promise<void> {
  const budget = Number(arg('--budget') ?? 120);
  const only = arg('--only')?.split(',');
  const wanted = arg('--workloads')?.split(',') ?? WORKLOADS.map((w) => w.name);
  const runners = RUNNERS.filter((r) => !only || only.includes(r.id) || only.includes(r.label));
  const results: (RunResult & { label: string })[] = [];
  const notes: string[] = [];
  for (const w of WORKLOADS.filter((x) => wanted.includes(x.name))) {
    console.log(`\n${w.name}: ${w.what}`);
    for (const r of runners) {
      const res = r.run(w.name, budget);
      if (typeof res === 'string') { notes.push(`${w.name} ${r.label}: ${res}`); console.log(`  ${r.label.padEnd(18)} ${res}`); continue; }
      results.push({ ...res, label: r.label });
      const part = res.epochFraction < 1 ? ` (${(100 * res.epochFraction).toFixed(0)}% of the epoch in ${res.seconds.toFixed(0)} s)` : '';
      const inf = INFERENCE.find((i) => i.of === w.name);
      console.log(`  ${r.label.padEnd(18)} ${res.samplesPerSec.toFixed(0).padStart(8)} samples/s  test accuracy ${res.testAccuracy.toFixed(4)}${part}` +
        (inf && res.inferSamplesPerSec ? `   ${inf.name} ${res.inferSamplesPerSec.toFixed(0)} samples/s` : ''));
      if (res.conv) console.log(convText(res.conv));
    }
  }
  const table = report(results);
  console.log(table.text);
  writeJson('compare.json', { budgetSec: budget, node: process.version, workloads: [...WORKLOADS, ...INFERENCE], results, notes, ratios: table.ratios });
  const groups = [...wanted, ...INFERENCE.map((i) => i.name)].map((name) => {
    const inf = INFERENCE.find((i) => i.name === name);
    return {
      name: `${name}: ${(inf ?? WORKLOADS.find((w) => w.name === name)!).what}`,
      bars: results.filter((r) => (inf ? r.inferSamplesPerSec && r.workload === inf.of : r.workload === name))
        .map((r) => ({ label: r.label, value: inf ? r.inferSamplesPerSec! : r.samplesPerSec })),
    };
  }).filter((g) => g.bars.length);
  const svgPath = new URL('../../build/bench/compare.svg', import.meta.url);
  writeFileSync(svgPath, barChart('simdnn vs peers on Fashion-MNIST (samples/s, higher is better)', 'samples/s', groups));
  console.log(`\nwrote build/bench/compare.json and ${fileURLToPath(svgPath)}`);
}

/** A conv profile as lines: step time, conv share, and per layer ms forward/backward (GFLOP/s for conv layers). */
function convText(p: ConvProfile): string {
  const ms = (v: number) => v.toFixed(3).padStart(7);
  const lines = [`    step ${p.stepMs.toFixed(2)} ms (batch ${p.batch}, ${p.steps} steps, layers timed): conv layers ${(100 * p.convShare).toFixed(1)}% of the step`];
  for (const l of p.layers) {
    const g = l.fwdGflops === undefined ? '' : `   forward ${l.fwdGflops.toFixed(1)} GFLOP/s, backward ${l.bwdGflops!.toFixed(1)} GFLOP/s`;
    lines.push(`      ${l.name.padEnd(14)} fwd ${ms(l.fwdMs)} ms  bwd ${ms(l.bwdMs)} ms${g}`);
  }
  return lines.join('\n');
}

/** simdnn's ratio (each build/thread count) to each peer, per workload. */
function report(results: (RunResult & { label: string })[]) {
  const ratios: Record<string, Record<string, number>> = {};
  const lines = ['', 'ratios (simdnn samples/s ÷ peer samples/s, same run):'];
  for (const w of [...new Set(results.map((r) => r.workload)), ...INFERENCE.map((i) => i.name)]) {
    const inf = INFERENCE.find((i) => i.name === w);
    const speed = (r: RunResult) => (inf ? (r.workload === inf.of ? r.inferSamplesPerSec : undefined) : r.workload === w ? r.samplesPerSec : undefined);
    const ours = results.filter((r) => r.label.startsWith('simdnn') && speed(r));
    const peers = results.filter((r) => !r.label.startsWith('simdnn') && speed(r));
    for (const o of ours) {
      const cells = peers.map((p) => {
        const v = speed(o)! / speed(p)!;
        (ratios[`${w} ${o.label}`] ??= {})[p.label] = v;
        return `${p.label} ${v.toFixed(v < 10 ? 2 : 0)}×`;
      });
      const base = ours.find((x) => x.label === o.label.replace(/ \dt$/, ' 1t'));
      if (base && base !== o) cells.push(`vs 1 thread ${(speed(o)! / speed(base)!).toFixed(2)}×`);
      lines.push(`  ${w} ${o.label.padEnd(18)} ${cells.join('  ')}`);
    }
  }
  return { text: lines.join('\n'), ratios };
}

if (process.argv[2] === '--child') {
  await childMain(process.argv[3], process.argv[4], process.argv[5] === 'auto' ? 'auto' : Number(process.argv[5]), Number(process.argv[6]));
} else if (process.argv[1] === SELF) {
  await compare();
}
