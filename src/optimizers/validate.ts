// Option checking shared by the optimizers and the schedules: unknown names, booleans, objects.
import { ConfigError, show } from '../errors.js';

/** The options object (absent → {}), with undefined values dropped; rejects unknown names. */
export function checkOptions(where: string, opts: unknown, known: readonly string[]): Record<string, unknown> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new ConfigError(`${where}: options must be an object, got ${show(opts)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts as Record<string, unknown>)) {
    if (!known.includes(k)) {
      throw new ConfigError(`${where}: unknown option ${JSON.stringify(k)}; known: ${known.join(', ')}`);
    }
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Throws ConfigError unless v is a boolean. */
export function checkBool(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`${where}: ${name} must be a boolean, got ${show(v)}`);
  return v;
}
