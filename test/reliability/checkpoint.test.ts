// Atomic checkpoints: child processes save a model over and over and are killed with SIGKILL at
// random moments (200 kills); each time the file on disk loads and is exactly the old or the new
// checkpoint, and the next save removes the temp files the killed writers left. Disk-full and
// unwritable targets surface as errors and leave the previous checkpoint intact.
// The child runs the built module (build/src), as the CLI tests do.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { loadModelSync, modelToBytes } from '../../src/io/model-file.js';
import { writeAtomic } from '../../src/io/fs.js';
import { rng } from '../util/rng.js';

const MODULE = new URL('../../build/src/io/fs.js', import.meta.url).pathname;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const root = mkdtempSync(join(tmpdir(), 'simdnn-ckpt-'));
const engine = new nn.Engine();
const models: nn.Sequential[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

function checkpoints(): [Uint8Array, Uint8Array] {
  const m = nn.sequential({ inputShape: [64], seed: 2, engine }, [nn.dense(128, { activation: 'relu' }), nn.dense(10)]);
  m.compile({ loss: 'softmaxCrossEntropy', optimizer: nn.adam() });
  models.push(m);
  const a = modelToBytes(m, { includeOptimizer: true });
  m.epoch = 1;
  const w = m.getWeights();
  for (const v of w.values()) v[0] += 1;
  m.setWeights(w);
  return [a, modelToBytes(m, { includeOptimizer: true })];
}

const CHILD = `
import { readFileSync } from 'node:fs';
import { writeAtomic } from ${JSON.stringify(MODULE)};
const [path, a, b] = process.argv.slice(2);
const A = readFileSync(a), B = readFileSync(b);
process.stdout.write('ready\\n');
for (let i = 0; ; i++) writeAtomic(path, i % 2 ? A : B);
`;

/** Starts a saver child, waits for its first save to begin, kills it after delayMs. */
function killRound(dir: string, a: string, b: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'child.mjs'), join(dir, 'model.simdnn'), a, b], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), delayMs));
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`saver exited without being killed: ${err}`))));
  });
}

describe('atomic checkpoints', () => {
  it('200 SIGKILLs mid-save: the file is always the old or the new checkpoint; the next save removes stale temps', async () => {
    const [A, B] = checkpoints();
    const hashes = new Set([sha(A), sha(B)]);
    const a = join(root, 'a.bin'), b = join(root, 'b.bin');
    writeFileSync(a, A); writeFileSync(b, B);
    writeFileSync(join(root, 'child.mjs'), CHILD);
    const r = rng(5);
    const LANES = 4, KILLS = 200;
    let kills = 0, staleSeen = 0;
    await Promise.all(Array.from({ length: LANES }, async (_, lane) => {
      const dir = join(root, `lane${lane}`);
      mkdirSync(dir);
      writeAtomic(join(dir, 'model.simdnn'), A);
      for (let i = lane; i < KILLS; i += LANES) {
        await killRound(dir, a, b, Math.floor(r() * 25));
        kills++;
        const bytes = readFileSync(join(dir, 'model.simdnn'));
        expect(hashes.has(sha(bytes)), `kill ${i}: the checkpoint is neither the old nor the new file`).toBe(true);
        loadModelSync(bytes, { engine }).dispose();
        const temps = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
        staleSeen += temps.length;
        // The next save (by anyone) removes the temps of dead writers.
        writeAtomic(join(dir, 'model.simdnn'), bytes);
        expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      }
    }));
    expect(kills).toBe(KILLS);
    console.log(`checkpoint: ${kills} kills survived; ${staleSeen} temp files left by killed writers were removed by the next save`);
  });

  it('an unwritable target (a path under a regular file, or in /proc) rejects save and leaves nothing behind', async () => {
    const m = nn.sequential({ inputShape: [2], engine }, [nn.dense(1)]);
    models.push(m);
    const file = join(root, 'plain-file');
    writeFileSync(file, 'x');
    await expect(m.save(join(file, 'model.simdnn'))).rejects.toThrow(/could not write .*plain-file\/model\.simdnn/);
    await expect(m.save(join(file, 'model.simdnn'))).rejects.toBeInstanceOf(nn.SimdnnError);
    await expect(m.save('/proc/simdnn-test.simdnn')).rejects.toBeInstanceOf(nn.SimdnnError);
    expect(() => writeAtomic('/nonexistent-dir/x.simdnn', new Uint8Array(4))).toThrow(nn.SimdnnError);
  });

  it('disk full (a 64 KiB tmpfs): save rejects, the previous checkpoint is intact, no temp remains', async (ctx) => {
    const mnt = join(root, 'full');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      ctx.skip(); // mounting needs privileges; the container may not grant them
      return;
    }
    try {
      const small = nn.sequential({ inputShape: [2], engine }, [nn.dense(1)]);
      const big = nn.sequential({ inputShape: [64], engine }, [nn.dense(512)]); // 133 KB
      models.push(small, big);
      const path = join(mnt, 'model.simdnn');
      await small.save(path);
      const before = sha(readFileSync(path));
      await expect(big.save(path)).rejects.toThrow(/could not write .*ENOSPC|no space/i);
      expect(sha(readFileSync(path))).toBe(before);
      expect(readdirSync(mnt)).toEqual(['model.simdnn']);
      loadModelSync(path, { engine }).dispose();
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
