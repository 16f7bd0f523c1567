/** Tests for Listings (src/master/listings.ts): a check listing read a page at a time, dropped when done, idle or too many. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Listings } from '../../../src/master/listings.js';
import { QpyError } from '../../../src/errors.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const gone = (e: unknown) => e instanceof QpyError && e.code === 'NOT_FOUND';

test('pages follow each other; the listing goes after its last page', () => {
  const l = new Listings();
  const c = l.keep(ids(25), 10, 0);
  assert.deepEqual(l.page(c, 1, 10), { ids: ids(20).slice(10), more: true });
  assert.deepEqual(l.page(c, 2, 10), { ids: [21, 22, 23, 24, 25], more: false });
  assert.throws(() => l.page(c, 3, 10), gone);
});

test('a listing not read on for 10 minutes is dropped, and the oldest of too many', () => {
  const l = new Listings();
  const idle = l.keep(ids(30), 10, 0);
  assert.throws(() => l.page(idle, 600_001, 10), gone);
  const first = l.keep(ids(30), 10, 0);
  const others = Array.from({ length: 16 }, () => l.keep(ids(30), 10, 0));
  assert.throws(() => l.page(first, 1, 10), gone);
  assert.equal(l.page(others[0]!, 1, 10).more, true);
});
