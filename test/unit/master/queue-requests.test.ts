/**
 * The queue-changing requests as the core decides them
 * (src/master/queue-requests.ts): replies and effects of kill, clean,
 * hold/release, requeue, jump and pause.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QpyError } from '../../../src/errors.js';
import * as life from '../../../src/master/lifecycle.js';
import { onClean, onHold, onJump, onKill, onPause, onRequeue } from '../../../src/master/queue-requests.js';
import { submitGroup, update } from '../../../src/master/state.js';
import { sel, spec } from './fixtures.js';
import { add, kinds, makeCore } from './outbox.js';

const code = (c: string) => (e: unknown) => e instanceof QpyError && e.code === c;
const noLeftover = () => null;

test('kill: queued jobs undone, running ones marked, committed, then killed, then a pass', () => {
  const core = makeCore();
  add(core);
  const r = update(core.state, life.launched(update(core.state, life.start(add(core), 'n1', 5)), 40));
  const d = onKill(core, { type: 'kill', id: 9, selector: sel({ statuses: ['all'] }) }, 100);
  assert.deepEqual(d.reply, { type: 'killed', id: 9, unqueued: 1, killing: [r.id] });
  assert.deepEqual(kinds(d.effects), ['put', 'put', 'commit', 'kill', 'dispatch']);
  assert.equal(core.state.jobs.get(1)!.state.type, 'undone');
  const k = core.state.jobs.get(r.id)!.state;
  assert.ok(k.type === 'running' && k.killRequested);
});

test('kill of compact array members: unqueued a run at a time', () => {
  const core = makeCore();
  submitGroup(core.state, { ...spec(), group: { id: 1, index: 1, kind: 'array' } }, [1, 1, 1, 1], 0);
  const d = onKill(core, { type: 'kill', id: 1, selector: sel({ ranges: [[2, 3]] }) }, 50);
  assert.deepEqual(d.effects[0], { type: 'unqueueRange', first: 2, last: 3, at: 50 });
  assert.deepEqual([...core.state.queue], [1, 4]);
  assert.equal((d.reply as { unqueued: number }).unqueued, 2);
});

test('kill: a job already being killed is not killed again; nothing matched is NOT_FOUND', () => {
  const core = makeCore();
  update(core.state, life.requestKill(update(core.state, life.start(add(core), 'n1', 5))));
  assert.throws(() => onKill(core, { type: 'kill', id: 1, selector: sel({ ranges: [[1, 1]] }) }, 9), code('NOT_FOUND'));
});

test('clean: final jobs and their notes go; nothing final is NOT_FOUND', () => {
  const core = makeCore();
  const a = add(core);
  update(core.state, life.unqueue(a, 5));
  add(core);
  core.notes.set(a.id, 'n');
  const d = onClean(core, { type: 'clean', id: 1, selector: sel({ statuses: ['all'] }) });
  assert.deepEqual(d.reply, { type: 'cleaned', id: 1, count: 1 });
  assert.deepEqual(kinds(d.effects), ['removeRanges', 'deleteMeta', 'commit']);
  assert.equal(core.state.jobs.has(a.id), false);
  assert.equal(core.notes.size, 0);
  assert.throws(() => onClean(core, { type: 'clean', id: 1, selector: sel({ ranges: [[2, 2]] }) }), code('NOT_FOUND'));
});

test('hold and release: queued jobs only; a release asks for a pass', () => {
  const core = makeCore();
  add(core);
  add(core);
  const held = onHold(core, { type: 'hold', id: 1, ranges: [[1, 2]], held: true });
  assert.deepEqual(held.reply, { type: 'text', id: 1, text: '2 jobs held.' });
  assert.deepEqual(kinds(held.effects), ['put', 'put', 'commit']);
  assert.throws(() => onHold(core, { type: 'hold', id: 1, ranges: [[1, 2]], held: true }), code('NOT_FOUND'));
  const released = onHold(core, { type: 'hold', id: 2, ranges: [[1, 1]], held: false });
  assert.deepEqual(kinds(released.effects), ['put', 'commit', 'dispatch']);
  assert.equal(released.effects[0]!.type === 'put' && released.effects[0]!.pos, 'keep');
});

test('requeue: failed jobs queued again as new attempts; refused while leftovers may run', () => {
  const core = makeCore();
  const a = update(core.state, life.start(add(core), 'n1', 5));
  update(core.state, life.end(a, { type: 'exit', code: 1 }, 9));
  const b = add(core);
  update(core.state, life.unqueue(b, 5));
  assert.throws(
    () => onRequeue(core, { type: 'requeue', id: 1, ranges: [[1, 2]], failed: false, any: false }, 10, () => 'n1'),
    code('ILLEGAL_TRANSITION'),
  );
  const d = onRequeue(core, { type: 'requeue', id: 1, ranges: [[1, 2]], failed: false, any: false }, 10, noLeftover);
  assert.deepEqual(d.reply, { type: 'text', id: 1, text: '1 job queued again.' });
  assert.deepEqual(kinds(d.effects), ['put', 'commit', 'dispatch']);
  assert.equal(core.state.jobs.get(1)!.attempts?.length, 1);
  assert.equal(core.state.jobs.get(2)!.state.type, 'undone', 'retry takes failed jobs only');
  const rerun = onRequeue(core, { type: 'requeue', id: 2, ranges: [[2, 2]], failed: false, any: true }, 11, noLeftover);
  assert.deepEqual(kinds(rerun.effects), ['put', 'commit', 'dispatch']);
  assert.throws(() => onRequeue(core, { type: 'requeue', id: 1, ranges: [], failed: true, any: false }, 12, noLeftover), code('NOT_FOUND'));
});

test('pause and continue; jump only while paused, every position stored', () => {
  const core = makeCore();
  add(core);
  add(core);
  assert.throws(() => onJump(core, { type: 'jump', id: 1, ranges: [[2, 2]], target: 0 }), code('ILLEGAL_TRANSITION'));
  const p = onPause(core, { type: 'pause', id: 1, paused: true });
  assert.deepEqual(kinds(p.effects), ['setMeta', 'commit']);
  const j = onJump(core, { type: 'jump', id: 2, ranges: [[2, 2]], target: 0 });
  assert.deepEqual([...core.state.queue], [2, 1]);
  assert.deepEqual(kinds(j.effects), ['put', 'put', 'commit']);
  assert.throws(() => onJump(core, { type: 'jump', id: 2, ranges: [[2, 2]], target: -5 }), code('INVALID_ARGUMENT'));
  const c = onPause(core, { type: 'pause', id: 3, paused: false });
  assert.deepEqual(kinds(c.effects), ['setMeta', 'commit', 'dispatch']);
  assert.equal(core.state.paused, false);
});
