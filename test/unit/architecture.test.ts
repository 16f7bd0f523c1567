/**
 * The dependency rules of manual/architecture (and design/architecture.md),
 * checked mechanically: every import under src/ is read and each edge must be
 * allowed. Cores stay pure; adapters never reach into cores; only daemons/
 * wire cores to adapters; CLIs reach daemons only over the wire.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import ts from 'typescript';

/** Does the code name the global `process` (an identifier, not a word in a string or a property name)? */
function usesProcess(file: string, text: string): boolean {
  let found = false;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (ts.isIdentifier(node) && node.text === 'process' && !(ts.isPropertyAccessExpression(node.parent) && node.parent.name === node))
      found = true;
    else ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  return found;
}

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const SRC = join(ROOT, 'src');

/** Module of a path under src/ ('protocol', 'cli', 'errors.ts' → 'errors', 'daemons/master', …). */
function moduleOf(path: string): string {
  const parts = relative(SRC, path).split('/');
  if (parts[0] === 'daemons' && parts.length > 2) return `daemons/${parts[1]}`;
  return parts[0]!.replace(/\.ts$/, '');
}

/** What either daemon may wire together (besides its own folder; the master also wires its core). */
const DAEMON_ADAPTERS = [
  'daemons/shared',
  'allocator',
  'pool',
  'store',
  'transport',
  'executor',
  'protocol',
  'errors',
  'config',
  'discovery',
  'accounts',
  'web',
];

const allowed: Record<string, string[]> = {
  protocol: ['protocol'],
  errors: ['protocol'],
  allocator: ['allocator', 'protocol', 'errors'],
  master: ['master', 'protocol', 'errors'],
  // Slurm pools (issue 18): Slurm's command lines and outputs, pure; a pool is declared in a nodes file (allocator).
  pool: ['pool', 'allocator', 'protocol', 'errors'],
  config: ['protocol', 'errors'],
  accounts: ['errors'],
  discovery: ['protocol', 'errors', 'config', 'accounts'],
  'launch-master': [],
  'file-range': [],
  store: ['store', 'protocol', 'errors'],
  transport: ['transport', 'protocol', 'errors', 'accounts'],
  ssh: ['ssh', 'protocol', 'errors'],
  executor: ['executor', 'ssh', 'protocol', 'errors', 'file-range'],
  // A Slurm pilot's program (issue 18, reach=agent): the node agent on its node, served over a link back to the master.
  pilot: ['pilot', 'protocol', 'errors', 'transport', 'executor', 'file-range'],
  // The web pages' rendering (pure text from state) and their HTTP edge.
  web: ['web', 'protocol', 'errors'],
  // The two daemons wire cores to adapters. Neither reaches into the other; what both need is in daemons/shared.
  'daemons/shared': ['daemons/shared', 'allocator', 'pool', 'protocol', 'errors', 'config', 'launch-master', 'transport'],
  'daemons/master': ['daemons/master', 'master', 'launch-master', 'file-range', ...DAEMON_ADAPTERS],
  'daemons/multiuser': ['daemons/multiuser', ...DAEMON_ADAPTERS],
  // The CLI's tab completion reads the personal nodes file with the allocator's parser when no master runs.
  cli: ['cli', 'allocator', 'protocol', 'errors', 'config', 'discovery', 'transport', 'launch-master', 'file-range'],
  // The admin CLI reads the admin's own files (allowed_users) with the allocator's parsers.
  'admin-cli': ['admin-cli', 'cli', 'allocator', 'protocol', 'errors', 'config', 'discovery', 'transport', 'launch-master', 'accounts'],
};
const PURE = new Set(['protocol', 'allocator', 'master', 'pool']);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('imports under src/ follow the dependency rules', () => {
  const problems: string[] = [];
  for (const file of files(SRC)) {
    const from = moduleOf(file);
    const text = readFileSync(file, 'utf8');
    const rules = allowed[from];
    if (!rules) {
      problems.push(`${relative(ROOT, file)}: module "${from}" has no rule in this test`);
      continue;
    }
    const specs = [
      ...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm),
      ...text.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]/g),
    ].map((m) => m[1]!);
    if (PURE.has(from) && /\b(?:import|require)\s*\(\s*[^'"\s]/.test(text))
      problems.push(`${relative(ROOT, file)} is pure but loads a module by a computed name`);
    for (const spec of specs) {
      if (spec.startsWith('.')) {
        const to = moduleOf(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
        if (!rules.includes(to) && to !== from) problems.push(`${relative(ROOT, file)} imports ${spec} (${from} → ${to})`);
      } else if (PURE.has(from)) {
        problems.push(`${relative(ROOT, file)} is pure but imports ${spec}`);
      }
    }
    if (PURE.has(from)) {
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''); // comments may name what code may not use
      const impure =
        code.match(
          /\bDate\.now\(|\bnew Date\b|\bperformance\.|\bMath\.random\(|\bset(?:Timeout|Interval|Immediate)\(|\bqueueMicrotask\(|\brequire\(/,
        ) ?? (usesProcess(file, text) ? ['process'] : null);
      if (impure) problems.push(`${relative(ROOT, file)} is pure but uses ${impure[0]} (the clock, randomness, timers or the process)`);
    }
  }
  assert.deepEqual(problems, []);
});

test('QPY_VERSION is the version in package.json', async () => {
  const { QPY_VERSION } = await import('../../src/protocol/version.js');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(QPY_VERSION, pkg.version);
});

test('the CLI bundle leaves out ws (and with it http, https, tls and zlib): every command starts sooner', () => {
  const bundle = readFileSync(join(ROOT, 'dist', 'bundle', 'qpy.cjs'), 'utf8');
  for (const mod of ['tls', 'https', 'http', 'zlib']) {
    for (const name of [mod, `node:${mod}`]) assert.ok(!bundle.includes(`require("${name}")`), `the CLI bundle loads ${name}`);
  }
  // tls only for `qpy join` to a daemon on the network (wss://), loaded then: light-socket.ts.
  assert.equal(bundle.match(/"node:tls"/g)?.length, 1, 'node:tls is named once, where light-socket loads it for a wss:// URL');
});

test('a CLI command loads none of http, https, tls and zlib', () => {
  // The bundle run as qpy runs it, reporting the built-in modules it loaded as it exits.
  const report =
    "process.on('exit', () => process.stderr.write(JSON.stringify(process.moduleLoadList)));" +
    `process.argv.splice(1, 0, 'qpy');require(${JSON.stringify(join(ROOT, 'dist', 'bundle', 'qpy.cjs'))})`;
  const r = spawnSync(process.execPath, ['-e', report, '--', 'help', 'join'], { encoding: 'utf8' });
  const loaded = (JSON.parse(r.stderr) as string[]).filter((m) => /^NativeModule (_?tls|https?|zlib|_http_\w+)$/.test(m));
  assert.deepEqual(loaded, []);
});
