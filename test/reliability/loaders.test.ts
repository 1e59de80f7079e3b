// Loaders open a path once and check what they opened before they read it (src/io/fs.ts
// withFile): a device, a FIFO or a folder is refused without reading (a FIFO without blocking);
// a huge file with a bad header is refused from its header; a gzip IDX bomb is refused after
// inflating only its head; a TF.js weights file swapped for a symlink mid-import is never read
// through the link.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { IDX_MAX_BYTES, parseIdx, readIdx } from '../../src/io/idx.js';
import { readCsv } from '../../src/io/csv.js';
import { loadModelSync } from '../../src/io/model-file.js';
import { modelToBytes } from '../../src/io/model-bytes.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { importTfjs, tfjsArtifacts } from '../../src/io/tfjs.js';
import { idx } from '../util/idx.js';

const INDEX = new URL('../../build/src/index.js', import.meta.url).pathname;
const CLI = new URL('../../build/src/cli.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'simdnn-loaders-'));
const engine = new nn.Engine();
const models: nn.Sequential[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

/** Peak resident memory of this process so far, in bytes. */
const peak = () => process.resourceUsage().maxRSS * 1024;
const MB = 2 ** 20;

/** Runs fn, expecting it to throw cls with a message matching msg, and returns the peak-memory growth. */
function refused(fn: () => unknown, cls: new (...a: never[]) => Error, msg: RegExp): number {
  const before = peak();
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err, 'accepted').toBeInstanceOf(cls);
  expect((err as Error).message).toMatch(msg);
  return peak() - before;
}

const loaders: [string, (p: string) => unknown, new (...a: never[]) => Error][] = [
  ['loadModel', (p) => loadModelSync(p, { engine }), nn.ConfigError],
  ['readIdx', (p) => readIdx(p), nn.DataFormatError],
  ['readCsv', (p) => readCsv(p), nn.DataFormatError],
];

/**
 * Runs the four loaders, then the CLI, on `path` in child processes of the built module: a loader
 * that reads a FIFO blocks forever and one that reads /dev/zero grows without end, so the children
 * are capped (1 minute, 3 GB of address space) where the test can see it. Returns each outcome.
 */
function inChild(path: string): { loaders: string[]; cli: { status: number | null; stderr: string } } {
  const script = `import * as nn from ${JSON.stringify(INDEX)};
    for (const load of [(p) => nn.loadModelSync(p), (p) => nn.io.readIdx(p), (p) => nn.io.readCsv(p), (p) => nn.io.importTfjs(p)]) {
      try { await load(process.argv[1]); console.log('loaded'); } catch (e) { console.log(e.name + ': ' + e.message); }
    }`;
  const capped = (args: string[]) => spawnSync('sh', ['-c', 'ulimit -v 3000000; exec "$@"', 'sh', process.execPath, ...args], { timeout: 60_000, encoding: 'utf8' });
  const r = capped(['--input-type=module', '-e', script, path]);
  expect(r.signal, `the loaders did not finish on ${path} (killed)`).toBeNull();
  expect(r.status, `the loaders crashed on ${path}: ${r.stderr.slice(-300)}`).toBe(0);
  const cli = capped([CLI, 'info', path]);
  expect(cli.signal, `the CLI did not finish on ${path} (killed)`).toBeNull();
  return { loaders: r.stdout.trim().split('\n'), cli: { status: cli.status, stderr: cli.stderr } };
}

describe('loaders refuse what is not a regular file, before reading it', () => {
  it.each([['/dev/zero', 'a character device'], ['a FIFO', 'a FIFO']])('%s is refused as %s by every loader and the CLI, reading nothing and without blocking', (what, kind) => {
    let path = what;
    if (what === 'a FIFO') {
      path = join(root, 'pipe');
      execFileSync('mkfifo', [path]);
    }
    const { loaders, cli } = inChild(path);
    const rule = `${kind}; it must be a regular file`;
    expect(loaders).toEqual([
      `ConfigError: loadModel: ${path} is ${rule}`,
      `DataFormatError: ${path}: the file is ${rule}`,
      `DataFormatError: ${path}: the file is ${rule}`,
      `ConfigError: importTfjs: ${path} is ${rule}`,
    ]);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain(`error: ${path} is ${rule}`);
  });

  it.each(loaders)('%s › a folder is refused as a folder', (_name, load, cls) => {
    refused(() => load(root), cls, /is a directory; it must be a regular file/);
  });
});

describe('a large file is judged by its header, not read whole', () => {
  // Sparse files: 1.5 GB of size, no disk used. Peak memory must not grow by the file's size.
  const sparse = (name: string, head: Uint8Array, size = 1.5e9) => {
    const p = join(root, name);
    writeFileSync(p, head);
    truncateSync(p, size);
    return p;
  };

  it('loadModel › a 1.5 GB file whose 8-byte header length exceeds the cap', () => {
    const head = new Uint8Array(8);
    new DataView(head.buffer).setBigUint64(0, 2n ** 40n, true);
    const grew = refused(() => loadModelSync(sparse('big.simdnn', head), { engine }), nn.ModelFormatError, /big\.simdnn is not a simdnn model \(its first 8 bytes give a header length of 1,099,511,627,776 bytes, over the cap/);
    expect(grew).toBeLessThan(100 * MB);
  });

  it('loadModel › a 1.5 GB file whose header is not JSON (refused from the header bytes alone)', () => {
    const head = new Uint8Array(8);
    new DataView(head.buffer).setBigUint64(0, 1000n, true);
    const grew = refused(() => loadModelSync(sparse('zeros.simdnn', head), { engine }), nn.ModelFormatError, /safetensors: header: not valid UTF-8 JSON/);
    expect(grew).toBeLessThan(100 * MB);
  });

  it('loadModel › a 1.5 GB file whose metadata is wrong is refused before its tensors are read', () => {
    const m = nn.sequential({ inputShape: [2], engine }, [nn.dense(1)]);
    models.push(m);
    const metadata = { ...decodeSafetensors(modelToBytes(m)).metadata, epoch: '-1' };
    // A valid header whose one tensor spans a 1.5 GB data section; only the epoch is wrong.
    const D = 1.5e9;
    const json = new TextEncoder().encode(JSON.stringify({ __metadata__: metadata, 'dense_1/kernel': { dtype: 'F32', shape: [D / 4], data_offsets: [0, D] } }));
    const bytes = new Uint8Array(8 + json.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(json, 8);
    const grew = refused(() => loadModelSync(sparse('meta.simdnn', bytes, 8 + json.length + D), { engine }), nn.ModelFormatError, /__metadata__\.epoch: "-1" must be a non-negative integer/);
    expect(grew).toBeLessThan(100 * MB);
  });

  it('readIdx › a 1 GB file whose header is wrong, a 1.5 GB one over the cap; readCsv › a 1.5 GB file over the cap', () => {
    const bad = idx(0x08, [10], new Uint8Array(0));
    expect(refused(() => readIdx(sparse('big.idx', bad, 1e9)), nn.DataFormatError, /need 10 data bytes but the file has 999999992/)).toBeLessThan(100 * MB);
    expect(refused(() => readIdx(sparse('huge.idx', bad)), nn.DataFormatError, /huge\.idx: the file has 1500000000 bytes; the cap is 1073741824/)).toBeLessThan(100 * MB);
    expect(refused(() => readCsv(sparse('big.csv', new TextEncoder().encode('a,b\n'))), nn.DataFormatError, /big\.csv: the file has 1500000000 bytes; the cap is \d+/)).toBeLessThan(100 * MB);
  });
});

describe('gzipped IDX: inflated into one buffer of the declared size', () => {
  /** A gzip stream of the IDX header followed by `zeros` inflated zero bytes, as concatenated members (cheap to build). */
  function bomb(header: Uint8Array, zeros: number): Uint8Array {
    const chunk = gzipSync(new Uint8Array(16 * MB));
    const parts = [gzipSync(header), ...Array.from({ length: Math.ceil(zeros / (16 * MB)) }, () => chunk)];
    return Buffer.concat(parts);
  }

  it('a 1 MB gzip whose header claims more than the cap is refused after inflating only its head', () => {
    const gz = bomb(idx(0x08, [0xffffffff], new Uint8Array(0)), IDX_MAX_BYTES);
    expect(gz.length).toBeLessThan(2 * MB);
    const p = join(root, 'bomb.idx.gz');
    writeFileSync(p, gz);
    const grew = refused(() => readIdx(p), nn.DataFormatError, /need 4294967295 data bytes; an IDX file may hold at most 1073741824 bytes/);
    expect(grew).toBeLessThan(100 * MB);
  });

  it('a gzip that inflates to more than its header declares is refused as bytes arrive', () => {
    const gz = bomb(idx(0x08, [1000], new Uint8Array(1000)), IDX_MAX_BYTES);
    const grew = refused(() => parseIdx(gz, 'long.gz'), nn.DataFormatError, /long\.gz: gzip data inflates to more than the 1008 bytes its IDX header declares/);
    expect(grew).toBeLessThan(100 * MB);
  });

  it('a gzip that inflates to less than its header declares is refused', () => {
    refused(() => parseIdx(gzipSync(idx(0x08, [1000], new Uint8Array(999))), 'short.gz'), nn.DataFormatError, /need 1000 data bytes but the file has 999/);
  });

  it('normal IDX files load identically raw and gzipped, from bytes and from files (every type)', () => {
    const r = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
    for (const [t, w] of [[0x08, 1], [0x09, 1], [0x0b, 2], [0x0c, 4], [0x0d, 4], [0x0e, 8]]) {
      const raw = idx(t, [3, 5], r(15 * w));
      const want = parseIdx(raw);
      const p = join(root, `t${t}.idx`);
      writeFileSync(p, raw);
      writeFileSync(`${p}.gz`, gzipSync(raw));
      for (const got of [parseIdx(gzipSync(raw)), readIdx(p), readIdx(`${p}.gz`)]) {
        expect(got.shape).toEqual([3, 5]);
        expect(got.data.constructor).toBe(want.data.constructor);
        expect([...got.data].map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual([...want.data].map((v) => (Number.isNaN(v) ? 'NaN' : v)));
      }
    }
    // A header longer than the first inflated chunk (rank 255, all 1s) and a large body.
    const big = idx(0x08, [...Array(254).fill(1), 300_000], r(300_000));
    expect([...parseIdx(gzipSync(big)).data.subarray(0, 5)]).toEqual([...r(5)]);
    expect(parseIdx(gzipSync(big)).data.length).toBe(300_000);
  });
});

describe('importTfjs reads the weights file it checked', () => {
  it('a racer swapping weights.bin between the real file and a symlink out of the folder: no import returns the outside bytes', async () => {
    const src = nn.sequential({ inputShape: [3], seed: 1, engine }, [nn.dense(2)]);
    models.push(src);
    const a = tfjsArtifacts(src);
    const dir = join(root, 'race');
    mkdirSync(dir);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(a.modelJson));
    const real = join(dir, 'real.bin');
    writeFileSync(real, a.weights);
    const outside = join(root, 'secret.bin');
    writeFileSync(outside, new Uint8Array(new Float32Array(a.weights.length / 4).fill(7).buffer)); // same size, other bytes
    writeFileSync(join(dir, 'weights.bin'), a.weights);
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const racer = new Worker(`
      const { workerData: { dir, real, outside, stop } } = require('node:worker_threads');
      const { linkSync, renameSync, symlinkSync, rmSync } = require('node:fs');
      const { join } = require('node:path');
      const target = join(dir, 'weights.bin'), link = join(dir, 'tmp.link'), file = join(dir, 'tmp.file');
      while (Atomics.load(stop, 0) === 0) {
        rmSync(link, { force: true }); symlinkSync(outside, link); renameSync(link, target);
        rmSync(file, { force: true }); linkSync(real, file); renameSync(file, target);
      }`, { eval: true, workerData: { dir, real, outside, stop } });
    const counts = { inside: 0, outside: 0, refused: 0 };
    try {
      for (let i = 0; i < 1500; i++) {
        let m: nn.Sequential;
        try {
          m = await importTfjs(dir, { engine });
        } catch (e) {
          expect(e).toBeInstanceOf(nn.ModelFormatError);
          counts.refused++;
          continue;
        }
        const k = m.getWeights().get('dense_1/kernel')!;
        if (k.every((v) => v === 7)) counts.outside++; else counts.inside++;
        m.dispose();
      }
    } finally {
      Atomics.store(stop, 0, 1);
      await racer.terminate();
    }
    expect(counts.outside, `imports that returned bytes from outside the folder (${JSON.stringify(counts)})`).toBe(0);
    // The race really happened: some imports met the symlink (refused), some the real file.
    expect(counts.refused).toBeGreaterThan(0);
    expect(counts.inside).toBeGreaterThan(0);
  });
});
