/**
 * The pilot's connect-back link end to end, without Slurm: the hub (the
 * master's side), the pilot program as a real child process, and an
 * executor over the link. Jobs launched, ended with their statuses, their
 * output read, one killed; the pilot SIGKILLed (the link's loss seen) and
 * started again (the job started before is seen to end); `pilotEnd`; the
 * master restarting (the pilot finds the new hub through its file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { collect, spec } from '../executor/util.js';
import { pilotExecutor, startHub, startPilotProcess } from './setup.js';

test('jobs run on the pilot’s node through the link: statuses, output, kill; pilotEnd makes the pilot exit 0', async () => {
  await using tmp = tempDir();
  const h = await startHub(tmp.path);
  assert.equal(statSync(h.file).mode & 0o777, 0o600);
  assert.equal(statSync(join(tmp.path, 'pilot-tls.pem')).mode & 0o777, 0o600);
  const pilot = startPilotProcess(h.file);
  const { ex, links } = pilotExecutor(h, join(tmp.path, 'run'));
  const { ended } = collect(ex);
  try {
    await waitFor(() => h.hub.connected('p1', '101'), { what: 'the pilot connected' });
    assert.match(h.events[0]!, /^pilot p1\/101 /);

    await ex.launch(spec(1, 'echo hello; echo world >&2; exit 0', tmp.path));
    await ex.launch(spec(2, 'exit 3', tmp.path));
    const { pid } = await ex.launch(spec(3, 'sleep 300', tmp.path));
    assert.deepEqual((await ended(1)).outcome, { type: 'exit', code: 0 });
    assert.deepEqual((await ended(2)).outcome, { type: 'exit', code: 3 });
    assert.equal((await ex.readOutput(1, join(tmp.path, 'job_1.out'), 0, 1000)).toString(), 'hello\n');
    assert.equal((await ex.readOutput(1, join(tmp.path, 'job_1.err'), 2, 1000)).toString(), 'rld\n');
    assert.equal((await ex.readOutput(1, join(tmp.path, 'no-such-file'), 0, 1000)).length, 0);

    // A read bigger than one readRange comes back whole, in parts.
    const big = Buffer.alloc(1_300_000, 'x');
    writeFileSync(join(tmp.path, 'big'), big);
    assert.equal((await ex.readOutput(1, join(tmp.path, 'big'), 1, 2_000_000)).length, big.length - 1);

    await ex.kill(3, pid, 1000);
    assert.deepEqual((await ended(3)).outcome, { type: 'signal', signal: 'TERM' });
    assert.ok(!links.some((l) => l !== null), `no link problem: ${JSON.stringify(links)}`);

    assert.equal(h.hub.endPilot('p1', '101'), true);
    assert.equal(await pilot.exited, 0);
    await waitFor(() => h.events.includes('gone p1/101'), { what: 'the hub saw the pilot go' });
    assert.equal(h.hub.endPilot('p1', '101'), false);
  } finally {
    pilot.child.kill('SIGKILL');
    await ex.close();
    await h.hub.close();
  }
});

test('a pilot SIGKILLed: the link reports the loss; started again, the link is back and a job started before is seen to end', async () => {
  await using tmp = tempDir();
  const h = await startHub(tmp.path);
  let pilot = startPilotProcess(h.file);
  const { ex, links } = pilotExecutor(h, join(tmp.path, 'run'));
  const { ended, ends } = collect(ex);
  try {
    await waitFor(() => h.hub.connected('p1', '101'), { what: 'the pilot connected' });
    const flag = join(tmp.path, 'go');
    await ex.launch(spec(7, `while [ ! -e '${flag}' ]; do sleep 0.05; done; echo finished; exit 7`, tmp.path));
    pilot.child.kill('SIGKILL');
    await pilot.exited;
    await waitFor(() => h.events.includes('gone p1/101'), { what: 'the hub saw the pilot go' });
    await waitFor(() => links.some((l) => l !== null), { what: 'the agent link reports the loss' });
    assert.equal(h.hub.connected('p1', '101'), null);
    // While the pilot is away, a launch is refused as reaching nothing.
    await assert.rejects(ex.launch(spec(8, 'true', tmp.path)), { code: 'NODE_UNREACHABLE' });

    // The job goes on without its pilot, and ends while it is away.
    writeFileSync(flag, '');
    await waitFor(() => readFileSync(join(tmp.path, 'job_7.out'), 'utf8') === 'finished\n', { what: 'job 7 finished' });
    assert.equal(ends.has(7), false);

    pilot = startPilotProcess(h.file);
    await waitFor(() => h.events.filter((e) => e.startsWith('pilot ')).length === 2, { what: 'the pilot back' });
    // The agent link is woken by the pilot's return (not at the end of its backoff), and finds the end.
    assert.deepEqual((await ended(7, 15_000)).outcome, { type: 'exit', code: 7 });
    await waitFor(() => links.at(-1) === null, { what: 'the link back' });
    await ex.launch(spec(9, 'exit 0', tmp.path));
    assert.deepEqual((await ended(9)).outcome, { type: 'exit', code: 0 });
  } finally {
    pilot.child.kill('SIGTERM');
    assert.equal(await pilot.exited, 0);
    await ex.close();
    await h.hub.close();
  }
});

test('the master restarts: the pilot reads its file again, finds the new port and secret, and a running job is adopted', async () => {
  await using tmp = tempDir();
  const first = await startHub(tmp.path);
  const fingerprint = first.hub.fingerprint;
  const pilot = startPilotProcess(first.file);
  const runDir = join(tmp.path, 'run');
  const one = pilotExecutor(first, runDir);
  let second: Awaited<ReturnType<typeof startHub>> | undefined;
  let two: ReturnType<typeof pilotExecutor> | undefined;
  try {
    await waitFor(() => first.hub.connected('p1', '101'), { what: 'the pilot connected' });
    const flag = join(tmp.path, 'go');
    const { pid } = await one.ex.launch(spec(5, `while [ ! -e '${flag}' ]; do sleep 0.05; done; exit 5`, tmp.path));
    await one.ex.close();
    await first.hub.close();

    // The next master's hub: the same certificate (kept in the qpy directory), another port and secret.
    second = await startHub(tmp.path);
    assert.equal(second.hub.fingerprint, fingerprint);
    await waitFor(() => second!.hub.connected('p1', '101'), { what: 'the pilot back on the new hub', timeoutMs: 20_000 });
    two = pilotExecutor(second, runDir);
    const { ended } = collect(two.ex);
    assert.equal(await two.ex.adopt(5, pid), 'running');
    writeFileSync(flag, '');
    assert.deepEqual((await ended(5)).outcome, { type: 'exit', code: 5 });
  } finally {
    pilot.child.kill('SIGTERM');
    assert.equal(await pilot.exited, 0);
    await two?.ex.close();
    await second?.hub.close();
  }
});
