/**
 * manual/protocol.md documents every message of src/protocol/: each message
 * type (a branch of a `tagged` union, or an object schema with a literal
 * `type`) must head a table row or a heading in a section of the manual
 * that names its file (`src/protocol/<file>.ts`). The types are read two
 * ways, from the schemas' shapes (what the daemons parse with) and from the
 * `type: literal('…')` fields in the source, so a message is caught however
 * it is declared. Every error code and the protocol version are checked too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { shapeOf, type Schema, type Shape } from '../../src/protocol/schema.js';
import { ERROR_CODES } from '../../src/protocol/error-codes.js';
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(HERE, '../../..');
const COMPILED = resolve(HERE, '../../src/protocol');
const MANUAL = readFileSync(join(ROOT, 'manual', 'protocol.md'), 'utf8');

/** The message types a shape declares: a tagged union's branches, or an object's literal `type`. */
function typesOf(shape: Shape): string[] {
  if (shape.kind === 'tagged') return Object.keys(shape.branches);
  if (shape.kind === 'object' && shape.fields['type']?.kind === 'literal') return [String(shape.fields['type'].value)];
  return [];
}

/** Each protocol file (by name, without .ts) with the message types it declares. */
async function messageTypes(): Promise<Map<string, Set<string>>> {
  const byFile = new Map<string, Set<string>>();
  for (const file of readdirSync(join(ROOT, 'src', 'protocol')).filter((f) => f.endsWith('.ts'))) {
    const name = file.replace(/\.ts$/, '');
    const types = new Set<string>();
    const source = readFileSync(join(ROOT, 'src', 'protocol', file), 'utf8');
    for (const m of source.matchAll(/\btype:\s*literal\(\s*['"]([^'"]+)['"]\s*\)/g)) types.add(m[1]!);
    const mod = (await import(pathToFileURL(join(COMPILED, `${name}.js`)).href)) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      if (typeof value === 'function') for (const t of typesOf(shapeOf(value as Schema<unknown>))) types.add(t);
    }
    if (types.size > 0) byFile.set(name, types);
  }
  return byFile;
}

/** The manual's `## ` sections (heading line and body). */
function sections(): string[] {
  return MANUAL.split(/^(?=## )/m).filter((s) => s.startsWith('## '));
}

/** Is `name` documented in `text`: the first cell of a table row, or a heading, naming it in backticks? */
function documented(text: string, name: string): boolean {
  const tick = `\`${name}\``;
  return text.split('\n').some((line) => {
    if (/^#{2,6} /.test(line)) return line.includes(tick);
    if (!line.startsWith('|')) return false;
    return (line.split('|')[1] ?? '').includes(tick);
  });
}

test('every message type in src/protocol/ is documented in manual/protocol.md, in the section that names its file', async () => {
  const byFile = await messageTypes();
  // The links the manual must cover are all found (a broken scan would pass vacuously).
  for (const file of ['user-master', 'master-allocator', 'admin-allocator', 'handshake', 'job']) assert.ok(byFile.has(file), file);
  assert.ok(byFile.get('user-master')!.has('submitMany'));
  const missing: string[] = [];
  for (const [file, types] of byFile) {
    const path = `src/protocol/${file}.ts`;
    const text = sections()
      .filter((s) => s.includes(`\`${path}\``))
      .join('\n');
    if (text === '') {
      missing.push(`${path}: no section of manual/protocol.md names it`);
      continue;
    }
    for (const t of types) if (!documented(text, t)) missing.push(`${path}: \`${t}\``);
  }
  assert.deepEqual(missing, [], 'document these message types in manual/protocol.md (a table row or a heading)');
});

test('every error code is in the manual’s table of codes', () => {
  assert.deepEqual(
    ERROR_CODES.filter((code) => !documented(MANUAL, code)),
    [],
  );
});

test('the manual names the current protocol version', () => {
  assert.ok(MANUAL.includes(`currently **${PROTOCOL_VERSION}**`), `manual/protocol.md: "currently **${PROTOCOL_VERSION}**"`);
});
