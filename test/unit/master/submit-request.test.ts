/**
 * Accepting jobs as the core decides it (src/master/submit-request.ts): the
 * spec checks, feasibility, staging of a load in parts, and the effects of
 * a submission (committed with an undo that takes the jobs back).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QpyError } from '../../../src/errors.js';
import {
  acceptGroup,
  acceptSubmit,
  checkedSpec,
  checkFeasible,
  stagePart,
  takeBack,
  wantsCopy,
  type SubmitFacts,
} from '../../../src/master/submit-request.js';
import { STAGE_TTL_MS } from '../../../src/master/staging.js';
import type { AllocatorToMaster } from '../../../src/protocol/master-allocator.js';
import type { CliToMaster, Template } from '../../../src/protocol/user-master.js';
import { add, kinds, makeCore } from './outbox.js';
import { spec } from './fixtures.js';

const code = (c: string) => (e: unknown) => e instanceof QpyError && e.code === c;
const facts = (over: Partial<SubmitFacts> = {}): SubmitFacts => ({
  stopping: false,
  configProblem: null,
  denied: null,
  checkAttrs: (expr) => (expr === 'bad(' ? new QpyError('BAD_EXPR', 'unbalanced') : null),
  ...over,
});
const template = (over: Partial<Template> = {}): Template => ({ cwd: '/w', cores: 1, memGB: 1, attrs: null, ...over });
type SubmitReq = Extract<CliToMaster, { type: 'submit' }>;
type ManyReq = Extract<CliToMaster, { type: 'submitMany' }>;
const many = (over: Partial<ManyReq> = {}): ManyReq => ({
  type: 'submitMany',
  id: 1,
  template: template(),
  kind: 'load',
  commands: ['a', 'b'],
  indices: null,
  cap: null,
  stage: null,
  last: true,
  ...over,
});

test('spec checks: stopping, a config problem, a refused user, bad values and attributes are refused', () => {
  const core = makeCore();
  assert.throws(() => checkedSpec(core, template(), 'x', facts({ stopping: true })), code('SHUTTING_DOWN'));
  assert.throws(
    () => checkedSpec(core, template(), 'x', facts({ configProblem: new QpyError('NODES_FILE', 'bad nodes') })),
    code('NODES_FILE'),
  );
  assert.throws(() => checkedSpec(core, template(), 'x', facts({ denied: new QpyError('NOT_ALLOWED', 'no') })), code('NOT_ALLOWED'));
  assert.throws(() => checkedSpec(core, template({ cores: 0 }), 'x', facts()), code('INVALID_ARGUMENT'));
  assert.throws(() => checkedSpec(core, template(), ' ', facts()), code('INVALID_ARGUMENT'));
  assert.throws(() => checkedSpec(core, template({ attrs: 'bad(' }), 'x', facts()), code('BAD_EXPR'));
  assert.throws(() => checkedSpec(core, template({ retries: 1001 }), 'x', facts()), code('INVALID_ARGUMENT'));
  assert.throws(() => checkedSpec(core, template({ priority: 1_000_001 }), 'x', facts()), code('INVALID_ARGUMENT'));
});

test('spec checks: a name and output patterns are kept, and checked again as the CLI checks them', () => {
  const core = makeCore();
  const s = checkedSpec(core, template({ name: 'fit', out: 'logs/%x-%j.out', err: '%x.err' }), 'x', facts());
  assert.deepEqual([s.name, s.out, s.err], ['fit', 'logs/%x-%j.out', '%x.err']);
  assert.deepEqual(Object.keys(checkedSpec(core, template(), 'x', facts())).sort(), [
    'attrs',
    'command',
    'cores',
    'cwd',
    'memGB',
    'memLimit',
  ]);
  for (const bad of [{ out: '%q' }, { err: 'a\nb' }, { out: '' }, { name: 'a/b' }, { name: 'x'.repeat(129) }, { name: 'a\0' }])
    assert.throws(() => checkedSpec(core, template(bad), 'x', facts()), code('INVALID_ARGUMENT'), JSON.stringify(bad));
});

test('spec checks: --notify needs a known WHEN and a notifier set; then it is kept in the spec', () => {
  const core = makeCore();
  assert.throws(
    () => checkedSpec(core, template({ notify: 'end' }), 'x', facts()),
    (e: unknown) => e instanceof QpyError && /needs a notifier/.test(e.message),
  );
  core.settings = { ...core.settings, notifyCommand: 'tell' };
  assert.equal(checkedSpec(core, template({ notify: 'fail' }), 'x', facts()).notify, 'fail');
  assert.throws(() => checkedSpec(core, template({ notify: 'often' as 'end' }), 'x', facts()), code('INVALID_ARGUMENT'));
  assert.equal('notify' in checkedSpec(core, template(), 'x', facts()), false);
});

test('spec checks: dependencies must name jobs; a group ID names its members; zero retries or priority are left out', () => {
  const core = makeCore();
  assert.throws(() => checkedSpec(core, template({ after: [[1, 1]] }), 'x', facts()), code('NOT_FOUND'));
  acceptGroup(core, many({ commands: ['a', 'b', 'c'] }), ['a', 'b', 'c'], { command: 'a', cwd: '/w', cores: 1, memGB: 1, attrs: null }, 0);
  const s = checkedSpec(core, template({ afterok: [[1, 1]], retries: 0, priority: 0, attrs: '  ' }), 'x', facts());
  assert.deepEqual(s.afterok, [[1, 3]]);
  assert.equal(s.retries, undefined);
  assert.equal(s.priority, undefined);
  assert.equal(s.attrs, null);
  const r = checkedSpec(core, template({ retries: 3, priority: -2 }), 'x', facts());
  assert.deepEqual([r.retries, r.priority], [3, -2]);
});

test('feasibility: a job no node could run is refused; qpy-multiuser away accepts it unchecked', () => {
  const s = spec();
  assert.throws(
    () => checkFeasible({ type: 'feasibility', id: 1, problem: 'no node has 64 cores' } as unknown as AllocatorToMaster, s),
    code('UNSATISFIABLE'),
  );
  assert.equal(checkFeasible({ type: 'feasibility', id: 1, problem: null } as unknown as AllocatorToMaster, s), s);
  assert.equal(
    checkFeasible({ type: 'error', id: 1, code: 'ALLOCATOR_UNREACHABLE', message: 'away' } as unknown as AllocatorToMaster, s),
    s,
  );
});

test('the time limit: -t, else defaultTime, -t none over it; memory limits by the memLimit setting; the cluster limits applied', () => {
  const core = makeCore();
  assert.equal(checkedSpec(core, template({ time: 90 }), 'x', facts()).time, 90);
  assert.equal(checkedSpec(core, template(), 'x', facts()).time, undefined);
  core.settings = { ...core.settings, defaultTime: 3600 };
  assert.equal(checkedSpec(core, template(), 'x', facts()).time, 3600);
  assert.equal(checkedSpec(core, template({ time: 0 }), 'x', facts()).time, undefined, '-t none');
  assert.throws(() => checkedSpec(core, template({ time: -4 }), 'x', facts()), code('INVALID_ARGUMENT'));
  assert.throws(() => checkedSpec(core, template({ time: 366 * 86400 }), 'x', facts()), code('INVALID_ARGUMENT'));
  assert.equal(checkedSpec(core, template({ memGB: 2 }), 'x', facts()).memLimit, true);
  assert.equal(checkedSpec(core, template({ memGB: 0 }), 'x', facts()).memLimit, undefined, 'no memory asked: nothing to limit');
  core.settings = { ...core.settings, memLimit: false };
  assert.equal(checkedSpec(core, template({ memGB: 2 }), 'x', facts()).memLimit, undefined);
  const feasible = (limits: object) => ({ type: 'feasibility', id: 1, problem: null, limits }) as unknown as AllocatorToMaster;
  const limited = checkFeasible(feasible({ maxTime: 600, memoryLimits: 'off' }), spec({ memGB: 2, memLimit: true }));
  assert.deepEqual([limited.time, limited.memLimit], [600, undefined], 'no -t: the maximum; memory limits off');
  assert.equal(checkFeasible(feasible({ maxTime: 600, memoryLimits: 'on' }), spec({ time: 60 })).time, 60);
});

test('a submission: queued, committed with an undo that takes it (and its script copy) back, then a pass', () => {
  const core = makeCore();
  const req: SubmitReq = { type: 'submit', id: 4, command: 'run.sh a', script: { path: '/w/run.sh', wordEnd: 6 }, ...template() };
  assert.equal(wantsCopy(core, req), core.settings.copyScripts);
  assert.equal(wantsCopy(core, { ...req, copyScript: true }), true);
  assert.equal(wantsCopy(core, { ...req, copyScript: true, script: undefined }), false);
  const d = acceptSubmit(core, req, { command: 'run.sh a', cwd: '/w', cores: 1, memGB: 1, attrs: null }, '/s/job_script.1', 7);
  assert.deepEqual(d.reply, { type: 'submitted', id: 4, jobId: 1 });
  assert.deepEqual(kinds(d.effects), ['putNew', 'setMeta', 'commit', 'dispatch']);
  const commit = d.effects[2]!;
  assert.deepEqual(commit.type === 'commit' && commit.undo, [
    { type: 'removeFile', path: '/s/job_script.1' },
    { type: 'takeBack', first: 1, last: 1 },
  ]);
  assert.deepEqual(core.state.jobs.get(1)!.spec.copy, { path: '/s/job_script.1', wordEnd: 6 });
  takeBack(core.state, 1, 1);
  assert.equal(core.state.jobs.size, 0);
  assert.deepEqual([...core.state.queue], []);
  assert.equal(core.state.nextId, 2, 'an ID taken back is skipped');
});

test('a load in parts: staged until its last part, then accepted whole', () => {
  const core = makeCore();
  const first = stagePart(core, many({ commands: ['a'], last: false }), null, 0);
  const stage = (first.reply as { stage: number }).stage;
  assert.deepEqual(first.reply, { type: 'submittedMany', id: 1, first: null, last: null, stage, staged: 1 });
  stagePart(core, many({ commands: ['b'], stage, last: false }), null, 10);
  const last = stagePart(core, many({ commands: ['c'], stage }), null, 20);
  assert.deepEqual(last.commands, ['a', 'b', 'c']);
  assert.equal(core.staging.size, 0);
  const d = acceptGroup(core, many(), last.commands!, { command: 'a', cwd: '/w', cores: 1, memGB: 1, attrs: null }, 30);
  assert.deepEqual(d.reply, { type: 'submittedMany', id: 1, first: 1, last: 3, stage: null, staged: 0 });
  assert.deepEqual([...core.state.queue], [1, 2, 3]);
});

test('a load whose next part comes too late was dropped; bad bulk requests are refused', () => {
  const core = makeCore();
  const first = stagePart(core, many({ commands: ['a'], last: false }), null, 0);
  const stage = (first.reply as { stage: number }).stage;
  assert.throws(() => stagePart(core, many({ stage }), null, STAGE_TTL_MS + 1), code('NOT_FOUND'));
  assert.throws(() => stagePart(core, many({ commands: [] }), null, 0), code('INVALID_ARGUMENT'));
  assert.throws(() => stagePart(core, many({ kind: 'array', indices: null, commands: ['x'] }), null, 0), code('INVALID_ARGUMENT'));
  assert.throws(() => stagePart(core, many({ kind: 'array', indices: [1, 3], commands: ['x', 'y'] }), null, 0), code('BAD_REQUEST'));
  assert.throws(
    () => stagePart(core, many({ kind: 'array', indices: [1, 3], commands: ['x'], cap: 0 }), null, 0),
    code('INVALID_ARGUMENT'),
  );
  assert.throws(() => stagePart(core, many(), new QpyError('NOT_ALLOWED', 'no'), 0), code('NOT_ALLOWED'));
});

test('an array: one compact group with its cap, indices from the first', () => {
  const core = makeCore();
  add(core);
  const d = acceptGroup(
    core,
    many({ kind: 'array', indices: [5, 8], commands: ['x'], cap: 2 }),
    ['x'],
    { command: 'x', cwd: '/w', cores: 1, memGB: 1, attrs: null },
    0,
  );
  assert.deepEqual(d.reply, { type: 'submittedMany', id: 1, first: 2, last: 5, stage: null, staged: 0 });
  assert.deepEqual(core.state.jobs.get(3)!.spec.group, { id: 2, index: 6, kind: 'array', cap: 2 });
});
