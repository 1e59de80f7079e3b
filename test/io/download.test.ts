// nn.datasets.download against a local HTTP server (127.0.0.1 only; never the network).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DownloadError } from '../../src/errors.js';
import { download, DOWNLOADS, FASHION_FILES, fashionMnist, type DownloadProgress } from '../../src/data/datasets.js';
import { canonicalFashionFiles, HAVE_DEBIAN_FASHION } from '../util/fashion.js';
import { serveFiles, type TestServer } from '../util/http.js';

const tmp = mkdtempSync(join(tmpdir(), 'simdnn-download-'));
const FM_MD5: Record<string, string> = DOWNLOADS['fashion-mnist'].md5;
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
/** The files of `files` under /mirror/, as a server would hold them. */
const mirror = (files: Record<string, Uint8Array>) => Object.fromEntries(Object.entries(files).map(([f, b]) => [`/mirror/${f}`, b]));
const servers: TestServer[] = [];
async function serve(files: Record<string, Uint8Array>): Promise<TestServer> {
  const s = await serveFiles(mirror(files));
  servers.push(s);
  return s;
}
afterAll(async () => { for (const s of servers) await s.close(); });

describe('download: the table', () => {
  it('names the four files fashionMnist() reads, with 32-hex-digit MD5s, for each data set', () => {
    for (const { md5: table } of Object.values(DOWNLOADS)) {
      expect(Object.keys(table).sort()).toEqual(Object.values(FASHION_FILES).sort());
      for (const h of Object.values(table)) expect(h).toMatch(/^[0-9a-f]{32}$/);
    }
  });
  it.skipIf(!HAVE_DEBIAN_FASHION && !process.env.CI)('Fashion-MNIST: the published MD5s are those of the canonical files (rebuilt from Debian\'s)', () => {
    const files = canonicalFashionFiles();
    for (const [f, h] of Object.entries(FM_MD5)) expect(md5(files[f]), f).toBe(h);
  });
});

describe.skipIf(!HAVE_DEBIAN_FASHION && !process.env.CI)('download fashion-mnist from a local mirror', () => {
  const dir = join(tmp, 'fm');

  it('fetches the four files, checks them, writes them and nothing else; fashionMnist({ dir }) loads them', async () => {
    const s = await serve(canonicalFashionFiles());
    const events: DownloadProgress[] = [];
    const r = await download('fashion-mnist', { dir, baseUrl: `${s.url}/mirror`, onProgress: (p) => events.push(p) });
    expect(r.dir).toBe(dir);
    expect(r.files.map((f) => [f.file, f.status])).toEqual(Object.keys(FM_MD5).map((f) => [f, 'downloaded']));
    expect(s.requests.sort()).toEqual(Object.keys(FM_MD5).map((f) => `/mirror/${f}`).sort());
    expect(readdirSync(dir).sort()).toEqual(Object.values(FASHION_FILES).sort());
    for (const f of r.files) expect(md5(readFileSync(f.path)), f.file).toBe(FM_MD5[f.file]);
    // Progress: bytes arrive for each file, then one `downloaded` event with its full size.
    const done = events.filter((e) => e.status === 'downloaded');
    expect(done.map((e) => e.received)).toEqual(r.files.map((f) => f.bytes));
    expect(events.some((e) => e.status === 'fetching' && e.total === r.files[0].bytes && e.received < e.total)).toBe(true);
    const d = fashionMnist({ dir });
    expect(d.train.x.shape).toEqual([60000, 28, 28]);
    expect(d.test.y.length).toBe(10000);
  });

  it('a second run finds the files and makes no request; a damaged file is fetched again', async () => {
    const s = await serve(canonicalFashionFiles());
    const again = await download('fashion-mnist', { dir, baseUrl: s.url + '/mirror/' });
    expect(again.files.every((f) => f.status === 'present')).toBe(true);
    expect(s.requests).toEqual([]);
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), 'damaged');
    const fixed = await download('fashion-mnist', { dir, baseUrl: s.url + '/mirror/' });
    expect(fixed.files.map((f) => f.status)).toEqual(['present', 'present', 'present', 'downloaded']);
    expect(s.requests).toEqual(['/mirror/t10k-labels-idx1-ubyte.gz']);
  });

  it('a file served with one byte changed → DownloadError naming URL and both MD5s; it is not written, nor is a temp file', async () => {
    const files = { ...canonicalFashionFiles() };
    const bad = Buffer.from(files['t10k-labels-idx1-ubyte.gz']);
    bad[100] ^= 1;
    files['t10k-labels-idx1-ubyte.gz'] = bad;
    const s = await serve(files);
    const d = join(tmp, 'fm-bad');
    const err = await download('fashion-mnist', { dir: d, baseUrl: `${s.url}/mirror` }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toBe(`download: ${s.url}/mirror/t10k-labels-idx1-ubyte.gz has md5 ${md5(bad)} (${bad.length} bytes); ` +
      `expected ${FM_MD5['t10k-labels-idx1-ubyte.gz']}; it was not saved`);
    expect(readdirSync(d).sort()).toEqual(['t10k-images-idx3-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
  });
});

describe('download: errors', () => {
  it('wrong bytes for the first file → DownloadError; the folder is not even created', async () => {
    const s = await serve({ 'train-images-idx3-ubyte.gz': Buffer.from('<html>moved</html>') });
    const d = join(tmp, 'garbage');
    const err = await download('fashion-mnist', { dir: d, baseUrl: `${s.url}/mirror` }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toBe(`download: ${s.url}/mirror/train-images-idx3-ubyte.gz has md5 ${md5(Buffer.from('<html>moved</html>'))} (18 bytes); ` +
      `expected ${FM_MD5['train-images-idx3-ubyte.gz']}; it was not saved`);
    expect(existsSync(d)).toBe(false);
  });

  it('HTTP 404 → DownloadError naming the URL and the status', async () => {
    const s = await serve({});
    const err = await download('mnist', { dir: join(tmp, 'mnist'), baseUrl: `${s.url}/nowhere/` }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toBe(`download: GET ${s.url}/nowhere/train-images-idx3-ubyte.gz answered HTTP 404 Not Found; expected 200`);
    expect(s.requests).toEqual(['/nowhere/train-images-idx3-ubyte.gz']);
  });

  it('no server → DownloadError saying where to put the files by hand ($SIMDNN_DATA/<name> when set)', async () => {
    const s = await serveFiles({});
    await s.close(); // its port is now closed
    process.env.SIMDNN_DATA = join(tmp, 'env');
    try {
      const err = await download('fashion-mnist', { baseUrl: s.url }).catch((e) => e);
      expect(err).toBeInstanceOf(DownloadError);
      expect(err.message).toMatch(`download: could not fetch ${s.url}/train-images-idx3-ubyte.gz (ECONNREFUSED); if this machine is offline, ` +
        `put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz in ${join(tmp, 'env', 'fashion-mnist')} by hand`);
    } finally {
      delete process.env.SIMDNN_DATA;
    }
  });

  it.each([
    ['an unknown data set', 'cifar10', {}, 'download: name is "cifar10"; it must be one of mnist, fashion-mnist'],
    ['a base URL that is not http(s)', 'mnist', { baseUrl: 'ftp://example.org/' }, 'download: baseUrl is "ftp://example.org/"; it must be an http:// or https:// URL'],
    ['a base URL that is not a URL', 'mnist', { baseUrl: 'mirror' }, 'download: baseUrl is "mirror"; it must be an http:// or https:// URL'],
    ['an empty dir', 'mnist', { dir: '' }, 'download: dir is ""; it must be a non-empty path'],
    ['an unknown option', 'mnist', { base: 'x' }, 'download: unknown option "base"; known: dir, baseUrl, onProgress, timeoutMs'],
  ])('%s → ConfigError before any request', async (_what, name, opts, msg) => {
    const err = await download(name, opts as object).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(msg);
  });
});
