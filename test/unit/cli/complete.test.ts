/**
 * Tab completion's pure logic against qpy's real command table: options from
 * the parser's own definitions, option values, positional words, directory
 * and ID offers, the `?` help, and the reply the bash script reads. The real
 * bash side: test/e2e/completion.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { completeLine, OPTION_VALUES, type CompletionReply, type Source } from '../../../src/cli/complete.js';
import { completablesOf } from '../../../src/cli/complete-commander.js';
import { chooseIds, FEW_IDS, NEWEST_IDS } from '../../../src/cli/complete-ids.js';
import { expressionWords, readLine } from '../../../src/cli/complete-words.js';
import { renderReply } from '../../../src/cli/complete-bash.js';

const TABLE = completablesOf(COMMANDS);
const IDS = Array.from({ length: 138 }, (_, i) => String(i + 1));
const asked: Source[] = [];
const lookup = async (from: Source) => {
  asked.push(from);
  return from === 'attributes' ? ['big', 'fast', 'gpu', 'n1', 'n2'] : IDS;
};
/** Complete the last of `line`'s words (split on spaces; a trailing space: an empty word). */
const complete = (line: string) => {
  const words = line.split(' ');
  return completeLine('qpy', TABLE, words, words.length - 1, lookup);
};
const words = async (line: string) => {
  const r = await complete(line);
  assert.equal(r.kind, 'words', `${line}: ${JSON.stringify(r)}`);
  return (r as Extract<CompletionReply, { kind: 'words' }>).words;
};

test('every command’s options, short and long, from the table the CLI parses with; hidden aliases and given ones left out', async () => {
  const sub = await words('sub -');
  for (const f of ['-n', '--cores', '-m', '--mem', '-a', '--attributes', '--array', '--after', '--afterok', '--retry', '-p', '--priority'])
    assert.ok(sub.includes(f), f);
  assert.ok(sub.includes('--help') && sub.includes('-c') && sub.includes('--originalScript'));
  assert.ok(!sub.includes('--memory') && !sub.includes('--node_attr'), 'hidden aliases are not offered');
  assert.deepEqual(await words('sub --a'), ['--attributes', '--array', '--after', '--afterok']);
  assert.ok(!(await words('sub -n 4 -')).some((f) => f === '-n' || f === '--cores'), 'an option given is not offered again');
  assert.deepEqual(await words('check --'), ['--groups', '--all', '--json', '--help']);
  assert.deepEqual(await words('status -'), ['--json', '-h', '--help']);
  assert.deepEqual(await words('-'), ['-h', '--help', '-V', '--version']);
});

test('every value an option of the table takes has a rule (so a new option is a decision, not a silent file list)', () => {
  for (const cmd of TABLE)
    for (const o of cmd.options ?? [])
      if (o.value !== null)
        assert.ok(o.value in OPTION_VALUES, `${cmd.name} ${o.flags.join(', ')} <${o.value}> has no rule in OPTION_VALUES`);
  assert.equal(TABLE.find((c) => c.name === 'sub')?.passThrough, true, 'sub’s options end at its command (commander’s passThroughOptions)');
  assert.equal(TABLE.find((c) => c.name === 'check')?.passThrough, false);
});

test('option values: attributes and node names for -a, job IDs for --after (also as --after=), nothing for numbers', async () => {
  assert.deepEqual(await words('sub -a '), ['big', 'fast', 'gpu', 'n1', 'n2', 'not']);
  assert.deepEqual(await words('load --attributes g'), ['gpu']);
  assert.deepEqual(await words('sub -n '), []);
  assert.deepEqual(await words('sub -p 3 --retry '), []);
  assert.deepEqual(await words('sub --after 13'), ['13', '130', '131', '132', '133', '134', '135', '136', '137', '138']);
  assert.deepEqual(await words('sub --after = 13'), await words('sub --after 13'), 'bash splits --after=13 at the =');
  assert.deepEqual((await words('sub --after = ')).length, NEWEST_IDS + 1);
  assert.deepEqual(await words('sub --afterok=137'), ['--afterok=137'], 'not split (COMP_WORDBREAKS without =): the whole word');
  assert.deepEqual(await words('config andAttr fa'), ['fast']);
});

test('sub: a program (command names and files) first, files after it; options end at the command', async () => {
  assert.deepEqual(await complete('sub '), { kind: 'commands' });
  assert.deepEqual(await complete('sub -n 4 -a big --array 1-3 '), { kind: 'commands' });
  assert.deepEqual(await complete('sub script.sh '), { kind: 'files' });
  assert.deepEqual(await complete('sub script.sh -'), { kind: 'files' }, 'after the command, -x is the command’s own');
  assert.deepEqual(await complete('sub -- '), { kind: 'commands' });
  assert.deepEqual(await complete('load '), { kind: 'files' });
  assert.deepEqual(await complete('sub --out '), { kind: 'files' }, 'an output pattern completes as a file name');
  assert.deepEqual(await words('sub -J '), [], 'a name: nothing to offer');
  assert.deepEqual(await complete('sub -J fit --out o --err e '), { kind: 'commands' }, 'their values are not the command');
  assert.deepEqual(await complete('load --err '), { kind: 'files' });
});

test('check, kill, clean: their words, directories, and job IDs by prefix', async () => {
  const check = await complete('check ');
  assert.equal(check.kind, 'words');
  assert.equal((check as { dirs: boolean }).dirs, true, 'directories too');
  const w = (check as { words: string[] }).words;
  assert.ok(w.includes('queue') && w.includes('done'));
  assert.ok(w.includes('138') && !w.includes('1'), 'not 138 IDs: the newest and a hint');
  assert.ok(w.includes('(138 jobs: 1-138; type digits)'));
  assert.deepEqual(await words('kill 12'), ['12', '120', '121', '122', '123', '124', '125', '126', '127', '128', '129']);
  assert.deepEqual(await words('clean 3,13'), ['3,13', '3,130', '3,131', '3,132', '3,133', '3,134', '3,135', '3,136', '3,137', '3,138']);
  assert.deepEqual(await words('kill r'), ['running']);
  assert.deepEqual(await words('kill results/'), []);
  assert.equal(((await complete('why ')) as { dirs: boolean }).dirs, false, 'why takes one ID, no directory');
});

test('chooseIds: all of few, the newest of many with a hint no ID shares a first character with', () => {
  const few = Array.from({ length: FEW_IDS }, (_, i) => i + 1);
  assert.deepEqual(chooseIds(few, ''), { words: few.map(String), hint: null });
  const many = [1, 2, 3, ...Array.from({ length: 40 }, (_, i) => 100 + i)];
  const r = chooseIds(many, '1');
  assert.deepEqual(r.words, ['130', '131', '132', '133', '134', '135', '136', '137', '138', '139']);
  assert.equal(r.hint, '(41 start with 1: 1,100-139; type more)');
  assert.deepEqual(chooseIds(many, '10-10').words, [
    '10-100',
    '10-101',
    '10-102',
    '10-103',
    '10-104',
    '10-105',
    '10-106',
    '10-107',
    '10-108',
    '10-109',
  ]);
  const sparse = Array.from({ length: 60 }, (_, i) => 2 * i + 1);
  assert.match(chooseIds(sparse, '').hint!, /^\(60 jobs: 1,3,5,.*,\.\.\.; type digits\)$/);
  assert.deepEqual(chooseIds(many, 'x'), { words: [], hint: null });
});

test('expressionWords: the last atom of an expression, with what comes before it', () => {
  const names = ['big', 'fast', 'n1'];
  assert.deepEqual(expressionWords(names, ''), ['big', 'fast', 'n1', 'not']);
  assert.deepEqual(expressionWords(names, 'big and f'), ['big and fast']);
  assert.deepEqual(expressionWords(names, 'big a'), ['big and']);
  assert.deepEqual(expressionWords(names, '(big)or(n'), ['(big)or(n1', '(big)or(not']);
});

test('readLine: options, values and positional arguments', () => {
  const opts = TABLE.find((c) => c.name === 'sub')!.options!;
  assert.deepEqual(readLine(opts, true, ['-n', '2', 'x', '-a'], 3), { kind: 'positional', args: ['x'] });
  assert.equal(readLine(opts, true, ['-n2', '-'], 1).kind, 'option');
  assert.equal(readLine(opts, false, ['--cores', ''], 1).kind, 'value');
});

test('? gives the command’s help lines, which start alike nowhere (bash inserts nothing); TAB never starts a lookup it does not need', async () => {
  const r = await complete('kill ?');
  assert.deepEqual(r, {
    kind: 'help',
    lines: [
      'kill: Kill jobs: IDs (3 10-14,20), queue, running, all, or directories',
      '---',
      'For a brief description of the commands run qpy --help.',
      'For more, try: qpy tutorial kill',
    ],
  });
  assert.equal(((await complete('?')) as { lines: string[] }).lines[0], 'The first argument must be a command.');
  asked.length = 0;
  await complete('sub -');
  await complete('config colour ');
  await complete('kill ?');
  assert.deepEqual(asked, []);
});

test('the reply the bash script reads: a mode line, then candidates', () => {
  assert.equal(renderReply({ kind: 'words', words: ['a', 'b'], dirs: true }), 'dirs\na\nb');
  assert.equal(renderReply({ kind: 'words', words: [], dirs: false }), 'words');
  assert.equal(renderReply({ kind: 'commands' }), 'programs');
  assert.equal(renderReply({ kind: 'files' }), 'files');
  assert.equal(renderReply({ kind: 'help', lines: ['x', '---'] }), 'help\nx\n---');
});
