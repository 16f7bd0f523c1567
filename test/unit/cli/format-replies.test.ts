/** Tests for src/cli/format-replies.ts: get_plural (§8.2) and the kill/clean/sub replies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatClean, formatKill, formatSubmitted, getPlural, NOTHING_TO_DO, plural } from '../../../src/cli/format-replies.js';

test('get_plural rows of §8.2', () => {
  assert.deepEqual(getPlural(0), ['jobs', 'No']);
  assert.deepEqual(getPlural(1), ['job', '1']);
  assert.deepEqual(getPlural(16), ['jobs', '16']);
  assert.deepEqual(getPlural([]), ['jobs', 'No']);
  assert.deepEqual(getPlural(['running']), ['job', 'running']);
  assert.deepEqual(getPlural(['queued', 'running', 'killed']), ['jobs', 'queued, running and killed']);
  assert.deepEqual(getPlural(['a', 'b']), ['jobs', 'a and b']);
});

test('plural text', () => {
  assert.equal(plural(0), 'No jobs');
  assert.equal(plural(1), '1 job');
  assert.equal(plural(16), '16 jobs');
  assert.equal(plural(2, 'node'), '2 nodes');
  assert.equal(plural(1, 'process', 'processes'), '1 process');
  assert.equal(plural(['queued', 'running']), 'queued and running jobs');
});

test('kill reply lines, only those that apply, in order', () => {
  assert.equal(formatKill(1, 0), '1 job removed from the queue.\n');
  assert.equal(formatKill(0, 3), '3 jobs will be killed.\n');
  assert.equal(formatKill(2, 1), '2 jobs removed from the queue.\n1 job will be killed.\n');
  assert.equal(formatKill(2_000_000, 0), '2000000 jobs removed from the queue.\n');
  assert.equal(formatKill(0, 0), '');
});

test('clean, sub and nothing-to-do', () => {
  assert.equal(formatClean(7), '7 finished jobs removed.\n');
  assert.equal(formatClean(1), '1 finished job removed.\n');
  assert.equal(formatClean(0), '');
  assert.equal(formatSubmitted(7), 'Job 7 received.\n');
  assert.equal(NOTHING_TO_DO, 'Nothing to do: required jobs not found.');
});
