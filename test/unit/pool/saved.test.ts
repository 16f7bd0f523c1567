/**
 * A pool's pilots saved across a restart (src/pool/saved.ts): what is
 * saved, what comes back, and what a bad or foreign save gives (nothing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restorePilots, savedPilots } from '../../../src/pool/saved.js';
import { newPilot } from '../../../src/pool/pilots.js';
import type { PoolRun } from '../../../src/pool/plan.js';
import { joined, pending, poolRun, running } from './fixtures.js';

const runs = (...rs: PoolRun[]) => new Map(rs.map((r) => [r.config.name, r]));

test('round trip: joined pilots come back as running nodes, others as known jobs; ending ones are not saved', () => {
  const p = poolRun({}, [
    pending('1', 100),
    running('2', 'c2', 50_000, 200),
    { ...joined('3', 90_000, null), since: 300, connected: true },
    { ...joined('4', 90_000, 0), ending: 'idle' },
    { ...pending('5'), ending: 'surplus' },
  ]);
  const q = poolRun({ name: 'q' }, []);
  const text = savedPilots(runs(p, q));
  const back = restorePilots(text, runs(poolRun(), poolRun({ name: 'q' })), 10_000);
  assert.deepEqual([...back.keys()], ['p', 'q']);
  assert.deepEqual(back.get('q'), []);
  assert.deepEqual(back.get('p'), [
    newPilot('1', 100),
    { ...newPilot('2', 200), host: 'c2', endsAt: 50_000 },
    { ...newPilot('3', 300), host: 'h3', node: 'p-3', endsAt: 90_000, slurmState: 'RUNNING', idleSince: 10_000 },
  ]);
});

test('restore: a pilot saved in the future (a clock set back) is known from now', () => {
  const text = savedPilots(runs(poolRun({}, [pending('1', 50_000)])));
  assert.equal(restorePilots(text, runs(poolRun()), 1000).get('p')![0]!.since, 1000);
});

test('restore: a pool no longer configured is dropped', () => {
  const text = savedPilots(runs(poolRun({}, [pending('1')]), poolRun({ name: 'gone' }, [joined('2', 1, 0, 'gone')])));
  const back = restorePilots(text, runs(poolRun()), 0);
  assert.deepEqual([...back.keys()], ['p']);
  assert.deepEqual(restorePilots(text, runs(poolRun({ name: 'other' })), 0).size, 0);
});

test('restore: no save, or text that is not one, gives nothing', () => {
  const r = runs(poolRun());
  for (const text of [
    undefined,
    '',
    'garbage',
    '{',
    'null',
    '42',
    '[]',
    '{}',
    '{"pools": 3}',
    '{"pools": [{"name": "p"}]}',
    '{"pools": [{"name": "p", "pilots": [{"jobId": 1, "since": 0, "host": null, "node": null, "endsAt": null}]}]}',
    '{"pools": [{"name": "p", "pilots": [{"jobId": "1", "since": "0", "host": null, "node": null, "endsAt": null}]}]}',
    `{"pools": [{"name": "p", "pilots": [{"jobId": "${'9'.repeat(65)}", "since": 0, "host": null, "node": null, "endsAt": null}]}]}`,
  ])
    assert.equal(restorePilots(text, r, 0).size, 0, String(text));
});

test('savedPilots: the text is the same for the same pilots (the runner saves only on change)', () => {
  const a = savedPilots(runs(poolRun({}, [pending('1'), joined('2', 5, 0)])));
  const b = savedPilots(runs(poolRun({}, [pending('1'), { ...joined('2', 5, 0), idleSince: 99, reason: 'x' }])));
  assert.equal(a, b);
  assert.notEqual(a, savedPilots(runs(poolRun({}, [pending('1')]))));
});
