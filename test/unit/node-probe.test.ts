/**
 * The node probe's output, parsed: live job wrappers by their tags, and busy
 * processes split into outsiders and qpy's own. A probe that could not list
 * the wrappers (no `tags-ok`) gives no list at all, so nothing is released
 * on its word.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProbe } from '../../src/executor/node-probe.js';
import { jobTag, parseJobTag } from '../../src/executor/wrapper.js';

const BASE = 'cores 8\nload 1.5\nmem 16777216 8388608\n';

test('tags and the busy split are read; the outsiders are the busy processes that are not qpy’s', () => {
  const r = parseProbe(`${BASE}tag 4242 alice:12:1\ntag 4243 bob.smith:7:3\ntag 9 not-a-tag\ntags-ok\nbusy 2 3\n`)!;
  assert.deepEqual(r.tags, [
    { pid: 4242, user: 'alice', jobId: 12, attempt: 1 },
    { pid: 4243, user: 'bob.smith', jobId: 7, attempt: 3 },
  ]);
  assert.equal(r.busy, 5);
  assert.equal(r.outsiders, 2);
  assert.equal(r.memUsedGB, 8);
});

test('no tags-ok: no list and no split (the old count stands, minus qpy’s held cores, as before)', () => {
  const r = parseProbe(`${BASE}tag 4242 alice:12:1\nbusy 4\n`)!;
  assert.equal(r.tags, null);
  assert.equal(r.outsiders, null);
  assert.equal(r.busy, 4);
  const none = parseProbe(BASE)!;
  assert.equal(none.busy, null);
  assert.equal(none.tags, null);
});

test('a tag is USER:JOB:ATTEMPT and reads back; anything else is not one', () => {
  assert.equal(jobTag('alice', 12, 2), 'alice:12:2');
  assert.deepEqual(parseJobTag(jobTag('a_b-c.d', 1, 1)), { user: 'a_b-c.d', jobId: 1, attempt: 1 });
  for (const bad of ['alice:12', 'alice:x:1', ':1:1', 'a:1:1:1', 'al ice:1:1', 'alice:12:1 ']) assert.equal(parseJobTag(bad), null, bad);
});
