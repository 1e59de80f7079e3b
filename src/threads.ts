// Threads (DESIGN §7): a data-parallel step. The model records, once per step shape, the kernel
// calls each thread's slice of the batch makes (a tape: the forward and backward of its rows into
// its own buffers, barriers where batch statistics are exchanged, then its share of the gradient
// reduction); n−1 worker_threads instantiate the same module on the engine's shared memory and
// replay their tapes while the calling thread replays its own. A job costs one handoff and one
// join; a waiting thread spins briefly before it sleeps in Atomics.wait. A worker that fails, dies
// or stops making progress ends the job with a SimdnnError naming it, never a hang.
import os from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ConfigError, SimdnnError, show } from './errors.js';
import type { Kernels } from './kernels.js';
import type { Engine } from './wasm.js';

/** The gemm calls a dense layer makes, on the kernels the engine has at the time of the call. */
export interface GemmRunner {
  /** out (M×N) = act(a (M×K)·w (K×N) + bias); z keeps the pre-activation when ≠ 0. */
  denseFwd(out: number, a: number, w: number, bias: number, M: number, K: number, N: number, act: number, alpha: number, z: number): void;
  /** c (M×N) [+]= aᵀ·b with a stored K×M. */
  tn(c: number, a: number, b: number, M: number, K: number, N: number, accumulate: number): void;
  /** c (M×N) [+]= a·bᵀ with b stored N×K. */
  nt(c: number, a: number, b: number, M: number, K: number, N: number, accumulate: number): void;
}

/** Reads e.k at each call, so a recording of the step records the gemms too. */
export function serialGemm(e: Engine): GemmRunner {
  return {
    denseFwd: (out, a, w, bias, M, K, N, act, alpha, z) => e.k.f32_dense_fwd(out, a, w, bias, M, K, N, act, alpha, z),
    tn: (c, a, b, M, K, N, acc) => e.k.f32_gemm_tn(c, a, b, M, K, N, acc),
    nt: (c, a, b, M, K, N, acc) => e.k.f32_gemm_nt(c, a, b, M, K, N, acc),
  };
}

/** threads: a count in [1, 64], or 'auto' (os.availableParallelism()); more than the cores warns once. */
export function checkThreads(where: string, v: unknown): number {
  const cores = os.availableParallelism();
  const n = v === 'auto' ? cores : v;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 64) {
    throw new ConfigError(`${where}: threads is ${show(v)}; it must be an integer in [1, 64] or 'auto' (${cores} here)`);
  }
  if ((n as number) > cores && !warned) {
    warned = true;
    process.emitWarning(`simdnn: threads is ${n} but this machine has ${cores} cores; the threads will share them`, 'SimdnnWarning');
  }
  return n as number;
}
let warned = false;

// A tape entry: [kernel index, result slot (f64 index into memory, −1: none), ...arguments];
// kernel index −1 is a barrier.
export type Op = number[];
export const BARRIER = -1;

/** The kernel names in export order (the same in every instance of a module). */
function kernelNames(k: object): string[] {
  return Object.keys(k).filter((n) => typeof (k as Record<string, unknown>)[n] === 'function');
}

/** Stands in for the engine's kernels while a tape is recorded: every call is appended to `ops`. */
export class Recorder {
  ops: Op[] = [];
  private readonly k: Kernels;
  constructor(private readonly e: Engine) {
    const k: Record<string, (...a: number[]) => number> = {};
    kernelNames(e.kernels).forEach((name, i) => {
      k[name] = (...args: number[]) => (this.ops.push([i, -1, ...args]), 0);
    });
    this.k = k as unknown as Kernels;
  }
  /** Runs body with the engine's kernels recording into ops (results read as 0). */
  record(ops: Op[], body: () => void): void {
    const prev = this.e.k;
    this.ops = ops;
    this.e.k = this.k;
    try {
      body();
    } finally {
      this.e.k = prev;
    }
  }
  /** The last recorded call's result goes to f64 slot `slot`. */
  keep(slot: number): void { this.ops[this.ops.length - 1][1] = slot; }
  barrier(): void { this.ops.push([BARRIER, -1]); }
}

// Control block (i32 slots). Per-worker words: op, tape id, heartbeat, and the generation of the
// job the op belongs to (a worker that wakes late for an idle generation must not run the next
// job's op twice).
const GEN = 0, PENDING = 1, READY = 2, FAILED = 3, BAR = 4, BARGEN = 5, ABORT = 6, NTHREADS = 7;
const OPS = 16, TAPE = 16 + 64, HB = 16 + 128, JOBGEN = 16 + 192, CTL_WORDS = 16 + 256;
const OP_IDLE = 0, OP_RUN = 1, OP_EXIT = 2;
/** Tapes a worker keeps decoded (oldest dropped first; the pool mirrors which). */
const KEEP_TAPES = 64;
/** f64 result slots per thread. */
export const SLOTS = 8;
/**
 * A thread spins this long on a word before it sleeps in Atomics.wait (bench/handoff measures
 * the round trip). A sleeping thread here can take ~200 µs to wake, which a step pays at every
 * barrier and job it misses: 1 ms measured faster than 0.05 ms (W2 on 2 threads 1.16×, W1
 * 1.02–1.12×, medians of 6–8 alternating runs); idle workers still sleep 1 ms after the last
 * job. With more threads than cores a spinning thread takes a core from one that works: the
 * pool then spins SPIN_SHARED_MS.
 */
export const SPIN_MS = 1;
export const SPIN_SHARED_MS = 0.05;

// Runs a tape on this thread (the worker source embeds this function's text: one copy of it).
// ops: decoded [fn, slot, args]; a false return means the job was aborted.
function runTape(ops: [((...a: number[]) => number) | null, number, number[]][], i32: Int32Array, f64: Float64Array,
                 hb: number, spinMs: number, onSlice: () => void): boolean {
  const BAR_ = 4, BARGEN_ = 5, ABORT_ = 6, NTHREADS_ = 7;
  for (let i = 0; i < ops.length; i++) {
    const [fn, slot, args] = ops[i];
    if (fn === null) {
      const gen = Atomics.load(i32, BARGEN_);
      if (Atomics.add(i32, BAR_, 1) === Atomics.load(i32, NTHREADS_) - 1) {
        Atomics.store(i32, BAR_, 0);
        Atomics.add(i32, BARGEN_, 1);
        Atomics.notify(i32, BARGEN_);
      } else {
        const until = performance.now() + spinMs;
        while (Atomics.load(i32, BARGEN_) === gen && performance.now() < until) if (Atomics.load(i32, ABORT_)) return false;
        while (Atomics.load(i32, BARGEN_) === gen) {
          if (Atomics.load(i32, ABORT_)) return false;
          Atomics.wait(i32, BARGEN_, gen, 20);
          onSlice();
        }
      }
    } else {
      const r = fn(...args);
      if (slot >= 0) f64[slot] = r;
    }
    i32[hb]++;
  }
  return true;
}

function decode(ops: Op[], fns: ((...a: number[]) => number)[]): [((...a: number[]) => number) | null, number, number[]][] {
  return ops.map((o) => [o[0] === BARRIER ? null : fns[o[0]], o[1], o.slice(2)]);
}

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { module, memory, ctl, workspace, index, port, spinMs } = workerData;
const inst = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('simdnn wasm abort'); } } });
const k = inst.exports;
k.gemm_set_workspace(workspace);
const fns = (${kernelNames.toString()})(k).map((n) => k[n]);
const runTape = ${runTape.toString()};
const decode = (ops) => ops.map((o) => [o[0] === ${BARRIER} ? null : fns[o[0]], o[1], o.slice(2)]);
const i32 = new Int32Array(memory.buffer, ctl, ${CTL_WORDS});
const f64 = new Float64Array(memory.buffer);
const tapes = new Map();
Atomics.add(i32, ${READY}, 1);
Atomics.notify(i32, ${READY});
let gen = 0, ran = 0;
for (;;) {
  const until = performance.now() + spinMs;
  while (Atomics.load(i32, ${GEN}) === gen && performance.now() < until);
  Atomics.wait(i32, ${GEN}, gen);
  gen = Atomics.load(i32, ${GEN});
  const op = Atomics.load(i32, ${OPS} + index), job = Atomics.load(i32, ${JOBGEN} + index);
  if (op === ${OP_IDLE} || job === ran) continue;
  ran = job;
  if (op === ${OP_EXIT}) {
    Atomics.sub(i32, ${PENDING}, 1);
    Atomics.notify(i32, ${PENDING});
    break;
  }
  try {
    const id = i32[${TAPE} + index];
    let tape = id < 0 ? undefined : tapes.get(id);
    while (tape === undefined) {
      const m = receiveMessageOnPort(port);
      if (!m) throw new Error('tape ' + id + ' was not sent');
      const t = decode(m.message.ops);
      if (m.message.id < 0) { tape = t; break; }
      tapes.set(m.message.id, t);
      if (tapes.size > ${KEEP_TAPES}) tapes.delete(tapes.keys().next().value);
      if (m.message.id === id) tape = t;
    }
    runTape(tape, i32, f64, ${HB} + index + 1, spinMs, () => {});
  } catch (e) {
    port.postMessage(String(e && e.stack || e));
    Atomics.compareExchange(i32, ${FAILED}, 0, index + 2);
    Atomics.store(i32, ${ABORT}, 1);
    Atomics.notify(i32, ${BARGEN});
  }
  Atomics.sub(i32, ${PENDING}, 1);
  Atomics.notify(i32, ${PENDING});
}
`;

/** A recorded tape: raw ops (sent to a worker once) and their decoded form on this thread. */
export interface Tape { id: number; ops: Op[] }

interface Slot { worker?: Worker; port?: MessagePort; workspace: number; sent: Map<number, true>; exited?: number }

/** n−1 workers plus the calling thread, running one tape each per job. */
export class ThreadPool {
  readonly threads: number;
  /** f64 index of thread t's first result slot. */
  readonly slots: number;
  private ctl: number;
  private slotBlock: number;
  private w: Slot[] = [];
  private disposed = false;
  private nextId = 1;
  private fns: ((...a: number[]) => number)[];
  /** Views of the control block and of memory for the result slots (made before any worker starts, so they cover both). */
  private i32: Int32Array;
  readonly f64: Float64Array;
  private mine = new Map<number, ReturnType<typeof decode>>();

  /** spinMs: how long a waiting thread spins before it sleeps (SPIN_MS, or SPIN_SHARED_MS above the cores; bench/handoff varies it). */
  constructor(private readonly e: Engine, threads: number, private readonly spinMs = threads <= os.availableParallelism() ? SPIN_MS : SPIN_SHARED_MS) {
    if (!Number.isInteger(threads) || threads < 2 || threads > 64) throw new ConfigError(`ThreadPool: threads is ${show(threads)}; it must be an integer in [2, 64]`);
    if (!(spinMs >= 0 && spinMs <= 10)) throw new ConfigError(`ThreadPool: spinMs is ${show(spinMs)}; it must be a number of milliseconds in [0, 10]`);
    this.threads = threads;
    this.fns = kernelNames(e.kernels).map((n) => (e.kernels as unknown as Record<string, (...a: number[]) => number>)[n]);
    const ptrs = e.allocAll([CTL_WORDS * 4, threads * SLOTS * 8, ...Array.from({ length: threads - 1 }, () => e.k.gemm_workspace_bytes())]);
    [this.ctl, this.slotBlock] = ptrs;
    this.slots = this.slotBlock >> 3;
    this.i32 = new Int32Array(e.memory.buffer, this.ctl, CTL_WORDS);
    this.f64 = new Float64Array(e.memory.buffer);
    this.i32.fill(0);
    this.w = ptrs.slice(2).map((workspace) => ({ workspace, sent: new Map() }));
    try {
      this.start();
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** The workers (index t − 1 runs thread t); for tests and diagnostics. */
  get workers(): readonly (Worker | undefined)[] { return this.w.map((s) => s.worker); }

  /** A new tape id (tapes are immutable; a changed step gets a new one). */
  newId(): number { return this.nextId++; }

  /** Starts every missing worker and waits (bounded) until each reports ready. */
  private start(): void {
    const e = this.e, i32 = this.i32;
    const missing = this.w.map((s, i) => [s, i] as const).filter(([s]) => !s.worker);
    if (missing.length === 0) return;
    Atomics.store(i32, READY, 0);
    for (const [s, i] of missing) {
      const { port1, port2 } = new MessageChannel();
      i32[OPS + i] = OP_IDLE;
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: e.module, memory: e.memory, ctl: this.ctl, workspace: s.workspace, index: i, port: port2, spinMs: this.spinMs },
        transferList: [port2],
      });
      worker.unref();
      port1.unref();
      worker.on('error', () => {});
      worker.on('exit', (code) => { s.exited = code; });
      Object.assign(s, { worker, port: port1, sent: new Map(), exited: undefined });
    }
    // Wait for every new worker's "ready" before ever blocking on a job: a worker that fails
    // during start-up would otherwise hang the process.
    const deadline = Date.now() + 15_000;
    for (let r; (r = Atomics.load(i32, READY)) < missing.length;) {
      if (Date.now() > deadline) {
        this.terminate();
        throw new SimdnnError(`ThreadPool: only ${r} of ${missing.length} workers started within 15 s`);
      }
      Atomics.wait(i32, READY, r, 50);
    }
  }

  /**
   * Runs tapes[t] on thread t (tapes[0] here) and returns when all are done. A worker that fails,
   * exits or makes no progress for a bounded time becomes a SimdnnError naming its thread; the
   * pool then replaces its workers at the next run. Transient tapes (id < 0) are not kept.
   */
  run(tapes: Tape[]): void {
    if (this.disposed) throw new ConfigError('ThreadPool: used after dispose()');
    const T = tapes.length, i32 = this.i32;
    if (T > this.threads) throw new ConfigError(`ThreadPool.run: ${T} tapes for ${this.threads} threads`);
    const gone = this.w.findIndex((s) => s.exited !== undefined);
    if (gone >= 0) {
      const code = this.w[gone].exited;
      this.terminate();
      throw new SimdnnError(`ThreadPool: thread ${gone + 1} exited (code ${code}) before this step; it is restarted at the next step`);
    }
    this.start();
    const job = Atomics.load(i32, GEN) + 1;
    for (let t = 1; t < this.threads; t++) {
      const s = this.w[t - 1], tape = tapes[t];
      Atomics.store(i32, OPS + t - 1, tape ? OP_RUN : OP_IDLE);
      if (!tape) continue;
      Atomics.store(i32, JOBGEN + t - 1, job);
      i32[TAPE + t - 1] = tape.id;
      if (tape.id < 0 || !s.sent.has(tape.id)) {
        s.port!.postMessage({ id: tape.id, ops: tape.ops });
        if (tape.id >= 0) {
          s.sent.set(tape.id, true);
          if (s.sent.size > KEEP_TAPES) s.sent.delete(s.sent.keys().next().value!);
        }
      }
    }
    let mine = tapes[0].id >= 0 ? this.mine.get(tapes[0].id) : undefined;
    if (!mine) {
      mine = decode(tapes[0].ops, this.fns);
      if (tapes[0].id >= 0) {
        this.mine.set(tapes[0].id, mine);
        if (this.mine.size > KEEP_TAPES) this.mine.delete(this.mine.keys().next().value!);
      }
    }
    Atomics.store(i32, NTHREADS, T);
    Atomics.store(i32, BAR, 0);
    Atomics.store(i32, PENDING, T - 1);
    Atomics.add(i32, GEN, 1);
    Atomics.notify(i32, GEN);
    const t0 = performance.now();
    const watch = this.watchdog(T, t0);
    let stuck = '';
    try {
      if (runTape(mine, i32, this.f64, HB, this.spinMs, () => watch())) {
        const done = performance.now() - t0, until = performance.now() + this.spinMs;
        while (Atomics.load(i32, PENDING) !== 0 && performance.now() < until);
        for (let p; (p = Atomics.load(i32, PENDING)) !== 0;) {
          Atomics.wait(i32, PENDING, p, 20);
          watch(done);
        }
      }
    } catch (err) {
      if (!(err instanceof Stuck)) {
        this.recover();
        throw err;
      }
      stuck = err.message;
    }
    const failed = Atomics.load(i32, FAILED);
    if (!stuck && !failed && !Atomics.load(i32, ABORT)) return;
    const msg = failed >= 2 ? receiveMessageOnPort(this.w[failed - 2].port!)?.message : undefined;
    this.recover();
    if (stuck) throw new SimdnnError(stuck);
    throw new SimdnnError(`ThreadPool: thread ${failed - 1} failed during the step${msg ? `: ${String(msg).split('\n')[0]}` : ''}`);
  }

  /**
   * The check a waiting calling thread makes every 20 ms: a worker that exited, or whose
   * heartbeat has not moved for max(2 s, 50 × the calling thread's own share of the job), ends the job.
   */
  private watchdog(T: number, t0: number): (mine?: number) => void {
    const i32 = this.i32;
    const beats = new Int32Array(T), since = new Float64Array(T).fill(t0);
    let firstWait = 0;
    return (mine) => {
      const now = performance.now();
      // This thread's own work so far: up to the first wait, if it is waiting at a barrier.
      if (mine === undefined) mine = (firstWait ||= now) - t0;
      const limit = Math.max(2000, 50 * mine);
      if (Atomics.load(i32, FAILED) || Atomics.load(i32, ABORT)) throw new Stuck('');
      for (let t = 1; t < T; t++) {
        const hb = Atomics.load(i32, HB + t);
        if (hb !== beats[t]) { beats[t] = hb; since[t] = now; continue; }
        if (now - since[t] > limit) {
          Atomics.store(i32, ABORT, 1);
          Atomics.notify(i32, BARGEN);
          const s = this.w[t - 1];
          const why = s.exited !== undefined ? `exited (code ${s.exited})` : `made no progress for ${(limit / 1000).toFixed(1)} s (it died or is stuck)`;
          throw new Stuck(`ThreadPool: thread ${t} ${why} during the step; the step is abandoned and the threads are restarted at the next step`);
        }
      }
    };
  }

  /** After a failed job: abort the others, wait (bounded) for them, clear the flags; dead or stuck workers are replaced at the next run. */
  private recover(): void {
    const i32 = this.i32;
    Atomics.store(i32, ABORT, 1);
    Atomics.notify(i32, BARGEN);
    const deadline = performance.now() + 1000;
    for (let p; (p = Atomics.load(i32, PENDING)) > 0 && performance.now() < deadline;) Atomics.wait(i32, PENDING, p, 20);
    if (Atomics.load(i32, PENDING) > 0) this.terminate();
    for (const s of this.w) if (s.port) while (receiveMessageOnPort(s.port));
    for (const i of [PENDING, FAILED, BAR, ABORT]) Atomics.store(i32, i, 0);
  }

  private terminate(): void {
    for (const s of this.w) {
      if (s.worker) void s.worker.terminate();
      s.port?.close();
      Object.assign(s, { worker: undefined, port: undefined, exited: undefined, sent: new Map() });
    }
  }

  /** Ends the workers and frees the control block, slots and workspaces. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const i32 = this.i32;
    const live = this.w.filter((s) => s.worker && s.exited === undefined).length;
    const job = Atomics.load(i32, GEN) + 1;
    this.w.forEach((s, i) => {
      Atomics.store(i32, OPS + i, s.worker ? OP_EXIT : OP_IDLE);
      Atomics.store(i32, JOBGEN + i, job);
    });
    Atomics.store(i32, PENDING, live);
    Atomics.add(i32, GEN, 1);
    Atomics.notify(i32, GEN);
    // Each worker acknowledges before it exits; only then is the control block free to reuse.
    const deadline = Date.now() + 5000;
    for (let p; (p = Atomics.load(i32, PENDING)) > 0 && Date.now() < deadline;) Atomics.wait(i32, PENDING, p, 50);
    this.terminate();
    for (const p of [this.ctl, this.slotBlock, ...this.w.map((s) => s.workspace)]) this.e.release(p);
    this.w = [];
  }
}

class Stuck extends Error {}
