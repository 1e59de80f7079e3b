// File access for the loaders and savers (DESIGN §10). Reading: open once, check the descriptor
// (a regular file within a cap), read only from it, so what was checked is what is read. Writing:
// atomic, through an exclusively created temp file beside the target.
import { randomBytes } from 'node:crypto';
// NOTE: a namespace import: bundles that stub node:fs with functions only (test/embed.test.ts)
// must still build, and fs.constants is read only when a file is opened.
import * as fs from 'node:fs';
import type { Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { SimdnnError } from '../errors.js';

/** Makes the loader's typed error from a message (`cannot read x: …`, `x is a FIFO; …`). */
export type Refuse = (message: string) => SimdnnError;

/** A file opened by withFile: its size when opened, and reads from its descriptor. */
export interface OpenedFile {
  readonly fd: number;
  readonly stat: Stats;
  readonly size: number;
  /** Fills `out` from byte `pos`; refuses if the file ends first (it changed while open). */
  readInto<B extends Uint8Array>(out: B, pos: number): B;
  /** `len` bytes from `pos`, in a Buffer of their own. */
  read(pos: number, len: number): Buffer;
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens `path` once (O_NONBLOCK: a FIFO cannot block the open), checks with fstat that it is a
 * regular file of at most `maxBytes`, runs fn on it and closes it. `label` names the file in
 * messages (default: the path).
 */
export function withFile<T>(path: string, refuse: Refuse, opts: { maxBytes?: number; label?: string }, fn: (f: OpenedFile) => T): T {
  const label = opts.label ?? path, max = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw refuse(`cannot read ${label}: ${(e as Error).message}`);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw refuse(`${label} is ${kind(stat)}; it must be a regular file`);
    if (stat.size > max) throw refuse(`${label} has ${stat.size} bytes; the cap is ${max}`);
    const readInto = <B extends Uint8Array>(out: B, pos: number): B => {
      for (let got = 0; got < out.length;) {
        let n: number;
        try {
          n = fs.readSync(fd, out, got, Math.min(out.length - got, 1 << 30), pos + got);
        } catch (e) {
          throw refuse(`cannot read ${label}: ${(e as Error).message}`);
        }
        if (n === 0) throw refuse(`${label} ended at byte ${pos + got}; it had ${stat.size} bytes when opened`);
        got += n;
      }
      return out;
    };
    return fn({ fd, stat, size: stat.size, readInto, read: (pos, len) => readInto(Buffer.allocUnsafeSlow(len), pos) });
  } finally {
    fs.closeSync(fd);
  }
}

/** The real path of what `f` (opened as `path`) is: the kernel's name for the descriptor, or where it cannot tell, realpath checked against the descriptor's device and inode. */
export function realPathOf(f: OpenedFile, path: string, refuse: Refuse): string {
  try {
    return fs.readlinkSync(`/proc/self/fd/${f.fd}`);
  } catch { /* no /proc: check by identity instead */ }
  let real: string, st: Stats;
  try {
    real = fs.realpathSync(path);
    st = fs.statSync(real);
  } catch (e) {
    throw refuse(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (st.dev !== f.stat.dev || st.ino !== f.stat.ino) throw refuse(`${path} changed while it was opened; it must stay in place while it is read`);
  return real;
}

// ── atomic write ────────────────────────────────────────────────────────────────────────────────

let saves = 0;
/** `.<name>.<pid>.<threadId>.<call>.<random>.tmp`: unique per process, thread and call, and not guessable. */
const TEMP = /^(\d+)\.\d+\.\d+\.[0-9a-f]{16}\.tmp$/;

/**
 * Writes bytes to path atomically: a temp file beside it created exclusively (O_EXCL, O_NOFOLLOW:
 * a planted file or symlink is never written through), fsync, rename over the target, fsync of
 * the folder. `where` prefixes errors.
 */
export function writeAtomic(path: string, bytes: Uint8Array, where = 'save'): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${threadId}.${saves++}.${randomBytes(8).toString('hex')}.tmp`);
  let fd: number | undefined, created = false;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
    created = true;
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) try { fs.closeSync(fd); } catch { /* already failing */ }
    // NOTE: only a temp this call created is removed, never a file planted at its name.
    if (created) try { fs.rmSync(tmp, { force: true }); } catch { /* already gone */ }
    throw new SimdnnError(`${where}: could not write ${path}: ${(e as Error).message}`);
  }
  // Make the rename itself durable.
  try {
    const dfd = fs.openSync(dirname(path), 'r');
    try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
  } catch { /* some file systems cannot fsync a directory */ }
  removeStaleTemps(path);
}

/**
 * Removes temp files of earlier saves to `path` whose writer process is gone (killed mid-save).
 * Files of live processes (this one included: other threads may be saving) are left alone.
 */
export function removeStaleTemps(path: string): void {
  const dir = dirname(path), prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const f of names) {
    const m = f.startsWith(prefix) ? TEMP.exec(f.slice(prefix.length)) : null;
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    try { fs.rmSync(join(dir, f), { force: true }); } catch { /* best effort */ }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
