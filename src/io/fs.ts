// Files written whole: a save is atomic (temp file beside the target, fsync, rename).
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SimdnnError } from '../errors.js';

/** Writes bytes to path atomically: temp file beside it, fsync, rename over the target. `where` prefixes errors. */
export function writeAtomic(path: string, bytes: Uint8Array, where = 'save'): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w', 0o644);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) try { closeSync(fd); } catch { /* already failing */ }
    // NOTE: rmSync({ force }) ignores ENOENT only; under a non-folder it throws ENOTDIR, which
    // must not replace the typed error below.
    try { rmSync(tmp, { force: true }); } catch { /* nothing was created */ }
    throw new SimdnnError(`${where}: could not write ${path}: ${(e as Error).message}`);
  }
  // Make the rename itself durable.
  try {
    const dfd = openSync(dirname(path), 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* some file systems cannot fsync a directory */ }
  removeStaleTemps(path);
}

/**
 * Removes temp files of earlier saves to `path` whose writer process is gone (killed mid-save):
 * `.<name>.<pid>.<ms>.tmp` beside the target. Files of live writers are left alone.
 */
function removeStaleTemps(path: string): void {
  const dir = dirname(path), prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const f of names) {
    if (!f.startsWith(prefix) || !f.endsWith('.tmp')) continue;
    const m = /^(\d+)\.\d+\.tmp$/.exec(f.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    try { rmSync(join(dir, f), { force: true }); } catch { /* best effort */ }
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

