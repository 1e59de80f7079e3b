// CSV: a header row, numeric columns, a chosen target column. RFC 4180 quoting; a UTF-8 BOM is
// skipped; errors name file, row and column. Missing values are errors unless `missing` says how
// to treat them.
import { constants } from 'node:buffer';
import { ConfigError, DataFormatError, show } from '../errors.js';
import { Tensor } from '../tensor.js';
import { withFile } from './fs.js';

/** Largest CSV file read: V8's longest string (the text is parsed as one). */
export const CSV_MAX_BYTES = constants.MAX_STRING_LENGTH;

export interface CsvTable { columns: string[]; rows: number; data: Float64Array }

export interface CsvOptions {
  /** Field separator (default ','). */
  separator?: string;
  /** 'error' (default): an empty or NaN cell is an error; 'mean': replaced by its column's mean. */
  missing?: 'error' | 'mean';
  /** Longest accepted line in characters (default 1,000,000). */
  maxLineLength?: number;
}

/** Splits CSV text into records of fields (with the line each starts on), honouring quotes. */
function records(text: string, file: string, sep: string, maxLine: number): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  let row: string[] = [], field = '', quoted = false, line = 1, lineStart = 0, fieldQuoted = false;
  let rowLine = 1, quoteLine = 1, quoteCol = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (i - lineStart >= maxLine && c !== '\n' && c !== '\r') throw new DataFormatError(`${file}:${line}:${maxLine + 1}: line longer than ${maxLine} characters`);
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else {
        if (c === '\n') { line++; lineStart = i + 1; }
        field += c;
      }
    } else if (c === '"') {
      if (field !== '') throw new DataFormatError(`${file}:${line}:${row.length + 1}: a quote inside an unquoted field`);
      quoted = true; fieldQuoted = true; quoteLine = line; quoteCol = row.length + 1;
    } else if (c === sep) {
      row.push(field); field = ''; fieldQuoted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (!(row.length === 1 && row[0] === '' && !fieldQuoted)) out.push({ fields: row, line: rowLine });
      row = []; field = ''; fieldQuoted = false; line++; lineStart = i + 1; rowLine = line;
    } else {
      if (fieldQuoted) throw new DataFormatError(`${file}:${line}:${row.length + 1}: text after a closing quote`);
      field += c;
    }
  }
  if (quoted) throw new DataFormatError(`${file}:${quoteLine}:${quoteCol}: a quoted field is not closed`);
  if (field !== '' || row.length > 0 || fieldQuoted) { row.push(field); out.push({ fields: row, line: rowLine }); }
  return out;
}

export function parseCsv(text: string, file = '<text>', opts: CsvOptions = {}): CsvTable {
  const sep = opts.separator ?? ',';
  if (typeof sep !== 'string' || sep.length !== 1 || sep === '"' || sep === '\n') throw new ConfigError(`readCsv: separator is ${show(sep)}; it must be one character other than a quote or newline`);
  const missing = opts.missing ?? 'error';
  if (missing !== 'error' && missing !== 'mean') throw new ConfigError(`readCsv: missing is ${show(missing)}; it must be 'error' or 'mean'`);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const recs = records(text, file, sep, opts.maxLineLength ?? 1_000_000);
  if (recs.length === 0) throw new DataFormatError(`${file}: empty; a header row is needed`);
  const columns = recs[0].fields.map((c) => c.trim());
  const width = columns.length;
  const rows = recs.length - 1;
  const data = new Float64Array(rows * width);
  const gaps: number[] = [];
  for (let r = 0; r < rows; r++) {
    const { fields: rec, line } = recs[r + 1];
    if (rec.length !== width) throw new DataFormatError(`${file}:${line}:${Math.min(rec.length, width) + 1}: ${rec.length} fields, the header has ${width}`);
    for (let c = 0; c < width; c++) {
      const s = rec[c].trim();
      const v = s === '' ? NaN : Number(s);
      if (Number.isNaN(v) && (s === '' || /^nan$/i.test(s) || s === 'NA')) {
        if (missing === 'error') throw new DataFormatError(`${file}:${line}:${c + 1} (${columns[c]}): missing value ${show(s)}; pass { missing: 'mean' } to impute`);
        gaps.push(r * width + c);
      } else if (!Number.isFinite(v)) {
        throw new DataFormatError(`${file}:${line}:${c + 1} (${columns[c]}): ${show(s)} is not a finite number`);
      }
      data[r * width + c] = v;
    }
  }
  if (gaps.length) {
    for (let c = 0; c < width; c++) {
      let s = 0, n = 0;
      for (let r = 0; r < rows; r++) { const v = data[r * width + c]; if (!Number.isNaN(v)) { s += v; n++; } }
      if (n === 0) throw new DataFormatError(`${file}: column ${columns[c]} has no values to impute a mean from`);
      for (const g of gaps) if (g % width === c) data[g] = s / n;
    }
  }
  return { columns, rows, data };
}

/** Reads a CSV file; with `target`, splits it into features x and target y. */
export function readCsv(path: string, opts: CsvOptions & { target?: string } = {}): { x: Tensor<Float32Array>; y?: Float32Array; columns: string[]; features: string[] } {
  const text = withFile(path, (m) => new DataFormatError(`${path}: ${m}`), { maxBytes: CSV_MAX_BYTES, label: 'the file' }, (f) => f.read(0, f.size).toString());
  const { target, ...rest } = opts;
  const t = parseCsv(text, path, rest);
  const w = t.columns.length;
  const ti = target === undefined ? -1 : t.columns.indexOf(target);
  if (target !== undefined && ti < 0) throw new ConfigError(`readCsv: target ${show(target)} is not a column of ${path}; columns: ${t.columns.join(', ')}`);
  const features = t.columns.filter((_, c) => c !== ti);
  const x = new Float32Array(t.rows * features.length);
  const y = ti >= 0 ? new Float32Array(t.rows) : undefined;
  for (let r = 0; r < t.rows; r++) {
    let k = 0;
    for (let c = 0; c < w; c++) {
      if (c === ti) y![r] = t.data[r * w + c];
      else x[r * features.length + k++] = t.data[r * w + c];
    }
  }
  return { x: new Tensor(x, [t.rows, features.length]), y, columns: t.columns, features };
}
