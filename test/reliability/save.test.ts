// Atomic saves (src/io/fs.ts writeAtomic): worker threads of one process saving to one target at
// once all succeed and a reader never sees a partial file; a symlink planted at a temp name the
// writer could predict is never written through; the next save removes temps of dead processes
// only. The workers run the built module (build/src), as the CLI tests do.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import * as nn from '../../src/index.js';
import { writeAtomic } from '../../src/io/fs.js';

// The random part of temp names is fixed here, so the test knows every name a save could use.
vi.mock('node:crypto', async (orig) => ({ ...(await orig<typeof import('node:crypto')>()), randomBytes: (n: number) => Buffer.alloc(n) }));

const MODULE = new URL('../../build/src/io/fs.js', import.meta.url).pathname;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const root = mkdtempSync(join(tmpdir(), 'simdnn-save-'));

/** Two different payloads of 256 KiB (what is saved does not matter here, only that it arrives whole). */
function twoFiles(): [Uint8Array, Uint8Array] {
  const a = new Uint8Array(256 * 1024).map((_, i) => (i * 31) & 255);
  return [a, a.map((v) => v ^ 0xff)];
}

const SAVER = `
const { workerData: { module, path, a, b, saves, done }, parentPort } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const errors = [];
import(module).then(({ writeAtomic }) => {
  const A = readFileSync(a), B = readFileSync(b);
  for (let i = 0; i < saves; i++) {
    try { writeAtomic(path, i % 2 ? A : B); } catch (e) { errors.push(e.message); }
  }
}).catch((e) => errors.push(String(e))).finally(() => {
  parentPort.postMessage(errors);
  Atomics.add(done, 0, 1);
});
`;

describe('atomic save', () => {
  it('4 worker threads × 40 saves to one target: every save succeeds, a reader only ever sees a whole file', async () => {
    const [A, B] = twoFiles();
    const good = new Set([sha(A), sha(B)]);
    const a = join(root, 'a.bin'), b = join(root, 'b.bin'), path = join(root, 'shared.simdnn');
    writeFileSync(a, A); writeFileSync(b, B);
    writeAtomic(path, A);
    const WORKERS = 4, done = new Int32Array(new SharedArrayBuffer(4));
    const results = Array.from({ length: WORKERS }, () => new Promise<string[]>((resolve, reject) => {
      const w = new Worker(SAVER, { eval: true, workerData: { module: MODULE, path, a, b, saves: 40, done } });
      w.once('message', resolve);
      w.once('error', reject);
    }));
    // Read while the workers write (they run on their own threads).
    let reads = 0, torn = 0;
    while (Atomics.load(done, 0) < WORKERS) {
      if (!good.has(sha(readFileSync(path)))) torn++;
      reads++;
    }
    const errors = (await Promise.all(results)).flat();
    expect(errors, `failed saves: ${errors.slice(0, 3).join(' | ')}`).toEqual([]);
    expect(torn, `${torn} of ${reads} reads saw neither file`).toBe(0);
    expect(good.has(sha(readFileSync(path)))).toBe(true);
    expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a symlink planted at every temp name a save could predict is not followed; its target is untouched', () => {
    const dir = mkdtempSync(join(root, 'plant-'));
    const victim = join(dir, 'victim.txt'), path = join(dir, 'model.simdnn');
    writeFileSync(victim, 'precious');
    // The names of the old scheme (pid and the ms clock) for the next seconds, and of this one
    // with its random part fixed by the mock above (pid, thread 0, call counter).
    const now = Date.now();
    const names = [
      ...Array.from({ length: 3000 }, (_, i) => `.model.simdnn.${process.pid}.${now + i}.tmp`),
      ...Array.from({ length: 1000 }, (_, i) => `.model.simdnn.${process.pid}.0.${i}.${'0'.repeat(16)}.tmp`),
    ];
    for (const n of names) symlinkSync(victim, join(dir, n));
    let err: unknown;
    try { writeAtomic(path, new TextEncoder().encode('attacker-controlled? no')); } catch (e) { err = e; }
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    // The save refused rather than write through the link, and left the planted links alone.
    expect(err).toBeInstanceOf(nn.SimdnnError);
    expect((err as Error).message).toMatch(/save: could not write .*model\.simdnn: EEXIST/);
    expect(existsSync(path)).toBe(false);
    expect(names.every((n) => lstatSync(join(dir, n)).isSymbolicLink())).toBe(true);
  });

  it('the next save removes temps of dead processes only (not of this live process, not other names)', () => {
    const dir = mkdtempSync(join(root, 'stale-'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const stale = `.m.simdnn.${dead}.0.3.0123456789abcdef.tmp`, live = `.m.simdnn.${process.pid}.1.3.0123456789abcdef.tmp`, other = '.m.simdnn.notes.tmp';
    for (const f of [stale, live, other]) writeFileSync(join(dir, f), 'x');
    writeAtomic(join(dir, 'm.simdnn'), new Uint8Array([1, 2, 3]));
    expect(readdirSync(dir).sort()).toEqual([live, other, 'm.simdnn'].sort());
  });
});
