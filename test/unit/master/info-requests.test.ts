/**
 * The reading requests and `qpy why` as the core decides them
 * (src/master/info-requests.ts, src/master/why.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QpyError } from '../../../src/errors.js';
import {
  onConfig,
  onFinish,
  onJobIds,
  onNotes,
  outputPlan,
  statusReply,
  waitedReply,
  waitTargets,
} from '../../../src/master/info-requests.js';
import * as life from '../../../src/master/lifecycle.js';
import { update } from '../../../src/master/state.js';
import { explainWait } from '../../../src/master/why.js';
import type { AllocatorToMaster } from '../../../src/protocol/master-allocator.js';
import { add, kinds, makeCore } from './outbox.js';

const code = (c: string) => (e: unknown) => e instanceof QpyError && e.code === c;
const noCheck = () => null;

test('notes: appended and committed; a job that does not exist is NOT_FOUND', () => {
  const core = makeCore();
  add(core);
  const d = onNotes(core, { type: 'notes', id: 1, jobId: 1, text: 'a' });
  assert.deepEqual(kinds(d.effects), ['setMeta', 'commit']);
  onNotes(core, { type: 'notes', id: 2, jobId: 1, text: 'b' });
  assert.deepEqual(onNotes(core, { type: 'notes', id: 3, jobId: 1, text: null }), {
    reply: { type: 'notes', id: 3, ids: [1], text: 'ab' },
    effects: [],
  });
  assert.throws(() => onNotes(core, { type: 'notes', id: 1, jobId: 9, text: 'x' }), code('NOT_FOUND'));
});

test('config: a change is stored; a bad value or attribute expression is refused and changes nothing', () => {
  const core = makeCore();
  const before = core.settings;
  assert.deepEqual(onConfig(core, { type: 'config', id: 1, key: null, values: [] }, noCheck).effects, []);
  assert.throws(
    () => onConfig(core, { type: 'config', id: 1, key: 'defaultAttr', values: ['x'] }, () => new QpyError('BAD_EXPR', 'no')),
    code('BAD_EXPR'),
  );
  assert.equal(core.settings, before);
  const d = onConfig(core, { type: 'config', id: 1, key: 'defaultAttr', values: ['gpu'] }, noCheck);
  assert.deepEqual(kinds(d.effects), ['setMeta', 'commit']);
  assert.equal(core.settings.defaultAttr, 'gpu');
});

test('jobIds, wait, output, status and finish', () => {
  const core = makeCore();
  add(core);
  const r = update(core.state, life.start(add(core), 'n1', 5));
  assert.deepEqual(onJobIds(core, { type: 'jobIds', id: 1, statuses: ['running'] }), { type: 'ids', id: 1, ids: [2] });
  assert.deepEqual(waitTargets(core, { type: 'wait', id: 1, ranges: [[1, 5]], all: false }), { ids: [1, 2], pending: [1, 2] });
  assert.throws(() => waitTargets(core, { type: 'wait', id: 1, ranges: [[7, 9]], all: false }), code('NOT_FOUND'));
  update(core.state, life.end(r, { type: 'exit', code: 0 }, 9));
  assert.deepEqual(waitedReply(core, 4, [1, 2, 3]), { type: 'waited', id: 4, done: [2], other: [[1, 'queue']] });
  assert.equal(outputPlan(core, { type: 'output', id: 1, jobId: 2, offset: 0 }).read, null, 'ended: the shared copy is read');
  const s = update(core.state, life.launched(update(core.state, life.start(add(core), 'n1', 5)), 9));
  assert.equal(outputPlan(core, { type: 'output', id: 1, jobId: s.id, offset: 0 }).read?.id, s.id);
  const status = { type: 'status', id: 1, status: { warnings: ['w'], nodes: [] } } as unknown as AllocatorToMaster;
  const reply = statusReply(core, 5, status, new QpyError('NODES_FILE', 'bad nodes file'));
  assert.deepEqual(reply.type === 'status' && reply.status.warnings, ['w', 'bad nodes file']);
  // How each node's agent keeps limits: shown per node once known; a node that cannot is warned of.
  const two = { type: 'status', id: 1, status: { warnings: [], nodes: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } };
  const methods: Record<string, 'proc' | 'none' | null> = { a: 'proc', b: 'none', c: null };
  const shown = statusReply(core, 5, two as unknown as AllocatorToMaster, null, (n) => methods[n]!);
  assert.deepEqual(shown.type === 'status' && shown.status.nodes, [
    { name: 'a', limits: 'proc' },
    { name: 'b', limits: 'none' },
    { name: 'c' },
  ]);
  assert.deepEqual(shown.type === 'status' && shown.status.warnings, [
    'node b keeps no time or memory limits, and measures no usage (no bash 4.4 or no /proc there): its jobs run unlimited',
  ]);
  assert.throws(
    () => statusReply(core, 5, { type: 'error', id: 1, code: 'NOT_ALLOWED', message: 'no' } as AllocatorToMaster, null),
    code('NOT_ALLOWED'),
  );
  assert.deepEqual(onFinish(core, { type: 'finish', id: 1 }, 123), {
    reply: { type: 'finishing', id: 1, pid: 123, running: 1 },
    effects: [{ type: 'stop' }],
  });
});

test('why: plain reasons first; then the allocator is asked for what it alone knows', () => {
  const core = makeCore();
  add(core);
  add(core, { after: [[1, 1]] });
  const facts = { denied: null, reachable: true };
  assert.deepEqual(explainWait(core, 2, facts), { text: 'Job 2 waits for job 1 to end.' });
  assert.deepEqual(explainWait(core, 1, facts), { ask: 'feasible' });
  const ok = { type: 'feasibility', id: 1, problem: null } as unknown as AllocatorToMaster;
  assert.match((explainWait(core, 1, { ...facts, feasible: ok }) as { text: string }).text, /about to be asked for/);
  core.refusals.set(1, 'no_node');
  assert.deepEqual(explainWait(core, 1, { ...facts, feasible: ok }), { ask: 'nodes' });
  assert.match((explainWait(core, 1, { ...facts, feasible: ok, nodes: ['n1: down'] }) as { text: string }).text, /\n {2}n1: down$/);
  assert.match((explainWait(core, 1, { denied: null, reachable: false }) as { text: string }).text, /not reachable/);
  assert.match(
    (explainWait(core, 1, { denied: new QpyError('NOT_ALLOWED', 'no'), reachable: true }) as { text: string }).text,
    /not allowed/,
  );
  core.state.paused = true;
  assert.match((explainWait(core, 1, facts) as { text: string }).text, /paused/);
  assert.throws(() => explainWait(core, 9, facts), code('NOT_FOUND'));
});
