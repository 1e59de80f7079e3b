// The data-parallel step (DESIGN §7). A batch of `rows` rows is cut into T slices; thread t runs
// the forward, the loss and (training) the backward of its slice in its own set of layer buffers
// (engine bank t) and its own gradient arena; after a barrier each thread sums one range of the
// arena over the T arenas into arena 0 and counts its non-finite values. The optimizer then runs
// split by the same ranges. What each thread runs is recorded once per step shape (threads.ts),
// by running the layers' own code against a recorder: the step is the same code on one thread or
// many, and a row's result does not depend on which thread ran it.
import { Buffers, type Layer, type ParamRef, type StepSlice } from './layers/layer.js';
import type { Chain } from './layers/residual.js';
import type { Loss } from './losses.js';
import type { SplitStep } from './optimizers/types.js';
import type { StagedBatch, StepBuffers } from './step.js';
import type { Kernels } from './kernels.js';
import { Recorder, SLOTS, type Op, type Tape, type ThreadPool } from './threads.js';
import type { Engine } from './wasm.js';

/** One slice of a step: its rows, where its outputs are, and (after the step) its loss and hits. */
export interface Slice { row0: number; rows: number; pred: number; loss: number; correct: number }

/** Below this many rows per thread a step runs on the calling thread alone. */
export const MIN_ROWS_PER_THREAD = 4;
/**
 * With threads: 'auto', a step takes one thread per this many floating-point operations of its
 * work (at most one per core): below it a second thread costs about what it saves. Measured on
 * two cores: 784-64-10 at batch 32 (~5 MFLOP a thread) at 0.69–0.91× one thread (bench/scaling);
 * W2, 784-128-10 at batch 32 (~10 MFLOP a thread), at 0.86–1.08× (bench/threads, bench/compare,
 * alternating runs); 784-256-10 at batch 32 (~20 MFLOP a thread) at 1.40–1.57×.
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

interface Recorded { tapes: Tape[]; preds: number[]; slices: [number, number][] }

export class Parallel {
  private readonly rec: Recorder;
  /** Gradient arenas of threads 1 … T−1 (thread 0 uses the model's). */
  private banks: number[] = [];
  private recorded = new Map<string, Recorded>();
  private recording = false;
  /** Each thread's last optimizer tape. */
  private lastUpdate: Tape[] = [];

  constructor(private readonly m: StepHost, readonly pool: ThreadPool) {
    this.rec = new Recorder(m.engine);
  }

  /** The slices a pass of `rows` rows runs in (a training pass does about 3× the forward's work). */
  slices(rows: number, train: boolean): [number, number][] {
    return sliceRows(rows, this.pool.threads, rows * this.m.autoFlopsPerRow * (train ? 3 : 1));
  }

  /** For StepSlice.barrier: a barrier in the tape being recorded (nothing outside a recording). */
  barrier(): void { if (this.recording) this.rec.barrier(); }

  /** Forward (+ loss, + backward when train) of buf's rows over the threads (each first gathers its rows of a staged batch). Returns the slices. */
  pass(buf: StepBuffers, batch: StagedBatch | undefined, rows: number, train: boolean, loss: Loss | undefined, classWeights: number): Slice[] {
    const r = this.tapes(buf, batch, rows, train, loss, classWeights);
    this.pool.run(r.tapes);
    const f = this.pool.f64, i32 = this.m.engine.i32;
    return r.slices.map(([row0, n], t) => {
      const s = this.pool.slots + t * SLOTS;
      return { row0, rows: n, pred: r.preds[t], loss: f[s], correct: loss?.labels ? i32[(s + 7) * 2] : 0 };
    });
  }

  /** Non-finite gradient values after a training pass (each thread counted its range). */
  nonFinite(slices: number): number {
    let n = 0;
    for (let t = 0; t < slices; t++) n += this.pool.f64[this.pool.slots + t * SLOTS + 1];
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

  /** Runs body with bank t's layer buffers and gradient arena in the layers' fields. */
  inBank(t: number, rows: number, body: () => void): void {
    const m = this.m, e = m.engine;
    const moved = t > 0 ? m.paramRefs.filter((p) => p.grad) : [];
    for (const p of moved) p.grad = this.banks[t - 1] + (p.grad - m.grads);
    e.bank = t;
    try {
      m.chain.reserve(e, rows);
      body();
    } finally {
      for (const p of moved) p.grad = m.grads + (p.grad - this.banks[t - 1]);
      e.bank = 0;
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
    const ranges = arenaRanges(m.trainableSize, T), grads = [m.grads, ...this.banks];
    const yWidth = loss?.labels && !buf.soft ? 1 : N;
    const preds: number[] = [], tapes: Tape[] = [];
    this.recording = true;
    try {
      slices.forEach(([row0, n], t) => {
        const ops: Op[] = [];
        Object.assign(s, { thread: t, threads: T, row0, total: rows });
        this.inBank(t, n, () => this.rec.record(ops, () => {
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
          k.f32_fill(grads[t], 0, m.trainableSize);
          m.chain.backward(d, n, false);
          this.rec.barrier();
          const [lo, hi] = ranges[t];
          for (let u = 1; u < T; u++) k.f32_add(grads[0] + lo * 4, grads[0] + lo * 4, grads[u] + lo * 4, hi - lo);
          k.f32_count_nonfinite(grads[0] + lo * 4, hi - lo);
          this.rec.keep(slot + 1);
        }));
        tapes.push({ id: this.pool.newId(), ops });
      });
    } finally {
      this.recording = false;
      Object.assign(s, { thread: 0, threads: 1, row0: 0, total: rows });
    }
    return { tapes, preds, slices };
  }

  dispose(): void {
    for (const p of this.banks) this.m.engine.release(p);
    this.banks = [];
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
