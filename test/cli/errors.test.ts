// Issue 16, the CLI as a child process: usage errors (one message, one hint, exit 2), model
// files that say what happened, hints in CLI flags, --out checked before training, EPIPE,
// download timeouts, --checkpoint/--resume, data sets past the spread limit. All data is
// generated here; nothing outside the repository is read.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { serveSilence } from '../util/http.js';
import { rng } from '../util/rng.js';

const CLI = new URL('../../build/src/cli.js', import.meta.url).pathname;
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
/** As run, without blocking this process (a server in it must answer the child). */
const runAsync = (args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
  const child = execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 }, (_e, stdout, stderr) => done({ status: child.exitCode, stdout, stderr }));
});
const n = (v: number) => v.toLocaleString('en-US');

const dir = mkdtempSync(join(tmpdir(), 'simdnn-cli-errors-'));
const csv = join(dir, 'three.csv'), model = join(dir, 'm.simdnn');
/** Three separable classes of 4 features, 240 rows, seeded. */
function classesCsv(sep = ','): string {
  const r = rng(16);
  const rows = [['a', 'b', 'c', 'd', 'y'].join(sep)];
  for (let i = 0; i < 240; i++) {
    const y = i % 3;
    rows.push([...Array.from({ length: 4 }, (_, j) => (j === y ? 2 : 0) + r() - 0.5), y].map((v) => (typeof v === 'number' ? v.toFixed(4) : v)).join(sep));
  }
  return rows.join('\n') + '\n';
}
const TRAIN = ['train', '--data', csv, '--target', 'y', '--loss', 'softmaxCrossEntropy', '--layers', '8', '--epochs', '1'];

beforeAll(async () => {
  writeFileSync(csv, classesCsv());
  const m = nn.sequential({ inputShape: [4], seed: 1 }, [nn.dense(8, { activation: 'relu' }), nn.dense(3)]);
  m.compile({ loss: 'softmaxCrossEntropy', optimizer: 'adam', metrics: ['accuracy'] });
  await m.save(model);
  m.dispose();
});

describe('usage errors: one message, one hint, exit 2', () => {
  it.each([
    [['train', '--loss', 'foo'], /^error: option '--loss <name>' argument 'foo' is invalid\. Allowed choices are mse, mae, .*softmaxCrossEntropy/],
    [['train', '--data', join(dir, 'none.csv'), '--target', 'y'], /^error: --data .*none\.csv: no such file$/],
    [['train', '--data', join(dir, 'no-folder')], /^error: --data .*no-folder: no such file or folder$/],
    [['train', '--threads', '65'], /^error: .*--threads is "65"; it must be an integer in \[1, 64\]$/],
    [['train', '--frob'], /^error: unknown option '--frob'$/],
    [['frobnicate'], /^error: unknown command 'frobnicate'$/],
    [['download', 'mnist', '--timeout', '0'], /--timeout is "0"; it must be > 0$/],
    [['train', '--separator', '::'], /--separator must be one character other than a quote or newline/],
    [['train', '--missing', 'maybe'], /Allowed choices are error, mean\.$/],
    [['predict', model, join(dir, 'none.csv')], /^error: .*none\.csv: no such file$/],
    [['export', model], /^error: export needs --onnx <file> and\/or --tfjs <dir>$/],
  ])('%j', (args, msg) => {
    const r = run(args as string[]);
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(2);
    expect(lines[0]).toMatch(msg);
    expect(lines[1]).toMatch(/^hint: \S/);
    expect(lines[1]).not.toMatch(/see simdnn help <command>/);
  });

  it('--out into a missing folder, or onto a folder, is refused before any data is loaded or trained', () => {
    const missing = run([...TRAIN, '--out', join(dir, 'nowhere', 'm.simdnn')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`error: --out ${join(dir, 'nowhere', 'm.simdnn')}: the folder ${join(dir, 'nowhere')} does not exist\n`
      + `hint: create it (mkdir -p ${join(dir, 'nowhere')}), or pass another --out\n`);
    expect(missing.stdout).toBe('');
    const folder = run([...TRAIN, '--out', dir]);
    expect(folder.status).toBe(2);
    expect(folder.stderr).toBe(`error: --out ${dir} is a folder; it must be a file path\nhint: pass a file in it, e.g. --out ${dir}/model.simdnn\n`);
    expect(folder.stdout).toBe('');
  });

  it('--resume of a model with --epochs already done says how to train more', async () => {
    const m = nn.loadModelSync(model);
    m.epoch = 3;
    const done = join(dir, 'done.simdnn');
    await m.save(done);
    m.dispose();
    const r = run(['train', '--resume', done, '--epochs', '2', '--data', csv, '--target', 'y']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`error: --resume ${done} has 3 epochs done and --epochs is 2\nhint: --epochs is the total: pass --epochs 13 to train 10 more\n`);
  });

  it('--resume with --layers, --loss or --lr (taken from the file) is a usage error, not a flag ignored', () => {
    const r = run(['train', '--resume', model, '--layers', '8,8', '--lr', '0.5', '--epochs', '20', '--data', csv, '--target', 'y']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: --resume .* takes the layers, activation, loss, optimizer and learning rate from the file; --layers, --lr cannot change them\nhint: /);
  });
});

describe('model files say what happened and name the file', () => {
  const good = () => readFileSync(model);

  it('a truncated file: error: <file> is truncated (N of M bytes)', () => {
    const f = join(dir, 'cut.simdnn'), b = good();
    writeFileSync(f, b.subarray(0, b.length - 100));
    const r = run(['info', f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`error: ${f} is truncated (${n(b.length - 100)} of ${n(b.length)} bytes)\n`
      + 'hint: the file was cut short (an interrupted copy, download or save?); copy or save it again\n');
  });

  it('a TF.js model.json: not a simdnn model (it looks like JSON …), with the command that converts it', () => {
    const f = join(dir, 'model.json');
    writeFileSync(f, JSON.stringify({ format: 'layers-model', modelTopology: {}, weightsManifest: [] }));
    const r = run(['eval', f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`error: ${f} is not a simdnn model (it looks like JSON — a TF.js model.json; use simdnn export/import or nn.io.importTfjs)\n`
      + 'hint: convert a TF.js model: simdnn import <folder of model.json> --out m.simdnn\n');
    expect(r.stderr).not.toMatch(/safetensors: header length/);
  });

  it.each([
    ['empty.simdnn', new Uint8Array(0), /^error: .*empty\.simdnn is empty \(0 bytes\); it is not a simdnn model$/m],
    ['noise.simdnn', Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 0, 1, 2]), /^error: .*noise\.simdnn is not a simdnn model \(its first 8 bytes give a header length of 4,294,967,295 bytes, over the cap of 16,777,216\)$/m],
    ['other.safetensors', encodeSafetensors([], { format: 'pt' }), /^error: .*other\.safetensors: __metadata__\.format: "pt"; expected "simdnn"$/m],
  ])('%s', (name, bytes, msg) => {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    const r = run(['info', f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(msg);
    expect(r.stderr).toMatch(/^hint: \S/m);
    expect(r.stderr).not.toMatch(/see simdnn help/);
  });
});

describe('hints in CLI flags', () => {
  it('a missing CSV value: the message and the hint name --missing mean, and --missing mean trains', () => {
    const f = join(dir, 'holes.csv');
    writeFileSync(f, classesCsv().replace(/\n([-\d.]+),/, '\n,'));
    const r = run([...TRAIN.map((a) => (a === csv ? f : a)), '--out', join(dir, 'h.simdnn')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: .*holes\.csv:2:1 \(a\): missing value ""; pass --missing mean to impute$/m);
    expect(r.stderr).toMatch(/^hint: pass --missing mean to fill empty cells with the column mean$/m);
    expect(r.stderr).not.toMatch(/\{ missing/);
    const ok = run([...TRAIN.map((a) => (a === csv ? f : a)), '--missing', 'mean', '--out', join(dir, 'h.simdnn')]);
    expect(ok.status, ok.stderr).toBe(0);
  });

  it("a ';'-separated CSV: the hint names --separator ';', which reads it", () => {
    const f = join(dir, 'semi.csv');
    writeFileSync(f, classesCsv(';'));
    const r = run([...TRAIN.map((a) => (a === csv ? f : a)), '--out', join(dir, 's.simdnn')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: readCsv: target "y" is not a column of .*semi\.csv; columns: a;b;c;d;y$/m);
    expect(r.stderr).toMatch(/^hint: the header looks like one column: pass the file's separator, e.g. --separator ';'$/m);
    const ok = run([...TRAIN.map((a) => (a === csv ? f : a)), '--separator', ';', '--out', join(dir, 's.simdnn')]);
    expect(ok.status, ok.stderr).toBe(0);
  });

  it('SIMDNN_ISA=bogus is a ConfigError naming the variable (CLI and library)', () => {
    const r = run(['info', model], { SIMDNN_ISA: 'bogus' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('error: SIMDNN_ISA is "bogus"; it must be relaxed, simd or scalar (or unset)\nhint: unset SIMDNN_ISA, or set it to relaxed, simd or scalar\n');
    const was = process.env.SIMDNN_ISA;
    process.env.SIMDNN_ISA = 'bogus';
    try {
      expect(() => new nn.Engine()).toThrow(nn.ConfigError);
      expect(() => new nn.Engine()).toThrow(/the environment variable SIMDNN_ISA is "bogus"; it must be one of relaxed, simd, scalar/);
    } finally {
      if (was === undefined) delete process.env.SIMDNN_ISA;
      else process.env.SIMDNN_ISA = was;
    }
  });

  it('--threads above the machine\'s cores warns once, and trains', () => {
    const t = Math.min(64, availableParallelism() + 1);
    const r = run([...TRAIN, '--threads', String(t), '--out', join(dir, 't.simdnn')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.match(/^warning: --threads \d+ is more than the \d+ cores? of this machine/gm)).toHaveLength(1);
  });
});

describe('pipes', () => {
  /** `simdnn … | head -1` in bash: the first line, the CLI's exit status and its stderr. */
  const headOne = (args: string[]) => {
    const cmd = `"${process.execPath}" "${CLI}" ${args.map((a) => `'${a}'`).join(' ')} 2>"${join(dir, 'err.txt')}" | head -1; echo "\${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', timeout: 120_000 });
    const [first, status] = r.stdout.trimEnd().split('\n');
    return { first, status: Number(status), stderr: readFileSync(join(dir, 'err.txt'), 'utf8') };
  };

  it('predict … | head -1 exits quietly (no EPIPE trace)', () => {
    const big = join(dir, 'big.csv');
    writeFileSync(big, 'a,b,c,d\n' + '0.1,0.2,0.3,0.4\n'.repeat(20_000));
    const r = headOne(['predict', model, big]);
    expect(r.first).toBe('class');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('train | head -1 exits quietly', () => {
    const r = headOne([...TRAIN, '--epochs', '3', '--out', join(dir, 'p.simdnn')]);
    expect(r.first).toBe(`loading ${csv}…`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('download timeouts', () => {
  it('a server that never answers: exit 1 after --timeout, naming the URL', async () => {
    const s = await serveSilence();
    try {
      const r = await runAsync(['download', 'mnist', '--dir', join(dir, 'dl'), '--base-url', `${s.url}/m/`, '--timeout', '1']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: download: ${s.url}/m/train-images-idx3-ubyte\\.gz did not answer within 1 s; `, 'm'));
      expect(r.stderr).toMatch(/^hint: pass --timeout <seconds> for a slow server, or --base-url <mirror>$/m);
      expect(existsSync(join(dir, 'dl', 'train-images-idx3-ubyte.gz'))).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('a server that goes silent mid-file: exit 1 saying after how many bytes', async () => {
    const s = await serveSilence(new Uint8Array(1000));
    try {
      const r = await runAsync(['download', 'mnist', '--dir', join(dir, 'dl2'), '--base-url', `${s.url}/m/`, '--timeout', '1']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: download: ${s.url}/m/train-images-idx3-ubyte\\.gz sent nothing for 1 s after 1000 bytes; `, 'm'));
    } finally {
      await s.close();
    }
  });
});

describe('train --checkpoint and --resume', () => {
  it('--checkpoint writes every epoch; --resume continues from one to --epochs in total', () => {
    const ck = join(dir, 'ck-{epoch}.simdnn');
    const r = run([...TRAIN, '--epochs', '2', '--checkpoint', ck, '--out', join(dir, 'ck.simdnn')]);
    expect(r.status, r.stderr).toBe(0);
    for (const e of [1, 2]) {
      const m = nn.loadModelSync(join(dir, `ck-${e}.simdnn`));
      expect(m.epoch).toBe(e);
      m.dispose();
    }
    const out = join(dir, 'resumed.simdnn');
    const again = run(['train', '--resume', join(dir, 'ck-1.simdnn'), '--epochs', '3', '--data', csv, '--target', 'y', '--out', out]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`resuming ${join(dir, 'ck-1.simdnn')} after epoch 1`);
    expect(again.stdout).not.toMatch(/^epoch 1\/3/m);
    expect(again.stdout).toMatch(/^epoch 2\/3 · loss/m);
    expect(again.stdout).toMatch(/^epoch 3\/3 · loss/m);
    const m = nn.loadModelSync(out);
    expect(m.epoch).toBe(3);
    m.dispose();
  });
});

describe('no spread over data', () => {
  it('an IDX folder of 130,000 samples trains (Math.max(...labels) overflowed the stack past ~125k)', () => {
    const folder = join(dir, 'many');
    mkdirSync(folder, { recursive: true });
    const idx = (type: number, shape: number[], data: Uint8Array) => {
      const h = Buffer.alloc(4 + 4 * shape.length);
      h[2] = type; h[3] = shape.length;
      shape.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
      return gzipSync(Buffer.concat([h, data]));
    };
    const write = (img: string, lab: string, count: number) => {
      const y = Uint8Array.from({ length: count }, (_, i) => i % 3);
      const x = Uint8Array.from({ length: count * 4 }, (_, i) => (Math.floor(i / 4) % 3 === i % 4 ? 255 : 0));
      writeFileSync(join(folder, img), idx(0x08, [count, 2, 2], x));
      writeFileSync(join(folder, lab), idx(0x08, [count], y));
    };
    write('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 130_000);
    write('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 300);
    const r = run(['train', '--data', folder, '--layers', '4', '--epochs', '1', '--batch-size', '4096', '--out', join(dir, 'many.simdnn')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test: loss [\d.]+ · accuracy [\d.]+/);
    expect(r.stderr).not.toMatch(/Maximum call stack/);
  });
});

describe('the loader classifies what it cannot decode (library)', () => {
  it('truncated bytes, JSON and a consistent header that lies about nothing', () => {
    const b = readFileSync(model);
    expect(() => nn.loadModelSync(b.subarray(0, 1000))).toThrow(new nn.ModelFormatError(`loadModel: the buffer is truncated (1,000 of ${n(b.length)} bytes)`));
    expect(() => nn.loadModelSync(new TextEncoder().encode('{"modelTopology": {}}'))).toThrow(/^loadModel: the buffer is not a simdnn model \(it looks like JSON — a TF\.js model\.json; /);
    expect(() => nn.loadModelSync(b.subarray(0, 20))).toThrow(/^loadModel: the buffer is truncated \(20 of at least [\d,]+ bytes: its header length is [\d,]+\)$/);
  });
});

describe('Keras/TF.js spellings in the CLI', () => {
  it('--loss sparseCategoricalCrossentropy trains with the softmax output of categoricalCrossEntropy', () => {
    const out = join(dir, 'scc.simdnn');
    const r = run([...TRAIN.map((a) => (a === 'softmaxCrossEntropy' ? 'sparseCategoricalCrossentropy' : a)), '--epochs', '20', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(Number(/test: loss [\d.]+ · accuracy ([\d.]+)/.exec(r.stdout)![1])).toBeGreaterThan(0.9);
    const m = nn.loadModelSync(out);
    expect(m.loss!.name).toBe('categoricalCrossEntropy');
    expect((m.config().layers as { activation?: string }[]).at(-1)!.activation).toBe('softmax');
    m.dispose();
  });
});
