// Loading the wasm module (DESIGN §6, §9) and owning its memory (DESIGN §2).
//
// One engine = one WebAssembly.Memory + one instance + an arena allocator owned by TypeScript.
// Loading is synchronous: from the packaged file, from bytes, or from a precompiled Module.
import { readFileSync, existsSync } from 'node:fs';
import { ConfigError, MemoryLimitError, show } from './errors.js';
import { reject } from './validate.js';
import type { Kernels } from './kernels.js';

export type Isa = 'scalar' | 'simd' | 'relaxed';
export const ISAS: readonly Isa[] = ['relaxed', 'simd', 'scalar'];

const PAGE = 65536;
const MAX_PAGES = 65536; // wasm32: 4 GiB
const ALIGN = 16;

/** Where the packaged .wasm files are: build/wasm beside build/src, or build/wasm from src/. */
function wasmDir(): URL {
  for (const rel of ['../wasm/', '../build/wasm/']) {
    const u = new URL(rel, import.meta.url);
    if (existsSync(u)) return u;
  }
  throw new ConfigError(`simdnn: no build/wasm folder beside ${import.meta.url}; run \`npm run build\``);
}

const byteCache = new Map<Isa, Uint8Array>();
/** The packaged bytes of one build. */
export function packagedBytes(isa: Isa): Uint8Array {
  let b = byteCache.get(isa);
  if (!b) {
    b = readFileSync(new URL(`simdnn.${isa}.wasm`, wasmDir()));
    byteCache.set(isa, b);
  }
  return b;
}

/** Whether this runtime accepts a build (Node 20 accepts relaxed only with its V8 flag). */
export function runtimeAccepts(isa: Isa): boolean {
  try {
    return WebAssembly.validate(src(packagedBytes(isa)));
  } catch {
    return false;
  }
}

const HINT: Record<Isa, string> = {
  relaxed: 'on Node 20 start node with --experimental-wasm-relaxed-simd (Node 22+ accepts it by default)',
  simd: 'this runtime has no WebAssembly SIMD; use the scalar build',
  scalar: 'this runtime does not run WebAssembly',
};

/** The build to use: `isa` or $SIMDNN_ISA if given (fails if unsupported), else the best accepted. */
export function chooseIsa(isa?: string): Isa {
  const forced = isa ?? process.env.SIMDNN_ISA;
  if (forced !== undefined && forced !== '') {
    if (!(ISAS as readonly string[]).includes(forced)) {
      if (isa === undefined) reject('simdnn.init', 'the environment variable SIMDNN_ISA', forced, `one of ${ISAS.join(', ')} (or unset)`);
      reject('simdnn.init', 'isa', forced, `one of ${ISAS.join(', ')}`);
    }
    const f = forced as Isa;
    if (!runtimeAccepts(f)) {
      throw new ConfigError(`simdnn.init: isa ${show(f)} was requested but WebAssembly.validate rejects that build; ${HINT[f]}`);
    }
    return f;
  }
  for (const i of ISAS) if (runtimeAccepts(i)) return i;
  throw new ConfigError(`simdnn.init: no build of simdnn validates in this runtime; ${HINT.scalar}`);
}

export interface EngineOptions {
  /** Force a build; default: $SIMDNN_ISA, else the best this runtime accepts. */
  isa?: Isa;
  /** The bytes of a simdnn build (no file system needed). Give `isa` with it. */
  bytes?: Uint8Array;
  /** A precompiled WebAssembly.Module of a simdnn build (for runtimes that forbid compiling). */
  module?: WebAssembly.Module;
}

/** One wasm instance, its memory and an arena allocator over that memory. */
export class Engine {
  readonly isa: Isa;
  readonly memory: WebAssembly.Memory;
  /** The kernels; while a data-parallel step is being recorded, a recorder with the same shape (threads.ts). */
  k: Kernels;
  /** The instance's own kernels (what `k` is outside a recording). */
  readonly kernels: Kernels;
  /** Which thread's set of layer buffers `Buffers.reserve` serves (0 outside a data-parallel step). */
  bank = 0;
  /** The compiled module (worker threads instantiate it on the same memory). */
  readonly module: WebAssembly.Module;
  private buffer!: ArrayBuffer;
  private _f32!: Float32Array;
  private _i32!: Int32Array;
  private _u8!: Uint8Array;
  /** Free blocks, sorted by address; live blocks by address → size. */
  private free: { ptr: number; size: number }[] = [];
  private live = new Map<number, number>();
  private top: number;
  /** Scratch for the gemm packing (DESIGN §2: the facade owns all memory). */
  readonly gemmWorkspace: number;

  constructor(opts: EngineOptions = {}) {
    let mod: WebAssembly.Module;
    if (opts.module) {
      if (!(opts.module instanceof WebAssembly.Module)) {
        reject('simdnn.init', 'module', opts.module, 'a WebAssembly.Module');
      }
      mod = opts.module;
      this.isa = opts.isa ?? 'simd';
    } else if (opts.bytes) {
      if (!(opts.bytes instanceof Uint8Array)) {
        reject('simdnn.init', 'bytes', opts.bytes, 'a Uint8Array');
      }
      if (!WebAssembly.validate(src(opts.bytes))) {
        throw new ConfigError(`simdnn.init: the ${opts.bytes.length} bytes given do not validate as WebAssembly in this runtime`);
      }
      mod = new WebAssembly.Module(src(opts.bytes));
      this.isa = opts.isa ?? 'simd';
    } else {
      this.isa = chooseIsa(opts.isa);
      mod = new WebAssembly.Module(src(packagedBytes(this.isa)));
    }
    // Shared, so worker threads can run kernels on the same memory (DESIGN §7).
    this.module = mod;
    this.memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    const inst = new WebAssembly.Instance(mod, {
      env: {
        memory: this.memory,
        abort: (_m: number, _f: number, line: number, col: number) => {
          throw new Error(`simdnn wasm abort at ${line}:${col}`);
        },
      },
    });
    this.k = this.kernels = inst.exports as unknown as Kernels;
    this.top = alignUp(this.k.heap_base() >>> 0, ALIGN);
    this.refresh();
    this.gemmWorkspace = this.alloc(this.k.gemm_workspace_bytes());
    this.k.gemm_set_workspace(this.gemmWorkspace);
  }

  private refresh(): void {
    if (this.buffer !== this.memory.buffer) {
      this.buffer = this.memory.buffer;
      this._f32 = new Float32Array(this.buffer);
      this._i32 = new Int32Array(this.buffer);
      this._u8 = new Uint8Array(this.buffer);
    }
  }
  /** Views over the whole memory, rebuilt after memory.grow (old views detach). */
  get f32(): Float32Array { this.refresh(); return this._f32; }
  get i32(): Int32Array { this.refresh(); return this._i32; }
  get u8(): Uint8Array { this.refresh(); return this._u8; }
  /** Bytes of wasm memory now reserved. */
  get memoryBytes(): number { return this.memory.buffer.byteLength; }
  /** Number of live arena allocations. */
  get liveAllocations(): number { return this.live.size; }
  /** Bytes held by live allocations (what is in use; memoryBytes only ever grows). */
  get liveBytes(): number {
    let s = 0;
    for (const size of this.live.values()) s += size;
    return s;
  }

  /**
   * Whether the arena could serve these requests now, one after another, within the 4 GiB limit:
   * first fit over the free blocks, then the untouched space above the top.
   */
  canServe(requests: readonly number[]): boolean {
    const free = this.free.map((f) => f.size);
    let top = this.top;
    for (const bytes of requests) {
      const size = Math.max(ALIGN, alignUp(bytes, ALIGN));
      const i = free.findIndex((f) => f >= size);
      if (i >= 0) free[i] -= size;
      else if (top + size <= MAX_PAGES * PAGE) top += size;
      else return false;
    }
    return true;
  }

  /** Allocates every request or none: when one fails, those already made are released. */
  allocAll(requests: readonly number[]): number[] {
    const got: number[] = [];
    try {
      for (const bytes of requests) got.push(this.alloc(bytes));
    } catch (err) {
      for (const p of got) this.release(p);
      throw err;
    }
    return got;
  }

  /** Reserves `bytes` (16-byte aligned) in the arena; grows memory as needed. */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) {
      reject('Engine.alloc', 'bytes', bytes, 'a non-negative integer');
    }
    const size = Math.max(ALIGN, alignUp(bytes, ALIGN));
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i];
      if (f.size >= size) {
        const ptr = f.ptr;
        if (f.size === size) this.free.splice(i, 1);
        else { f.ptr += size; f.size -= size; }
        this.live.set(ptr, size);
        return ptr;
      }
    }
    const ptr = this.top;
    const end = ptr + size;
    if (end > MAX_PAGES * PAGE) {
      throw new MemoryLimitError(
        `Engine.alloc: a request for ${bytes} bytes needs ${end} bytes of wasm memory in all; the limit is 4 GiB (4294967296 bytes)`);
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (e) {
        throw new MemoryLimitError(`Engine.alloc: could not grow wasm memory by ${pages * PAGE} bytes for a request of ${bytes} bytes: ${(e as Error).message}`);
      }
    }
    this.top = end;
    this.live.set(ptr, size);
    return ptr;
  }

  /** Returns a block from alloc() to the arena (coalescing neighbours). */
  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new ConfigError(`Engine.release: ${show(ptr)} is not a live allocation`);
    this.live.delete(ptr);
    let i = 0;
    while (i < this.free.length && this.free[i].ptr < ptr) i++;
    this.free.splice(i, 0, { ptr, size });
    // Coalesce with the next, then the previous block.
    if (i + 1 < this.free.length && ptr + size === this.free[i + 1].ptr) {
      this.free[i].size += this.free[i + 1].size;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1].ptr + this.free[i - 1].size === ptr) {
      this.free[i - 1].size += this.free[i].size;
      this.free.splice(i, 1);
      i--;
    }
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }

  /** Copies a typed array into a new allocation; returns its pointer. */
  upload(data: Float32Array | Int32Array | Uint8Array): number {
    const ptr = this.alloc(data.byteLength);
    this.write(ptr, data);
    return ptr;
  }
  /** Copies a typed array into memory at byte pointer ptr. */
  write(ptr: number, data: Float32Array | Int32Array | Uint8Array): void {
    this.u8.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), ptr);
  }
}

/** TypeScript's DOM typing wants ArrayBuffer-backed views; wasm accepts any. */
function src(b: Uint8Array): BufferSource {
  return b as unknown as BufferSource;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

let shared: Engine | undefined;
/** The process-wide engine, created on first use. */
export function engine(): Engine {
  return (shared ??= new Engine());
}
/** Creates the process-wide engine with these options (before first use). */
export function init(opts: EngineOptions = {}): Engine {
  shared = new Engine(opts);
  return shared;
}

/** One line naming the active build, e.g. `simdnn 0.1.0 · wasm simd (f32x4) · Node v20.20.2`. */
export function backendInfo(): string {
  const e = engine();
  const what = { relaxed: 'relaxed (f32x4 + relaxed_madd FMA)', simd: 'simd (f32x4)', scalar: 'scalar (no SIMD)' }[e.isa];
  return `simdnn · wasm ${what} · Node ${process.version}`;
}
