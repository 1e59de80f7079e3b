// IDX and CSV readers, data sets and preprocessing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataFormatError, ConfigError } from '../../src/errors.js';
import { parseIdx } from '../../src/io/idx.js';
import { parseCsv, readCsv } from '../../src/io/csv.js';
import { mnistDigits, fashionMnist, dataDirs } from '../../src/data/datasets.js';
import { oneHot, standardizer, trainTestSplit, scaleImages, toFloat, flatten } from '../../src/data/preprocess.js';
import { Tensor } from '../../src/tensor.js';

function idx(type: number, dims: number[], body: number[]): Uint8Array {
  const head = [0, 0, type, dims.length];
  for (const d of dims) head.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return Uint8Array.from([...head, ...body]);
}

describe('IDX', () => {
  it('parses u8 images, raw and gzipped', () => {
    const raw = idx(0x08, [2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const b of [raw, new Uint8Array(gzipSync(raw))]) {
      const r = parseIdx(b);
      expect(r.shape).toEqual([2, 2, 3]);
      expect(Array.from(r.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }
  });
  it('parses big-endian i32 and f32', () => {
    expect(Array.from(parseIdx(idx(0x0c, [1], [0xff, 0xff, 0xff, 0xfe])).data)).toEqual([-2]);
    expect(Array.from(parseIdx(idx(0x0d, [1], [0x3f, 0x80, 0, 0])).data)).toEqual([1]);
  });
  it.each([
    ['bad magic', Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 1, 5]), /magic/],
    ['unknown type', idx(0x07, [1], [5]), /type byte 0x7/],
    ['rank 0', idx(0x08, [], []), /rank is 0/],
    ['short header', Uint8Array.from([0, 0, 8, 3, 0, 0]), /declares 3 dimensions/],
    ['dimension 2³²−1', idx(0x08, [0xffffffff, 1], [1, 2]), /need 4294967295 data bytes but the file has 2/],
    ['product ≠ bytes', idx(0x08, [2, 3], [1, 2, 3]), /need 6 data bytes but the file has 3/],
    ['truncated', Uint8Array.from([0, 0]), /too short/],
    ['corrupt gzip', Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), /gzip/],
  ])('rejects %s with a DataFormatError', (_n, bytes, msg) => {
    expect(() => parseIdx(bytes, 'f.idx')).toThrow(DataFormatError);
    expect(() => parseIdx(bytes, 'f.idx')).toThrow(msg);
  });
});

describe('CSV', () => {
  it('reads a header, quoted fields, CRLF and a BOM; splits the target column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdnn-csv-'));
    const f = join(dir, 'a.csv');
    writeFileSync(f, '\ufeffa,"b",y\r\n1,2,3\r\n"4",5.5,-6\r\n');
    const r = readCsv(f, { target: 'y' });
    expect(r.features).toEqual(['a', 'b']);
    expect(Array.from(r.x.data)).toEqual([1, 2, 4, 5.5]);
    expect(Array.from(r.y!)).toEqual([3, -6]);
  });
  it.each([
    ['a ragged row', 'a,b\n1,2\n3\n', /:3:2: 1 fields, the header has 2/],
    ['NaN', 'a,b\n1,NaN\n', /:2:2 \(b\): missing value/],
    ['an empty cell', 'a,b\n1,\n', /:2:2 \(b\): missing value/],
    ['inf', 'a,b\n1,inf\n', /:2:2 \(b\): "inf" is not a finite number/],
    ['text', 'a,b\n1,x\n', /"x" is not a finite number/],
    ['an open quote', 'a,b\n1,"2\n', /not closed/],
    ['a quote inside a field', 'a,b\n1,2"3"\n', /quote inside/],
    ['a very long line', `a\n${'1'.repeat(2000)}\n`, /longer than 1000/],
  ])('rejects %s with file:row:col', (_n, text, msg) => {
    expect(() => parseCsv(text, 'f.csv', { maxLineLength: 1000 })).toThrow(DataFormatError);
    expect(() => parseCsv(text, 'f.csv', { maxLineLength: 1000 })).toThrow(msg);
  });
  it("imputes column means with { missing: 'mean' }", () => {
    const t = parseCsv('a,b\n1,\n3,4\nNaN,8\n', 'f.csv', { missing: 'mean' });
    expect(Array.from(t.data)).toEqual([1, 6, 3, 4, 2, 8]);
  });
  it('reads the Boston housing table: 506 rows, 13 features, target medv', () => {
    const r = readCsv(new URL('../../data/boston-housing.csv', import.meta.url).pathname, { target: 'medv' });
    expect(r.x.shape).toEqual([506, 13]);
    expect(r.y!.length).toBe(506);
    expect(r.y!.every((v) => v >= 5 && v <= 50)).toBe(true);
  });
});

describe('data sets and preprocessing', () => {
  it('mnistDigits: 10,000 real digits, stratified 8,000/2,000, bytes 0…255', () => {
    const d = mnistDigits();
    expect(d.train.x.shape).toEqual([8000, 784]);
    expect(d.test.x.shape).toEqual([2000, 784]);
    const counts = new Array(10).fill(0);
    for (const y of d.test.y) counts[y]++;
    // Every class is present in the test set in proportion (each digit has 800–1,200 samples).
    for (const c of counts) expect(c).toBeGreaterThan(150);
    expect(Math.max(...d.train.x.data.subarray(0, 784 * 10))).toBeGreaterThan(200);
  });
  it('fashionMnist: finds Debian\'s files, or names every folder it searched', () => {
    try {
      const d = fashionMnist();
      expect(d.train.x.shape).toEqual([60000, 28, 28]);
      expect(d.test.y.length).toBe(10000);
    } catch (e) {
      expect(e).toBeInstanceOf(DataFormatError);
      expect(String(e)).toMatch(/\/usr\/share\/datasets\/fashion-mnist/);
    }
    process.env.SIMDNN_DATA = '/env-data';
    try {
      expect(dataDirs('fashion-mnist', '/given')).toEqual(['/given', '/env-data/fashion-mnist', '/env-data',
        join(homedir(), '.cache', 'simdnn', 'fashion-mnist'), '/usr/share/datasets/fashion-mnist']);
    } finally {
      delete process.env.SIMDNN_DATA;
    }
  });
  it('scaleImages records the range; toFloat applies (x − 127.5)/127.5', () => {
    const t = scaleImages(new Tensor(Uint8Array.from([0, 255, 51]), [1, 3]), '-1-1');
    expect(Array.from(toFloat(t).data).map((v) => +v.toFixed(4))).toEqual([-1, 1, -0.6]);
    expect(() => scaleImages(t, '0-2' as never)).toThrow(ConfigError);
  });
  it('standardizer fitted on train applies to test and inverts', () => {
    const s = standardizer(new Tensor(Float32Array.from([1, 10, 3, 30]), [2, 2]));
    expect(Array.from(s.mean)).toEqual([2, 20]);
    expect(Array.from(s.transform(new Tensor(Float32Array.from([2, 40]), [1, 2])).data)).toEqual([0, 2]);
    expect(Array.from(s.inverse(Float32Array.from([1, -1])).data)).toEqual([3, 10]);
  });
  it('oneHot and flatten', () => {
    expect(Array.from(oneHot([2, 0], 3))).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => oneHot([3], 3)).toThrow(/labels\[0\] is 3/);
    expect(flatten(new Tensor(new Uint8Array(12), [2, 2, 3])).shape).toEqual([2, 6]);
  });
  it('trainTestSplit is seeded and stratified', () => {
    const x = new Tensor(Float32Array.from({ length: 100 }, (_, i) => i), [100, 1]);
    const y = Int32Array.from({ length: 100 }, (_, i) => (i < 80 ? 0 : 1));
    const a = trainTestSplit(x, y, { testFraction: 0.25, seed: 3 });
    const b = trainTestSplit(x, y, { testFraction: 0.25, seed: 3 });
    const c = trainTestSplit(x, y, { testFraction: 0.25, seed: 4 });
    expect(Array.from(a.test.x.data)).toEqual(Array.from(b.test.x.data));
    expect(Array.from(a.test.x.data)).not.toEqual(Array.from(c.test.x.data));
    expect(a.test.y.filter((v) => v === 1).length).toBe(5);
    expect(a.train.x.rows + a.test.x.rows).toBe(100);
  });
});
