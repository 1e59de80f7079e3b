// Hostile data files: IDX with bad magic, type, rank or dimensions; CSV with ragged rows, NaN,
// inf, empty cells, very long lines, a BOM, bad quoting. Each is a DataFormatError naming the
// file (and row:col for CSV), or a documented opt-in policy (`missing: 'mean'`).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { parseCsv, readCsv } from '../../src/io/csv.js';
import { parseIdx, readIdx } from '../../src/io/idx.js';
import { idx } from '../util/idx.js';

function refused(fn: () => unknown, cls: new (...a: never[]) => Error, msg: RegExp): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err, 'accepted a hostile input').toBeInstanceOf(cls);
  expect((err as Error).message).toMatch(msg);
}

describe('hostile IDX files', () => {
  const good = idx(0x08, [2, 3], new Uint8Array([1, 2, 3, 4, 5, 6]));
  it('the valid file parses (raw and gzipped)', () => {
    expect(parseIdx(good).shape).toEqual([2, 3]);
    expect([...parseIdx(gzipSync(good)).data]).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it('bad magic', () => {
    for (const [a, b] of [[1, 0], [0, 1], [0xff, 0xff]]) {
      const x = good.slice(); x[0] = a; x[1] = b;
      refused(() => parseIdx(x, 'f.idx'), nn.DataFormatError, /^f\.idx: bad IDX magic/);
    }
  });
  it('unknown type byte', () => {
    for (const t of [0, 0x07, 0x0a, 0x0f, 0xff]) refused(() => parseIdx(idx(t, [1], new Uint8Array(1)), 'f.idx'), nn.DataFormatError, /f\.idx: unknown IDX type byte/);
  });
  it('rank 0 and a header longer than the file', () => {
    refused(() => parseIdx(idx(0x08, [], new Uint8Array(0)), 'f.idx'), nn.DataFormatError, /rank is 0/);
    const x = good.slice(0, 8); x[3] = 200;
    refused(() => parseIdx(x, 'f.idx'), nn.DataFormatError, /declares 200 dimensions/);
  });
  it('a dimension of 2³²−1, and products that overflow', () => {
    refused(() => parseIdx(idx(0x08, [0xffffffff], new Uint8Array(8)), 'f.idx'), nn.DataFormatError, /4294967295 of u8 need 4294967295 data bytes but the file has 8/);
    refused(() => parseIdx(idx(0x0e, Array(40).fill(0xffffffff), new Uint8Array(8)), 'f.idx'), nn.DataFormatError, /need .* data bytes but the file has 8/);
    refused(() => parseIdx(idx(0x0d, [0xffffffff, 0xffffffff, 0], new Uint8Array(4)), 'f.idx'), nn.DataFormatError, /need 0 data bytes but the file has 4/);
  });
  it('dimension product ≠ bytes (every type, one byte short and one too many)', () => {
    for (const [t, w] of [[0x08, 1], [0x09, 1], [0x0b, 2], [0x0c, 4], [0x0d, 4], [0x0e, 8]]) {
      expect(parseIdx(idx(t, [3], new Uint8Array(3 * w))).shape).toEqual([3]);
      refused(() => parseIdx(idx(t, [3], new Uint8Array(3 * w - 1)), 'f.idx'), nn.DataFormatError, /need \d+ data bytes/);
      refused(() => parseIdx(idx(t, [3], new Uint8Array(3 * w + 1)), 'f.idx'), nn.DataFormatError, /need \d+ data bytes/);
    }
  });
  it('corrupt gzip and every truncation', () => {
    const z = gzipSync(good);
    refused(() => parseIdx(z.subarray(0, z.length - 5), 'f.idx.gz'), nn.DataFormatError, /f\.idx\.gz: gzip/);
    for (let n = 0; n < good.length; n++) refused(() => parseIdx(good.subarray(0, n), 'f.idx'), nn.DataFormatError, /^f\.idx: /);
  });
  it('a missing file is a DataFormatError naming it', () => {
    refused(() => readIdx('/nonexistent/x.idx'), nn.DataFormatError, /\/nonexistent\/x\.idx: cannot read/);
  });
});

describe('hostile CSV files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simdnn-csv-'));
  it('the valid file parses, with a BOM and CRLF', () => {
    const t = parseCsv('\ufeffa,b\r\n1,2\r\n3,4\r\n');
    expect(t.columns).toEqual(['a', 'b']);
    expect([...t.data]).toEqual([1, 2, 3, 4]);
  });
  it('ragged rows name file:row:col', () => {
    refused(() => parseCsv('a,b,c\n1,2,3\n4,5\n', 'd.csv'), nn.DataFormatError, /^d\.csv:3:3: 2 fields, the header has 3/);
    refused(() => parseCsv('a,b\n1,2,3\n', 'd.csv'), nn.DataFormatError, /^d\.csv:2:3: 3 fields, the header has 2/);
  });
  it('NaN, empty cells and NA are missing values: an error by default, imputed with missing: mean', () => {
    for (const [cell, col] of [['NaN', 2], ['', 2], ['nan', 2], ['NA', 2], ['  ', 2]] as const) {
      refused(() => parseCsv(`a,b\n1,2\n3,${cell}\n`, 'd.csv'), nn.DataFormatError, new RegExp(`^d\\.csv:3:${col} \\(b\\): missing value`));
    }
    const t = parseCsv('a,b\n1,2\n3,\n5,NaN\n7,8\n', 'd.csv', { missing: 'mean' });
    expect([...t.data]).toEqual([1, 2, 3, 5, 5, 5, 7, 8]);
    refused(() => parseCsv('a,b\n1,\n3,\n', 'd.csv', { missing: 'mean' }), nn.DataFormatError, /column b has no values/);
  });
  it('inf, Infinity, overflow and text are not finite numbers', () => {
    for (const cell of ['inf', 'Infinity', '-Infinity', '1e999', 'abc', '1,5'.replace(',', ';'), '0x']) {
      refused(() => parseCsv(`a,b\n1,${cell}\n`, 'd.csv'), nn.DataFormatError, /^d\.csv:2:2 \(b\): .* is not a finite number/);
    }
  });
  it('a very long line is refused with its line number', () => {
    const long = 'a\n1\n' + '9'.repeat(2_000_001) + '\n';
    refused(() => parseCsv(long, 'd.csv'), nn.DataFormatError, /^d\.csv:3:\d+: line longer than 1000000 characters/);
    refused(() => parseCsv('a\n12345\n', 'd.csv', { maxLineLength: 3 }), nn.DataFormatError, /^d\.csv:2:\d+: line longer than 3/);
  });
  it('bad quoting names file:row:col', () => {
    refused(() => parseCsv('a,b\n1,2"3\n', 'd.csv'), nn.DataFormatError, /^d\.csv:2:2: a quote inside an unquoted field/);
    refused(() => parseCsv('a,b\n1,"2"3\n', 'd.csv'), nn.DataFormatError, /^d\.csv:2:2: text after a closing quote/);
    refused(() => parseCsv('a,b\n1,"2\n3,4\n', 'd.csv'), nn.DataFormatError, /^d\.csv:2:2: a quoted field is not closed/);
    expect([...parseCsv('a,b\n"1","2"\n').data]).toEqual([1, 2]);
  });
  it('empty input and header only', () => {
    refused(() => parseCsv('', 'd.csv'), nn.DataFormatError, /d\.csv: empty/);
    refused(() => parseCsv('\ufeff', 'd.csv'), nn.DataFormatError, /d\.csv: empty/);
    expect(parseCsv('a,b\n').rows).toBe(0);
  });
  it('readCsv names the path and refuses an unknown target', () => {
    const p = join(dir, 'x.csv');
    writeFileSync(p, 'a,b\n1,2\n3,x\n');
    refused(() => readCsv(p), nn.DataFormatError, new RegExp(`${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:2 \\(b\\)`));
    writeFileSync(p, 'a,b\n1,2\n');
    refused(() => readCsv(p, { target: 'zz' }), nn.ConfigError, /target "zz" is not a column/);
    refused(() => readCsv(join(dir, 'none.csv')), nn.DataFormatError, /none\.csv: cannot read/);
  });
});
