/**
 * `qpy ctrlQueue` through the installed CLI: pause, the §5.9 worked examples
 * as `check` shows them, refusals on stderr with exit 1, and a paused,
 * reordered queue that survives a master restart and then runs in its order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkStatuses, qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

test('ctrlQueue: pause, jump (the §5.9 examples), refusals, kept across a restart, then run in the new order', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser({ nodes: 'one address=localhost cores=1 memory=16\n' });
  assert.equal(await u.ok(['ctrlQueue', 'pause']), 'Job submission paused.\n');
  for (let i = 1; i <= 5; i++) await u.ok(['sub', '-m', '1', `echo ${i} >> order`]);
  const order = async () => [...checkStatuses(await u.ok(['check'])).keys()];
  assert.match(await u.ok(['check']), /Job submission is paused\.\n$/);

  // From [1,2,3,4,5] (the reference's 6..10), each example from the previous state.
  assert.equal(await u.ok(['ctrlQueue', 'jump', '5', 'begin']), 'Queue reordered.\n');
  assert.deepEqual(await order(), [5, 1, 2, 3, 4]);
  await u.ok(['ctrlQueue', 'jump', '5', 'end']);
  assert.deepEqual(await order(), [1, 2, 3, 4, 5]);
  await u.ok(['ctrlQueue', 'jump', '1,2', '4']);
  assert.deepEqual(await order(), [3, 4, 1, 2, 5]);
  await u.ok(['ctrlQueue', 'jump', '5', '-1']);
  assert.deepEqual(await order(), [3, 4, 1, 2, 5]);
  await u.ok(['ctrlQueue', 'jump', '2', '0']);
  assert.deepEqual(await order(), [2, 3, 4, 1, 5]);

  for (const [args, message] of [
    [['ctrlQueue'], 'qpy: Give the queue control type. (pause, continue or jump)\n'],
    [['ctrlQueue', 'jump', '3'], 'qpy: Give the jobs to change position. (e.g. qpy ctrlQueue jump 15-17 begin)\n'],
    [['ctrlQueue', 'jump', '3-', 'end'], 'qpy: Range with wrong format: 3-\n'],
    [['ctrlQueue', 'jump', '3', 'middle'], 'qpy: Invalid jump position: middle (begin, end or a queued job ID)\n'],
    [['ctrlQueue', 'shuffle'], 'qpy: Unknown ctrlQueue type: shuffle. (pause, continue or jump)\n'],
    [['ctrlQueue', 'jump', '3', '3'], 'qpy: Position is part of list: queue not reordered.\n'],
    [['ctrlQueue', 'jump', '3', '99'], 'qpy: Position not found: queue not reordered.\n'],
    [['ctrlQueue', 'jump', '40-50', 'begin'], 'qpy: List does not have jobs in queue: queue not reordered.\n'],
    [['ctrlQueue', 'jump', '1-5', 'begin'], 'qpy: Queue is completely contained in list: queue not reordered.\n'],
  ] as const) {
    const r = await u.qpy([...args]);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stderr, message, args.join(' '));
  }

  // Both the pause and the order survive a restart.
  await u.ok(['restart']);
  assert.deepEqual(await order(), [2, 3, 4, 1, 5]);
  assert.match(await u.ok(['check']), /Job submission is paused\.\n$/);
  assert.equal(await u.ok(['ctrlQueue', 'continue']), 'Job submission continued.\n');
  await waitFor(async () => [...checkStatuses(await u.ok(['check'])).values()].every((j) => j.status === 'done'), {
    what: 'all five done',
  });
  assert.equal(readFileSync(join(u.work, 'order'), 'utf8'), '2\n3\n4\n1\n5\n', 'one core: they ran in queue order');
  const paused = await u.qpy(['ctrlQueue', 'jump', '1', 'begin']);
  assert.equal(paused.stderr, 'qpy: Pause the queue before trying to control it. (qpy ctrlQueue pause)\n');
});
