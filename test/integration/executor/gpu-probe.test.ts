/**
 * The probe's GPU part run for real on this machine with the fake
 * nvidia-smi first on its PATH: it counts the GPUs; a process on a GPU is
 * a qpy job's when it is in a tagged job's process group (a wrapper's, or
 * one a node agent lists in its marker), an outsider's otherwise (a pid of
 * no process too); nvidia-smi failing, printing nonsense or hanging makes
 * the GPUs unknown, with the reason, and without nvidia-smi there are none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { gpuMetrics, gpuProbeCommand, parseGpuProbe, parseProbe, probeCommand } from '../../../src/executor/node-probe.js';
import { createLocalExecutor } from '../../../src/executor/local.js';
import { fakeNvidiaSmi } from '../../helpers/fake-nvidia-smi.js';
import { killGroup, procTable } from '../../helpers/procs.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);
const withPath = (dir: string) => ({ ...process.env, PATH: `${dir}:${process.env.PATH}` });
const gpuProbe = async (dir: string) => parseGpuProbe((await run('/bin/sh', ['-c', gpuProbeCommand()], { env: withPath(dir) })).stdout);
const byQpy = (owner: unknown) => owner !== null;

test('GPUs counted; a tagged job’s child is qpy’s, a stray process and a gone pid are outsiders', { timeout: 60_000 }, async () => {
  await using tmp = tempDir();
  const smi = fakeNvidiaSmi(tmp.path, 4);
  // Like a wrapper: in a process group of its own, the tag among its arguments; its child holds GPU 0.
  const job = spawn('/bin/sh', ['-c', 'sleep 300 & wait', 'qpy-job', 'QPY_TAG=alice:12:1'], { detached: true, stdio: 'ignore' });
  const stray = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  try {
    const child = await waitFor(() => procTable().find((p) => p.ppid === job.pid)?.pid, { what: 'the job’s child' });
    smi.setApps([
      { pid: child, gpu: 0 },
      { pid: stray.pid!, gpu: 1, usedMiB: 100 },
      { pid: 2 ** 22 + 17, gpu: 3 }, // no such process
    ]);
    const p = await gpuProbe(tmp.path);
    assert.deepEqual(
      p.gpuDevices!.map((d) => [d.index, d.uuid, d.name, d.usedMiB]),
      [
        [0, smi.uuid(0), 'NVIDIA H100 80GB HBM3', 4614],
        [1, smi.uuid(1), 'NVIDIA H100 80GB HBM3', 100],
        [2, smi.uuid(2), 'NVIDIA H100 80GB HBM3', 0],
        [3, smi.uuid(3), 'NVIDIA H100 80GB HBM3', 4614],
      ],
    );
    assert.deepEqual(p.gpuApps!.find((a) => a.pid === child)!.owner, { pid: job.pid, user: 'alice', jobId: 12, attempt: 1 });
    assert.deepEqual(gpuMetrics(p, byQpy), { gpuDevices: p.gpuDevices, gpuOutsiders: [1, 3], gpuProblem: null });
    // Alice's own allocator claims her job; bob's counts it as an outsider's.
    assert.deepEqual(gpuMetrics(p, (o) => o !== null && o !== 'qpy' && o.user === 'bob').gpuOutsiders, [0, 1, 3]);
    // The whole probe carries the same GPU part.
    const whole = parseProbe((await run('/bin/sh', ['-c', probeCommand(null)], { env: withPath(tmp.path) })).stdout)!;
    assert.deepEqual(gpuMetrics(whole, byQpy).gpuOutsiders, [1, 3]);
    smi.setApps([]);
    assert.deepEqual(gpuMetrics(await gpuProbe(tmp.path), byQpy).gpuOutsiders, []);
  } finally {
    killGroup(job.pid);
    killGroup(stray.pid);
  }
});

test('a process of a job a node agent started (no wrapper: listed in its marker) is qpy’s', { timeout: 60_000 }, async () => {
  await using tmp = tempDir();
  const smi = fakeNvidiaSmi(join(tmp.path, 'bin'), 2);
  const ex = createLocalExecutor({ runDir: join(tmp.path, 'run'), nodeName: 'n1' });
  const ended = new Set<number>();
  ex.onEnded((e) => ended.add(e.jobId));
  try {
    // A shell line whose child (not the job's leader) holds GPU 1.
    const job = await ex.launch({ jobId: 21, command: 'sleep 300 & wait', cwd: tmp.path, env: { QPY_TAG: 'bob:21:1' } });
    const child = await waitFor(() => procTable().find((p) => p.ppid === job.pid && p.comm === 'sleep')?.pid, { what: 'the job’s sleep' });
    smi.setApps([{ pid: child, gpu: 1 }]);
    const p = await waitFor(
      async () => {
        const r = await gpuProbe(smi.dir);
        const owner = r.gpuApps?.[0]?.owner;
        return owner && owner !== 'qpy' ? r : null;
      },
      { what: 'the job listed in its agent’s marker and its process claimed', timeoutMs: 30_000 },
    );
    assert.deepEqual(p.gpuApps![0]!.owner, { pid: job.pid, user: 'bob', jobId: 21, attempt: 1 });
    assert.deepEqual(gpuMetrics(p, byQpy).gpuOutsiders, []);
    await ex.kill(21, job.pid, 1_000);
    await waitFor(() => ended.has(21), { what: 'the job ended' });
  } finally {
    await ex.close();
  }
});

test('nvidia-smi failing, printing nonsense or hanging: GPUs unknown; no nvidia-smi: none', { timeout: 60_000 }, async () => {
  await using tmp = tempDir();
  const smi = fakeNvidiaSmi(tmp.path, 2);
  const unknown = (gpuProblem: string) => ({ gpuDevices: null, gpuApps: null, gpuProblem });
  smi.setMode('fail');
  assert.deepEqual(
    await gpuProbe(tmp.path),
    unknown(
      'nvidia-smi failed (exit 9): "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver. ' +
        'Make sure that the latest NVIDIA driver is installed and running."',
    ),
  );
  smi.setMode('garbage');
  assert.deepEqual(
    await gpuProbe(tmp.path),
    unknown('nvidia-smi printed something unexpected: "Failed to initialize NVML: Unknown Error"'),
  );
  smi.setMode('hang'); // stopped after 6 s
  const t0 = Date.now();
  assert.deepEqual(await gpuProbe(tmp.path), unknown('nvidia-smi did not answer within 6 s'));
  assert.ok(Date.now() - t0 < 15_000, `${Date.now() - t0} ms`);
  smi.setMode('ok');
  assert.equal((await gpuProbe(tmp.path)).gpuDevices!.length, 2);
  const calls = smi.calls();
  // A PATH without nvidia-smi: the probe runs nothing of it, and finds no GPU.
  const bin = join(tmp.path, 'bare');
  mkdirSync(bin);
  for (const tool of ['sh', 'grep', 'awk', 'tr', 'sed', 'cat'])
    symlinkSync(
      execFileSync('sh', ['-c', `command -v ${tool}`])
        .toString()
        .trim(),
      join(bin, tool),
    );
  const bare = { ...process.env, PATH: bin };
  const none = parseGpuProbe((await run('/bin/sh', ['-c', gpuProbeCommand()], { env: bare })).stdout);
  assert.deepEqual(none, { gpuDevices: [], gpuApps: [], gpuProblem: null });
  assert.equal(smi.calls(), calls);
});
