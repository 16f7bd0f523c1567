/**
 * Places in a JSON value, for the fuzzer's mutations (frames.ts): every
 * path with the value there, setting and deleting at a path, and JSON text
 * with raw tokens (NaN, 1e309, ...) that JSON.stringify cannot write.
 */

/** Where a value sits inside a JSON value: keys and indexes from the root. */
export type Path = (string | number)[];

/** Every place in a JSON value (the root excluded), with the value there. */
export function places(v: unknown, at: Path = [], out: [Path, unknown][] = []): [Path, unknown][] {
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      out.push([[...at, i], x]);
      places(x, [...at, i], out);
    }
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      out.push([[...at, k], x]);
      places(x, [...at, k], out);
    }
  }
  return out;
}

/** Set the value at `path` (an own, enumerable property, even `__proto__`). */
export function setAt(root: unknown, path: Path, value: unknown): void {
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  Object.defineProperty(o, last, { value, enumerable: true, writable: true, configurable: true });
}

/** Remove the value at `path`: spliced out of an array, deleted from an object. */
export function deleteAt(root: unknown, path: Path): void {
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (Array.isArray(o)) o.splice(last as number, 1);
  else delete o[last];
}

const MARK = '\u0001fuzz-raw\u0001';
/** JSON text of `msg` with the value at `path` replaced by raw text (for tokens JSON.stringify cannot write). */
export function withRaw(msg: unknown, path: Path, raw: string): string {
  setAt(msg, path, MARK);
  return JSON.stringify(msg).replace(JSON.stringify(MARK), raw);
}
