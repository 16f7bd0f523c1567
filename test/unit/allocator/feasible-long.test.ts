/**
 * A feasibility problem quotes the job's attributes, which may be 4096
 * characters long: the quote is cut at 200, so the message stays within what
 * a `feasibility` reply may carry (found by bench/fuzz, seed 2750595770).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAllocator } from '../../../src/allocator/state.js';
import { DEFAULT_RULES } from '../../../src/allocator/rules.js';
import { checkFeasible } from '../../../src/allocator/feasible.js';

const s = createAllocator(
  [{ name: 'n1', address: 'localhost', cores: 4, memGB: 16, attributes: ['fast'], prefMulticore: false, checkDir: null }],
  DEFAULT_RULES,
);

test('a 4000-character attribute is quoted cut at 200 characters', () => {
  const long = 'a'.repeat(4000);
  const problem = checkFeasible(s, { cores: 1, memGB: 1, attrs: long }) ?? '';
  assert.equal(problem, `no node has attribute "${'a'.repeat(200)}…"`);
  const expr = `fast and ${'b'.repeat(4000)}`;
  const p2 = checkFeasible(s, { cores: 1, memGB: 1, attrs: expr }) ?? '';
  assert.ok(p2.length < 700, p2);
  assert.match(p2, /^no node matches the attributes "fast and b{191}…" \(no node has attribute "b{200}…"\)$/);
});
