/**
 * What `qpy why` says of Slurm pools (allocator/pool-why.ts, through
 * explainNodes): a pilot's node whose time left is too short for the job,
 * and one line per pool on what its pilots do for the jobs that wait.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinPilot, setJobTime, setPools } from '../../../src/allocator/pilot-nodes.js';
import { explainNodes, type FeasibilityDemand } from '../../../src/allocator/feasible.js';
import { buildStatus } from '../../../src/allocator/status.js';
import type { PoolView } from '../../../src/protocol/cluster.js';
import { allocator, node } from './fixtures.js';
import { pilot, pilotView, poolView } from './pool-fixtures.js';

test('why: a pilot node near its end says why it takes no job now; one with time says it has room', () => {
  const s = allocator([node('n1', 1)]);
  joinPilot(s, pilot('7'));
  joinPilot(s, pilot('8'));
  setJobTime(s, 'p-7', 300, false);
  setJobTime(s, 'p-8', 5000, true);
  const lines = (d: Partial<FeasibilityDemand>) =>
    explainNodes(buildStatus(s), 'alice', { cores: 1, memGB: 1, attrs: null, ...d }).filter((l) => l.startsWith('p-'));
  assert.deepEqual(lines({}), [
    'p-7: its Slurm pilot (job 7) nears its time limit: it takes only jobs with a -t that ends before it',
    'p-8: has room for it now',
  ]);
  assert.deepEqual(lines({ time: 301 }), [
    'p-7: its Slurm pilot (job 7) ends too soon for a job of -t 00:05:01 (at most 00:05:00 left)',
    'p-8: has room for it now',
  ]);
  assert.deepEqual(lines({ time: 300 }), ['p-7: has room for it now', 'p-8: has room for it now']);
  assert.deepEqual(lines({ time: 5001 })[1], 'p-8: its Slurm pilot (job 8) ends too soon for a job of -t 01:23:21 (at most 01:23:20 left)');
});

test('why: one line per pool, saying what its pilots do for the jobs that wait', () => {
  const s = allocator([node('n1', 1)]);
  const lines = (pools: PoolView[]) => {
    setPools(s, pools);
    return explainNodes(buildStatus(s), 'alice', { cores: 1, memGB: 1, attrs: null }).filter((l) => l.startsWith('pool '));
  };
  assert.deepEqual(lines([]), []);
  assert.deepEqual(lines([poolView({ pilots: [pilotView('12', { reason: 'Resources' })] })]), [
    'pool p: waiting for Slurm to start a pilot (job 12, pending: Resources)',
  ]);
  assert.deepEqual(
    lines([
      poolView({
        pilots: [
          pilotView('12', { reason: 'Resources' }),
          pilotView('13', { reason: 'Priority' }),
          pilotView('14', { reason: 'Resources' }),
          pilotView('15', { reason: 'QOSMaxJobsPerUserLimit', ending: 'surplus' }),
        ],
      }),
      poolView({ name: 'q', pilots: [pilotView('20')] }),
    ]),
    [
      'pool p: waiting for Slurm to start a pilot (jobs 12, 13, 14, pending: Resources, Priority)',
      'pool q: waiting for Slurm to start a pilot (job 20, pending: no reason given)',
    ],
  );
  assert.deepEqual(lines([poolView({ pilots: [pilotView('12', { state: 'RUNNING', host: 'c1' })] })]), [
    'pool p: a pilot is starting in Slurm (job 12)',
  ]);
  assert.deepEqual(lines([poolView({ pilots: [pilotView('12', { state: 'SUBMITTED' })], problem: 'sbatch: error: x' })]), [
    'pool p: a pilot is starting in Slurm (job 12)',
  ]);
  assert.deepEqual(lines([poolView({ problem: 'sbatch: error: Invalid account' })]), [
    'pool p: no pilot could be submitted: sbatch: error: Invalid account',
  ]);
  const joinedView = (id: string) => pilotView(id, { state: 'RUNNING', host: `c${id}`, node: `p-${id}` });
  assert.deepEqual(lines([poolView({ pilots: [joinedView('1'), joinedView('2')] })]), ['pool p: all 2 of its pilots run (nodes=2)']);
  assert.deepEqual(lines([poolView({ pilots: [joinedView('1'), { ...joinedView('2'), ending: 'idle' }] })]), [
    'pool p: no pilot waits in Slurm now (1 of 2 running; qpy submits one while jobs wait)',
  ]);
  assert.deepEqual(lines([poolView()]), ['pool p: no pilot waits in Slurm now (0 of 2 running; qpy submits one while jobs wait)']);
});
