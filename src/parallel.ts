// The data-parallel step (DESIGN §7). A batch of `rows` rows is cut into T slices; thread t runs
// the forward, the loss and (training) the backward of its slice, in its rows of the layers'
// batch-wide buffers (dense) or its own set (engine bank t), adding the small gradients (biases,
// batch norm, conv) into its own gradient arena. The dense layers' weight gradients are left for
// after one barrier: then every thread takes chunks from one queue until it is empty — a chunk is
// rows of a weight gradient over all the batch rows at once (no per-thread copy to clear and
// sum), or one range of the small gradients summed over the T arenas — and counts the chunk's
// non-finite values. A thread that runs slow takes fewer chunks. The optimizer then runs split by
// arena ranges. What each thread runs is recorded once per step shape (threads.ts), by running
// the layers' own code against a recorder: the step is the same code on one thread or many, and a
// row's result does not depend on which thread ran it.
import { Buffers, type Layer, type ParamRef, type StepSlice } from './layers/layer.js';
import type { Chain } from './layers/residual.js';
import type { Loss } from './losses.js';
import type { SplitStep } from './optimizers/types.js';
import type { StagedBatch, StepBuffers } from './step.js';
import type { Kernels } from './kernels.js';
import { QUEUE, Recorder, SLOTS, type Op, type Tape, type ThreadPool } from './threads.js';
import type { Engine } from './wasm.js';

/** One slice of a step: its rows, where its outputs are, and (after the step) its loss and hits. */
export interface Slice { row0: number; rows: number; pred: number; loss: number; correct: number }

/** Below this many rows per thread a step runs on the calling thread alone. */
export const MIN_ROWS_PER_THREAD = 4;
/**
 * With threads: 'auto', a step takes one thread per this many floating-point operations of its
 * work (at most one per core): below it a second thread costs more in handoffs than it saves
 * (bench/scaling, on two cores: 784-64-10 at batch 32, ~5 MFLOP a thread, ran at 0.69× one
 * thread; 784-256-10 at batch 32, ~20 MFLOP a thread, at 1.57×).
 */
export const AUTO_FLOPS_PER_THREAD = 16e6;

/** What of the model a parallel step reads (the model passes itself). */
export interface StepHost {
  readonly engine: Engine;
  readonly chain: Chain;
  readonly paramRefs: ParamRef[];
  readonly grads: number;
  readonly trainableSize: number;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly slice: StepSlice;
  /** Rows bank 0's layer buffers hold. */
  readonly capacity: number;
  /** threads: 'auto' — the forward's floating-point operations per row, to size the step's thread count by its work; 0: every thread the rows allow. */
  readonly autoFlopsPerRow: number;
}

/**
 * [row0, rows] of each slice: T near-equal slices (the first rows % T one row longer), T at most
 * `threads`, rows / MIN_ROWS_PER_THREAD and, when `flops` (the step's work) is given, one per
 * AUTO_FLOPS_PER_THREAD of it.
 */
export function sliceRows(rows: number, threads: number, flops = 0): [number, number][] {
  const byWork = flops > 0 ? Math.floor(flops / AUTO_FLOPS_PER_THREAD) : threads;
  const T = Math.max(1, Math.min(threads, Math.floor(rows / MIN_ROWS_PER_THREAD), byWork));
  const base = Math.floor(rows / T), extra = rows % T, out: [number, number][] = [];
  for (let t = 0, r0 = 0; t < T; t++) {
    const n = base + (t < extra ? 1 : 0);
    out.push([r0, n]);
    r0 += n;
  }
  return out;
}

/** Float ranges [lo, hi) of an arena of `size` floats, one per thread, in multiples of 16 (64-byte lines). */
export function arenaRanges(size: number, T: number): [number, number][] {
  const per = Math.ceil(size / T / 16) * 16;
  return Array.from({ length: T }, (_, t) => [Math.min(size, t * per), Math.min(size, (t + 1) * per)] as [number, number]);
}

/** A weight gradient a slice left for after the barrier (StepSlice.weightGrad). */
interface Deferred { p: ParamRef; x: number; delta: number; rows: number; K: number; N: number }

/** Work of one queue chunk: about this many floating-point operations (a few hundred µs) or summed floats. */
const CHUNK_FLOPS = 1 << 19, CHUNK_FLOATS = 1 << 15;

/** The sub-ranges of [0, size) not covered by `taken` ([lo, hi) pairs, any order). */
export function complement(taken: [number, number][], size: number): [number, number][] {
  const out: [number, number][] = [];
  let at = 0;
  for (const [lo, hi] of [...taken].sort((a, b) => a[0] - b[0])) {
    if (lo > at) out.push([at, lo]);
    at = Math.max(at, hi);
  }
  if (at < size) out.push([at, size]);
  return out;
}

interface Recorded { tapes: Tape[]; preds: number[]; slices: [number, number][]; chunks: number }

export class Parallel {
  private readonly rec: Recorder;
  /** Gradient arenas of threads 1 … T−1 (thread 0 uses the model's). */
  private banks: number[] = [];
  private recorded = new Map<string, Recorded>();
  private recording = false;
  /** Each thread's last optimizer tape. */
  private lastUpdate: Tape[] = [];
  /** Weight gradients the slice being recorded left for after the barrier. */
  private deferred?: Deferred[];
  /** f64 result slots, one per queue chunk (its non-finite count), and how many there are. */
  private chunkSlots = 0;
  private chunkCap = 0;
  /** Chunks of the last pass (their counts are the step's non-finite count). */
  private chunks = 0;

  constructor(private readonly m: StepHost, readonly pool: ThreadPool) {
    this.rec = new Recorder(m.engine);
  }

  /** The slices a pass of `rows` rows runs in (a training pass does about 3× the forward's work). */
  slices(rows: number, train: boolean): [number, number][] {
    return sliceRows(rows, this.pool.threads, rows * this.m.autoFlopsPerRow * (train ? 3 : 1));
  }

  /** For StepSlice.barrier: a barrier in the tape being recorded (nothing outside a recording). */
  barrier(): void { if (this.recording) this.rec.barrier(); }

  /** For StepSlice.weightGrad in a recording: the gradient is computed after the barrier, over all slices. */
  weightGrad(p: ParamRef, x: number, delta: number, rows: number, K: number, N: number): void {
    if (!this.deferred) throw new Error('Parallel.weightGrad outside a recorded step');
    this.deferred.push({ p, x, delta, rows, K, N });
  }

  /** Forward (+ loss, + backward when train) of buf's rows over the threads (each first gathers its rows of a staged batch). Returns the slices. */
  pass(buf: StepBuffers, batch: StagedBatch | undefined, rows: number, train: boolean, loss: Loss | undefined, classWeights: number): Slice[] {
    const r = this.tapes(buf, batch, rows, train, loss, classWeights);
    this.chunks = r.chunks;
    this.pool.run(r.tapes);
    const f = this.pool.f64, i32 = this.m.engine.i32;
    return r.slices.map(([row0, n], t) => {
      const s = this.pool.slots + t * SLOTS;
      return { row0, rows: n, pred: r.preds[t], loss: f[s], correct: loss?.labels ? i32[(s + 7) * 2] : 0 };
    });
  }

  /** Non-finite gradient values after a training pass (each queue chunk counted its part). */
  nonFinite(): number {
    let n = 0;
    for (let c = 0; c < this.chunks; c++) n += this.pool.f64[(this.chunkSlots >> 3) + c];
    return n;
  }

  /** The optimizer's step split by the same arena ranges, one recorded tape per thread. */
  split(T: number): SplitStep {
    const m = this.m, e = m.engine;
    return {
      sumsq: () => e.k.f32_sumsq(m.grads, m.trainableSize),
      run: (update) => {
        const tapes = arenaRanges(m.trainableSize, T).map(([lo, hi], t) => {
          const ops: Op[] = [];
          this.rec.record(ops, () => update(e.k as Kernels, lo, hi));
          // A step with the same arguments as the last (constant lr, no step count) is sent once.
          const last = this.lastUpdate[t];
          if (last && sameOps(last.ops, ops)) return last;
          return (this.lastUpdate[t] = { id: this.pool.newId(), ops });
        });
        this.pool.run(tapes);
      },
    };
  }

  /** Runs body for slice t (rows from row0): bank t's layer buffers and gradient arena in the layers' fields. */
  inBank(t: number, row0: number, rows: number, body: () => void): void {
    const m = this.m, e = m.engine;
    const moved = t > 0 ? m.paramRefs.filter((p) => p.grad) : [];
    for (const p of moved) p.grad = this.banks[t - 1] + (p.grad - m.grads);
    e.bank = t;
    m.slice.row0 = row0;
    try {
      m.chain.reserve(e, rows);
      body();
    } finally {
      for (const p of moved) p.grad = m.grads + (p.grad - this.banks[t - 1]);
      e.bank = 0;
      m.slice.row0 = 0;
      m.chain.reserve(e, m.capacity);
    }
  }

  private tapes(buf: StepBuffers, batch: StagedBatch | undefined, rows: number, train: boolean, loss: Loss | undefined, cw: number): Recorded {
    const key = () => `${batch?.key}|${rows}|${train}|${loss?.name}|${JSON.stringify(loss?.options)}|${cw}|${buf.x}|${buf.sampleWeights}|${buf.soft}|${Buffers.version}|${dropoutKey(this.m.chain.layers)}`;
    const hit = this.recorded.get(key());
    if (hit) return hit;
    const slices = this.slices(rows, train), T = slices.length;
    this.gradBanks(T);
    const r = this.record(buf, batch, rows, train, loss, cw, slices);
    if (this.recorded.size >= 32) this.recorded.clear();
    this.recorded.set(key(), r);
    return r;
  }

  /** Gradient arenas for threads 1 … T−1 (grown, never shrunk, until dispose). */
  private gradBanks(T: number): void {
    const e = this.m.engine;
    if (this.banks.length >= T - 1) return;
    const more = e.allocAll(Array.from({ length: T - 1 - this.banks.length }, () => Math.max(1, this.m.trainableSize) * 4));
    this.banks.push(...more);
  }

  private record(buf: StepBuffers, batch: StagedBatch | undefined, rows: number, train: boolean, loss: Loss | undefined, cw: number, slices: [number, number][]): Recorded {
    const m = this.m, e = m.engine, s = m.slice, T = slices.length, N = m.outputSize;
    const yWidth = loss?.labels && !buf.soft ? 1 : N;
    const preds: number[] = [], tapes: Tape[] = [], left: Deferred[][] = [], clearAt: number[] = [];
    let chunks = 0;
    this.recording = true;
    try {
      slices.forEach(([row0, n], t) => {
        const ops: Op[] = [];
        Object.assign(s, { thread: t, threads: T, row0, total: rows });
        left.push(this.deferred = []);
        this.inBank(t, row0, n, () => this.rec.record(ops, () => {
          const k = e.k, slot = this.pool.slots + t * SLOTS;
          batch?.gather(row0, n);
          const pred = m.chain.forward(buf.x + row0 * m.inputSize * 4, n, train);
          preds.push(pred);
          if (!loss) return;
          const d = train ? buf.dpred + row0 * N * 4 : 0;
          loss.kernel(e, d, pred, buf.y + row0 * yWidth * 4, n, N, cw, (slot + 7) * 8, buf.sampleWeights && buf.sampleWeights + row0 * 4, buf.soft);
          this.rec.keep(slot);
          if (!train) return;
          // The slice's loss is a mean over its rows; the step's is over the batch.
          k.f32_scale(d, d, n / rows, n * N);
          clearAt[t] = ops.length;
          m.chain.backward(d, n, false);
          this.rec.barrier();
        }));
        tapes.push({ id: this.pool.newId(), ops });
      });
      if (train && loss) chunks = this.afterBarrier(tapes, clearAt, left, slices);
    } finally {
      this.recording = false;
      this.deferred = undefined;
      Object.assign(s, { thread: 0, threads: 1, row0: 0, total: rows });
    }
    return { tapes, preds, slices, chunks };
  }

  /**
   * Completes each slice's tape: before its backward, the clearing of the arena ranges it adds
   * into (all but the deferred weight gradients); after the barrier, one queue of chunks that
   * every thread takes from — the deferred weight gradients and the sums of those ranges over the
   * T arenas, longest first — each chunk counting its non-finite values into its own slot.
   * Returns the number of chunks.
   */
  private afterBarrier(tapes: Tape[], clearAt: number[], left: Deferred[][], slices: [number, number][]): number {
    const m = this.m, e = m.engine, T = slices.length, total = slices.reduce((a, [, n]) => a + n, 0);
    const grads = [m.grads, ...this.banks], offset = (p: ParamRef) => (p.grad - m.grads) / 4;
    const own = left[0];
    if (left.some((l) => l.length !== own.length || l.some((d, j) => d.p !== own[j].p))) throw new Error('Parallel: slices deferred different weight gradients');
    const summed = complement(own.map((d) => [offset(d.p), offset(d.p) + d.p.size]), m.trainableSize);
    // Each chunk: its kernel calls (their last result, the count, goes to the chunk's slot) and its cost.
    const work: { cost: number; run: (k: Kernels) => number }[] = [];
    for (let j = 0; j < own.length; j++) {
      const { p, K, N } = own[j], items = left.map((l) => l[j]);
      // One gemm over all rows when the slices' inputs and δ are rows of the same buffers.
      const whole = items.every((d, t) => d.x === own[j].x + slices[t][0] * K * 4 && d.delta === own[j].delta + slices[t][0] * N * 4);
      const parts = whole ? [{ x: own[j].x, delta: own[j].delta, rows: total }] : items;
      const count = Math.max(1, Math.min(4 * T, Math.ceil((2 * K * N * total) / CHUNK_FLOPS)));
      const per = Math.ceil(K / count / 4) * 4;
      for (let i0 = 0; i0 < K; i0 += per) {
        const i1 = Math.min(K, i0 + per), c = p.grad + i0 * N * 4;
        work.push({ cost: 2 * (i1 - i0) * N * total, run: (k) => {
          parts.forEach((q, u) => k.f32_gemm_ex(c, q.x + i0 * 4, q.delta, i1 - i0, q.rows, N, 1, K, N, 1, u > 0 ? 1 : 0, 0, 0, 0, 0));
          return k.f32_count_nonfinite(c, (i1 - i0) * N);
        } });
      }
    }
    for (const [lo, hi] of summed) {
      for (let a = lo; a < hi; a += CHUNK_FLOATS) {
        const b = Math.min(hi, a + CHUNK_FLOATS), at = grads[0] + a * 4;
        work.push({ cost: (b - a) * T, run: (k) => {
          for (let u = 1; u < T; u++) k.f32_add(at, at, grads[u] + a * 4, b - a);
          return k.f32_count_nonfinite(at, b - a);
        } });
      }
    }
    // The longest first, so the last chunks to be taken are short ones.
    work.sort((a, b) => b.cost - a.cost);
    this.reserveChunkSlots(work.length);
    const queue: Op[] = [], lens: number[] = [];
    work.forEach((w, c) => {
      const ops: Op[] = [];
      this.rec.record(ops, () => { w.run(e.k as Kernels); });
      this.rec.keep((this.chunkSlots >> 3) + c);
      lens.push(ops.length);
      queue.push(...ops);
    });
    tapes.forEach((tape, t) => {
      const clear: Op[] = [];
      this.rec.record(clear, () => { for (const [lo, hi] of summed) e.k.f32_fill(grads[t] + lo * 4, 0, hi - lo); });
      tape.ops.splice(clearAt[t], 0, ...clear);
      tape.ops.push([QUEUE, -1, 0, ...lens], ...queue);
    });
    return work.length;
  }

  /** Room for n chunk slots (grown, never shrunk; a move makes the recorded steps stale). */
  private reserveChunkSlots(n: number): void {
    if (n <= this.chunkCap) return;
    const cap = Math.max(n, 2 * this.chunkCap, 64), e = this.m.engine, p = e.alloc(cap * 8);
    if (this.chunkSlots) e.release(this.chunkSlots);
    [this.chunkSlots, this.chunkCap] = [p, cap];
    this.recorded.clear();
  }

  dispose(): void {
    for (const p of this.banks) this.m.engine.release(p);
    if (this.chunkSlots) this.m.engine.release(this.chunkSlots);
    this.banks = [];
    this.chunkSlots = this.chunkCap = 0;
    this.recorded.clear();
    this.pool.dispose();
  }
}

function sameOps(a: Op[], b: Op[]): boolean {
  return a.length === b.length && a.every((o, i) => o.length === b[i].length && o.every((v, j) => Object.is(v, b[i][j])));
}

/** Which dropout layers are switched off (gradCheck does): part of a recorded step's shape. */
function dropoutKey(layers: Layer[]): string {
  let key = '';
  for (const l of layers) {
    const d = l as Layer & { enabled?: boolean; inner?: Chain };
    if (d.enabled === false) key += l.name;
    if (d.inner) key += `(${dropoutKey(d.inner.layers)})`;
  }
  return key;
}
