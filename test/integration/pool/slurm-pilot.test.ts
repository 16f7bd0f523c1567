/**
 * Slurm's command-line faces (src/pool/slurm-cli.ts) against a real Slurm
 * (test/helpers/slurm.ts): a pilot submitted with the pool's sbatch runs on
 * the node as squeue's parsed listing shows, and scancel ends it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import type { PoolConfig } from '../../../src/allocator/pool-line.js';
import {
  parseSbatchParsable,
  parseSqueuePilots,
  sbatchPilot,
  scancelPilots,
  squeuePilots,
  type SlurmCommand,
} from '../../../src/pool/slurm-cli.js';
import { slurmMissing, startSlurm } from '../../helpers/slurm.js';
import { waitFor } from '../../helpers/wait.js';

const skip = slurmMissing() ?? false;

test('a pilot submitted by sbatch runs on the node as squeue shows it, and scancel ends it', { skip, timeout: 90_000 }, async () => {
  await using slurm = await startSlurm({ cpus: 2, memoryMB: 2048 });
  const pool: PoolConfig = {
    name: 'test',
    kind: 'slurm',
    partition: slurm.partition,
    maxNodes: 1,
    cores: 2,
    memGB: 1,
    timeLimitS: 600,
    idleMin: 10,
    account: null,
    qos: null,
    reach: 'agent',
    back: null,
    line: 1,
  };
  const run = (c: SlurmCommand) => slurm.run(c.file, c.args);
  const script = join(slurm.dir, 'pilot.sh');
  writeFileSync(script, '#!/bin/sh\necho "pilot on $(hostname)"\nexec sleep 300\n');
  chmodSync(script, 0o755);
  const output = join(slurm.dir, 'out', 'pilot-%j.out');
  const submitted = parseSbatchParsable(await run(sbatchPilot(pool, script, output)));
  assert.ok(submitted.ok, submitted.ok ? '' : submitted.message);
  const jobId = submitted.value;

  const listing = async () => {
    const r = parseSqueuePilots(await run(squeuePilots(pool, userInfo().username)));
    assert.ok(r.ok, r.ok ? '' : r.message);
    return r.value;
  };
  const running = await waitFor(async () => (await listing()).find((p) => p.jobId === jobId && p.state === 'RUNNING'), {
    timeoutMs: 30_000,
    what: 'the pilot RUNNING in squeue',
  });
  assert.equal(running.node, slurm.node);
  assert.equal(running.reason, null);
  assert.ok(running.timeLeftS !== null && running.timeLeftS > 500 && running.timeLeftS <= 600, `time left ${running.timeLeftS}`);
  // Slurm's own view of what it was asked for: the pool's cores, memory and limit, under the pilot's name.
  const shown = await slurm.run('scontrol', ['show', 'job', jobId]);
  for (const field of ['JobName=qpy-pilot-test', 'NumCPUs=2', 'TimeLimit=00:10:00', 'Requeue=0', `Partition=${slurm.partition}`])
    assert.ok(shown.includes(field), `${field} in:\n${shown}`);
  assert.match(shown, /MinMemoryNode=1G\b/);
  const out = join(slurm.dir, 'out', `pilot-${jobId}.out`);
  await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').includes(`pilot on ${slurm.node}`), { what: "the pilot's output" });

  await run(scancelPilots([jobId]));
  await waitFor(async () => (await listing()).every((p) => p.jobId !== jobId), { timeoutMs: 30_000, what: 'the pilot gone from squeue' });
});
