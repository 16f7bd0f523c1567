/** Tests for src/cli/format-pools.ts: the "Slurm pools:" section of `qpy status` (issue 18), line by line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPools } from '../../../src/cli/format-pools.js';
import type { ClusterStatus, PoolView } from '../../../src/protocol/cluster.js';
import { pilotView, poolView } from '../allocator/pool-fixtures.js';

const status = (pools?: PoolView[]): ClusterStatus => ({
  users: [],
  nodes: [],
  totalCores: 0,
  usedCores: 0,
  warnings: [],
  ...(pools === undefined ? {} : { pools }),
});

const pool = (over: Partial<PoolView> = {}): PoolView =>
  poolView({ name: 'big', maxNodes: 2, cores: 32, memGB: 7.5, timeLimitS: 86_400, ...over });
const pilot = pilotView;

test('no pools: no section', () => {
  assert.equal(formatPools(status(), 0), '');
  assert.equal(formatPools(status([]), 0), '');
});

test('a pool without pilots: its settings, and that one comes while jobs wait', () => {
  assert.equal(
    formatPools(status([pool()]), 0),
    'Slurm pools:\n' +
      '  pool big: partition batch, up to 2 pilots of 32 cores, 7.5 GB, 24:00:00; reached by ssh; ends a pilot idle 10 min\n' +
      '    no pilot now (one is submitted while jobs wait)\n',
  );
});

test('one pilot of one core, a short time and a fractional idle: singular words, m:ss', () => {
  assert.equal(
    formatPools(status([pool({ name: 's', maxNodes: 1, cores: 1, memGB: 2, timeLimitS: 600, idleMin: 0.5, reach: 'agent' })]), 0).split(
      '\n',
    )[1],
    '  pool s: partition batch, up to 1 pilot of 1 core, 2 GB, 10:00; reached by agent; ends a pilot idle 0.5 min',
  );
});

test('each pilot: its state and why it waits, its host and node, its time left, and why qpy ends it', () => {
  const now = 1_000_000;
  const text = formatPools(
    status([
      pool({
        pilots: [
          pilot('12', { reason: 'Resources' }),
          pilot('13', { state: 'SUBMITTED' }),
          pilot('14', { state: 'RUNNING', host: 'c7', endsAt: now + 3_723_000 }),
          pilot('15', { state: 'RUNNING', host: 'c8', node: 'big-15', endsAt: now + 3_723_999, connected: true }),
          pilot('16', { state: 'RUNNING', host: 'c9', node: 'big-16', endsAt: now + 59_000, ending: 'time' }),
          pilot('17', { state: 'RUNNING', host: 'c1', node: 'big-17', endsAt: now - 5000, ending: 'idle' }),
          pilot('18', { reason: 'Priority', ending: 'surplus' }),
          pilot('19', { state: 'COMPLETING', host: 'c2', node: 'big-19', endsAt: null }),
        ],
        problem: 'squeue: error: slurm_load_jobs error: Unable to contact slurm controller',
      }),
    ]),
    now,
  );
  assert.deepEqual(text.split('\n').slice(2), [
    '    pilot 12: PENDING (Resources)',
    '    pilot 13: SUBMITTED',
    '    pilot 14: RUNNING, on c7',
    '    pilot 15: RUNNING, on c8, as node big-15, 1:02:03 left',
    '    pilot 16: RUNNING, on c9, as node big-16, 0:59 left, ending (near its time limit)',
    '    pilot 17: RUNNING, on c1, as node big-17, 0:00 left, ending (idle)',
    '    pilot 18: PENDING (Priority), ending (not needed)',
    '    pilot 19: COMPLETING, on c2, as node big-19',
    '    problem: squeue: error: slurm_load_jobs error: Unable to contact slurm controller',
    '',
  ]);
});

test('several pools, each with its lines, in order; the section ends in a newline', () => {
  const text = formatPools(
    status([pool({ name: 'a', problem: 'sbatch: error: Invalid account' }), pool({ name: 'b', pilots: [pilot('1')] })]),
    0,
  );
  assert.deepEqual(text.split('\n'), [
    'Slurm pools:',
    '  pool a: partition batch, up to 2 pilots of 32 cores, 7.5 GB, 24:00:00; reached by ssh; ends a pilot idle 10 min',
    '    no pilot now (one is submitted while jobs wait)',
    '    problem: sbatch: error: Invalid account',
    '  pool b: partition batch, up to 2 pilots of 32 cores, 7.5 GB, 24:00:00; reached by ssh; ends a pilot idle 10 min',
    '    pilot 1: PENDING',
    '',
  ]);
});
