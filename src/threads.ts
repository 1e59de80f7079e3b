// Threads (DESIGN §7): n−1 worker_threads instantiate the same module on the engine's shared
// memory; large gemms are split by rows of C; the main thread computes a slice too. Jobs and
// completion go through a control block in shared memory with Atomics. With 1 thread no worker is
// started. Row slices are fixed by the thread count, so a given count is bit-reproducible.
import { Worker } from 'node:worker_threads';
import { ConfigError, SimdnnError } from './errors.js';
import { reject } from './validate.js';
import type { Engine } from './wasm.js';

/** The gemm calls a dense layer makes; the serial form calls the kernels directly. */
export interface GemmRunner {
  readonly threads: number;
  /** out (M×N) = act(a (M×K)·w (K×N) + bias); z keeps the pre-activation when ≠ 0. */
  denseFwd(out: number, a: number, w: number, bias: number, M: number, K: number, N: number, act: number, alpha: number, z: number): void;
  /** c (M×N) [+]= aᵀ·b with a stored K×M. */
  tn(c: number, a: number, b: number, M: number, K: number, N: number, accumulate: number): void;
  /** c (M×N) [+]= a·bᵀ with b stored N×K. */
  nt(c: number, a: number, b: number, M: number, K: number, N: number, accumulate: number): void;
  dispose(): void;
}

export function serialGemm(e: Engine): GemmRunner {
  const k = e.k;
  return {
    threads: 1,
    denseFwd: (out, a, w, bias, M, K, N, act, alpha, z) => k.f32_dense_fwd(out, a, w, bias, M, K, N, act, alpha, z),
    tn: (c, a, b, M, K, N, acc) => k.f32_gemm_tn(c, a, b, M, K, N, acc),
    nt: (c, a, b, M, K, N, acc) => k.f32_gemm_nt(c, a, b, M, K, N, acc),
    dispose: () => {},
  };
}

// Control block (i32 slots): generation, pending workers, ready workers, failure flag, then one
// job of JOB_SLOTS per worker.
const GEN = 0, PENDING = 1, READY = 2, FAILED = 3, JOBS = 4, JOB_SLOTS = 16;
const OP_IDLE = 0, OP_GEMM = 1, OP_EXIT = 2;
/** Below this many flops a gemm runs on the calling thread (waking workers costs more). */
export const PARALLEL_MIN_FLOPS = 2e6;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctl, workspace, index } = workerData;
const inst = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('simdnn wasm abort'); } } });
const k = inst.exports;
k.gemm_set_workspace(workspace);
const i32 = new Int32Array(memory.buffer, ctl, ${JOBS + 64 * JOB_SLOTS});
const f32 = new Float32Array(memory.buffer, ctl, ${JOBS + 64 * JOB_SLOTS});
const job = ${JOBS} + index * ${JOB_SLOTS};
Atomics.add(i32, ${READY}, 1);
Atomics.notify(i32, ${READY});
let gen = 0;
for (;;) {
  Atomics.wait(i32, ${GEN}, gen);
  gen = Atomics.load(i32, ${GEN});
  const op = i32[job];
  if (op === ${OP_IDLE}) continue;
  if (op === ${OP_EXIT}) {
    Atomics.sub(i32, ${PENDING}, 1);
    Atomics.notify(i32, ${PENDING});
    break;
  }
  try {
    const u = (s) => i32[job + s] >>> 0;
    k.f32_gemm_ex(u(1), u(2), u(3), i32[job + 4], i32[job + 5], i32[job + 6], i32[job + 7], i32[job + 8],
                  i32[job + 9], i32[job + 10], i32[job + 11], u(12), i32[job + 13], f32[job + 14], u(15));
  } catch (e) {
    Atomics.store(i32, ${FAILED}, 1);
  }
  Atomics.sub(i32, ${PENDING}, 1);
  Atomics.notify(i32, ${PENDING});
}
`;

/** A pool of n−1 workers plus the calling thread. */
export class ThreadPool implements GemmRunner {
  private workers: Worker[] = [];
  private ctl: number;
  private workspaces: number[] = [];
  private disposed = false;

  constructor(private readonly e: Engine, readonly threads: number, module: WebAssembly.Module) {
    if (!Number.isInteger(threads) || threads < 2 || threads > 64) {
      reject('ThreadPool', 'threads', threads, 'an integer in [2, 64]');
    }
    this.ctl = e.alloc((JOBS + 64 * JOB_SLOTS) * 4);
    e.i32.fill(0, this.ctl >> 2, (this.ctl >> 2) + JOBS + 64 * JOB_SLOTS);
    for (let w = 0; w < threads - 1; w++) {
      const workspace = e.alloc(e.k.gemm_workspace_bytes());
      this.workspaces.push(workspace);
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory: e.memory, ctl: this.ctl, workspace, index: w },
      });
      worker.unref();
      this.workers.push(worker);
    }
    // Wait (bounded) for every worker to report ready before ever blocking on a job: a worker
    // that fails during start-up would otherwise hang the process.
    const i32 = e.i32, ready = (this.ctl >> 2) + READY, deadline = Date.now() + 15_000;
    for (let r; (r = Atomics.load(i32, ready)) < threads - 1;) {
      if (Date.now() > deadline) {
        this.terminate();
        throw new SimdnnError(`ThreadPool: only ${r} of ${threads - 1} workers started within 15 s`);
      }
      Atomics.wait(i32, ready, r, 100);
    }
  }

  /** Runs C rows [0, M) split over the threads (or on this thread alone when small). */
  private run(c: number, a: number, b: number, M: number, K: number, N: number, rsA: number, csA: number,
              rsB: number, csB: number, acc: number, bias: number, act: number, alpha: number, z: number): void {
    if (this.disposed) throw new ConfigError('ThreadPool: used after dispose()');
    const k = this.e.k;
    const T = Math.min(this.threads, Math.ceil(M / 4));
    if (T < 2 || 2 * M * N * K < PARALLEL_MIN_FLOPS) {
      k.f32_gemm_ex(c, a, b, M, K, N, rsA, csA, rsB, csB, acc, bias, act, alpha, z);
      return;
    }
    // Row slices in multiples of 4 (the micro-kernel's MR); the main thread takes the first.
    const per = Math.ceil(M / T / 4) * 4;
    const i32 = this.e.i32, f32 = this.e.f32, base = this.ctl >> 2;
    let workers = 0;
    // Every worker wakes on a new generation: those without a slice this time get OP_IDLE.
    for (let t = 1; t < this.threads; t++) i32[base + JOBS + (t - 1) * JOB_SLOTS] = OP_IDLE;
    for (let t = 1; t < T; t++) {
      const m0 = t * per, rows = Math.min(per, M - m0);
      if (rows <= 0) break;
      const j = base + JOBS + (t - 1) * JOB_SLOTS;
      i32[j] = OP_GEMM;
      i32[j + 1] = c + m0 * N * 4; i32[j + 2] = a + m0 * rsA * 4; i32[j + 3] = b;
      i32[j + 4] = rows; i32[j + 5] = K; i32[j + 6] = N;
      i32[j + 7] = rsA; i32[j + 8] = csA; i32[j + 9] = rsB; i32[j + 10] = csB; i32[j + 11] = acc;
      i32[j + 12] = bias; i32[j + 13] = act; f32[j + 14] = alpha; i32[j + 15] = z ? z + m0 * N * 4 : 0;
      workers++;
    }
    Atomics.store(i32, base + PENDING, workers);
    Atomics.add(i32, base + GEN, 1);
    Atomics.notify(i32, base + GEN);
    k.f32_gemm_ex(c, a, b, Math.min(per, M), K, N, rsA, csA, rsB, csB, acc, bias, act, alpha, z);
    for (let p; (p = Atomics.load(i32, base + PENDING)) !== 0;) Atomics.wait(i32, base + PENDING, p, 1000);
    if (Atomics.load(i32, base + FAILED)) throw new SimdnnError('ThreadPool: a worker failed while running a gemm slice');
  }

  denseFwd(out: number, a: number, w: number, bias: number, M: number, K: number, N: number, act: number, alpha: number, z: number): void {
    this.run(out, a, w, M, K, N, K, 1, N, 1, 0, bias, act, alpha, z);
  }
  tn(c: number, a: number, b: number, M: number, K: number, N: number, accumulate: number): void {
    this.run(c, a, b, M, K, N, 1, M, N, 1, accumulate, 0, 0, 0, 0);
  }
  nt(c: number, a: number, b: number, M: number, K: number, N: number, accumulate: number): void {
    this.run(c, a, b, M, K, N, K, 1, 1, K, accumulate, 0, 0, 0, 0);
  }

  private terminate(): void {
    for (const w of this.workers) void w.terminate();
    this.workers = [];
  }

  /** Ends the workers and frees the control block and workspaces. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const i32 = this.e.i32, base = this.ctl >> 2;
    for (let t = 0; t < this.workers.length; t++) i32[base + JOBS + t * JOB_SLOTS] = OP_EXIT;
    Atomics.store(i32, base + PENDING, this.workers.length);
    Atomics.add(i32, base + GEN, 1);
    Atomics.notify(i32, base + GEN);
    // Each worker acknowledges before it exits; only then is the control block free to reuse.
    const deadline = Date.now() + 5000;
    for (let p; (p = Atomics.load(i32, base + PENDING)) > 0 && Date.now() < deadline;) Atomics.wait(i32, base + PENDING, p, 100);
    if (Atomics.load(i32, base + PENDING) > 0) this.terminate();
    this.workers = [];
    for (const p of [this.ctl, ...this.workspaces]) this.e.release(p);
  }
}
