// Fashion-MNIST's canonical files, rebuilt from Debian's dataset-fashion-mnist without the network.
// NOTE: Debian's build ran strip-nondeterminism over them, which drops the gzip header's file name
// (FLG.FNAME) and sets its MTIME to the package date; the deflate data is untouched. Putting the
// name and the original time back gives, byte for byte, the files whose MD5s the Fashion-MNIST
// README publishes (the times were found by searching for those MD5s).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEBIAN_FASHION = '/usr/share/datasets/fashion-mnist';
export const HAVE_DEBIAN_FASHION = existsSync(join(DEBIAN_FASHION, 'train-images-idx3-ubyte.gz'));

/** Gzip MTIMEs of the published files: 2017-08-31 10:50:06 UTC (train) and 10:50:27 UTC (t10k). */
const MTIME: Record<string, number> = { train: 1504176606, t10k: 1504176627 };
const FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

function canonical(file: string): Buffer {
  const deb = readFileSync(join(DEBIAN_FASHION, file));
  if (deb[0] !== 0x1f || deb[1] !== 0x8b || deb[3] !== 0) throw new Error(`${file}: expected a gzip header without flags (Debian's layout)`);
  const head = Buffer.from(deb.subarray(0, 10));
  head[3] = 0x08; // FLG.FNAME: a zero-terminated name follows the 10-byte header
  head.writeUInt32LE(MTIME[file.slice(0, file.indexOf('-'))], 4);
  return Buffer.concat([head, Buffer.from(`${file.slice(0, -'.gz'.length)}\0`, 'latin1'), deb.subarray(10)]);
}

let cache: Record<string, Buffer> | undefined;
/** The four canonical files by name. */
export function canonicalFashionFiles(): Record<string, Buffer> {
  return (cache ??= Object.fromEntries(FILES.map((f) => [f, canonical(f)])));
}
