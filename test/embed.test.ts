// Embedding: ESM and CommonJS entry points, an import that does no work until used, and a bundle
// (esbuild, wasm and model inlined) that runs in an empty folder without the packaged files.
import * as fsModule from 'node:fs';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { runNode, runNodeOk } from './util/child.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const node = async (args: string[], cwd = root) => (await runNodeOk(args, { cwd })).trim().split('\n').at(-1)!;

// Counts every compile, instantiate and validate of WebAssembly from here on.
const COUNT = `
  const n = { compiled: 0, instances: 0, validated: 0 };
  const W = globalThis.WebAssembly;
  const wrap = (C, key) => new Proxy(C, { construct(t, a) { n[key]++; return Reflect.construct(t, a); } });
  globalThis.WebAssembly = { ...W, Module: wrap(W.Module, 'compiled'), Instance: wrap(W.Instance, 'instances'),
    validate: (b) => { n.validated++; return W.validate(b); }, Memory: W.Memory };
`;

describe('entry points', () => {
  it("import * as nn from 'simdnn' compiles, validates and instantiates no wasm until first used", async () => {
    const out = JSON.parse(await node(['--input-type=module', '-e', `${COUNT}
      const nn = await import('simdnn');
      const atImport = { ...n };
      nn.sequential({ inputShape: [3] }, [nn.dense(2)]);
      console.log(JSON.stringify({ atImport, afterUse: n }));`]));
    expect(out.atImport).toEqual({ compiled: 0, instances: 0, validated: 0 });
    expect(out.afterUse.compiled).toBe(1);
    expect(out.afterUse.instances).toBe(1);
  });

  it("require('simdnn') (the CommonJS build) is lazy too, and predicts like the ESM build", async () => {
    const out = JSON.parse(await node(['-e', `${COUNT}
      const nn = require('simdnn');
      const atImport = { ...n };
      const m = nn.sequential({ inputShape: [3], seed: 4 }, [nn.dense(2, { activation: 'tanh' })]);
      console.log(JSON.stringify({ atImport, afterUse: n, y: Array.from(m.predict([[1, 2, 3]]).data), isError: new nn.ConfigError('x') instanceof Error }));`]));
    expect(out.atImport).toEqual({ compiled: 0, instances: 0, validated: 0 });
    expect(out.afterUse.instances).toBe(1);
    expect(out.isError).toBe(true);
    const m = nn.sequential({ inputShape: [3], seed: 4 }, [nn.dense(2, { activation: 'tanh' })]);
    const y = Array.from(m.predict([[1, 2, 3]]).data);
    m.dispose();
    out.y.forEach((v: number, i: number) => expect(Math.abs(v - y[i])).toBeLessThanOrEqual(1e-6));
  });
});

describe('types', () => {
  it('a TypeScript consumer type-checks with import (ESM) and with require (CommonJS)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdnn-types-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(root, join(dir, 'node_modules', 'simdnn'), 'dir');
      symlinkSync(join(root, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, types: ['node'], lib: ['ES2022', 'DOM'] },
        files: ['a.cts', 'b.mts'],
      }));
      const use = 'nn.sequential({ inputShape: [2] }, [nn.dense(1)]);\nconst h: Promise<nn.History> = m.fit([[0, 1]], [1], { timeBudgetMs: 5 });';
      writeFileSync(join(dir, 'a.cts'), `import nn = require('simdnn');\nconst m: nn.Sequential = ${use}\nexport = h;\n`);
      writeFileSync(join(dir, 'b.mts'), `import * as nn from 'simdnn';\nconst m: nn.Sequential = ${use}\nexport { h };\n`);
      // A wrong use must fail, so the check is not vacuous.
      writeFileSync(join(dir, 'c.mts'), "import * as nn from 'simdnn';\nnn.sequential({ inputShape: 'x' }, []);\n");
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      expect(await node([tsc, '-p', dir], dir)).toBe('');
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, types: ['node'] }, files: ['c.mts'],
      }));
      const bad = await runNode([tsc, '-p', dir], { cwd: dir });
      expect(bad.status).not.toBe(0);
      const out = bad.stdout;
      expect(out).toMatch(/c\.mts\(2,\d+\): error TS\d+: Type 'string' is not assignable to type 'number\[\]'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a bundle with the wasm inlined', () => {
  const src = join(root, 'build', 'bundle-test'), out = mkdtempSync(join(tmpdir(), 'simdnn-bundle-'));
  afterAll(() => {
    rmSync(src, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('loads a saved model from bytes, predicts, trains one epoch and saves to bytes, in an empty folder, with no fs', async () => {
    // A small trained model to ship inside the bundle.
    const x = Array.from({ length: 32 }, (_, i) => [Math.cos(i), Math.sin(i * 0.7), (i % 5) / 5]);
    const y = Int32Array.from(x, ([a, b]) => (a + b > 0 ? 1 : 0));
    const m = nn.sequential({ inputShape: [3], seed: 2 }, [nn.dense(8, { activation: 'relu' }), nn.dense(2)]);
    m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam({ lr: 0.01 }), metrics: ['accuracy'] });
    await m.fit(x, y, { epochs: 5, batchSize: 8 });
    const want = Array.from(m.predict(x.slice(0, 4)).data);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'model.simdnn'), m.toBytes({ includeOptimizer: true }));
    m.dispose();
    // The entry sits inside the package, so 'simdnn' resolves to it (self-reference through "exports").
    writeFileSync(join(src, 'entry.mjs'), `
      import * as nn from 'simdnn';
      import wasm from 'simdnn/wasm/simdnn.simd.wasm';
      import saved from './model.simdnn';
      if (process.argv[2] === 'module') nn.init({ module: new WebAssembly.Module(wasm), isa: 'simd' });
      else nn.init({ bytes: wasm, isa: 'simd' });
      const x = ${JSON.stringify(x)}, y = Int32Array.from(${JSON.stringify(Array.from(y))});
      const m = nn.loadModelSync(saved);
      const before = Array.from(m.predict(x.slice(0, 4)).data);
      const h = await m.fit(x, y, { epochs: 1, batchSize: 8 });
      const bytes = m.toBytes();
      const again = nn.loadModelSync(bytes);
      const same = again.predict(x).data.every((v, i) => v === m.predict(x).data[i]);
      console.log(JSON.stringify({ before, loss: h.history.loss[0], saved: bytes.length, same, backend: nn.backendInfo() }));
    `);
    // node:fs is replaced by functions that throw, so the run proves no file is touched.
    // Every function export of node:fs, each a stub that throws.
    const FS = Object.keys(fsModule).filter((k) => typeof (fsModule as Record<string, unknown>)[k] === 'function' && /^[a-z]/.test(k));
    const noFs: Plugin = {
      name: 'no-fs',
      setup(b) {
        b.onResolve({ filter: /^(node:)?fs$/ }, () => ({ path: 'fs', namespace: 'no-fs' }));
        b.onLoad({ filter: /.*/, namespace: 'no-fs' }, () => ({
          contents: FS.map((f) => `export function ${f}() { throw new Error('fs.${f} was called'); }`).join('\n'),
        }));
      },
    };
    const r = await build({
      entryPoints: [join(src, 'entry.mjs')], outfile: join(out, 'app.mjs'), bundle: true, platform: 'node', format: 'esm', target: 'node20',
      loader: { '.wasm': 'binary', '.simdnn': 'binary' }, absWorkingDir: root, logLevel: 'silent', plugins: [noFs],
    });
    expect(readFileSync(join(out, 'app.mjs'), 'utf8')).toMatch(/fs\.readFileSync was called/);
    expect(r.errors).toEqual([]);
    expect(readdirSync(out)).toEqual(['app.mjs']); // one file; no node_modules, no build/wasm beside it
    for (const how of ['bytes', 'module']) {
      const got = JSON.parse(await node([join(out, 'app.mjs'), how], out));
      got.before.forEach((v: number, i: number) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-5));
      expect(Number.isFinite(got.loss)).toBe(true);
      expect(got.saved).toBeGreaterThan(100);
      expect(got.same).toBe(true);
      expect(got.backend).toMatch(/wasm simd/);
    }
  });
});
