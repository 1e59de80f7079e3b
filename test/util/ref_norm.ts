// Test-only float64 references for assembly/data.ts and the element-wise kernels, and a bit-exact
// TypeScript model of the PRNG kernels of assembly/random.ts (xoshiro128** seeded by splitmix64).
// Batch norm, layer norm and the l1/l2 penalties are src/reference.ts (the layers use them too).
// Matrices are row-major M×N, rows are samples.

type Arr = ArrayLike<number>;

// ---- element-wise helpers ------------------------------------------------------------------

export function addRef(a: Arr, b: Arr): Float64Array {
  return Float64Array.from(a, (v, i) => v + b[i]);
}
export function scaleRef(x: Arr, s: number): Float64Array {
  return Float64Array.from(x, (v) => v * s);
}
/** out0[j] + Σ_i x[i, j]. */
export function colsumAddRef(out0: Arr, x: Arr, M: number, N: number): Float64Array {
  const out = Float64Array.from(out0);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) out[j] += x[i * N + j];
  return out;
}
// ---- data ----------------------------------------------------------------------------------

export function gatherRowsRef(src: Arr, idx: Arr, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = src[idx[r] * cols + c];
  return out;
}
/** src·scale + shift in float64. */
export function u8GatherScaleRef(src: Arr, idx: Arr, rows: number, cols: number, scale: number, shift: number): Float64Array {
  return gatherRowsRef(src, idx, rows, cols).map((v) => v * scale + shift);
}
/** The kernel's exact f32 rounding: f32(f32(v·scale) + shift) with scale, shift as f32. */
export function u8GatherScaleF32(src: Arr, idx: Arr, rows: number, cols: number, scale: number, shift: number): Float32Array {
  const s = Math.fround(scale), h = Math.fround(shift);
  return Float32Array.from(gatherRowsRef(src, idx, rows, cols), (v) => Math.fround(Math.fround(v * s) + h));
}
export function i32GatherRef(src: Arr, idx: Arr): Int32Array {
  return Int32Array.from(idx, (k) => src[k]);
}
/** First index of the row maximum. */
export function argmaxRowsRef(x: Arr, M: number, N: number): Int32Array {
  const out = new Int32Array(M);
  for (let i = 0; i < M; i++) {
    let best = 0;
    for (let j = 1; j < N; j++) if (x[i * N + j] > x[i * N + best]) best = j;
    out[i] = best;
  }
  return out;
}

// ---- PRNG model (bit-exact) ----------------------------------------------------------------

const M64 = (1n << 64n) - 1n;
function splitmix64(x: bigint): bigint {
  let z = x & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}
const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** xoshiro128** with the kernels' seeding; methods mirror the kernels draw for draw. */
export class RngRef {
  s = new Uint32Array(4);
  constructor(seed: number) {
    const g = 0x9e3779b97f4a7c15n;
    const a = splitmix64(BigInt(seed >>> 0) + g);
    const b = splitmix64(BigInt(seed >>> 0) + g + g);
    this.s[0] = Number(a & 0xffffffffn);
    this.s[1] = Number(a >> 32n);
    this.s[2] = Number(b & 0xffffffffn);
    this.s[3] = Number(b >> 32n);
  }
  next(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }
  /** Lemire's unbiased bounded integer in [0, range). */
  bounded(range: number): number {
    let m = BigInt(this.next()) * BigInt(range);
    let lo = Number(m & 0xffffffffn);
    if (lo < range) {
      const threshold = (2 ** 32 - range) % range;
      while (lo < threshold) {
        m = BigInt(this.next()) * BigInt(range);
        lo = Number(m & 0xffffffffn);
      }
    }
    return Number(m >> 32n);
  }
  uniform(n: number, lo: number, hi: number): Float32Array {
    const l = Math.fround(lo), w = Math.fround(Math.fround(hi) - l);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.fround(l + Math.fround(w * ((this.next() >>> 8) / 16777216)));
    return out;
  }
  /** Box–Muller in f64; JS Math.log/cos/sin may differ from the wasm ones in the last f64 bit. */
  normal(n: number, mean: number, std: number, truncated: boolean): Float32Array {
    const m = Math.fround(mean), sd = Math.fround(std);
    const out = new Float32Array(n);
    let i = 0;
    while (i < n) {
      const u1 = (this.next() + 1) / 4294967296;
      const u2 = this.next() / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u1));
      const th = 6.283185307179586 * u2;
      const z0 = r * Math.cos(th), z1 = r * Math.sin(th);
      if (!truncated || Math.abs(z0) <= 2) out[i++] = m + sd * z0;
      if (i < n && (!truncated || Math.abs(z1) <= 2)) out[i++] = m + sd * z1;
    }
    return out;
  }
  permutation(n: number): Int32Array {
    const out = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.bounded(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
  sample(n: number, range: number): Int32Array {
    return Int32Array.from({ length: n }, () => this.bounded(range));
  }
  /**
   * Inverted dropout with one stream per row (f32_dropout_rows_fwd): element (r, j) of global row
   * row0 + i is kept ⇔ the top 32 bits of splitmix64(c) ≥ ⌈rate·2³²⌉, c = rowKey + (j + 1)·γ;
   * rowKey = splitmix64(key ^ row·C), key = splitmix64(s01 ^ rotl(s23, 29) ^ salt << 32) from
   * the 16-byte state, which is read and not advanced. mask = 1/(1 − rate) in f32.
   */
  static dropoutRows(state: Uint32Array, x: ArrayLike<number>, M: number, N: number, rate: number, row0: number, salt: number): { out: Float32Array; mask: Float32Array } {
    const m64 = (1n << 64n) - 1n, G = 0x9e3779b97f4a7c15n, C = 0xd1b54a32d192ed03n;
    const mix = (v: bigint) => {
      let z = v & m64;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & m64;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & m64;
      return z ^ (z >> 31n);
    };
    const s01 = BigInt(state[0]) | (BigInt(state[1]) << 32n), s23 = BigInt(state[2]) | (BigInt(state[3]) << 32n);
    const rotl = ((s23 << 29n) | (s23 >> 35n)) & m64;
    const key = mix(s01 ^ rotl ^ (BigInt(salt >>> 0) << 32n));
    const r = Math.fround(rate);
    let thr = 0, scale = 1;
    if (r >= 1) { thr = 2 ** 32; scale = 0; } else if (r > 0) { thr = Math.ceil(r * 2 ** 32); scale = Math.fround(1 / (1 - r)); }
    const mask = new Float32Array(M * N), out = new Float32Array(M * N);
    for (let i = 0; i < M; i++) {
      let c = mix(key ^ ((BigInt((row0 + i) >>> 0) * C) & m64));
      for (let j = 0; j < N; j++) {
        c = (c + G) & m64;
        mask[i * N + j] = Number(mix(c) >> 32n) >= thr ? scale : 0;
        out[i * N + j] = Math.fround(x[i * N + j]) * mask[i * N + j];
      }
    }
    return { out, mask };
  }
}
