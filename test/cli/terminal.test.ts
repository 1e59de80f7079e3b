// Issue 16, the terminal: the CLI in a real pseudo-terminal (tmux, on a private socket). The
// progress bar fits the width and leaves no stale lines; Ctrl-C during train saves the last
// finished epoch and exits 130; download draws a progress line and ends it before an error.
// Waits poll the screen for what must appear (no sleeps sized to this machine's speed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { serveSilence } from '../util/http.js';
import { rng } from '../util/rng.js';

const HAVE_TMUX = spawnSync('tmux', ['-V']).status === 0;
const CLI = new URL('../../build/src/cli.js', import.meta.url).pathname;
const SOCKET = `simdnn-test-${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'simdnn-tty-'));
let sessions = 0;

/** Runs `args` of the CLI in a new detached tmux window of cols × rows; returns its session name. */
function start(args: string[], cols: number, rows = 50): string {
  const name = `s${++sessions}`;
  const cmd = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
  const r = tmux('new-session', '-d', '-s', name, '-x', String(cols), '-y', String(rows), `${cmd}; echo EXIT=$?; sleep 600`);
  expect(r.status, r.stderr).toBe(0);
  return name;
}
/** The whole pane, history included; -J joins lines the terminal wrapped. */
const screen = (name: string, join = true) => tmux('capture-pane', '-p', ...(join ? ['-J'] : []), '-S', '-', '-t', name).stdout;
async function waitFor(name: string, re: RegExp, ms = 110_000): Promise<string> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(100)) {
    const s = screen(name);
    if (re.test(s)) return s;
  }
  throw new Error(`timed out waiting for ${re} in:\n${screen(name)}`);
}

/** Three classes of 4 features, `rows` rows, seeded. */
function classesCsv(rows: number): string {
  const r = rng(7);
  const out = ['a,b,c,d,y'];
  for (let i = 0; i < rows; i++) out.push([...Array.from({ length: 4 }, (_, j) => ((j === i % 3 ? 2 : 0) + r() - 0.5).toFixed(3)), i % 3].join(','));
  return out.join('\n') + '\n';
}
const csv = join(dir, 'three.csv');
writeFileSync(csv, classesCsv(3000));
const TRAIN = ['train', '--data', csv, '--target', 'y', '--loss', 'softmaxCrossEntropy', '--layers', '16', '--batch-size', '16'];

afterAll(() => { if (HAVE_TMUX) tmux('kill-server'); });

describe.skipIf(!HAVE_TMUX)('simdnn in a terminal (tmux)', () => {
  it.each([50, 80])('train at %i columns: a line before data loads, epoch lines that fit, no stale progress lines', async (cols) => {
    const s = start([...TRAIN, '--epochs', '4', '--out', join(dir, `w${cols}.simdnn`)], cols);
    const out = await waitFor(s, /^EXIT=\d+$/m);
    expect(out).toMatch(/^EXIT=0$/m);
    const lines = out.split('\n');
    expect(lines[0]).toBe(`loading ${csv}…`);
    const epochLines = lines.filter((l) => l.startsWith('epoch '));
    expect(epochLines.map((l) => l.slice(0, 9))).toEqual(['epoch 1/4', 'epoch 2/4', 'epoch 3/4', 'epoch 4/4']);
    for (const l of epochLines) {
      expect(l.length, l).toBeLessThan(cols);
      expect(l).toMatch(/^epoch \d\/4 · loss [\d.]+ · accuracy [\d.]+/);
    }
    // A redraw wider than the terminal wraps and leaves a stale copy of the bar behind.
    expect(out).not.toMatch(/[█·]{3}/);
  });

  it('Ctrl-C during train: "interrupted at epoch n/N", the last finished epoch saved to --out, exit 130; --resume continues it', async () => {
    const out = join(dir, 'ctrl-c.simdnn');
    const s = start([...TRAIN, '--epochs', '100000', '--out', out], 200);
    await waitFor(s, /^epoch 2\/100000 · loss/m);
    tmux('send-keys', '-t', s, 'C-c');
    const text = await waitFor(s, /^EXIT=\d+$/m);
    expect(text).toMatch(/^EXIT=130$/m);
    const m = /^interrupted at epoch (\d+)\/100000; saved epoch (\d+) to (.*) \(continue with: simdnn train --resume (.*) --epochs 100000\)$/m.exec(text);
    expect(m, text).not.toBeNull();
    const [at, saved] = [Number(m![1]), Number(m![2])];
    expect(saved).toBe(at - 1);
    expect(saved).toBeGreaterThanOrEqual(2);
    expect(m![3]).toBe(out);
    // No summary line for the epoch cut short.
    expect(text).not.toMatch(new RegExp(`^epoch ${at}/100000 · loss`, 'm'));
    const model = nn.loadModelSync(out);
    expect(model.epoch).toBe(saved);
    model.dispose();
    const again = spawnSync(process.execPath, [CLI, 'train', '--resume', out, '--epochs', String(saved + 1), '--data', csv, '--target', 'y', '--out', join(dir, 'r.simdnn')], { encoding: 'utf8', timeout: 120_000 });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^epoch ${saved + 1}/${saved + 1} · loss`, 'm'));
  });

  it('download on a terminal: a progress line per file, ended before the timeout error', async () => {
    const silent = await serveSilence();
    const stalls = await serveSilence(new Uint8Array(2000));
    try {
      const a = start(['download', 'mnist', '--dir', join(dir, 'd1'), '--base-url', `${silent.url}/m/`, '--timeout', '2'], 160);
      const b = start(['download', 'mnist', '--dir', join(dir, 'd2'), '--base-url', `${stalls.url}/m/`, '--timeout', '2'], 160);
      const ta = await waitFor(a, /^EXIT=\d+$/m), tb = await waitFor(b, /^EXIT=\d+$/m);
      const url = (s: string) => `${s}/m/train-images-idx3-ubyte.gz`;
      expect(ta).toContain(`  train-images-idx3-ubyte.gz  connecting to ${url(silent.url)}…\nerror: download: ${url(silent.url)} did not answer within 2 s; `);
      expect(ta).toMatch(/^EXIT=1$/m);
      expect(tb).toContain(`  train-images-idx3-ubyte.gz  2.0 kB of 20.0 kB (10%)\nerror: download: ${url(stalls.url)} sent nothing for 2 s after 2000 bytes; `);
      expect(tb).toMatch(/^EXIT=1$/m);
    } finally {
      await silent.close();
      await stalls.close();
    }
  });
});
