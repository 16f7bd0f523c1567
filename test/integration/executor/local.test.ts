/**
 * Integration tests of the local executor against real processes, beyond the
 * conformance suite that every transport passes (conformance.ts): a command
 * killed behind the master's back, kills right after launch, throughput.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLocalExecutor, localTransport } from '../../../src/executor/local.js';
import { createTracker } from '../../../src/executor/tracker.js';
import { readFileSync, realpathSync } from 'node:fs';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { childrenOf, collect, groupMembers, spec } from './util.js';
import { killGroup } from '../../helpers/procs.js';

function setup(dir: string) {
  const ex = createLocalExecutor({ runDir: join(dir, 'run'), nodeName: 'node1', pollMs: 50 });
  return { ex, ...collect(ex) };
}

test('a command killed by an external kill -9 is reported as signal KILL', async () => {
  await using tmp = tempDir();
  const { ex, ended } = setup(tmp.path);
  const { pid } = await ex.launch(spec(3, 'sleep 300; echo after', tmp.path));
  await waitFor(() => childrenOf(pid).length > 0, { what: 'command process' });
  process.kill(pid, 'SIGKILL'); // the command's shell (the agent waits for it); its `sleep` child is orphaned
  assert.deepEqual((await ended(3)).outcome, { type: 'signal', signal: 'KILL' });
  await ex.kill(3, pid, 1_000); // the job ended: kill() must not signal its group any more
  assert.notDeepEqual(groupMembers(pid), []);
  killGroup(pid); // clean up the orphan
  await ex.close();
});

test('kill() right after launch ends the job, almost always with TERM', async () => {
  // A TERM that lands in the microseconds between the wrapper's last check and its fork of the
  // command is caught by the wrapper's trap and cannot stop the command (POSIX sh cannot block
  // signals): on a loaded machine a rare launch then needs the KILL after the grace. (Zombies left
  // to a slow init must not count as alive: that once made most of these need the KILL.)
  await using tmp = tempDir();
  const { ex, ended } = setup(tmp.path);
  let termed = 0;
  for (let id = 20; id < 30; id++) {
    const { pid } = await ex.launch(spec(id, 'sleep 300', tmp.path));
    await ex.kill(id, pid, 1000);
    const { outcome } = await ended(id);
    assert.equal(outcome.type, 'signal');
    if (outcome.type === 'signal' && outcome.signal === 'TERM') termed++;
  }
  assert.ok(termed >= 8, `${termed} of 10 ended by TERM`);
  await ex.close();
});

test('kill() of a finished job resolves', async () => {
  await using tmp = tempDir();
  const { ex, ended } = setup(tmp.path);
  const { pid } = await ex.launch(spec(9, 'true', tmp.path));
  await ended(9);
  await ex.kill(9, pid, 100);
  const other = createLocalExecutor({ runDir: join(tmp.path, 'run'), nodeName: 'node1' });
  await other.kill(9, pid, 100); // unknown in that life, status file says it ended
  await Promise.all([ex.close(), other.close()]);
});

test('throughput: 200 true jobs all end with exit 0', async () => {
  await using tmp = tempDir();
  const { ex, ends } = setup(tmp.path);
  const t0 = performance.now();
  for (let id = 1000; id < 1200; id++) await ex.launch(spec(id, 'true', tmp.path));
  await waitFor(() => ends.size === 200, { timeoutMs: 30_000, what: '200 ends', intervalMs: 5 });
  const ms = performance.now() - t0;
  for (const [, list] of ends) {
    assert.equal(list.length, 1);
    assert.deepEqual(list[0]!.outcome, { type: 'exit', code: 0 });
  }
  console.log(`# 200 true jobs launched and ended in ${ms.toFixed(0)} ms (${((200 / ms) * 1000).toFixed(0)} jobs/s)`);
  await ex.close();
});

test('an agent given LC_ALL keeps it: its jobs see it, and frames of multibyte text are counted in bytes', {
  timeout: 30_000,
}, async () => {
  // Without LC_ALL the agent works in C, never passing it on (the conformance suite checks that).
  await using tmp = tempDir();
  const env = { ...process.env, LC_ALL: 'C.UTF-8' };
  const ex = createTracker({ nodeName: 'node1', runDir: realpathSync(tmp.path), transport: localTransport('auto', env) });
  const { ended } = collect(ex);
  try {
    await ex.launch(spec(5, `printf '%s|%s|%s' "$LC_ALL" "$ODD" 'ü→ü'`, tmp.path, { ODD: 'é…€' }));
    await ex.launch(spec(6, `printf '%s' 'ok'`, tmp.path));
    assert.deepEqual((await ended(5)).outcome, { type: 'exit', code: 0 });
    assert.equal(readFileSync(join(tmp.path, 'job_5.out'), 'utf8'), 'C.UTF-8|é…€|ü→ü');
    assert.deepEqual((await ended(6)).outcome, { type: 'exit', code: 0 });
    assert.equal(readFileSync(join(tmp.path, 'job_6.out'), 'utf8'), 'ok');
  } finally {
    await ex.close();
  }
});
