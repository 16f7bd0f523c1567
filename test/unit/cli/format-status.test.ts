/** Tests for src/cli/format-status.ts: the §6.4 layout and the §8.2 printing rows, byte for byte. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNodeRow, formatNodes, formatStatus, formatUserRow, formatUsers, pyFixed } from '../../../src/cli/format-status.js';
import type { NodeView, UserView } from '../../../src/protocol/cluster.js';

function node(over: Partial<NodeView>): NodeView {
  return {
    name: 'node1',
    address: 'node1',
    cores: 0,
    usedCores: 0,
    outsiders: 0,
    load: 0,
    totalMemGB: 0,
    usedMemGB: 0,
    reqMemGB: 2,
    disk: null,
    attributes: [],
    up: true,
    drained: false,
    removed: false,
    prefMulticore: false,
    ...over,
  };
}
const user = (name: string, usedCores: number, queueSize: number): UserView => ({ name, usedCores, queueSize, minCores: 0, extraCores: 0 });

// nodes Printing.setUp / PrintingNodes.setUp (unit_tests/test_nodes.py)
const n1 = node({ cores: 10, usedCores: 2, totalMemGB: 50, usedMemGB: 30, load: 1, disk: { usedGB: 80, totalGB: 100 } });
const n2 = node({
  name: 'node2',
  up: false,
  cores: 100,
  usedCores: 20,
  reqMemGB: 20,
  totalMemGB: 100,
  usedMemGB: 80,
  load: 3,
  disk: { usedGB: 170, totalGB: 200 },
});

test('new marks: (drained) and (removed) sit where (down) does, and count towards the 28-column rule', () => {
  assert.equal(
    formatNodeRow({ ...n1, drained: true }),
    'node1 (drained)                  ' + '  2    10     1.0     30.0     2.0    50.0    80    100',
  );
  assert.equal(
    formatNodeRow({ ...n1, up: false, removed: true }),
    'node1 (down) (removed)           ' + '  2    10     1.0     30.0     2.0    50.0    80    100',
  );
  assert.match(formatNodeRow({ ...n1, drained: true, attributes: ['abcdefgh', 'ijk'] }), /^node1 \(drained\) +2 .* {4}\[abcdefgh,ijk\]$/);
});

test('nodes Printing.test1 and test2', () => {
  assert.equal(formatNodeRow(n1), 'node1                            ' + '  2    10     1.0     30.0     2.0    50.0    80    100');
  assert.equal(
    formatNodeRow({ ...n1, up: false }),
    'node1 (down)                     ' + '  2    10     1.0     30.0     2.0    50.0    80    100',
  );
});

test('node rows listed in §6.4', () => {
  assert.equal(formatNodeRow(n1), 'node1                              2    10     1.0     30.0     2.0    50.0    80    100');
  assert.equal(formatNodeRow(n2), 'node2 (down)                      20   100     3.0     80.0    20.0   100.0   170    200');
});

test('nodes PrintingNodes.test1 (plus the newline qpy status adds)', () => {
  const reference =
    '                                   cores                    memory (GB)       disk (GB)\n' +
    'node                            used  total   load     used     req   total  used  total\n' +
    '----------------------------------------------------------------------------------------\n' +
    'node1                              2    10     1.0     30.0     2.0    50.0    80    100\n' +
    'node2 (down)                      20   100     3.0     80.0    20.0   100.0   170    200\n' +
    '========================================================================================\n' +
    'There are 0 out of a total of 110 cores being used.';
  assert.equal(formatNodes([n1, n2], 0, 110), reference);
});

test('users Printing.test1/2 and PrintingNodes.test1', () => {
  assert.equal(formatUserRow(user('user1', 10, 8)), 'user1                            10                8    ');
  assert.equal(formatUserRow(user('user1', 10, 0)), 'user1                            10                0    ');
  const reference =
    'user                          using cores        queue size\n' +
    '----------------------------------------------------------------------------------------\n' +
    'user1                            10                8    \n' +
    'user2                            4                 0    \n' +
    '========================================================================================';
  assert.equal(formatUsers([user('user1', 10, 8), user('user2', 4, 0)]), reference);
  assert.equal(formatUsers([]), 'No users.');
});

test('the full §6.4 example', () => {
  const status = {
    users: [user('u1', 6, 1)],
    nodes: [
      node({ name: 'node1', cores: 4, usedCores: 3, load: 0.7, totalMemGB: 23, attributes: ['big'] }),
      node({ name: 'node2', cores: 3, usedCores: 3, load: 0.7, totalMemGB: 23, attributes: ['infiband'] }),
    ],
    totalCores: 7,
    usedCores: 6,
    warnings: [],
  };
  const reference = [
    'user                          using cores        queue size',
    '----------------------------------------------------------------------------------------',
    'u1                               6                 1    ',
    '========================================================================================',
    '                                   cores                    memory (GB)       disk (GB)',
    'node                            used  total   load     used     req   total  used  total',
    '----------------------------------------------------------------------------------------',
    'node1 [big]                        3     4     0.7      0.0     2.0    23.0             ',
    'node2 [infiband]                   3     3     0.7      0.0     2.0    23.0             ',
    '========================================================================================',
    'There are 6 out of a total of 7 cores being used.',
    '',
  ].join('\n');
  assert.equal(formatStatus(status), reference);
});

test('no users, no nodes (with the newline fix) and warnings', () => {
  const status = { users: [], nodes: [], totalCores: 0, usedCores: 0, warnings: ['bad nodes file line 3', 'x'] };
  assert.equal(
    formatStatus(status),
    'No users.\nNo nodes.\nThere are 0 out of a total of 0 cores being used.\nwarning: bad nodes file line 3\nwarning: x\n',
  );
});

test('label rules: attributes move to the end when too long; outsiders count as used', () => {
  // len(down)+len(name)+Σlen(attr)+count(attr)+2: 0+5+(3+4)+2+2 = 16 → inline
  assert.equal(formatNodeRow(node({ attributes: ['big', 'fast'] })).slice(0, 31), 'node1 [big,fast]               ');
  // exactly 28 stays inline: name 'n' (1) + attr 24 chars + 1 + 2 = 28
  const a24 = 'a'.repeat(24);
  assert.equal(formatNodeRow(node({ name: 'n', attributes: [a24] })).slice(0, 31), `n [${a24}]   `);
  // 29 moves: with ' (down)' the limit is passed
  const moved = formatNodeRow(node({ name: 'n', attributes: [a24], up: false, cores: 4, outsiders: 1, usedCores: 2 }));
  assert.equal(moved, `${'n (down)'.padEnd(30)}     3     4     0.0      0.0     2.0     0.0${' '.repeat(13)}    [${a24}]`);
  assert.equal(moved.length, 88 + 4 + a24.length + 2);
  // a long name is not cut
  const long = formatNodeRow(node({ name: 'x'.repeat(35) }));
  assert.ok(long.startsWith(`${'x'.repeat(35)}     0`));
});

test('disk field: blank when unknown, zeros after a reload', () => {
  assert.ok(formatNodeRow(node({ disk: null })).endsWith(' '.repeat(13)));
  assert.ok(formatNodeRow(node({ disk: { usedGB: 0, totalGB: 0 } })).endsWith('     0      0'));
});

test('pyFixed rounds exact ties to even, like Python', () => {
  assert.equal(pyFixed(0.25, 1), '0.2');
  assert.equal(pyFixed(0.75, 1), '0.8');
  assert.equal(pyFixed(2.5, 0), '2');
  assert.equal(pyFixed(3.5, 0), '4');
  assert.equal(pyFixed(-2.5, 0), '-2');
  assert.equal(pyFixed(0.05, 1), '0.1'); // 0.05 is slightly above the tie in binary
  assert.equal(pyFixed(0.15, 1), '0.1'); // slightly below
  assert.equal(pyFixed(1.0, 1), '1.0');
  assert.equal(pyFixed(-0.04, 1), '-0.0');
  assert.equal(pyFixed(123.456, 1), '123.5');
});
