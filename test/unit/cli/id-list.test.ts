/** Tests for src/cli/id-list.ts: ID-list syntax (spec §5) and selector building. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIdList, parseSelector } from '../../../src/cli/id-list.js';
import { CHECK_WORDS, CLEAN_WORDS, KILL_WORDS } from '../../../src/protocol/user-master.js';

test('valid ID lists from the spec', () => {
  assert.deepEqual(parseIdList('100-120'), [[100, 120]]);
  assert.deepEqual(parseIdList('130-135,137'), [
    [130, 135],
    [137, 137],
  ]);
  assert.deepEqual(parseIdList('10-14,4,30'), [
    [10, 14],
    [4, 4],
    [30, 30],
  ]);
  assert.deepEqual(parseIdList('20'), [[20, 20]]);
  assert.deepEqual(parseIdList('007'), [[7, 7]]);
});

test('B<A is an empty range kept as-is', () => {
  assert.deepEqual(parseIdList('5-3'), [[5, 3]]);
});

test('invalid ID lists are null', () => {
  for (const w of [
    '3-',
    '-3',
    '1-2-3',
    '0',
    '0-4',
    '4-0',
    'a',
    '1,,2',
    '1,',
    ',1',
    '',
    '1.5',
    '+3',
    ' 3',
    '3 ',
    '1e3',
    '-',
    'all',
    '9999999999999999',
  ]) {
    assert.equal(parseIdList(w), null, w);
  }
});

const noDirs = (): string | null => null;

test('words are tried as status, then ID list, then directory', () => {
  const seen: string[] = [];
  const isDir = (w: string): string | null => {
    seen.push(w);
    return w === 'wd' || w === 'queue' || w === '12' ? `/abs/${w}` : null;
  };
  const r = parseSelector(['queue', '12', 'wd', '3-4,9', 'done'], CHECK_WORDS, isDir);
  assert.deepEqual(r, {
    ok: true,
    selector: {
      statuses: ['queue', 'done'],
      dirs: ['/abs/wd'],
      ranges: [
        [12, 12],
        [3, 4],
        [9, 9],
      ],
    },
  });
  assert.deepEqual(seen, ['wd']);
});

test('a status word not allowed for the command falls through to directory lookup', () => {
  assert.deepEqual(parseSelector(['all'], CHECK_WORDS, noDirs), { ok: false, word: 'all', reason: 'pattern' });
  assert.deepEqual(
    parseSelector(['all'], CHECK_WORDS, (w) => `/cwd/${w}`),
    {
      ok: true,
      selector: { statuses: [], dirs: ['/cwd/all'], ranges: [] },
    },
  );
  assert.deepEqual(parseSelector(['running'], CLEAN_WORDS, noDirs), { ok: false, word: 'running', reason: 'pattern' });
  assert.equal(parseSelector(['all', 'queue', 'running'], KILL_WORDS, noDirs).ok, true);
});

test('unknown words are reported; no words is an empty selector', () => {
  assert.deepEqual(parseSelector(['1', 'foo', 'bar'], CHECK_WORDS, noDirs), { ok: false, word: 'foo', reason: 'pattern' });
  assert.deepEqual(parseSelector([], CHECK_WORDS, noDirs), { ok: true, selector: { statuses: [], dirs: [], ranges: [] } });
  assert.deepEqual(
    parseSelector([''], CHECK_WORDS, () => '/x'),
    { ok: false, word: '', reason: 'pattern' },
  );
});

test('duplicates of statuses and directories are dropped', () => {
  const r = parseSelector(['done', 'done', 'a', 'b'], CHECK_WORDS, () => '/same');
  assert.deepEqual(r, { ok: true, selector: { statuses: ['done'], dirs: ['/same'], ranges: [] } });
});

test('selectors beyond the wire limits are refused', () => {
  const words = Array.from({ length: 1001 }, (_, i) => `d${i}`);
  assert.deepEqual(
    parseSelector(words, CHECK_WORDS, (w) => `/${w}`),
    { ok: false, word: 'd1000', reason: 'limit' },
  );
  const big = Array.from({ length: 100_001 }, (_, i) => String(i + 1)).join(',');
  assert.deepEqual(parseSelector([big], CHECK_WORDS, noDirs), { ok: false, word: big, reason: 'limit' });
});
