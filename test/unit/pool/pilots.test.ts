/**
 * A pool's pilots as squeue listings and agent connections change them
 * (src/pool/pilots.ts): adoption of pilots qpy does not know, what each row
 * tells (reason, host, end), which pilots are gone, and a connected agent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyListing, newPilot, pilotConnected, started, type Pilot } from '../../../src/pool/pilots.js';
import { joined, pending, row, running } from './fixtures.js';

const map = (...ps: Pilot[]) => new Map(ps.map((p) => [p.jobId, p]));

test('a new pilot knows nothing but its job and when', () => {
  assert.deepEqual(newPilot('7', 123), {
    jobId: '7',
    since: 123,
    slurmState: null,
    reason: null,
    host: null,
    endsAt: null,
    connected: false,
    node: null,
    idleSince: null,
    ending: null,
  });
});

test('started: only while Slurm runs its script', () => {
  for (const s of ['RUNNING', 'SIGNALING', 'STAGE_OUT']) assert.ok(started({ ...newPilot('1', 0), slurmState: s }), s);
  for (const s of [null, 'PENDING', 'CONFIGURING', 'COMPLETING', 'SUSPENDED', 'COMPLETED'])
    assert.ok(!started({ ...newPilot('1', 0), slurmState: s }), String(s));
});

test('applyListing: unknown live pilots are adopted (an earlier life of qpy submitted them)', () => {
  const pilots = map();
  const gone = applyListing(
    pilots,
    [
      row('10', 'PENDING', { reason: 'Priority', timeLeftS: 3600 }),
      row('11', 'RUNNING', { node: 'c1', timeLeftS: 100 }),
      row('12', 'CONFIGURING', { node: 'c2', timeLeftS: 3600 }),
    ],
    5000,
  );
  assert.deepEqual(gone, []);
  assert.deepEqual(pilots.get('10'), { ...newPilot('10', 5000), slurmState: 'PENDING', reason: 'Priority' });
  assert.deepEqual(pilots.get('11'), { ...newPilot('11', 5000), slurmState: 'RUNNING', host: 'c1', endsAt: 105_000 });
  assert.deepEqual(pilots.get('12'), { ...newPilot('12', 5000), slurmState: 'CONFIGURING', host: 'c2' }, 'no end before it runs');
});

test('applyListing: ended states are ignored (never adopted; a known pilot so shown is gone)', () => {
  const pilots = map(running('1', 'c1', 10_000));
  const ended = ['COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE'];
  const gone = applyListing(
    pilots,
    ended.map((s, i) => row(i === 0 ? '1' : String(100 + i), s, { node: 'c1', timeLeftS: 0 })),
    5000,
  );
  assert.deepEqual(
    gone.map((p) => p.jobId),
    ['1'],
  );
  assert.equal(pilots.size, 0);
  assert.equal(gone[0]!.slurmState, 'RUNNING', 'the ended row changed nothing');
});

test('applyListing: a pending pilot keeps its reason, which goes once it runs', () => {
  const pilots = map(pending('1', 0, null));
  applyListing(pilots, [row('1', 'PENDING', { reason: 'Resources' })], 1000);
  assert.equal(pilots.get('1')!.reason, 'Resources');
  applyListing(pilots, [row('1', 'PENDING', { reason: 'Priority' })], 2000);
  assert.equal(pilots.get('1')!.reason, 'Priority');
  applyListing(pilots, [row('1', 'PENDING', { reason: null })], 3000);
  assert.equal(pilots.get('1')!.reason, null);
  applyListing(pilots, [row('1', 'RUNNING', { reason: 'None?', node: 'c9', timeLeftS: 60 })], 4000);
  assert.deepEqual(pilots.get('1'), { ...pending('1', 0, null), slurmState: 'RUNNING', host: 'c9', endsAt: 64_000 });
});

test("applyListing: a pending row's node or time left is not the pilot's", () => {
  const pilots = map(pending('1'));
  applyListing(pilots, [row('1', 'PENDING', { node: 'c1', timeLeftS: 3600 })], 1000);
  assert.equal(pilots.get('1')!.host, null);
  assert.equal(pilots.get('1')!.endsAt, null);
});

test('applyListing: host and end follow the running rows; a row without time left keeps the end known', () => {
  const pilots = map(joined('1', 50_000, 0));
  applyListing(pilots, [row('1', 'RUNNING', { node: 'h1', timeLeftS: 30 })], 10_000);
  assert.equal(pilots.get('1')!.endsAt, 40_000, 'Slurm said: 30 s left at 10 s');
  applyListing(pilots, [row('1', 'RUNNING', { node: 'h1', timeLeftS: null })], 20_000);
  assert.equal(pilots.get('1')!.endsAt, 40_000);
  applyListing(pilots, [row('1', 'COMPLETING', { node: 'h1', timeLeftS: 5 })], 30_000);
  const p = pilots.get('1')!;
  assert.equal(p.slurmState, 'COMPLETING');
  assert.equal(p.endsAt, 40_000, 'not running: its time left is not read');
  assert.equal(p.node, 'p-1', 'still listed: still joined');
  assert.equal(p.idleSince, 0, "qpy's own fields are untouched");
});

test('applyListing: known pilots it does not show are gone and dropped', () => {
  const a = running('1', 'c1', null, 0);
  const b = pending('2', 100);
  const c = joined('3', 1e9, 0);
  const pilots = map(a, b, c);
  const gone = applyListing(pilots, [row('2', 'PENDING')], 1000);
  assert.deepEqual(gone, [a, c]);
  assert.deepEqual([...pilots.keys()], ['2']);
  assert.deepEqual(applyListing(pilots, [], 2000), [b]);
  assert.equal(pilots.size, 0);
});

test('applyListing: a pilot submitted after the listing started (or at its very moment) is not gone', () => {
  const pilots = map(pending('1', 1001), pending('2', 1000), pending('3', 999));
  const gone = applyListing(pilots, [], 1000);
  assert.deepEqual(
    gone.map((p) => p.jobId),
    ['3'],
  );
  assert.deepEqual([...pilots.keys()], ['1', '2']);
  assert.deepEqual(
    applyListing(pilots, [], 1002).map((p) => p.jobId),
    ['1', '2'],
    'the next listing judges them',
  );
});

test('pilotConnected: an unknown pilot is not taken on (Slurm vouches for pilots: a listing must show it first)', () => {
  const pilots = map();
  assert.equal(pilotConnected(pilots, '9', 'c3'), null);
  assert.equal(pilots.size, 0);
  applyListing(pilots, [row('9', 'RUNNING', { node: 'c3', timeLeftS: 60 })], 1000);
  assert.deepEqual(pilotConnected(pilots, '9', 'c3'), {
    ...newPilot('9', 1000),
    slurmState: 'RUNNING',
    host: 'c3',
    endsAt: 61_000,
    connected: true,
  });
});

test('pilotConnected: a pilot Slurm still listed as pending runs now', () => {
  const pilots = map(pending('1', 5));
  const p = pilotConnected(pilots, '1', 'c1')!;
  assert.deepEqual(p, { ...pending('1', 5), slurmState: 'RUNNING', reason: null, host: 'c1', connected: true });
  assert.ok(started(p));
});

test("pilotConnected: a running pilot keeps Slurm's state and its fields; the host is where its agent says", () => {
  const sig = { ...running('1', 'old', 5000), slurmState: 'SIGNALING' };
  const pilots = map(sig, joined('2', 9000, null));
  pilotConnected(pilots, '1', 'new');
  assert.deepEqual(pilots.get('1'), { ...sig, host: 'new', connected: true });
  const p2 = pilotConnected(pilots, '2', 'h2');
  assert.deepEqual(p2, { ...joined('2', 9000, null), connected: true });
});

test('pilotConnected: a pilot qpy is ending stays ending', () => {
  const pilots = map({ ...pending('1'), ending: 'surplus' });
  assert.equal(pilotConnected(pilots, '1', 'c1')!.ending, 'surplus');
});
