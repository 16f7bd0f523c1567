/**
 * Tests for patient() (src/cli/connect.ts): a request that changes something
 * waits long for its reply and never reports a missing one as a failure; a
 * request that only reads keeps its short wait and its plain error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHANGE_REPLY_MS, patient, type MasterConnection } from '../../../src/cli/connect.js';
import { QpyError } from '../../../src/errors.js';

/** A connection whose requests fail as `fail` says, recording the wait each was given. */
function fake(fail: (ms: number | undefined) => QpyError | null): { conn: MasterConnection; waits: (number | undefined)[] } {
  const waits: (number | undefined)[] = [];
  const conn = {
    close: () => undefined,
    request: async (_m: unknown, ms?: number) => {
      waits.push(ms);
      const err = fail(ms);
      if (err !== null) throw err;
      return { type: 'killed', id: 1, unqueued: 2, killing: [] };
    },
  } as unknown as MasterConnection;
  return { conn, waits };
}

const quiet = { isTTY: false, write: () => true };

test('a change waits CHANGE_REPLY_MS; a read keeps its own wait', async () => {
  const f = fake(() => null);
  const p = patient(f.conn, quiet);
  await p.request({ type: 'kill', selector: { statuses: ['all'], dirs: [], ranges: [] } });
  await p.request({ type: 'check', selector: { statuses: [], dirs: [], ranges: [] } });
  await p.request(
    {
      type: 'submitMany',
      template: { cwd: '/', cores: 1, memGB: 1, attrs: null },
      kind: 'array',
      commands: ['x'],
      indices: [1, 2],
      cap: null,
      stage: null,
      last: true,
    },
    1234,
  );
  assert.deepEqual(f.waits, [CHANGE_REPLY_MS, undefined, 1234]);
});

test('no reply to a change: it may still be done, look with qpy check; not a failure of the change', async () => {
  const p = patient(fake((ms) => new QpyError('MASTER_UNREACHABLE', `no reply within ${ms} ms`)).conn, quiet);
  await assert.rejects(p.request({ type: 'kill', selector: { statuses: ['all'], dirs: [], ranges: [] } }), (e: unknown) => {
    assert.ok(e instanceof QpyError);
    assert.equal(e.message, 'no reply from qpy-master within 600 s: the kill may still be done, or may have been done already');
    assert.equal(e.hint, 'look before trying again: qpy check');
    return true;
  });
  const closed = patient(fake(() => new QpyError('MASTER_UNREACHABLE', 'the connection was closed')).conn, quiet);
  await assert.rejects(
    closed.request({ type: 'clean', selector: { statuses: ['all'], dirs: [], ranges: [] } }),
    /the connection to qpy-master ended before it answered \(the connection was closed\): the clean may still be done/,
  );
  const read = patient(fake(() => new QpyError('MASTER_UNREACHABLE', 'no reply within 60000 ms')).conn, quiet);
  await assert.rejects(
    read.request({ type: 'check', selector: { statuses: [], dirs: [], ranges: [] } }),
    /^QpyError: no reply within 60000 ms$/,
  );
  const refused = patient(fake(() => new QpyError('NOT_FOUND', 'Nothing to do: required jobs not found.')).conn, quiet);
  await assert.rejects(refused.request({ type: 'kill', selector: { statuses: ['all'], dirs: [], ranges: [] } }), /Nothing to do/);
});

test('on a terminal, a slow change says it is still being worked on', async () => {
  const said: string[] = [];
  let release!: () => void;
  const slow = {
    close: () => undefined,
    request: () => new Promise((resolve) => (release = () => resolve({ type: 'cleaned', id: 1, count: 3 }))),
  } as unknown as MasterConnection;
  const { mock } = await import('node:test');
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const pending = patient(slow, { isTTY: true, write: (s: string) => said.push(s) }).request({
      type: 'clean',
      selector: { statuses: ['all'], dirs: [], ranges: [] },
    });
    mock.timers.tick(5_000);
    release();
    await pending;
  } finally {
    mock.timers.reset();
  }
  assert.deepEqual(said, ['qpy: qpy-master is still working on the clean…\n']);
});
