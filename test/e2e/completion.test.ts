/**
 * Bash completion in a real interactive bash under tmux, installed as the
 * guide says (`eval "$(qpy completion bash)"`), tried as a new user would:
 * commands, every command's options and their values (attributes, job IDs),
 * files after sub, status words with directories and the user's real job IDs
 * by prefix (never a flood), config values, a command's one-line help with
 * `?` that leaves the line as typed, and qpy-admin's options, node and user
 * names from its daemon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TMUX, tmuxBash } from '../helpers/tmux.js';
import { QPY, qpyUser } from '../helpers/qpy.js';
import { admin, QPY_ADMIN, testMultiuser } from '../helpers/multiuser.js';
import { waitFor } from '../helpers/wait.js';

const skip = TMUX ? false : 'tmux or bash is not installed';

test('qpy completion in bash: commands, options and their values, files after sub, directories and job IDs, ? help (its speed: bench/complete)', {
  skip,
  timeout: 90_000,
}, async () => {
  await using u = qpyUser({
    nodes: 'n1 address=localhost cores=2 memory=16 attributes=big,fast\nn2 address=localhost cores=2 memory=16 attributes=gpu\n',
  });
  await u.ok(['sub', 'sleep 300']); // 1, running
  await u.ok(['sub', '-n', '64', 'true']).catch(() => undefined); // refused: too many cores
  await u.ok(['sub', 'true']); // 2
  await waitFor(async () => /2 \(done\)/.test(await u.ok(['check'])), { what: 'job 2 done' });
  mkdirSync(join(u.work, 'results'));
  writeFileSync(join(u.work, 'script.sh'), 'echo hi\n');
  writeFileSync(join(u.work, 'data.txt'), '1\n');
  const env = { PATH: `${dirname(QPY)}:${dirname(QPY_ADMIN)}:${process.env['PATH']}`, QPY_DIR: u.qpyDir, NO_COLOR: '1' };
  await using sh = await tmuxBash(u.work, 'eval "$(qpy completion bash)"', env);
  /** Type `line`, press the keys, wait for `re`, then clear the line and screen. */
  const tab = async (line: string, keys: string[], re: RegExp, what: string) => {
    sh.type(line);
    sh.keys(...keys);
    const screen = await sh.waitFor(re, what);
    await sh.reset();
    return screen;
  };

  await tab('qpy su', ['Tab'], /^\$ qpy sub $/m, 'qpy su<TAB> completes to sub');
  const options = await tab('qpy sub -', ['Tab', 'Tab'], /--afterok[\s\S]*\n\$ qpy sub -$/m, 'sub’s options listed, the line kept');
  for (const flag of [
    '--cores',
    '-n',
    '--attributes',
    '-a',
    '--array',
    '--retry',
    '--priority',
    '--copyScript',
    '--help',
    '--name',
    '-J',
    '--out',
    '--err',
  ])
    assert.match(options, new RegExp(`(^| )${flag}( |$)`, 'm'), flag);
  assert.doesNotMatch(options, /--node_attr|--memory/, 'hidden aliases are not offered');
  await tab('qpy sub --pr', ['Tab'], /^\$ qpy sub --priority $/m, 'a long option completes');
  await tab('qpy sub -a ', ['Tab', 'Tab'], /^big +fast +gpu +n1 +n2 +not *$/m, 'attributes and node names from the master');
  await tab('qpy sub -n 2 -a g', ['Tab'], /^\$ qpy sub -n 2 -a gpu $/m, 'an attribute completes');
  await tab('qpy sub ./scr', ['Tab'], /^\$ qpy sub \.\/script\.sh $/m, 'the script completes as a file');
  await tab('qpy sub script.sh da', ['Tab'], /^\$ qpy sub script\.sh data\.txt $/m, 'its arguments complete as files');
  await tab('qpy sub --out da', ['Tab'], /^\$ qpy sub --out data\.txt $/m, 'an output pattern completes as a file');
  await tab(
    'qpy sub -J fit --err e ./scr',
    ['Tab'],
    /^\$ qpy sub -J fit --err e \.\/script\.sh $/m,
    'after -J and --err values: the script',
  );

  const kill = await tab(
    'qpy kill ',
    ['Tab', 'Tab'],
    /^1 +all +queue +results\/ +running *$/m,
    'kill: the running job, the words, the directory',
  );
  assert.doesNotMatch(kill, /^2\b|\s2\s/m, 'job 2 is done: not offered to kill');
  await tab(
    'qpy clean ',
    ['Tab', 'Tab'],
    /^2 +all +done +failed +killed +node_failed +out_of_memory +results\/ +timeout +undone *$/m,
    'clean offers the done job',
  );
  await tab('qpy check re', ['Tab'], /^\$ qpy check results\/$/m, 'a directory completes');
  await tab('qpy config coloursScheme ', ['Tab', 'Tab'], /blue +cyan +green +grey +magenta +red +white +yellow/, 'the colours');
  await tab('qpy config andAttr b', ['Tab'], /^\$ qpy config andAttr big $/m, 'attribute settings take attributes');

  // ? shows the help, and the line stays as typed (it used to become `qpy kill ---`).
  await tab(
    'qpy kill ?',
    ['Tab', 'Tab'],
    /^kill: Kill jobs: IDs \(3 10-14,20\), queue, running, all, or directories *\n--- *\n.*\n.*qpy tutorial kill *\n\$ qpy kill \?$/m,
    'the help of kill, then the line as it was',
  );
  await tab('qpy ?', ['Tab', 'Tab'], /^The first argument must be a command\. *\n[\s\S]*\n\$ qpy \?$/m, 'the help of qpy itself');

  // Many jobs: no flood, but the newest, a hint with their ranges, the words and directories; IDs by prefix.
  await u.ok(['ctrlQueue', 'pause']);
  await u.ok(['sub', '--array', '1-25', 'true']); // 3-27, queued
  const check = await tab(
    'qpy check ',
    ['Tab', 'Tab'],
    /\(27 jobs: 1-27; type digits\)[\s\S]*\n\$ qpy check $/m,
    'the hint, the line kept',
  );
  assert.match(check, /results\//);
  assert.match(check, /\b27\b/);
  assert.doesNotMatch(check, /(^| )3( |$)/m, 'not every ID');
  await tab('qpy check 2', ['Tab', 'Tab'], /^2 +20 +21 +22 +23 +24 +25 +26 +27 *$/m, 'IDs that start with 2');
  await tab('qpy kill 1', ['Tab', 'Tab'], /^1 +10 +11 +12 +13 +14 +15 +16 +17 +18 +19 *$/m, 'active IDs that start with 1');
  await tab(
    'qpy why 2',
    ['Tab', 'Tab'],
    /^2 +20 +21 +22 +23 +24 +25 +26 +27 *$/m,
    'every ID for why (job 2 is done: why reports on it too)',
  );
  await tab('qpy sub --after=2', ['Tab', 'Tab'], /^2 +20 +21 +22 +23 +24 +25 +26 +27 *$/m, 'IDs for --after=');

  await u.ok(['kill', 'all']);
});

test('qpy-admin completion in bash: commands, options from its parser, ? help, node names for drain, user names for users remove', {
  skip,
  timeout: 60_000,
}, async () => {
  await using mu = testMultiuser({
    nodes: 'n1 address=localhost cores=2 memory=16\nn2 address=localhost cores=2 memory=16\n',
    env: { QPY_PROBE_MS: '0' },
  });
  await admin(mu, ['start']);
  await admin(mu, ['users', 'add', 'alice']);
  const env = { PATH: `${dirname(QPY)}:${dirname(QPY_ADMIN)}:${process.env['PATH']}`, QPY_MULTIUSER_DIR: mu.paths.dir, NO_COLOR: '1' };
  await using sh = await tmuxBash(mu.dir.path, 'eval "$(qpy-admin completion bash)"', env);
  sh.type('qpy-admin status --j');
  sh.keys('Tab');
  await sh.waitFor(/^\$ qpy-admin status --json $/m, 'an option of qpy-admin, from its parser');
  await sh.reset();
  sh.type('qpy-admin drain ?');
  sh.keys('Tab', 'Tab');
  await sh.waitFor(
    /^drain: Take no new jobs on NODE \(running ones go on\) *\n[\s\S]*\n\$ qpy-admin drain \?$/m,
    'the help, the line kept',
  );
  await sh.reset();
  sh.type('qpy-admin dr');
  sh.keys('Tab');
  await sh.waitFor(/^\$ qpy-admin drain $/m, 'drain');
  sh.keys('Tab');
  await sh.waitFor(/^\$ qpy-admin drain n$/m, 'the nodes’ common prefix');
  sh.keys('Tab', 'Tab');
  await sh.waitFor(/^n1 +n2 *$/m, 'the node names');
  await sh.reset();
  sh.type('qpy-admin users remove ');
  sh.keys('Tab');
  await sh.waitFor(/^\$ qpy-admin users remove alice $/m, 'the user name');
});

test('on a real terminal: check in status colours (none with NO_COLOR), tutorial in the pager at the command’s section', {
  skip,
  timeout: 60_000,
}, async () => {
  await using u = qpyUser();
  await u.ok(['sub', 'true']);
  await waitFor(async () => /1 \(done\)/.test(await u.ok(['check'])), { what: 'job 1 done' });
  const env = { PATH: `${dirname(QPY)}:${process.env['PATH']}`, QPY_DIR: u.qpyDir, PAGER: 'less', LESS: '' };
  await using sh = await tmuxBash(u.work, 'unset NO_COLOR', env);
  sh.type('qpy check');
  sh.keys('Enter');
  await sh.waitFor(/^1 \(done\)/m, 'the job line');
  assert.match(sh.screenWithEscapes(), /\x1b\[32m1 \(done\):true/, 'done in green');
  await sh.reset();
  sh.type('NO_COLOR=1 qpy check');
  sh.keys('Enter');
  await sh.waitFor(/^1 \(done\)/m, 'the job line');
  assert.doesNotMatch(sh.screenWithEscapes(), /\x1b\[32m1 \(done\)/);
  await sh.reset();
  sh.type('qpy tutorial kill');
  sh.keys('Enter');
  const page = await sh.waitFor(/^### `qpy kill`: stop jobs/m, 'the pager at the kill section');
  assert.match(page.split('\n')[0]!, /^### `qpy kill`: stop jobs/, 'the section is at the top of the pager');
  sh.keys('q');
  await sh.waitFor(/^\$\s*$/m, 'back at the prompt');
});
