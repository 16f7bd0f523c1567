import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distribute, parseRules, type Rules } from '../../../src/allocator/rules.js';

const USERS = ['user1', 'user2', 'user3'];

function rules(text: string): Rules {
  const r = parseRules(text);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.rules;
}

/** The min/extra of each user, as "min/extra" strings, or the error message. */
function shares(text: string, total: number, users = USERS): string[] | string {
  const r = distribute(rules(text), total, users);
  if (!r.ok) return r.message;
  return users.map((u) => {
    const s = r.shares.get(u)!;
    return `${s.min}/${s.extra}`;
  });
}

test('§3.4 table: even (10 cores) -> 0/4 0/3 0/3', () => {
  assert.deepEqual(shares('even', 10), ['0/4', '0/3', '0/3']);
});

test('§3.4 table: even minimum 2 (17 cores) -> 2/4 2/4 2/3', () => {
  assert.deepEqual(shares('even minimum 2', 17), ['2/4', '2/4', '2/3']);
});

test('§3.4 table: explicit / user1 4 / user2 50% -> 0/12 0/28 0/0', () => {
  assert.deepEqual(shares('explicit\nuser1 4\nuser2 50%', 40), ['0/12', '0/28', '0/0']);
});

test('§3.4 table: explicit minimum 2 / user1 30% / user2 4+50% -> 2/13 4/19 2/0', () => {
  assert.deepEqual(shares('explicit minimum 2\nuser1 30%\nuser2 4+50%', 40), ['2/13', '4/19', '2/0']);
});

test('§3.4 table: explicit minimum 2 / user1 0+10 / user2 4+10 -> 0/17 4/17 2/0', () => {
  assert.deepEqual(shares('explicit minimum 2\nuser1 0+10\nuser2 4+10', 40), ['0/17', '4/17', '2/0']);
});

test('§3.4 table: explicit / user1 2+0 / user2 3+0 -> 2/18 3/17 0/0', () => {
  assert.deepEqual(shares('explicit\nuser1 2+0\nuser2 3+0', 40), ['2/18', '3/17', '0/0']);
});

test('§3.4 table: explicit / user1 30 / user2 30 (over-allocation) -> 0/20 0/20 0/0', () => {
  assert.deepEqual(shares('explicit\nuser1 30\nuser2 30', 40), ['0/20', '0/20', '0/0']);
});

test('§3.4 table: even minimum 14 -> Requirement exceeds the number of cores', () => {
  const msg = shares('even minimum 14', 40);
  assert.equal(typeof msg, 'string');
  assert.match(msg as string, /^Requirement exceeds the number of cores/);
});

test('explicit minimums that exceed the cores fail too', () => {
  assert.match(
    shares('explicit\nuser1 30+0\nuser2 11+0', 40) as string,
    /^Requirement exceeds the number of cores: the minimums add up to 41 > 40 cores/,
  );
});

test('user=spec syntax, comments and blank lines give the same result', () => {
  const text = '# shares\n\nexplicit minimum 2   # header\n\nuser1=30%\n  # user2 gets more\nuser2=4+50%\n';
  assert.deepEqual(shares(text, 40), ['2/13', '4/19', '2/0']);
  assert.deepEqual(shares('explicit\nuser1=4\nuser2 50%', 40), ['0/12', '0/28', '0/0']);
});

test('no listed user registered: terminates, remainder not distributed', () => {
  assert.deepEqual(shares('explicit\nalice=4\nbob=50%', 40), ['0/0', '0/0', '0/0']);
  assert.deepEqual(shares('explicit minimum 3', 40), ['3/0', '3/0', '3/0']);
});

test('unregistered listed users are skipped; the remainder goes to registered listed users', () => {
  assert.deepEqual(shares('explicit\nghost 10\nuser2 5', 40), ['0/0', '0/40', '0/0']);
});

test('negative remainder never drives an extra below 0, and always terminates', () => {
  // base 40: user1 0, user2 50 -> left -10, taken only from user2.
  assert.deepEqual(shares('explicit\nuser1 0\nuser2 50', 40), ['0/0', '0/40', '0/0']);
  assert.deepEqual(shares('explicit\nuser1 100%\nuser2 100%\nuser3 100%', 7), ['0/2', '0/2', '0/3']);
});

test('even with no users, and with zero cores', () => {
  const r = distribute(rules('even minimum 2'), 10, []);
  assert.ok(r.ok);
  assert.equal(r.shares.size, 0);
  assert.deepEqual(shares('even', 0), ['0/0', '0/0', '0/0']);
});

test('fractional percentages are floored', () => {
  // 12.5% of 10 = 1.25 -> 1; remainder 9 alternates user1, user2 -> 1+5, 0+4.
  assert.deepEqual(shares('explicit\nuser1 12.5%\nuser2 0', 10, ['user1', 'user2']), ['0/6', '0/4']);
});

test('parse: header forms', () => {
  assert.deepEqual(rules('even'), { type: 'even', minimum: 0, entries: [] });
  assert.deepEqual(rules('explicit minimum 3'), { type: 'explicit', minimum: 3, entries: [] });
  assert.deepEqual(rules('explicit\nu1 2+25%').entries, [{ user: 'u1', min: 2, amount: 25, percent: true, line: 2 }]);
});

test('parse: errors name the line', () => {
  const cases: [string, number, RegExp][] = [
    ['', 1, /the distribution rules file is empty/],
    ['# nothing\n\n', 1, /empty/],
    ['fair', 1, /unknown type of distribution "fair"/],
    ['even maximum 2', 1, /expected "minimum" or "gpu_minimum" after "even", got "maximum"/],
    ['even minimum', 1, /"minimum" needs a non-negative integer number of cores, got nothing/],
    ['even minimum two', 1, /got "two"/],
    ['even minimum -1', 1, /got "-1"/],
    ['even minimum 2 3', 1, /unexpected "3"/],
    ['even\nuser1 4', 2, /an "even" distribution takes no user lines/],
    ['explicit\nuser1', 2, /expected "<user> <share> \[gpus=<share>\]" or "<user>=<share> \[gpus=<share>\]", got "user1"/],
    ['explicit\nuser1 4 5', 2, /expected "<user> <share> \[gpus=<share>\]"/],
    ['explicit\nuser1 four', 2, /invalid share "four" for user user1/],
    ['explicit\nuser1 2.5', 2, /whole number of cores/],
    ['explicit\nuser1 150%', 2, /more than 100%/],
    ['explicit\n\nuser1 4\nuser1 5', 4, /user user1 is already listed on line 3/],
    ['explicit\nus/er 4', 2, /invalid user name "us\/er"/],
  ];
  for (const [text, line, re] of cases) {
    const r = parseRules(text);
    assert.ok(!r.ok, text);
    assert.equal(r.line, line, text);
    assert.match(r.message, re, text);
  }
});
