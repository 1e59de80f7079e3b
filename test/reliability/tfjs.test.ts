// Hostile TF.js model folders beyond the manifest checks of test/io/tfjs.test.ts: symlinks that
// leave the folder, paths naming folders, prototype keys, truncated model.json, absurd shapes.
// Every case is a ModelFormatError and nothing outside the folder is read.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { importTfjs, tfjsArtifacts } from '../../src/io/tfjs.js';

const engine = new nn.Engine();
const src = nn.sequential({ inputShape: [3], seed: 1, engine }, [nn.dense(2, { activation: 'relu' })]);
afterAll(() => src.dispose());
const a = tfjsArtifacts(src);
const root = mkdtempSync(join(tmpdir(), 'simdnn-tfjs-hostile-'));
let n = 0;
function folder(edit: (j: any) => void = () => {}, files: Record<string, Uint8Array | string> = { 'weights.bin': a.weights }): string {
  const dir = join(root, String(++n));
  mkdirSync(dir);
  const j = JSON.parse(JSON.stringify(a.modelJson));
  edit(j);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(j));
  for (const [f, b] of Object.entries(files)) writeFileSync(join(dir, f), b);
  return dir;
}
async function refused(p: Promise<unknown>, msg: RegExp): Promise<void> {
  let err: unknown;
  try { (await p as nn.Sequential)?.dispose(); } catch (e) { err = e; }
  expect(err, 'accepted').toBeInstanceOf(nn.ModelFormatError);
  expect((err as Error).message).toMatch(msg);
}

describe('hostile TF.js folders', () => {
  it('the valid folder imports', async () => {
    (await importTfjs(folder(), { engine })).dispose();
  });

  it('a symlink inside the folder that points outside is refused (the lexical check alone let it through)', async () => {
    const outside = join(root, 'secret.bin');
    writeFileSync(outside, a.weights); // same size as the real weights: only the location is wrong
    const dir = folder((j) => (j.weightsManifest[0].paths = ['w.bin']), {});
    symlinkSync(outside, join(dir, 'w.bin'));
    await refused(importTfjs(dir, { engine }), /"w\.bin" resolves to .*secret\.bin, outside the model's folder/);
    const dir2 = folder((j) => (j.weightsManifest[0].paths = ['sub/weights.bin']), {});
    symlinkSync(root, join(dir2, 'sub'));
    writeFileSync(join(root, 'weights.bin'), a.weights); // exists, right size, outside the folder
    await refused(importTfjs(dir2, { engine }), /outside the model's folder/);
  });

  it('a path naming a folder, ".", or with a NUL byte', async () => {
    const dir = folder((j) => (j.weightsManifest[0].paths = ['d']));
    mkdirSync(join(dir, 'd'));
    await refused(importTfjs(dir, { engine }), /weights file "d" is a directory; it must be a regular file/);
    await refused(importTfjs(folder((j) => (j.weightsManifest[0].paths = ['.'])), { engine }), /weights file "\." is a directory; it must be a regular file/);
    await refused(importTfjs(folder((j) => (j.weightsManifest[0].paths = ['w\0.bin'])), { engine }), /paths\[0\]: is .*; it must be a file name/);
  });

  it('every truncation of model.json is refused', async () => {
    const text = JSON.stringify(a.modelJson);
    for (let len = 0; len < text.length; len += 7) {
      let err: unknown;
      try { (await importTfjs({ modelJson: text.slice(0, len), weights: a.weights }, { engine })).dispose(); } catch (e) { err = e; }
      expect(err, `truncated at ${len}`).toBeInstanceOf(nn.ModelFormatError);
    }
  });

  it('__proto__ and constructor keys, absurd shapes and units', async () => {
    const raw = JSON.stringify(a.modelJson).replace('"modelTopology":{', '"modelTopology":{"__proto__":{"class_name":"Sequential","polluted":1},"constructor":{"x":1},');
    await importTfjs({ modelJson: raw, weights: a.weights }, { engine }).then((m) => m.dispose(), (e) => expect(e).toBeInstanceOf(nn.ModelFormatError));
    expect(({} as any).polluted).toBeUndefined();
    await refused(importTfjs({ modelJson: { ...a.modelJson, modelTopology: JSON.parse('{"__proto__":{"class_name":"Sequential"}}') }, weights: a.weights }, { engine }), /class_name/);
    for (const units of [2 ** 31, 1e9, 2 ** 53]) {
      const j = JSON.parse(JSON.stringify(a.modelJson));
      j.modelTopology.config.layers[0].config.units = units;
      j.weightsManifest[0].weights[0].shape = [3, units];
      j.weightsManifest[0].weights[1].shape = [units];
      const live = engine.liveAllocations, bytes = engine.memoryBytes;
      let err: unknown;
      try { (await importTfjs({ modelJson: j, weights: a.weights }, { engine })).dispose(); } catch (e) { err = e; }
      // Refused from the weights' byte count before the model is built: nothing allocated.
      expect(err).toBeInstanceOf(nn.ModelFormatError);
      expect(engine.liveAllocations).toBe(live);
      expect(engine.memoryBytes).toBe(bytes);
    }
    for (const shape of [[-1, 2], [3.5, 2], [3, 2, 1], 'x', null]) {
      await refused(importTfjs({ modelJson: { ...a.modelJson, weightsManifest: [{ ...a.modelJson.weightsManifest[0], weights: [{ ...a.modelJson.weightsManifest[0].weights[0], shape }, a.modelJson.weightsManifest[0].weights[1]] }] }, weights: a.weights }, { engine }), /shape/);
    }
  });
});
