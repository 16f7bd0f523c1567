/**
 * The user guide's shell examples, run as a user would, so the manual cannot
 * go stale: every ```sh block of manual/user-guide.md that is a command
 * example is run line by line in a fresh home (a `cd ~/…` moves there), and
 * where a line ends with `# text` that is not prose, the text must be what
 * the command printed (paths of the example home mapped to the test's).
 * Blocks that need state get it from SETUP below, keyed by their first line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { QPY, ROOT } from '../helpers/qpy.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';

interface Block {
  line: number;
  lines: string[];
}

function shBlocks(text: string): Block[] {
  const out: Block[] = [];
  let cur: Block | null = null;
  text.split('\n').forEach((l, i) => {
    if (cur === null && l.trim() === '```sh') cur = { line: i + 1, lines: [] };
    else if (cur !== null && l.trim() === '```') {
      out.push(cur);
      cur = null;
    } else if (cur !== null) cur.lines.push(l);
  });
  return out;
}

/** A trailing `# …` that states output (not a remark): it starts with a capital, a digit or a quote, or is a known reply. */
function splitComment(line: string): { command: string; expected: string | null } {
  const m = /^(.*?\S)\s{2,}# (.*)$/.exec(line);
  if (!m) return { command: line.trim(), expected: null };
  const remark = /^[a-z(]/.test(m[2]!) && !/^qpy-/.test(m[2]!);
  return { command: m[1]!, expected: remark ? null : m[2]! };
}

test('every shell example of the user guide runs as shown', { timeout: 120_000 }, async () => {
  await using home = tempDir('qpy-guide-');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home.path, PATH: `${dirname(QPY)}:${process.env['PATH']}`, NO_COLOR: '1' };
  delete env['QPY_DIR'];
  mkdirSync(join(home.path, '.qpy'), { mode: 0o700 });
  writeFileSync(
    join(home.path, '.qpy', 'nodes'),
    'localhost cores=2 memory=16\nbig1 address=localhost cores=1 memory=16 attributes=big,fast\nnode3 address=localhost cores=1 memory=16 attributes=gpu\n',
  );
  const qpy = (...args: string[]) => execFileSync(QPY, args, { env, cwd: home.path, encoding: 'utf8' });
  const settle = () =>
    waitFor(() => !/\((queue|running)\)/.test(qpy('check')) || /paused/.test(qpy('check')), {
      what: 'no job queued or running',
      timeoutMs: 20_000,
    });
  const SETUP: Record<string, () => void> = {
    // Jobs 15-17 exist and wait in a paused queue, as the example assumes.
    'qpy ctrlQueue pause': () => {
      qpy('ctrlQueue', 'pause');
      for (let id = Number(/(\d+) received/.exec(qpy('sub', 'true'))![1]); id < 17; id++) qpy('sub', 'true');
    },
    // An executable ./run in the home the examples run from.
    'qpy sub -a big ./run': () => writeFileSync(join(home.path, 'run'), '#!/bin/sh\necho ran\n', { mode: 0o755 }),
  };
  const guide = readFileSync(join(ROOT, 'manual', 'user-guide.md'), 'utf8');
  let ran = 0;
  for (const block of shBlocks(guide)) {
    const first = block.lines[0]?.trim() ?? '';
    if (first.startsWith('#!')) continue; // a script shown, not commands
    if (/\bjq\b/.test(block.lines.join('\n')) && spawnSync('jq', ['--version']).status !== 0) continue;
    const setup = SETUP[splitComment(first).command];
    if (first.startsWith('qpy ctrlQueue pause')) {
      await settle();
      setup?.();
    } else setup?.();
    let cwd = home.path;
    for (const raw of block.lines) {
      if (raw.trim() === '' || raw.trim().startsWith('#')) continue;
      const { command, expected } = splitComment(raw);
      const cd = /^cd (.+)$/.exec(command);
      if (cd) {
        cwd = cd[1]!.replace(/^~/, home.path);
        mkdirSync(cwd, { recursive: true });
        continue;
      }
      if (/^(qpy check|cat )/.test(command)) await settle();
      const r = spawnSync('bash', ['-c', command], { env, cwd, encoding: 'utf8' });
      assert.equal(r.status, 0, `user-guide.md line ${block.line}: ${command}\n${r.stderr}`);
      if (expected !== null) {
        const shown = expected.replaceAll('/home/you', home.path);
        assert.ok(r.stdout.includes(shown), `user-guide.md line ${block.line}: ${command}\nexpected: ${shown}\nprinted:  ${r.stdout}`);
      }
      ran++;
    }
  }
  assert.ok(ran >= 10, `${ran} example lines run`);
  qpy('finish');
});
