// What a step runs on (DESIGN §2, §3): a dataset resident in wasm memory, and a model's step
// buffers — the batch gathered from it, the loss gradient, counters. A step allocates nothing.
import type { Tensor } from './tensor.js';
import type { Engine } from './wasm.js';

let uploads = 0;

/** A dataset copied into wasm memory once (u8 images stay u8); released by its owner. */
export class WasmData {
  readonly x: number;
  readonly y: number;
  readonly n: number;
  readonly u8: boolean;
  readonly scale: number;
  readonly shift: number;
  /** Total sum of squares of the targets about their mean (for R²). */
  readonly sst: number;
  /** Targets are integer labels (i32, one per row); else floats, one row of `outputs` per sample. */
  readonly labels: boolean;
  /** Sample weights (f32, one per row), or 0. */
  readonly sw: number = 0;
  /** Distinct for every upload (part of a recorded step's key: the gather's arguments come from it). */
  readonly id = ++uploads;
  constructor(readonly e: Engine, x: Tensor<Float32Array | Uint8Array>, y: Int32Array | Float32Array | undefined, readonly cols: number,
              sampleWeight?: Float32Array) {
    this.n = x.rows;
    this.u8 = x.data instanceof Uint8Array;
    this.labels = y instanceof Int32Array;
    [this.scale, this.shift] = this.u8 ? [(x.range[1] - x.range[0]) / 255, x.range[0]] : [1, 0];
    this.x = e.upload(x.data);
    this.y = 0;
    try {
      this.y = y ? e.upload(y) : 0;
      this.sw = sampleWeight ? e.upload(sampleWeight) : 0;
    } catch (err) {
      e.release(this.x);
      if (this.y) e.release(this.y);
      throw err;
    }
    this.sst = y ? sst(y) : 0;
  }
  release(): void {
    this.e.release(this.x);
    if (this.y) this.e.release(this.y);
    if (this.sw) this.e.release(this.sw);
  }
}

/** Total sum of squares of real targets about their mean (R²'s denominator); 0 for labels. */
export function sst(y: Int32Array | Float32Array): number {
  if (!(y instanceof Float32Array)) return 0;
  let m = 0, s = 0;
  for (const v of y) m += v;
  m /= y.length;
  for (const v of y) s += (v - m) ** 2;
  return s;
}

/** Uploads datasets and releases them all when `body` settles (or when one upload fails). */
export async function withData<T>(e: Engine, sets: (() => WasmData)[], body: (data: WasmData[]) => Promise<T> | T): Promise<T> {
  const data: WasmData[] = [];
  try {
    for (const make of sets) data.push(make());
    return await body(data);
  } finally {
    for (const d of data) d.release();
  }
}

/** A model's per-step buffers for up to `cap` rows: input, targets, dpred, the hit counter, row indices, sample weights. */
export class StepBuffers {
  readonly x: number; readonly y: number; readonly dpred: number; readonly correct: number; readonly idx: number; readonly sw: number;
  /** Per-class loss weights of the running fit (0: none); owned by that fit. */
  classWeights = 0;
  /** The batch's sample weights: `sw` when the batch has them, else 0 (set with the batch). */
  sampleWeights = 0;
  /** The batch's targets are a distribution per row (M×N floats) rather than labels (set with the batch). */
  soft = false;
  private constructor(readonly e: Engine, readonly cap: number, ptrs: number[]) {
    [this.x, this.y, this.dpred, this.correct, this.idx, this.sw] = ptrs;
  }
  /** All buffers or none (a refused request leaks nothing). */
  static allocate(e: Engine, cap: number, inputSize: number, outputSize: number): StepBuffers {
    return new StepBuffers(e, cap, e.allocAll([cap * inputSize * 4, cap * outputSize * 4, cap * outputSize * 4, 4, cap * 4, cap * 4]));
  }
  release(): void {
    for (const p of [this.x, this.y, this.dpred, this.correct, this.idx, this.sw]) this.e.release(p);
  }
  /** Row indices start … start + rows − 1 (sequential order, for evaluate and predict). */
  indices(start: number, rows: number): number {
    const i32 = this.e.i32, at = this.idx >> 2;
    for (let i = 0; i < rows; i++) i32[at + i] = start + i;
    return this.idx;
  }
  /**
   * Stages rows idx[0..rows) of data as the next batch: the step that runs it gathers them into x
   * (floats; u8 pixels scaled on the fly) and, if data has targets, y (labels, or `outputs` floats
   * a row) and the sample weights, each slice's rows on its own thread (DESIGN §7).
   */
  gather(data: WasmData, idx: number, rows: number, outputs: number): void {
    if (idx !== this.idx) this.e.i32.copyWithin(this.idx >> 2, idx >> 2, (idx >> 2) + rows);
    this.batch = { data, outputs };
    this.soft = !data.labels;
    this.sampleWeights = data.sw ? this.sw : 0;
  }
  /** Takes the staged batch: a step takes it once; buffers written directly have none. */
  take(): StagedBatch | undefined {
    const b = this.batch;
    this.batch = undefined;
    if (!b) return undefined;
    const { data: d, outputs } = b;
    return { key: `${d.id}:${outputs}`, gather: (row0, rows) => this.gatherRows(d, outputs, row0, rows) };
  }
  private batch?: { data: WasmData; outputs: number };
  /** Rows [row0, row0 + rows) of a staged batch, through the kernels the engine has at the call (a recorded step records them). */
  private gatherRows(data: WasmData, outputs: number, row0: number, rows: number): void {
    const k = this.e.k, idx = this.idx + row0 * 4, at = (p: number, width: number) => p + row0 * width * 4;
    if (data.u8) k.u8_gather_rows_scale(at(this.x, data.cols), data.x, idx, rows, data.cols, data.scale, data.shift);
    else k.f32_gather_rows(at(this.x, data.cols), data.x, idx, rows, data.cols);
    if (data.sw) k.f32_gather_rows(at(this.sw, 1), data.sw, idx, rows, 1);
    if (!data.y) return;
    if (data.labels) k.i32_gather(at(this.y, 1), data.y, idx, rows);
    else k.f32_gather_rows(at(this.y, outputs), data.y, idx, rows, outputs);
  }
}

/** A staged batch: what identifies its source in a recorded step, and the gather of a row range. */
export interface StagedBatch { key: string; gather(row0: number, rows: number): void }
