/**
 * Valid messages for the hostile-input fuzzer, made from the protocol's own
 * schemas (their Shape, see src/protocol/schema.ts): a random value each
 * shape accepts, numbers often at their bounds, strings from strings.ts.
 * The mutations of frames.ts start from these.
 */
import { shapeOf, type Schema, type Shape } from '../../../src/protocol/schema.js';
import type { Rng } from '../prng.js';
import { randomString } from './strings.js';

function randomNumber(rng: Rng, shape: Extract<Shape, { kind: 'number' }>): number {
  const lo = Math.max(shape.min, -3);
  const hi = Math.min(shape.max, 20);
  const edges = [shape.min, shape.max, 0, 1, 2 ** 31 - 1, 1000, 1_000_000].filter(
    (v) => v >= shape.min && v <= shape.max && Number.isFinite(v),
  );
  let v: number;
  if (lo <= hi && rng.chance(0.8)) v = rng.int(Math.ceil(lo), Math.floor(hi));
  else v = rng.pick(edges.length ? edges : [shape.min]);
  if (!shape.integer && rng.chance(0.3)) v = Math.min(shape.max, Math.max(shape.min, v + rng.pick([0.5, 0.25, 0.001])));
  return v;
}

/** A value `shape` accepts. */
export function validValue(shape: Shape, rng: Rng): unknown {
  switch (shape.kind) {
    case 'string':
      return randomString(rng, shape.min, shape.max);
    case 'boolean':
      return rng.chance(0.5);
    case 'number':
      return randomNumber(rng, shape);
    case 'literal':
      return shape.value;
    case 'oneOf':
      return rng.pick(shape.values);
    case 'nullable':
      return rng.chance(0.4) ? null : validValue(shape.inner, rng);
    case 'optional':
      return rng.chance(0.5) ? undefined : validValue(shape.inner, rng);
    case 'array': {
      const n = Math.min(
        shape.max,
        rng.weighted([
          [0, 3],
          [1, 4],
          [2, 2],
          [3, 1],
        ] as const),
      );
      return Array.from({ length: n }, () => validValue(shape.item, rng));
    }
    case 'tuple':
      return shape.items.map((s) => validValue(s, rng));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(shape.fields)) {
        const v = validValue(s, rng);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    case 'tagged':
      return validValue(shape.branches[rng.pick(Object.keys(shape.branches))]!, rng);
  }
}

/** The message types of a request schema (a tagged union). */
export function messageTypes(schema: Schema<unknown>): string[] {
  const s = shapeOf(schema);
  return s.kind === 'tagged' ? Object.keys(s.branches) : [];
}

/** A valid message of `type` (a branch of the tagged request schema), with `id`. */
export function validMessage(schema: Schema<unknown>, type: string, id: number, rng: Rng): Record<string, unknown> {
  const s = shapeOf(schema);
  const branch = s.kind === 'tagged' ? s.branches[type] : s;
  const msg = validValue(branch!, rng) as Record<string, unknown>;
  if ('id' in msg) msg['id'] = id;
  return msg;
}
