// Each example in examples/ runs as a child process with a short configuration (they import
// 'simdnn', which resolves to this package through its "exports"); the output is checked.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runNodeOk } from './util/child.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (args: string[], env: Record<string, string> = {}) => runNodeOk(args, { cwd: root, env: { ...process.env, ...env } });
const num = (out: string, re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);

describe('examples', () => {
  it('xor.mjs learns XOR', async () => {
    const out = await run(['examples/xor.mjs', '300']);
    expect(out).toMatch(/^1 xor 1 → 0\.\d+$/m);
    expect(num(out, /xor: loss \S+ · accuracy (\S+)/)).toBe(1);
  });

  it('boston-housing.mjs prints each fold and the mean R² of a 3-fold run', async () => {
    const out = await run(['examples/boston-housing.mjs', '--folds', '3', '--epochs', '20']);
    expect(out.match(/^fold \d: R² /gm)?.length).toBe(3);
    const r2 = num(out, /boston housing 3-fold: R² (\S+) ± /);
    expect(r2).toBeGreaterThan(0.5);
    expect(r2).toBeLessThanOrEqual(1);
  });

  it('fashion-mnist.mjs trains on a subset, evaluates, and a saved and reloaded model agrees', async () => {
    const out = await run(['examples/fashion-mnist.mjs', '--train', '3000', '--epochs', '2']);
    const have = existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz') || process.env.CI;
    if (!have && /fashion-mnist: skipped: /.test(out)) return;
    expect(out).toMatch(/^epoch 2\/2 · loss /m);
    expect(num(out, /test accuracy (\S+)/)).toBeGreaterThan(0.6);
    expect(out).toMatch(/reloaded model agrees: true/);
  });

  it('fashion-cnn.mjs trains the LeNet on a subset of [n, 28, 28, 1] images, evaluates, and a saved and reloaded model agrees', async () => {
    const out = await run(['examples/fashion-cnn.mjs', '--train', '3000', '--epochs', '2']);
    const have = existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz') || process.env.CI;
    if (!have && /fashion-cnn: skipped: /.test(out)) return;
    expect(out).toMatch(/^conv2d_2 \(conv2d\) +\[null, 8, 8, 32\] +12832/m);
    expect(out).toMatch(/^epoch 2\/2 · loss /m);
    expect(num(out, /test accuracy (\S+)/)).toBeGreaterThan(0.6);
    expect(out).toMatch(/reloaded model agrees: true/);
  });

  it('custom-loop.mjs lowers the loss with model.trainStep and a hand-set learning rate', async () => {
    const out = await run(['examples/custom-loop.mjs', '300']);
    const m = /custom loop: 300 steps · loss (\S+) → (\S+)/.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeLessThan(Number(m![1]) / 5);
  });

  describe('serverless/handler.mjs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdnn-serverless-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('serves 200 warm calls (predict, train with a time budget, resume) without growing wasm memory or live allocations', async () => {
      const model = join(dir, 'model.simdnn');
      expect(await run(['examples/serverless/make-model.mjs', model])).toMatch(/make-model: saved /);
      // One process = one warm instance; the script prints JSON.
      const script = `
        const { handler, stats } = await import(${JSON.stringify(join(root, 'examples/serverless/handler.mjs'))});
        const body = async (e) => { const r = await handler(e); return { status: r.statusCode, ...JSON.parse(r.body) }; };
        const x = Array.from({ length: 64 }, (_, i) => [Math.cos(i) * (i % 3) * 0.6, Math.sin(i) * (i % 3) * 0.6]);
        const y = x.map(([a, b]) => (a * a + b * b < 1 ? 1 : 0));
        const out = { stats: [], first: await body({ predict: [[0, 0], [1.4, 1.4]] }) };
        let resume = null, stops = 0;
        for (let i = 0; i < 200; i++) {
          const p = await body({ body: JSON.stringify({ predict: x.slice(0, 8) }) });
          if (p.status !== 200 || p.outputs.length !== 8) throw new Error('predict failed: ' + JSON.stringify(p));
          const t = await body({ train: { x, y, epochs: 2, batchSize: 8, timeBudgetMs: 0.001, resume } });
          if (t.status !== 200) throw new Error('train failed: ' + JSON.stringify(t));
          resume = t.resume;
          if (t.stopped === 'timeBudget') stops++;
          out.stats.push(stats());
        }
        out.stops = stops;
        out.bad = await body({ predict: [[1, 2, 3]] });
        out.saved = (await body({ save: true })).modelBase64.length;
        console.log(JSON.stringify(out));`;
      const out = JSON.parse((await run(['--input-type=module', '-e', script], { SIMDNN_MODEL: model })).trim().split('\n').at(-1)!);
      expect(out.first.status).toBe(200);
      const [inside, outside] = out.first.outputs;
      expect(inside[1]).toBeGreaterThan(inside[0]);   // (0, 0) is inside the unit circle
      expect(outside[0]).toBeGreaterThan(outside[1]); // (1.4, 1.4) is not
      expect(out.stops).toBeGreaterThan(100);         // most calls stop on their budget and hand back resume
      const after = out.stats[9];
      expect(after.liveAllocations).toBeGreaterThan(0);
      for (const s of out.stats.slice(10)) expect(s).toEqual(after);
      expect(out.bad.status).toBe(400);
      expect(out.bad.error).toMatch(/has 3 features, expected 2/);
      expect(out.saved).toBeGreaterThan(100);
    });
  });
});
