/**
 * Integration tests of adoption: a master life (executor A) starts jobs and
 * "dies" (closes without killing them), and a new life (executor B) on the
 * same run directory re-adopts them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createLocalExecutor } from '../../../src/executor/local.js';
import { attemptKey, readEnd, runPath } from '../../../src/executor/run-files.js';
import { wrapperArgv } from '../../../src/executor/wrapper.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { collect, groupMembers, parentOf, spec } from './util.js';

function life(runDir: string) {
  const ex = createLocalExecutor({ runDir, nodeName: 'node1', pollMs: 50 });
  return { ex, ...collect(ex) };
}

test('a new life adopts a short job (ended later) and a long one (running, killable)', async () => {
  await using tmp = tempDir();
  const runDir = join(tmp.path, 'run');
  const a = life(runDir);
  await a.ex.launch(spec(1, 'sleep 1; exit 5', tmp.path));
  const long = await a.ex.launch(spec(2, 'sleep 300', tmp.path));
  await waitFor(() => existsSync(join(runDir, '1.run')) && existsSync(join(runDir, '2.run')), { what: 'claims' });
  await a.ex.close(); // the master dies; its jobs keep running
  const b = life(runDir);
  assert.equal(await b.ex.adopt(1, null), 'running');
  assert.equal(await b.ex.adopt(2, long.pid), 'running');
  assert.deepEqual((await b.ended(1)).outcome, { type: 'exit', code: 5 });
  await b.ex.kill(2, long.pid, 2_000);
  assert.deepEqual((await b.ended(2)).outcome, { type: 'signal', signal: 'TERM' });
  assert.deepEqual(groupMembers(long.pid), []);
  assert.equal(a.ends.size, 0, 'the dead life reports nothing');
  await b.ex.close();
});

test('a job that ended while no master watched is reported on adoption', async () => {
  await using tmp = tempDir();
  const runDir = join(tmp.path, 'run');
  const a = life(runDir);
  const { pid } = await a.ex.launch(spec(3, 'exit 5', tmp.path));
  await a.ex.close();
  await waitFor(() => readEnd(runDir, '3'), { what: 'recorded end' });
  const b = life(runDir);
  assert.equal(await b.ex.adopt(3, pid), 'ended');
  assert.deepEqual((await b.ended(3)).outcome, { type: 'exit', code: 5 });
  assert.equal(await b.ex.adopt(3, pid), 'ended');
  assert.equal(b.ends.get(3)?.length, 1, 'reported exactly once');
  await b.ex.close();
});

test("the agent of a master gone records its jobs' ends; a job whose agent was killed too is lost", async () => {
  await using tmp = tempDir();
  const runDir = join(tmp.path, 'run');
  const a = life(runDir);
  const first = await a.ex.launch(spec(4, 'sleep 300', tmp.path));
  const second = await a.ex.launch(spec(16, 'sleep 300', tmp.path));
  await waitFor(() => existsSync(join(runDir, '4.run')) && existsSync(join(runDir, '16.run')), { what: 'claims' });
  await a.ex.close();
  const b = life(runDir);
  assert.equal(await b.ex.adopt(4, first.pid), 'running');
  assert.equal(await b.ex.adopt(16, second.pid), 'running');
  // The first life's agent outlives it and waits for its jobs: a KILLed job's end is recorded.
  process.kill(first.pid, 'SIGKILL');
  assert.deepEqual((await b.ended(4)).outcome, { type: 'signal', signal: 'KILL' });
  // With that agent gone, nothing can record an end: the job vanished without a status.
  process.kill(parentOf(second.pid), 'SIGKILL');
  process.kill(second.pid, 'SIGKILL');
  assert.deepEqual((await b.ended(16)).outcome, { type: 'lost' });
  await b.ex.close();
});

test('adopt(id, null) without a claim blocks any late start, and a relaunch still runs', async () => {
  await using tmp = tempDir();
  const runDir = join(tmp.path, 'run');
  const b = life(runDir);
  assert.equal(await b.ex.adopt(5, null), 'never_started');
  assert.equal(await b.ex.adopt(5, null), 'never_started');
  // The late wrapper of that launch finally starts: it must not run the command.
  const late = spawn(
    '/bin/sh',
    wrapperArgv({
      runDir,
      key: attemptKey(5, 0),
      jobId: 5,
      cwd: tmp.path,
      command: 'touch ran',
      env: {},
    }),
    { stdio: 'ignore' },
  );
  const [code] = await once(late, 'exit');
  assert.equal(code, 125);
  assert.equal(existsSync(join(tmp.path, 'ran')), false);
  assert.equal(existsSync(join(tmp.path, 'job_5.out')), false);
  // The master queues it again and relaunches it: it runs (as the next attempt).
  await b.ex.launch(spec(5, 'touch ran', tmp.path));
  assert.deepEqual((await b.ended(5)).outcome, { type: 'exit', code: 0 });
  assert.equal(existsSync(join(tmp.path, 'ran')), true);
  b.ex.forget(5);
  await waitFor(() => !existsSync(runPath(runDir, attemptKey(5, 1))), { what: 'run files removed' });
  assert.equal(existsSync(runPath(runDir, attemptKey(5, 0))), false);
  await b.ex.close();
});

test('a job whose pid the master never learned but which runs is adopted as running', async () => {
  await using tmp = tempDir();
  const runDir = join(tmp.path, 'run');
  const a = life(runDir);
  const { pid } = await a.ex.launch(spec(6, 'sleep 300', tmp.path));
  await waitFor(() => existsSync(join(runDir, '6.run')), { what: 'claim' });
  await a.ex.close();
  const b = life(runDir);
  assert.equal(await b.ex.adopt(6, null), 'running');
  await b.ex.kill(6, pid, 2_000);
  assert.deepEqual((await b.ended(6)).outcome, { type: 'signal', signal: 'TERM' });
  await b.ex.close();
});

test('an adopted job that ignores TERM is KILLed and reported as KILL', async () => {
  await using tmp = tempDir();
  const runDir = join(tmp.path, 'run');
  const a = life(runDir);
  const { pid } = await a.ex.launch(spec(7, `trap '' TERM; sleep 300`, tmp.path));
  await waitFor(() => groupMembers(pid).length >= 2, { what: 'job processes' });
  await a.ex.close();
  const b = life(runDir);
  assert.equal(await b.ex.adopt(7, pid), 'running');
  await b.ex.kill(7, pid, 200);
  assert.deepEqual((await b.ended(7)).outcome, { type: 'signal', signal: 'KILL' });
  await waitFor(() => groupMembers(pid).length === 0, { what: 'no process of the group' });
  await b.ex.close();
});

test('a claim whose pid now belongs to another process is not mistaken for the job', async () => {
  await using tmp = tempDir();
  const runDir = join(tmp.path, 'run');
  mkdirSync(runDir);
  writeFileSync(runPath(runDir, '8'), `${process.pid}\n`); // the wrapper died; its pid was reused by us
  const b = life(runDir);
  assert.equal(await b.ex.adopt(8, process.pid), 'ended');
  assert.deepEqual((await b.ended(8)).outcome, { type: 'lost' });
  await b.ex.kill(8, process.pid, 100); // must not signal the unrelated process (this test!)
  await b.ex.close();
});
