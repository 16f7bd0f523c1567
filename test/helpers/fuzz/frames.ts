/**
 * Frames for the hostile-input fuzzer: valid messages (valid-messages.ts)
 * and mutations of them: wrong types, huge, negative and NaN-like numbers,
 * values just out of bounds, missing and extra fields, deep nesting, long
 * strings, bad UTF-8, truncated JSON, binary frames, not JSON at all. Each
 * frame says which kind it is, so a run can print what it tried.
 */
import { shapeOf, type Schema, type Shape } from '../../../src/protocol/schema.js';
import type { Rng } from '../prng.js';
import { deleteAt, places, setAt, withRaw, type Path } from './json-paths.js';
import { validMessage } from './valid-messages.js';

/** One WebSocket message to send. */
export interface Frame {
  /** What it is: `valid:<type>` or the mutation's name. */
  kind: string;
  data: Buffer;
  /** Sent as a binary message (else text, whatever the bytes). */
  binary: boolean;
}
const OTHER_TYPES: unknown[] = ['1', 1, -1, 0, true, false, null, [], {}, [1, 2], { a: 1 }, '', 1.5];
const HUGE = [2 ** 53, 2 ** 53 + 2, -(2 ** 53) - 2, 1e308, -1e308, 2 ** 64, Number.MAX_VALUE, 1e21, 2 ** 31, 4294967296];
const NEGATIVE = [-1, -2, -0.5, -(2 ** 31), -Number.MAX_SAFE_INTEGER, -1e-9];
const NAN_LIKE = ['1e309', '-1e309', 'NaN', 'Infinity', '-Infinity', '"NaN"', '-0', '1e-400', '0x10', '01', '+1', '1.', '.5', '1_000'];
const EXTRA_KEYS = ['__proto__', 'constructor', 'prototype', 'x', 'id2', '', 'type ', 'k'.repeat(300)];

const text = (kind: string, s: string, binary = false): Frame => ({ kind, data: Buffer.from(s, 'utf8'), binary });

/** The mutation kinds, each with its weight. */
export const MUTATIONS = [
  ['wrongType', 10],
  ['hugeNumber', 7],
  ['negative', 6],
  ['nanLike', 6],
  ['outOfBounds', 8],
  ['missingField', 8],
  ['extraField', 6],
  ['wrongTag', 4],
  ['deepNesting', 3],
  ['longString', 4],
  ['oversize', 1],
  ['badUtf8Text', 3],
  ['badUtf8Binary', 3],
  ['truncated', 6],
  ['binaryFrame', 4],
  ['notJson', 4],
  ['duplicateKey', 3],
  ['bom', 1],
  ['nulls', 3],
] as const;
export type Mutation = (typeof MUTATIONS)[number][0];

/** A value just outside `shape`'s bounds, if it has any. */
function outside(shape: Shape | undefined, rng: Rng): unknown {
  if (shape?.kind === 'number') {
    const c = [shape.min - 1, shape.max + 1, shape.integer ? shape.min + 0.5 : NaN].filter((v) => Number.isFinite(v));
    return c.length ? rng.pick(c) : 2 ** 53;
  }
  if (shape?.kind === 'string') return shape.min > 0 && rng.chance(0.5) ? '' : 'y'.repeat(Math.min(shape.max + 1, 2_000_000));
  if (shape?.kind === 'array') return Array.from({ length: Math.min(shape.max + 1, 100_001) }, () => 0);
  if (shape?.kind === 'oneOf') return `${shape.values[0]}_`;
  return rng.pick(OTHER_TYPES);
}

/** The shape at `path` inside `shape` (for a valid message), if it can be followed. */
function shapeAt(shape: Shape, msg: unknown, path: Path): Shape | undefined {
  let s: Shape | undefined = shape;
  let v = msg as Record<string | number, unknown>;
  for (const k of path) {
    while (s && (s.kind === 'nullable' || s.kind === 'optional')) s = s.inner;
    if (!s) return undefined;
    if (s.kind === 'tagged') s = s.branches[String((v as { type?: unknown }).type)];
    if (s?.kind === 'object') s = s.fields[k as string];
    else if (s?.kind === 'array') s = s.item;
    else if (s?.kind === 'tuple') s = s.items[k as number];
    else return undefined;
    v = v?.[k] as Record<string | number, unknown>;
  }
  while (s && (s.kind === 'nullable' || s.kind === 'optional')) s = s.inner;
  return s;
}

/** `msg` (a valid message of `schema`) mutated by `how`. */
export function mutate(schema: Schema<unknown>, msg: Record<string, unknown>, how: Mutation, rng: Rng): Frame {
  const all = places(msg);
  const anyPlace = (): [Path, unknown] => (all.length ? rng.pick(all) : [['type'], msg['type']]);
  const leafOf = (pred: (v: unknown) => boolean): [Path, unknown] => {
    const c = all.filter(([, v]) => pred(v));
    return c.length ? rng.pick(c) : anyPlace();
  };
  const json = () => JSON.stringify(msg);
  switch (how) {
    case 'wrongType': {
      const [p, v] = anyPlace();
      setAt(msg, p, rng.pick(OTHER_TYPES.filter((x) => typeof x !== typeof v || Array.isArray(x) !== Array.isArray(v))));
      return text(how, json());
    }
    case 'hugeNumber':
      setAt(msg, leafOf((v) => typeof v === 'number')[0], rng.pick(HUGE));
      return text(how, json());
    case 'negative':
      setAt(msg, leafOf((v) => typeof v === 'number')[0], rng.pick(NEGATIVE));
      return text(how, json());
    case 'nanLike':
      return text(how, withRaw(msg, leafOf((v) => typeof v === 'number')[0], rng.pick(NAN_LIKE)));
    case 'outOfBounds': {
      const [p] = anyPlace();
      setAt(msg, p, outside(shapeAt(shapeOf(schema), JSON.parse(json()), p), rng));
      return text(how, json());
    }
    case 'missingField': {
      const keys = all.filter(([p]) => typeof p[p.length - 1] === 'string');
      const [p] = keys.length && rng.chance(0.8) ? rng.pick(keys) : [[rng.pick(['id', 'type'])]];
      deleteAt(msg, p);
      return text(how, json());
    }
    case 'extraField': {
      const objects: Path[] = [[], ...all.filter(([, v]) => typeof v === 'object' && v !== null && !Array.isArray(v)).map(([p]) => p)];
      const at = rng.pick(objects);
      setAt(msg, [...at, rng.pick(EXTRA_KEYS)], rng.pick(OTHER_TYPES));
      return text(how, json());
    }
    case 'wrongTag':
      msg['type'] = rng.pick([
        '',
        'Status',
        'status ',
        'auth',
        'hello',
        'welcome',
        'error',
        'granted',
        'wake',
        'registered',
        '__proto__',
        'constructor',
        'hasOwnProperty',
        'x'.repeat(1000),
        'submit\u0000',
      ]);
      return text(how, json());
    case 'deepNesting': {
      const d = rng.pick([64, 100, 1000, 10_000, 100_000]);
      const open = rng.chance(0.5) ? '[' : '{"a":';
      const nested = open === '[' ? '['.repeat(d) + ']'.repeat(d) : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
      return rng.chance(0.3) ? text(how, nested) : text(how, withRaw(msg, anyPlace()[0], nested));
    }
    case 'longString': {
      const [p] = leafOf((v) => typeof v === 'string');
      setAt(msg, p, rng.pick(['z', '\u00e9', '\ud83d\ude00']).repeat(rng.pick([257, 4097, 65_537, 131_073, 300_000])));
      return text(how, json());
    }
    case 'oversize': {
      const [p] = leafOf((v) => typeof v === 'string');
      setAt(msg, p, 'o'.repeat(1024 * 1024 + rng.int(1, 1000)));
      return text(how, json());
    }
    case 'badUtf8Text':
    case 'badUtf8Binary': {
      const raw = Buffer.from(json(), 'utf8');
      const bad = rng.pick([
        [0xff],
        [0xc0, 0x80],
        [0x80],
        [0xe2, 0x82],
        [0xed, 0xa0, 0x80],
        [0xf8, 0x88, 0x80, 0x80, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
      ]);
      // Inside a string value when there is one (after an opening quote), so the JSON around it stays whole.
      const q = raw.indexOf(0x22, rng.int(0, Math.max(0, raw.length - 2)));
      const at = q >= 0 ? q + 1 : raw.length;
      return { kind: how, data: Buffer.concat([raw.subarray(0, at), Buffer.from(bad), raw.subarray(at)]), binary: how === 'badUtf8Binary' };
    }
    case 'truncated': {
      const s = json();
      return text(how, s.slice(0, rng.int(0, Math.max(0, s.length - 1))), rng.chance(0.2));
    }
    case 'binaryFrame':
      return text(how, json(), true);
    case 'notJson': {
      const junk = rng.pick([
        '',
        ' ',
        'null',
        '[]',
        '{}',
        '1',
        '"status"',
        'true',
        'hello',
        '{"type":"status"',
        'undefined',
        '{type:"status",id:1}',
        "{'type':'status'}",
      ]);
      if (rng.chance(0.3)) {
        const bytes = Buffer.alloc(rng.int(1, 512));
        for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(0, 255);
        return { kind: how, data: bytes, binary: true };
      }
      return text(how, junk, rng.chance(0.3));
    }
    case 'duplicateKey': {
      const s = json();
      const dup = rng.pick([
        `"type":${JSON.stringify(rng.pick(['finish', 'status', 'x']))},`,
        `"id":${rng.pick(['"1"', '-1', '1.5', '9007199254740993'])},`,
        '"id":1,',
      ]);
      return text(how, rng.chance(0.5) ? `{${dup}${s.slice(1)}` : `${s.slice(0, -1)},${dup.slice(0, -1)}}`);
    }
    case 'bom':
      return text(how, `\ufeff${json()}`);
    case 'nulls': {
      const [p] = anyPlace();
      setAt(msg, p, null);
      return text(how, json());
    }
  }
}

/** A valid frame, or (with probability `mutateShare`) a mutated one, for a link whose requests `schema` parses. */
export function fuzzFrame(
  schema: Schema<unknown>,
  types: string[],
  id: number,
  rng: Rng,
  mutateShare: number,
  tune?: (msg: Record<string, unknown>, rng: Rng) => void,
): Frame {
  const type = rng.pick(types);
  const msg = validMessage(schema, type, id, rng);
  tune?.(msg, rng);
  if (!rng.chance(mutateShare)) return text(`valid:${type}`, JSON.stringify(msg));
  return mutate(schema, msg, rng.weighted(MUTATIONS), rng);
}
