import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  expressionNames,
  formatAttrExpr,
  isValidAttrName,
  matchesNode,
  parseAttrExpr,
  type AttrExpr,
} from '../../../src/allocator/attributes.js';

function parse(text: string | null): AttrExpr | null {
  const r = parseAttrExpr(text);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.expr;
}

function error(text: string): string {
  const r = parseAttrExpr(text);
  assert.ok(!r.ok, `expected "${text}" to be rejected`);
  return r.message;
}

const node1 = (text: string): boolean => matchesNode(parse(text), 'node1', ['big', 'fast']);

test('§3.7 table: valid expressions on node1 {big, fast}', () => {
  assert.equal(node1('big'), true);
  assert.equal(node1('(big)and(infiband)'), false);
  assert.equal(node1('not((big)or(infiband))'), false);
  assert.equal(node1('big and not fast'), false);
  assert.equal(node1('node1'), true);
});

test('§3.7 table: invalid expressions are now rejected with a clear message', () => {
  assert.equal(error('big and'), 'invalid attribute expression "big and": expected an attribute after "and"');
  assert.equal(error('big or'), 'invalid attribute expression "big or": expected an attribute after "or"');
  assert.equal(error('big xx'), 'invalid attribute expression "big xx": expected "and" or "or" between "big" and "xx"');
  assert.match(error('(big'), /missing "\)"/);
  assert.match(error('big)'), /unexpected "\)"/);
  assert.match(error('()'), /empty parentheses/);
  assert.match(error('and big'), /expected an attribute before "and"/);
  assert.match(error('big and or fast'), /expected an attribute after "and", got "or"/);
  assert.match(error('not'), /expected an attribute after "not"/);
  assert.match(error('big && fast'), /"&&" is not an attribute name/);
  assert.match(error('(big fast)'), /expected "and", "or" or "\)" before "fast"/);
  assert.match(error('big (fast)'), /between "big" and "\("/);
});

test('empty, blank and null expressions match every node', () => {
  assert.equal(parse(null), null);
  assert.equal(parse(''), null);
  assert.equal(parse('   '), null);
  assert.equal(matchesNode(null, 'n', []), true);
});

test('precedence: not > and > or, left-associative', () => {
  assert.equal(formatAttrExpr(parse('a or b and c')), '(a or (b and c))');
  assert.equal(formatAttrExpr(parse('a and b or c')), '((a and b) or c)');
  assert.equal(formatAttrExpr(parse('not a and b')), '(not a and b)');
  assert.equal(formatAttrExpr(parse('not not a')), 'not not a');
  assert.equal(formatAttrExpr(parse('a or b or c')), '((a or b) or c)');
  // a or (b and c) with a false, b true, c false -> false; (a or b) and c would also be false,
  // so pick values that tell the groupings apart.
  assert.equal(matchesNode(parse('a or b and c'), 'n', ['a']), true);
  assert.equal(matchesNode(parse('(a or b) and c'), 'n', ['a']), false);
  assert.equal(matchesNode(parse('not a and b'), 'n', ['b']), true);
  assert.equal(matchesNode(parse('not (a and b)'), 'n', ['a', 'b']), false);
  assert.equal(matchesNode(parse('not a or b'), 'n', ['a']), false);
});

test('nesting and glued parentheses', () => {
  const e = parse('((big)and((fast)or(gpu)))or(node7)');
  assert.equal(matchesNode(e, 'x', ['big', 'gpu']), true);
  assert.equal(matchesNode(e, 'x', ['big']), false);
  assert.equal(matchesNode(e, 'node7', []), true);
  assert.equal(matchesNode(parse('not(not(big))'), 'x', ['big']), true);
  assert.equal(matchesNode(parse('  big\tand\nfast '), 'x', ['big', 'fast']), true);
});

test('expressionNames lists identifiers once, in order', () => {
  assert.deepEqual(expressionNames(parse('big and not (fast or big) or node-1.local')), ['big', 'fast', 'node-1.local']);
  assert.deepEqual(expressionNames(null), []);
});

test('attribute names: keywords and odd characters are not names', () => {
  assert.equal(isValidAttrName('gpu-a100'), true);
  assert.equal(isValidAttrName('and'), false);
  assert.equal(isValidAttrName('a,b'), false);
  // Keywords are case-sensitive, as in the original: AND is an attribute name.
  assert.equal(matchesNode(parse('AND'), 'x', ['AND']), true);
});

// Finding 5 of issue 13: deep or unbalanced parentheses overflowed the stack ("Maximum call stack size exceeded").
function refusal(text: string): { code: string; message: string } {
  const r = parseAttrExpr(text);
  assert.ok(!r.ok, 'expected the expression to be rejected');
  return { code: r.code, message: r.message };
}
const nested = (depth: number, inner = 'a'): string => '('.repeat(depth) + inner + ')'.repeat(depth);

test('3000 opening parentheses are BAD_EXPR, not a stack overflow', () => {
  const r = refusal('('.repeat(3000));
  assert.equal(r.code, 'BAD_EXPR');
  assert.match(r.message, /nest more than 64 deep$/);
  assert.ok(r.message.length < 200, `one short line, not ${r.message.length} characters`);
  assert.equal(refusal(`${'('.repeat(3000)} true`).code, 'BAD_EXPR');
  assert.equal(refusal(`${'not '.repeat(3000)}a`).code, 'BAD_EXPR');
  assert.equal(refusal(`${'not ('.repeat(3000)}a`).code, 'BAD_EXPR');
});

test('3000 balanced parentheses are BAD_EXPR', () => {
  assert.equal(refusal(nested(3000)).code, 'BAD_EXPR');
  assert.equal(refusal(nested(3000, 'a and b')).code, 'BAD_EXPR');
});

test('64 levels of nesting parse; 65 are BAD_EXPR', () => {
  assert.equal(matchesNode(parse(nested(64)), 'x', ['a']), true);
  assert.equal(refusal(nested(65)).code, 'BAD_EXPR');
  assert.equal(matchesNode(parse(`${'not '.repeat(64)}a`), 'x', ['a']), true);
  assert.equal(refusal(`${'not '.repeat(65)}a`).code, 'BAD_EXPR');
  // "not" and "(" count together: 32 of each is 64.
  assert.equal(matchesNode(parse(`${'not ('.repeat(32)}a${')'.repeat(32)}`), 'x', ['a']), true);
  assert.equal(refusal(`${'not ('.repeat(32)}not a${')'.repeat(32)}`).code, 'BAD_EXPR');
  // Side by side is not deeper: 64 levels twice.
  assert.equal(matchesNode(parse(`${nested(64)} and ${nested(64, 'b')}`), 'x', ['a', 'b']), true);
});

test('other syntax errors keep INVALID_EXPRESSION, unbalanced within the limit too', () => {
  assert.deepEqual(refusal('((a)'), { code: 'INVALID_EXPRESSION', message: 'invalid attribute expression "((a)": missing ")"' });
  assert.equal(refusal('('.repeat(64)).code, 'INVALID_EXPRESSION');
  assert.equal(refusal(`a${')'.repeat(3000)}`).code, 'INVALID_EXPRESSION');
  assert.equal(refusal('big and').code, 'INVALID_EXPRESSION');
});

test('long flat expressions parse, match, list and format without recursion', () => {
  const n = 200_000;
  const ands = Array.from({ length: n }, (_, i) => `a${i % 7}`).join(' and ');
  const e = parse(ands);
  assert.equal(matchesNode(e, 'x', ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6']), true);
  assert.equal(matchesNode(e, 'x', ['a0', 'a1', 'a2', 'a3', 'a4', 'a5']), false);
  assert.deepEqual(expressionNames(e), ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
  assert.equal(formatAttrExpr(e).length, ands.length + 2 * (n - 1));
  const ors = parse(Array.from({ length: n }, (_, i) => `b${i}`).join(' or '));
  assert.equal(matchesNode(ors, 'x', [`b${n - 1}`]), true);
  assert.equal(matchesNode(ors, 'x', ['c']), false);
  const mixed = parse(Array.from({ length: n }, (_, i) => `(not c${i % 3} or d)`).join(' and '));
  assert.equal(matchesNode(mixed, 'x', ['d']), true);
  assert.equal(matchesNode(mixed, 'x', ['c1']), false);
  const long = refusal(`${ands} and`);
  assert.equal(long.code, 'INVALID_EXPRESSION');
  assert.ok(long.message.length < 200, `the text is shortened in the message, not ${long.message.length} characters`);
});
