import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PoolConfig } from '../../../src/allocator/pool-line.js';
import {
  parseSbatchParsable,
  parseSlurmDuration,
  parseSqueuePilots,
  pilotJobName,
  sbatchPilot,
  scancelPilots,
  slurmTime,
  squeuePilots,
} from '../../../src/pool/slurm-cli.js';

const POOL: PoolConfig = {
  name: 'cpu',
  kind: 'slurm',
  partition: 'short',
  maxNodes: 4,
  cores: 32,
  memGB: 7.5,
  timeLimitS: 86_400 + 3_723,
  idleMin: 10,
  account: null,
  qos: null,
  reach: 'agent',
  back: null,
  line: 1,
};

test("a pilot's sbatch: one node's worth of the pool, marked as qpy's pilot, never requeued", () => {
  assert.deepEqual(sbatchPilot(POOL, '/q/pilot.sh', '/q/pilot-%j.out'), {
    file: 'sbatch',
    args: [
      '--parsable',
      '--job-name=qpy-pilot-cpu',
      '--partition=short',
      '--nodes=1',
      '--ntasks=1',
      '--cpus-per-task=32',
      '--mem=7680M',
      '--time=1-01:02:03',
      '--no-requeue',
      '--output=/q/pilot-%j.out',
      '/q/pilot.sh',
    ],
  });
  const args = sbatchPilot({ ...POOL, account: 'proj', qos: 'high' }, 's', 'o').args;
  assert.deepEqual(args.slice(-3), ['--account=proj', '--qos=high', 's']);
  assert.equal(pilotJobName('gpu-a'), 'qpy-pilot-gpu-a');
});

test('time limits as Slurm reads them', () => {
  assert.equal(slurmTime(1), '00:00:01');
  assert.equal(slurmTime(86_399), '23:59:59');
  assert.equal(slurmTime(86_400), '1-00:00:00');
  assert.equal(slurmTime(10 * 86_400 + 61), '10-00:01:01');
  assert.equal(slurmTime(0.2), '00:00:01');
});

test("sbatch --parsable's job ID", () => {
  assert.deepEqual(parseSbatchParsable('1234\n'), { ok: true, value: '1234' });
  assert.deepEqual(parseSbatchParsable('77;cluster2\n'), { ok: true, value: '77' });
  for (const bad of ['', 'Submitted batch job 12', '12 13', 'x;y']) {
    const r = parseSbatchParsable(bad);
    assert.ok(!r.ok && r.message.startsWith('sbatch printed no job ID'), bad);
  }
});

test("squeue's listing of a pool's pilots", () => {
  assert.deepEqual(squeuePilots(POOL, 'alice'), {
    file: 'squeue',
    args: ['--noheader', '--user=alice', '--name=qpy-pilot-cpu', '--format=%i|%T|%r|%N|%L'],
  });
  const out = ['12|RUNNING|None|node07|23:59:58', '13|PENDING|Resources||1-00:00:00', '14|PENDING|Priority||UNLIMITED', ''].join('\n');
  assert.deepEqual(parseSqueuePilots(out), {
    ok: true,
    value: [
      { jobId: '12', state: 'RUNNING', reason: null, node: 'node07', timeLeftS: 86_398 },
      { jobId: '13', state: 'PENDING', reason: 'Resources', node: null, timeLeftS: 86_400 },
      { jobId: '14', state: 'PENDING', reason: 'Priority', node: null, timeLeftS: null },
    ],
  });
  assert.deepEqual(parseSqueuePilots(''), { ok: true, value: [] });
  const bad = parseSqueuePilots('12|RUNNING|None|node07|1:00\nslurm_load_jobs error: Socket timed out');
  assert.ok(!bad.ok && /^squeue line 2 is not "id\|state\|reason\|node\|time left"/.test(bad.message));
  assert.ok(!parseSqueuePilots('12_3|RUNNING|None|n|1:00').ok);
});

test('durations as squeue prints them', () => {
  assert.equal(parseSlurmDuration('0:05'), 5);
  assert.equal(parseSlurmDuration('59:59'), 3599);
  assert.equal(parseSlurmDuration('1:00:00'), 3600);
  assert.equal(parseSlurmDuration('2-03:04:05'), ((2 * 24 + 3) * 60 + 4) * 60 + 5);
  for (const none of ['UNLIMITED', 'NOT_SET', 'INVALID', '', '5']) assert.equal(parseSlurmDuration(none), null, none);
});

test('scancel of pilots by job ID', () => {
  assert.deepEqual(scancelPilots(['12', '13']), { file: 'scancel', args: ['12', '13'] });
  assert.throws(() => scancelPilots([]));
});
