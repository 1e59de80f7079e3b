// Downloads MNIST and Fashion-MNIST: the four canonical IDX gz files of each, checked against the
// MD5s their authors publish, into the first folder the loaders search ({ dir }, else
// $SIMDNN_DATA/<name>, else ~/.cache/simdnn/<name>). A file is written (temp file beside it, then
// rename) only once its checksum matches; a file already there with the right checksum is kept.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DownloadError } from '../errors.js';
import { checkNum, reject } from '../validate.js';
import { writeAtomic } from '../io/fs.js';
import { checkKeys } from '../layers/layer.js';

/** Folders searched for a data set, in order. */
export function dataDirs(name: string, dir?: string): string[] {
  return [
    ...(dir ? [dir] : []),
    ...(process.env.SIMDNN_DATA ? [join(process.env.SIMDNN_DATA, name), process.env.SIMDNN_DATA] : []),
    join(homedir(), '.cache', 'simdnn', name),
    `/usr/share/datasets/${name}`,
  ];
}

// NOTE: MD5 because it is what both projects publish (MNIST via torchvision, Fashion-MNIST in its
// README), so anyone can check this table. It catches truncated and corrupted downloads, not a
// hostile server. Debian's dataset-fashion-mnist holds the same gzip data, but strip-nondeterminism
// removed the header's file name and time, so its files have other MD5s.
export const DOWNLOADS = {
  mnist: {
    url: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
    md5: {
      'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
      'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
      't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
      't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
    },
  },
  'fashion-mnist': {
    url: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    md5: {
      'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
      't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
      't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
    },
  },
} as const;
export type DownloadName = keyof typeof DOWNLOADS;

/** Largest response accepted; the biggest file of these data sets is 26 MB. */
export const DOWNLOAD_MAX_BYTES = 1 << 27;

/** One file's state: `fetching` as bytes arrive, then `downloaded`; or `present` if it was kept. */
export interface DownloadProgress { file: string; url: string; status: 'present' | 'fetching' | 'downloaded'; received: number; total?: number }
export interface DownloadOptions {
  /** Target folder (default: $SIMDNN_DATA/<name>, else ~/.cache/simdnn/<name>). */
  dir?: string;
  /** A mirror: the URL of a folder holding the four files (default: the data set's own site). */
  baseUrl?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** Give up on a file when the server has not answered, or has sent nothing, for this long (ms; default 30 000). */
  timeoutMs?: number;
}
export const DOWNLOAD_TIMEOUT_MS = 30_000;
export interface DownloadedFile { file: string; path: string; url: string; status: 'present' | 'downloaded'; bytes: number }

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Fetches the data set's four files into a folder, skipping those already there with the right MD5. */
export async function download(name: string, opts: DownloadOptions = {}): Promise<{ dir: string; files: DownloadedFile[] }> {
  checkKeys('download', opts, ['dir', 'baseUrl', 'onProgress', 'timeoutMs']);
  const timeout = checkNum('download', 'timeoutMs', opts.timeoutMs ?? DOWNLOAD_TIMEOUT_MS, (x) => x > 0, 'a number of milliseconds > 0');
  if (!Object.hasOwn(DOWNLOADS, name)) reject('download', 'name', name, `one of ${Object.keys(DOWNLOADS).join(', ')}`);
  if (opts.dir !== undefined && (typeof opts.dir !== 'string' || opts.dir === '')) reject('download', 'dir', opts.dir, 'a non-empty path');
  const { url: home, md5: table } = DOWNLOADS[name as DownloadName];
  const base = baseUrl(opts.baseUrl ?? home);
  const dir = dataDirs(name, opts.dir)[0];
  const offline = `if this machine is offline, put ${Object.keys(table).join(', ')} in ${dir} by hand, or pass the URL of a mirror`;
  const files: DownloadedFile[] = [];
  for (const [file, want] of Object.entries(table)) {
    const path = join(dir, file), url = new URL(file, base).href;
    const old = existsSync(path) ? readFileSync(path) : undefined;
    let bytes: Uint8Array, status: DownloadedFile['status'];
    if (old && md5(old) === want) {
      bytes = old;
      status = 'present';
    } else {
      opts.onProgress?.({ file, url, status: 'fetching', received: 0 });
      bytes = await fetchBytes(url, offline, timeout, (received, total) => opts.onProgress?.({ file, url, status: 'fetching', received, total }));
      const got = md5(bytes);
      if (got !== want) throw new DownloadError(`download: ${url} has md5 ${got} (${bytes.length} bytes); expected ${want}; it was not saved`);
      mkdirSync(dir, { recursive: true });
      writeAtomic(path, bytes, 'download');
      status = 'downloaded';
    }
    opts.onProgress?.({ file, url, status, received: bytes.length, total: bytes.length });
    files.push({ file, path, url, status, bytes: bytes.length });
  }
  return { dir, files };
}

function baseUrl(v: unknown): URL {
  let u: URL | undefined;
  try { u = new URL(String(v).endsWith('/') ? String(v) : `${v}/`); } catch { /* rejected below */ }
  if (typeof v !== 'string' || !u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
    reject('download', 'baseUrl', v, 'an http:// or https:// URL');
  }
  return u;
}

/** The body of a GET as bytes; DownloadError on network failure, a non-2xx status or an oversized body. */
async function fetchBytes(url: string, offline: string, timeoutMs: number, progress: (received: number, total?: number) => void): Promise<Uint8Array> {
  const reason = (e: unknown) => {
    const c = (e as { cause?: { code?: string; message?: string } }).cause;
    return c?.code ?? c?.message ?? (e as Error).message;
  };
  // One timer for the connection, the status line and every silence between chunks.
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined, received = 0;
  const arm = () => { clearTimeout(timer); timer = setTimeout(() => abort.abort(), timeoutMs); };
  const secs = `${+(timeoutMs / 1000).toFixed(3)} s`;
  const timedOut = () => new DownloadError(received === 0
    ? `download: ${url} did not answer within ${secs}; ${offline}`
    : `download: ${url} sent nothing for ${secs} after ${received} bytes; ${offline}`);
  arm();
  try {
    return await fetchBody();
  } finally {
    clearTimeout(timer);
  }

  async function fetchBody(): Promise<Uint8Array> {
    let res: Response;
    try {
      res = await fetch(url, { signal: abort.signal });
    } catch (e) {
      if (abort.signal.aborted) throw timedOut();
      throw new DownloadError(`download: could not fetch ${url} (${reason(e)}); ${offline}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new DownloadError(`download: GET ${url} answered HTTP ${res.status} ${res.statusText}; expected 200`);
    }
    const total = Number(res.headers.get('content-length')) || undefined;
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        arm();
        chunks.push(r.value);
        received += r.value.length;
        if (received > DOWNLOAD_MAX_BYTES) {
          await reader.cancel();
          throw new DownloadError(`download: ${url} sent more than ${DOWNLOAD_MAX_BYTES} bytes; no file of these data sets is that large`);
        }
        progress(received, total);
      }
    } catch (e) {
      if (e instanceof DownloadError) throw e;
      if (abort.signal.aborted) throw timedOut();
      throw new DownloadError(`download: the connection to ${url} broke after ${received} bytes (${reason(e)}); ${offline}`);
    }
    return Buffer.concat(chunks);
  }
}
