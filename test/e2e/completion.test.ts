/**
 * Bash completion in a real interactive bash under tmux, installed as the
 * guide says (`eval "$(qpy completion bash)"`): commands, status words with
 * the user's real job IDs, config values, a command's one-line help with
 * `?`, and qpy-admin's node and user names from its daemon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { TMUX, tmuxBash } from '../helpers/tmux.js';
import { QPY, qpyUser } from '../helpers/qpy.js';
import { admin, QPY_ADMIN, testMultiuser } from '../helpers/multiuser.js';
import { waitFor } from '../helpers/wait.js';

const skip = TMUX ? false : 'tmux or bash is not installed';

test('qpy completion in bash: commands, real job IDs, config values, and ? help (its speed: bench/complete)', {
  skip,
  timeout: 60_000,
}, async () => {
  await using u = qpyUser();
  await u.ok(['sub', 'sleep 300']); // 1, running
  await u.ok(['sub', '-n', '64', 'true']).catch(() => undefined); // refused: too many cores
  await u.ok(['sub', 'true']); // 2
  await waitFor(async () => /2 \(done\)/.test(await u.ok(['check'])), { what: 'job 2 done' });
  const env = { PATH: `${dirname(QPY)}:${dirname(QPY_ADMIN)}:${process.env['PATH']}`, QPY_DIR: u.qpyDir, NO_COLOR: '1' };
  await using sh = await tmuxBash(u.work, 'eval "$(qpy completion bash)"', env);

  sh.type('qpy su');
  sh.keys('Tab');
  await sh.waitFor(/^\$ qpy sub $/m, 'qpy su<TAB> completes to sub');
  await sh.reset();

  sh.type('qpy kill ');
  sh.keys('Tab', 'Tab');
  const kill = await sh.waitFor(/^1 +all +queue +running *$/m, 'kill offers the running job and the words');
  assert.doesNotMatch(kill, /^2\b|\s2\s/m, 'job 2 is done: not offered to kill');
  await sh.reset();

  sh.type('qpy clean ');
  sh.keys('Tab', 'Tab');
  await sh.waitFor(/^2 +all +done +failed +killed +node_failed +undone *$/m, 'clean offers the done job');
  await sh.reset();

  sh.type('qpy config coloursScheme ');
  sh.keys('Tab', 'Tab');
  await sh.waitFor(/blue +cyan +green +grey +magenta +red +white +yellow/, 'the colours');
  await sh.reset();

  sh.type('qpy kill ?');
  sh.keys('Tab', 'Tab');
  await sh.waitFor(/^kill: Kill jobs: IDs \(3 10-14,20\), queue, running, all, or directories$/m, 'the help line of kill');
  await sh.reset();

  await u.ok(['kill', '1']);
});

test('qpy-admin completion in bash: commands, node names for drain, user names for users remove', { skip, timeout: 60_000 }, async () => {
  await using mu = testMultiuser({
    nodes: 'n1 address=localhost cores=2 memory=16\nn2 address=localhost cores=2 memory=16\n',
    env: { QPY_PROBE_MS: '0' },
  });
  await admin(mu, ['start']);
  await admin(mu, ['users', 'add', 'alice']);
  const env = { PATH: `${dirname(QPY)}:${dirname(QPY_ADMIN)}:${process.env['PATH']}`, QPY_MULTIUSER_DIR: mu.paths.dir, NO_COLOR: '1' };
  await using sh = await tmuxBash(mu.dir.path, 'eval "$(qpy-admin completion bash)"', env);
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
