// Argument validation, one home: every check throws ConfigError with one message shape,
// `<where>: <name> is <received>; it must be <rule>` (STYLE.md "Errors"). Names given by the user
// are looked up in own keys only, so '__proto__' or 'constructor' is an unknown name like any other.
import { ConfigError, show } from './errors.js';

/** `<name> is <received>; it must be <rule>`: the message body every check uses (the CLI too). */
export function mustBe(name: string, v: unknown, rule: string): string {
  return `${name} is ${show(v)}; it must be ${rule}`;
}

/** Throws ConfigError `<where>: <name> is <received>; it must be <rule>`. */
export function reject(where: string, name: string, v: unknown, rule: string): never {
  throw new ConfigError(`${where}: ${mustBe(name, v, rule)}`);
}

/** Throws ConfigError unless v is an integer within [min, max]. */
export function checkInt(where: string, name: string, v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    reject(where, name, v, max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`);
  }
  return v;
}

/** Throws ConfigError unless v is a finite number satisfying the predicate described by rule. */
export function checkNum(where: string, name: string, v: unknown, ok: (x: number) => boolean, rule: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) reject(where, name, v, rule);
  return v;
}

/** Throws ConfigError unless v is a finite number in [lo, hi) (open) or [lo, hi]. */
export function checkRange(where: string, name: string, v: unknown, lo: number, hi: number, open = true): number {
  return checkNum(where, name, v, (x) => x >= lo && (open ? x < hi : x <= hi), `in [${lo}, ${hi}${open ? ')' : ']'}`);
}

/** Throws ConfigError unless v is a boolean. */
export function checkBool(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') reject(where, name, v, 'a boolean');
  return v;
}

/** Throws ConfigError unless v is one of names. */
export function checkOneOf<T extends string>(where: string, name: string, v: unknown, names: readonly T[]): T {
  if (typeof v !== 'string' || !(names as readonly string[]).includes(v)) reject(where, name, v, `one of ${names.join(', ')}`);
  return v as T;
}

/** table[key] if key is an own key of table (never an inherited one like "__proto__"), else undefined. */
export function own<T>(table: Readonly<Record<string, T>>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** The options object (absent → {}), with undefined values dropped; rejects unknown names. */
export function checkOptions(where: string, opts: unknown, known: readonly string[]): Record<string, unknown> {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) reject(where, 'options', opts, 'an object');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts as Record<string, unknown>)) {
    if (!known.includes(k)) throw new ConfigError(`${where}: unknown option ${show(k)}; known: ${known.join(', ')}`);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Rejects option keys a layer or function does not know (no option is accepted and ignored). */
export function checkKeys(where: string, opts: object | undefined, known: readonly string[]): void {
  if (opts === null) reject(where, 'options', opts, 'an object');
  checkOptions(where, opts, known);
}
