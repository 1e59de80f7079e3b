// Typed errors (DESIGN §11). Messages read `<Class.method>: <what was received>; <the rule>`.

export class SimdnnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** An array or tensor has the wrong shape or length. */
export class ShapeError extends SimdnnError {}
/** An option or argument is out of its domain (lr ≤ 0, unknown name, fractional size, …). */
export class ConfigError extends SimdnnError {}
/** An optional dependency is not installed (`mnist` for nn.datasets.mnistDigits); says how to install it. */
export class MissingDependencyError extends ConfigError {
  constructor(readonly dependency: string, readonly installCommand: string, message: string) {
    super(message);
  }
}
/** A model file is malformed or hostile. */
export class ModelFormatError extends SimdnnError {}
/** A data file (IDX, CSV) is malformed. */
export class DataFormatError extends SimdnnError {}
/** A download failed: network, HTTP status or checksum. */
export class DownloadError extends SimdnnError {}
/** Training produced a non-finite value. */
export class NumericError extends SimdnnError {}
/** A call does not fit the model's lifecycle: a second fit while one runs, use after dispose. */
export class StateError extends SimdnnError {}
/** A memory request cannot be met within the wasm32 limit of 4 GiB. */
export class MemoryLimitError extends SimdnnError {}

/** Short printable form of a received value for error messages. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v == null) return String(v);
  if (Array.isArray(v)) return `[${v.slice(0, 8).map(show).join(', ')}${v.length > 8 ? ', …' : ''}]`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length: number }).length})`;
  return Object.prototype.toString.call(v);
}

