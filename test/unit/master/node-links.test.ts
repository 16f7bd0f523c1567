/**
 * Tests for src/master/node-links.ts: every event from every link state,
 * the down deadline, and the actions each transition asks for; and for the
 * stored leftovers' parsing (daemons/master/node-health.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downDeadline, LINK_UP, linkBack, linkLost, linkReclaimed, linkTick, type NodeLink } from '../../../src/master/node-links.js';
import { parseLeftovers } from '../../../src/daemons/master/node-health.js';

const lost: NodeLink = { kind: 'lost', since: 1000, why: 'refused' };
const down: NodeLink = { kind: 'down', since: 1000, why: 'refused' };
const returning: NodeLink = { kind: 'returning' };
const ALL: NodeLink[] = [LINK_UP, lost, down, returning];

test('lost: up stops grants and starts the clock; later losses only update the reason', () => {
  assert.deepEqual(linkLost(LINK_UP, 'reset', 5000), { link: { kind: 'lost', since: 5000, why: 'reset' }, actions: ['stop_grants'] });
  assert.deepEqual(linkLost(lost, 'timeout', 9000), { link: { ...lost, why: 'timeout' }, actions: [] }, 'the clock keeps its start');
  assert.deepEqual(linkLost(down, 'timeout', 9000), { link: { ...down, why: 'timeout' }, actions: [] });
  assert.deepEqual(
    linkLost(returning, 'reset', 9000),
    { link: { kind: 'down', since: 9000, why: 'reset' }, actions: [] },
    'lost while reclaiming: down again',
  );
});

test('back: a lost link resumes grants, its jobs untouched; a down node is reclaimed first', () => {
  assert.deepEqual(linkBack(LINK_UP), { link: LINK_UP, actions: [] });
  assert.deepEqual(linkBack(lost), { link: LINK_UP, actions: ['resume_grants'] });
  assert.deepEqual(linkBack(down), { link: returning, actions: ['reclaim'] });
  assert.deepEqual(linkBack(returning), { link: returning, actions: [] }, 'one reclaim at a time');
});

test('reclaimed: only a returning node goes back into use (and is no longer shown down)', () => {
  assert.deepEqual(linkReclaimed(returning), { link: LINK_UP, actions: ['resume_grants', 'show_up'] });
  for (const l of [LINK_UP, lost, down]) assert.deepEqual(linkReclaimed(l), { link: l, actions: [] }, l.kind);
});

test('tick: only a lost link past its timeout goes down, failing its jobs', () => {
  assert.deepEqual(linkTick(lost, 1000 + 59_999, 60_000), { link: lost, actions: [] });
  assert.deepEqual(linkTick(lost, 1000 + 60_000, 60_000), { link: down, actions: ['fail_jobs'] });
  for (const l of [LINK_UP, down, returning]) assert.deepEqual(linkTick(l, 1e12, 60_000), { link: l, actions: [] }, l.kind);
});

test('deadline: since + timeout while lost, else none', () => {
  assert.equal(downDeadline(lost, 60_000), 61_000);
  for (const l of [LINK_UP, down, returning]) assert.equal(downDeadline(l, 60_000), null, l.kind);
});

test('every transition is pure', () => {
  for (const l of ALL) {
    const snapshot = structuredClone(l);
    linkLost(l, 'x', 1);
    linkBack(l);
    linkReclaimed(l);
    linkTick(l, 1e12, 1);
    assert.deepEqual(l, snapshot);
  }
});

test('stored leftovers: node → job IDs; anything malformed is dropped, never thrown', () => {
  assert.deepEqual(
    parseLeftovers('{"n1":[3,4],"n2":[]}'),
    new Map([
      ['n1', new Set([3, 4])],
      ['n2', new Set()],
    ]),
  );
  assert.deepEqual(parseLeftovers('{"n1":[3,"x",-1,1.5,null]}'), new Map([['n1', new Set([3])]]));
  for (const bad of [undefined, '', 'not json', '[1,2]', 'null', '7', '{"n1":5}']) {
    const m = parseLeftovers(bad);
    assert.ok(
      [...m.values()].every((s) => s.size === 0),
      String(bad),
    );
  }
});
