// bench/profile: where the time of a training step goes. Runs W1 (or --hidden/--batch) training
// steps under `node --cpu-prof` in a child process, then sums self time per function, naming wasm
// functions from the build's .wat (V8 reports them as wasm-function[i]), and reports gemm
// (kernel + packing) against everything else.
//   node build/bench/profile.js [--hidden 256,128] [--batch 128] [--steps 400] [--isa relaxed]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nn from '../src/index.js';
import { buildMlp } from '../src/bench.js';
import { LR } from './workloads.js';

const SELF = fileURLToPath(import.meta.url);
const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : dflt; };

/** The profiled child: data resident, a warm-up, then `steps` training steps and nothing else. */
async function child(): Promise<void> {
  const hidden = arg('--hidden', '256,128').split(',').map(Number), batch = Number(arg('--batch', '128'));
  const steps = Number(arg('--steps', '400'));
  const { train } = nn.datasets.fashionMnist();
  const n = Math.min(train.x.rows, steps * batch);
  const m = buildMlp(hidden, { lr: LR });
  await m.fit(train.x.slice(0, n), (train.y as Int32Array).subarray(0, n), { epochs: Math.ceil((steps * batch) / n), batchSize: batch });
}

/** wasm function index → name, from the text form written beside each build. */
function wasmNames(isa: string): string[] {
  const wat = readFileSync(new URL(`../wasm/simdnn.${isa}.wat`, import.meta.url), 'utf8');
  const imported = [...wat.matchAll(/^ \(import .*\(func /gm)].length;
  const names = new Array<string>(imported).fill('(import)');
  for (const m of wat.matchAll(/^ \(func \$(\S+)/gm)) names.push(m[1].replace(/^assembly\//, ''));
  return names;
}

export function profile(): void {
  const isa = arg('--isa', 'relaxed');
  const dir = mkdtempSync(join(tmpdir(), 'simdnn-prof-'));
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--cpu-prof', `--cpu-prof-dir=${dir}`, SELF, '--child', ...process.argv.slice(2)],
    { env: { ...process.env, SIMDNN_ISA: isa }, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`profiled child failed with exit code ${r.status}`);
  const prof = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!), 'utf8'));
  const names = wasmNames(isa);
  const nodes = new Map<number, any>(prof.nodes.map((n: any) => [n.id, n]));
  const self = new Map<string, number>();
  prof.samples.forEach((id: number, i: number) => {
    const f = nodes.get(id).callFrame;
    const w = /^wasm-function\[(\d+)\]$/.exec(f.functionName);
    const key = w ? `wasm ${names[Number(w[1])] ?? f.functionName}` : `js ${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}`;
    self.set(key, (self.get(key) ?? 0) + (prof.timeDeltas[i] ?? 0) / 1000);
  });
  // The training steps: every wasm function, and the JS of the step (model, layers, train loop).
  const stepJs = /(model|train|dense|layer|activation|losses|optimizers\/\w+|threads|kernels)\.js$/;
  const inStep = [...self].filter(([k]) => k.startsWith('wasm ') || stepJs.test(k));
  const total = inStep.reduce((s, [, t]) => s + t, 0);
  const gemm = inStep.filter(([k]) => /^wasm gemm\//.test(k)).reduce((s, [, t]) => s + t, 0);
  console.log(`\nself time inside the training steps (${total.toFixed(0)} ms; ${isa} build):`);
  for (const [k, t] of inStep.sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(`  ${(100 * t / total).toFixed(1).padStart(5)}%  ${t.toFixed(0).padStart(6)} ms  ${k}`);
  console.log(`gemm (kernel + packing): ${(100 * gemm / total).toFixed(1)}% of the step; everything else ${(100 * (1 - gemm / total)).toFixed(1)}%`);
}

if (process.argv[2] === '--child') await child();
else if (process.argv[1] === SELF) profile();
