// CSV: a header row, numeric columns, a chosen target column (numbers, or text class labels).
// RFC 4180 quoting; a UTF-8 BOM is skipped; errors name file, row and column. Missing values are
// errors unless `missing` says how to treat them. A first line of numbers only is refused unless
// `header` says what it is (it is probably data: a file without a header row).
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
  /**
   * Whether the first line names the columns. Unset (default): it does, and a first line of
   * numbers only is refused as probably data. true: it does, even as numbers. false: there is no
   * header line; the columns are named 0, 1, 2, … (as pandas names them).
   */
  header?: boolean;
}

/** Column names and the data records (fields as text, with their line numbers). */
interface Records { columns: string[]; recs: { fields: string[]; line: number }[] }

const isNumber = (s: string) => s !== '' && Number.isFinite(Number(s));

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

/** The checked options, the header and the records of CSV text; every record has the header's width. */
function table(text: string, file: string, opts: CsvOptions): Records & { missing: 'error' | 'mean' } {
  const sep = opts.separator ?? ',';
  if (typeof sep !== 'string' || sep.length !== 1 || sep === '"' || sep === '\n') throw new ConfigError(`readCsv: separator is ${show(sep)}; it must be one character other than a quote or newline`);
  const missing = opts.missing ?? 'error';
  if (missing !== 'error' && missing !== 'mean') throw new ConfigError(`readCsv: missing is ${show(missing)}; it must be 'error' or 'mean'`);
  if (opts.header !== undefined && typeof opts.header !== 'boolean') throw new ConfigError(`readCsv: header is ${show(opts.header)}; it must be true, false or unset`);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const all = records(text, file, sep, opts.maxLineLength ?? 1_000_000);
  if (all.length === 0) throw new DataFormatError(`${file}: empty; a header row is needed`);
  const first = all[0].fields.map((c) => c.trim());
  if (opts.header === undefined && first.every(isNumber)) {
    const shown = first.length > 6 ? `${first.slice(0, 6).join(sep)}${sep}…` : first.join(sep);
    throw new DataFormatError(`${file}:1: the header row "${shown}" is all numbers: it looks like data, not column names; `
      + 'name the columns in the first line, or pass { header: false } (no header: columns named 0, 1, …) or { header: true } (these are the names)');
  }
  const columns = opts.header === false ? first.map((_, c) => String(c)) : first;
  const recs = opts.header === false ? all : all.slice(1);
  for (const { fields, line } of recs) {
    if (fields.length !== columns.length) throw new DataFormatError(`${file}:${line}:${Math.min(fields.length, columns.length) + 1}: ${fields.length} fields, the header has ${columns.length}`);
  }
  return { columns, recs, missing };
}

/** The columns `cols` (indices) of the records as numbers, row-major; missing cells filled by `missing`. */
function numbers(t: Records, file: string, cols: number[], missing: 'error' | 'mean'): Float64Array {
  const rows = t.recs.length, w = cols.length;
  const data = new Float64Array(rows * w);
  const gaps: number[] = [];
  for (let r = 0; r < rows; r++) {
    const { fields, line } = t.recs[r];
    for (let k = 0; k < w; k++) {
      const c = cols[k], s = fields[c].trim();
      const v = s === '' ? NaN : Number(s);
      if (Number.isNaN(v) && (s === '' || /^nan$/i.test(s) || s === 'NA')) {
        if (missing === 'error') throw new DataFormatError(`${file}:${line}:${c + 1} (${t.columns[c]}): missing value ${show(s)}; pass { missing: 'mean' } to impute`);
        gaps.push(r * w + k);
      } else if (!Number.isFinite(v)) {
        throw new DataFormatError(`${file}:${line}:${c + 1} (${t.columns[c]}): ${show(s)} is not a finite number`);
      }
      data[r * w + k] = v;
    }
  }
  if (gaps.length) {
    for (let k = 0; k < w; k++) {
      let s = 0, n = 0;
      for (let r = 0; r < rows; r++) { const v = data[r * w + k]; if (!Number.isNaN(v)) { s += v; n++; } }
      if (n === 0) throw new DataFormatError(`${file}: column ${t.columns[cols[k]]} has no values to impute a mean from`);
      for (const g of gaps) if (g % w === k) data[g] = s / n;
    }
  }
  return data;
}

/** Parses CSV text whose columns are all numeric. `file` names the source in errors. */
export function parseCsv(text: string, file = '<text>', opts: CsvOptions = {}): CsvTable {
  const t = table(text, file, opts);
  return { columns: t.columns, rows: t.recs.length, data: numbers(t, file, t.columns.map((_, c) => c), t.missing) };
}

export interface ReadCsvOptions extends CsvOptions {
  /** The column to predict: numbers, or text class labels (then y holds class indices into `classes`). */
  target?: string;
  /** The feature columns to read, by name and in this order (others are skipped, text or not); default: every column but the target. */
  features?: string[];
  /** The target's class names by index: its text labels are looked up here (a label not in it is an error); default: its distinct labels, sorted. */
  classes?: string[];
}

export interface CsvData {
  x: Tensor<Float32Array>;
  /** The target: its numbers, or the class index of each label. */
  y?: Float32Array;
  /** Every column of the file, in file order. */
  columns: string[];
  /** The columns in x, in x's order. */
  features: string[];
  /** Class names by index, when the target holds text labels (or `classes` was given). */
  classes?: string[];
}

/** The index of column `name` in t; an error naming it (and what the file has) when it is absent or twice there. */
function column(t: Records, file: string, name: string, role: string): number {
  const at = t.columns.flatMap((c, i) => (c === name ? [i] : []));
  if (at.length > 1) throw new DataFormatError(`${file}: ${role} ${show(name)} is the name of columns ${at.map((i) => i + 1).join(' and ')}; column names must be distinct`);
  if (at.length === 0) throw new DataFormatError(`${file}: ${role} ${show(name)} is not a column of ${file}; columns: ${t.columns.join(', ')}`);
  return at[0];
}

/** Class labels (text) to indices: into `given`, or into the sorted distinct labels. */
function labels(t: Records, file: string, ti: number, given: string[] | undefined): { y: Float32Array; classes: string[] } {
  const text = t.recs.map(({ fields, line }) => {
    const s = fields[ti].trim();
    if (s === '') throw new DataFormatError(`${file}:${line}:${ti + 1} (${t.columns[ti]}): missing class label; every row needs one`);
    return s;
  });
  const classes = given ?? [...new Set(text)].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  const y = new Float32Array(text.length);
  text.forEach((s, r) => {
    const i = index.get(s);
    if (i === undefined) throw new DataFormatError(`${file}:${t.recs[r].line}:${ti + 1} (${t.columns[ti]}): class ${show(s)} is not one of the model's classes ${classes.join(', ')}`);
    y[r] = i;
  });
  return { y, classes };
}

/**
 * Reads a CSV file; with `target`, splits it into features x and target y. `features` picks
 * columns by name (a file with more columns, or in another order, reads the same); a missing one
 * is an error naming it. A target with a cell that is not a number holds class labels.
 */
export function readCsv(path: string, opts: ReadCsvOptions = {}): CsvData {
  const text = withFile(path, (m) => new DataFormatError(`${path}: ${m}`), { maxBytes: CSV_MAX_BYTES, label: 'the file' }, (f) => f.read(0, f.size).toString());
  const { target, features: wanted, classes: given, ...rest } = opts;
  if (wanted !== undefined && (!Array.isArray(wanted) || !wanted.every((f) => typeof f === 'string'))) throw new ConfigError(`readCsv: features is ${show(wanted)}; it must be an array of column names`);
  if (given !== undefined && (!Array.isArray(given) || !given.every((f) => typeof f === 'string'))) throw new ConfigError(`readCsv: classes is ${show(given)}; it must be an array of class names`);
  if (target !== undefined && wanted?.includes(target)) throw new ConfigError(`readCsv: target ${show(target)} is also in features; a column is one or the other`);
  const t = table(text, path, rest);
  if (target !== undefined && !t.columns.includes(target)) throw new ConfigError(`readCsv: target ${show(target)} is not a column of ${path}; columns: ${t.columns.join(', ')}`);
  const ti = target === undefined ? -1 : column(t, path, target, 'target');
  let cols: number[];
  if (wanted) {
    const absent = wanted.filter((f) => !t.columns.includes(f));
    if (absent.length) {
      const extra = t.columns.filter((c) => !wanted.includes(c) && c !== target);
      throw new DataFormatError(`${path}: ${absent.length === 1 ? 'column' : 'columns'} ${absent.map((a) => show(a)).join(', ')} ${absent.length === 1 ? 'is' : 'are'} missing; `
        + `the features are ${wanted.join(', ')}${extra.length ? `; the file also has ${extra.join(', ')} (renamed?)` : ''}`);
    }
    cols = wanted.map((f) => column(t, path, f, 'feature'));
  } else cols = t.columns.flatMap((_, c) => (c === ti ? [] : [c]));
  const xd = numbers(t, path, cols, t.missing);
  let y: Float32Array | undefined, classes: string[] | undefined;
  if (ti >= 0) {
    const textual = given !== undefined || t.recs.some(({ fields }) => {
      const s = fields[ti].trim();
      return s !== '' && !isNumber(s) && !/^nan$/i.test(s) && s !== 'NA';
    });
    if (textual) ({ y, classes } = labels(t, path, ti, given));
    else y = Float32Array.from(numbers(t, path, [ti], t.missing));
  }
  return { x: new Tensor(Float32Array.from(xd), [t.recs.length, cols.length]), y, columns: t.columns, features: cols.map((c) => t.columns[c]), ...(classes && { classes }) };
}
