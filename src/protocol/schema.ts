/**
 * A tiny runtime validator library for untrusted JSON frames.
 *
 * Every boundary (CLI↔master, master↔allocator) parses frames with schemas
 * built from these combinators, so a TypeScript type and its runtime check are
 * written once and cannot drift. No dependencies: the protocol module is a leaf.
 */

/** A validator: returns the typed value or throws a SchemaError naming the path. */
export type Schema<T> = (value: unknown, path: string) => T;

/** The TypeScript type a schema checks. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

/** Raised by validators; `path` points at the offending field (e.g. `$.spec.cores`). */
export class SchemaError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
  ) {
    super(`${path}: expected ${expected}`);
  }
}

/**
 * Check a part of a value: the part is checked with an empty path, and only
 * an error is given the part's path (`at`, built then). Paths are not built
 * for every field of every valid value: a master reads a million stored jobs
 * at start.
 */
/**
 * What a schema accepts, as data: kept beside each validator so that a
 * generator (the hostile-input fuzzer, test/helpers/fuzz/) can make valid
 * frames and near misses from the same definitions the daemons parse with.
 */
export type Shape =
  | { kind: 'string'; min: number; max: number }
  | { kind: 'boolean' }
  | { kind: 'number'; min: number; max: number; integer: boolean }
  | { kind: 'literal'; value: string | number | boolean }
  | { kind: 'oneOf'; values: readonly string[] }
  | { kind: 'nullable'; inner: Shape }
  | { kind: 'optional'; inner: Shape }
  | { kind: 'array'; item: Shape; max: number }
  | { kind: 'tuple'; items: Shape[] }
  | { kind: 'object'; fields: Record<string, Shape> }
  | { kind: 'tagged'; branches: Record<string, Shape> };

const shapes = new WeakMap<Schema<unknown>, Shape>();

/** Record what `s` accepts (see Shape); returns `s`. */
function described<T>(shape: Shape, s: Schema<T>): Schema<T> {
  shapes.set(s as Schema<unknown>, shape);
  return s;
}

/** What a schema built here accepts (a schema written by hand elsewhere: anything, as a string). */
export function shapeOf(s: Schema<unknown>): Shape {
  return shapes.get(s) ?? { kind: 'string', min: 0, max: 64 };
}

function part<T>(s: Schema<T>, v: unknown, at: () => string): T {
  try {
    return s(v, '');
  } catch (err) {
    throw err instanceof SchemaError ? new SchemaError(at() + err.path, err.expected) : err;
  }
}

export const str: Schema<string> = described({ kind: 'string', min: 0, max: Infinity }, (v, p) => {
  if (typeof v !== 'string') throw new SchemaError(p, 'a string');
  return v;
});

/** A string of at most `max` UTF-16 units. */
export const strMax = (max: number): Schema<string> =>
  described({ kind: 'string', min: 0, max }, (v, p) => {
    if (typeof v !== 'string' || v.length > max) throw new SchemaError(p, `a string of at most ${max} characters`);
    return v;
  });

export const bool: Schema<boolean> = described({ kind: 'boolean' }, (v, p) => {
  if (typeof v !== 'boolean') throw new SchemaError(p, 'a boolean');
  return v;
});

export const num: Schema<number> = described({ kind: 'number', min: -Number.MAX_VALUE, max: Number.MAX_VALUE, integer: false }, (v, p) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SchemaError(p, 'a finite number');
  return v;
});

export const int: Schema<number> = described(
  { kind: 'number', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, integer: true },
  (v, p) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new SchemaError(p, 'an integer');
    return v;
  },
);

/** A safe integer from `min` to `max` inclusive (counts and ids a peer reports: bounded so sums stay exact). */
export const intIn = (min: number, max: number): Schema<number> =>
  described({ kind: 'number', min, max, integer: true }, (v, p) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
      throw new SchemaError(p, `an integer from ${min} to ${max}`);
    return v;
  });

/** A finite number from `min` to `max` inclusive. */
export const numIn = (min: number, max: number): Schema<number> =>
  described({ kind: 'number', min, max, integer: false }, (v, p) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new SchemaError(p, `a number from ${min} to ${max}`);
    return v;
  });

/** A non-empty string of at most `max` UTF-16 units (a name). */
export const nameMax = (max: number): Schema<string> =>
  described({ kind: 'string', min: 1, max }, (v, p) => {
    if (typeof v !== 'string' || v.length === 0 || v.length > max)
      throw new SchemaError(p, `a non-empty string of at most ${max} characters`);
    return v;
  });

export function literal<const L extends string | number | boolean>(lit: L): Schema<L> {
  return described({ kind: 'literal', value: lit }, (v, p) => {
    if (v !== lit) throw new SchemaError(p, JSON.stringify(lit));
    return lit;
  });
}

export function oneOf<const L extends string>(values: readonly L[]): Schema<L> {
  return described({ kind: 'oneOf', values }, (v, p) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      throw new SchemaError(p, `one of ${values.join(', ')}`);
    }
    return v as L;
  });
}

export function nullable<T>(s: Schema<T>): Schema<T | null> {
  return described({ kind: 'nullable', inner: shapeOf(s as Schema<unknown>) }, (v, p) => (v === null ? null : s(v, p)));
}

export function optional<T>(s: Schema<T>): Schema<T | undefined> {
  return described({ kind: 'optional', inner: shapeOf(s as Schema<unknown>) }, (v, p) => (v === undefined ? undefined : s(v, p)));
}

export function arrayOf<T>(s: Schema<T>, maxLength = 1_000_000): Schema<T[]> {
  return described({ kind: 'array', item: shapeOf(s as Schema<unknown>), max: maxLength }, (v, p) => {
    if (!Array.isArray(v) || v.length > maxLength) throw new SchemaError(p, `an array of at most ${maxLength} items`);
    return v.map((item, i) => part(s, item, () => `${p}[${i}]`));
  });
}

export function tuple<A, B>(a: Schema<A>, b: Schema<B>): Schema<[A, B]> {
  return described({ kind: 'tuple', items: [shapeOf(a as Schema<unknown>), shapeOf(b as Schema<unknown>)] }, (v, p) => {
    if (!Array.isArray(v) || v.length !== 2) throw new SchemaError(p, 'a pair');
    return [part(a, v[0], () => `${p}[0]`), part(b, v[1], () => `${p}[1]`)];
  });
}

type Fields = Record<string, Schema<unknown>>;
type ObjOf<S extends Fields> = { [K in keyof S as undefined extends Infer<S[K]> ? never : K]: Infer<S[K]> } & {
  [K in keyof S as undefined extends Infer<S[K]> ? K : never]?: Infer<S[K]>;
};
type Flatten<T> = { [K in keyof T]: T[K] } & {};

/** An object with exactly these fields (unknown fields are rejected, not ignored). */
export function obj<S extends Fields>(shape: S): Schema<Flatten<ObjOf<S>>> {
  const fields = Object.entries(shape);
  return described({ kind: 'object', fields: Object.fromEntries(fields.map(([k, s]) => [k, shapeOf(s)])) }, (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(p, 'an object');
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) {
      if (!Object.hasOwn(shape, key)) throw new SchemaError(`${p}.${key}`, 'no such field');
    }
    for (const [key, s] of fields) {
      const val = part(s, (v as Record<string, unknown>)[key], () => `${p}.${key}`);
      if (val !== undefined) out[key] = val;
    }
    return out as Flatten<ObjOf<S>>;
  });
}

/**
 * A union discriminated by the string field `type`: the right branch is
 * chosen by that field, so errors name the real problem instead of "no branch".
 */
export function tagged<M extends Record<string, Schema<{ type: string }>>>(branches: M): Schema<Infer<M[keyof M]>> {
  const shape: Shape = {
    kind: 'tagged',
    branches: Object.fromEntries(Object.entries(branches).map(([k, s]) => [k, shapeOf(s as Schema<unknown>)])),
  };
  return described(shape, (v, p) => {
    const t = typeof v === 'object' && v !== null ? (v as { type?: unknown }).type : undefined;
    if (typeof t !== 'string' || !Object.hasOwn(branches, t)) {
      throw new SchemaError(`${p}.type`, `one of ${Object.keys(branches).join(', ')}`);
    }
    return branches[t]!(v, p) as Infer<M[keyof M]>;
  });
}
