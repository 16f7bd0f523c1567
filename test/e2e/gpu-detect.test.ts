/**
 * GPU detection on real sshd nodes, each with its own fake nvidia-smi first
 * on its PATH (sshd SetEnv): qpy-multiuser's probes find node2's 4 GPUs,
 * none on node3 (no nvidia-smi) and node4's unknown (nvidia-smi fails, or
 * prints nonsense), as `qpy-admin variables` shows, and `qpy-admin status`
 * with the reason, node4 staying up; a process of no qpy job on a GPU makes it an
 * outsider's until it goes, while a qpy job's process does not. The master
 * without qpy-multiuser (the embedded default) finds the GPUs of the nodes
 * of its user's nodes file, and of this machine with the fake on its own
 * PATH, where a process of another user's job is an outsider's but its own
 * job's is not.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useCluster } from '../helpers/sshd-cluster.js';
import { admin, joinedUser, testMultiuser } from '../helpers/multiuser.js';
import { checkStatuses, qpyUser, type QpyUser } from '../helpers/qpy.js';
import { fakeNvidiaSmi, SSHD_ROOT_PATH, type FakeNvidiaSmi } from '../helpers/fake-nvidia-smi.js';
import { procTable } from '../helpers/procs.js';
import { tempDir } from '../helpers/temp.js';
import { waitFor } from '../helpers/wait.js';

const fakes = tempDir('qpy-gpu-');
const smi: Record<string, FakeNvidiaSmi> = {
  node2: fakeNvidiaSmi(join(fakes.path, 'node2'), 4),
  node4: fakeNvidiaSmi(join(fakes.path, 'node4'), 2),
  local: fakeNvidiaSmi(join(fakes.path, 'local'), 2),
};
smi.node4!.setMode('fail');
after(() => fakes[Symbol.asyncDispose]());
const sshd = useCluster(3, {
  nodeEnv: (name): Record<string, string> => (smi[name] ? { PATH: `${smi[name].dir}:${SSHD_ROOT_PATH}` } : {}),
});
const skip = sshd.skip;
/** This machine's own nvidia-smi (a GPU machine's): node3 then has GPUs of its own. */
const realSmi = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v nvidia-smi'], { env: { PATH: SSHD_ROOT_PATH } }).length > 0;
  } catch {
    return false;
  }
})();

/** Node `name`'s GPU lines in `qpy-admin variables`: its count and its outsiders' GPUs. */
function gpusOf(variables: string, name: string): { n: string; outsiders: string } | null {
  const m = new RegExp(`^${name}\\n(?: {2}.*\\n)*? {2}n_gpus {10}= (\\S+)\\n {2}gpu_outsiders {3}= \\[([^\\]]*)\\]`, 'm').exec(variables);
  return m ? { n: m[1]!, outsiders: m[2]! } : null;
}

/** After what `fake` lists changed: a whole probe began after it (each probe asks twice). */
async function probedAgain(fake: FakeNvidiaSmi): Promise<void> {
  const calls = fake.calls();
  await waitFor(() => fake.calls() >= calls + 4, { what: 'two more GPU probes', timeoutMs: 20_000 });
}

/** The pid of the running job whose command line is exactly `args` (a unique sleep). */
const pidOf = (args: string): Promise<number> =>
  waitFor(
    () =>
      procTable().find((p) => {
        try {
          return readFileSync(`/proc/${p.pid}/cmdline`, 'latin1') === `${args.replaceAll(' ', '\0')}\0`;
        } catch {
          return false;
        }
      })?.pid,
    { what: `a process \`${args}\`` },
  );

async function runningJob(u: QpyUser, command: string): Promise<number> {
  await u.ok(['sub', command]);
  await waitFor(async () => [...checkStatuses(await u.ok(['check'])).values()].some((j) => j.status === 'running'), {
    what: 'the job running',
    timeoutMs: 20_000,
  });
  return pidOf(command);
}

const stray = (): ChildProcess => spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });

test('qpy-multiuser: GPUs per node from the probes; an outsider’s GPU is marked until it goes, a qpy job’s is not', {
  skip,
  timeout: 120_000,
}, async () => {
  const env = { QPY_SSH_CONFIG: sshd.cluster.sshConfig, QPY_PROBE_MS: '300' };
  await using mu = testMultiuser({
    nodes: ['node2', 'node3', 'node4'].map((n) => `${n} address=${n} cores=2 memory=16\n`).join(''),
    env,
  });
  await admin(mu, ['start']);
  const gpus = async (node: string) => gpusOf(await admin(mu, ['variables']), node);
  await waitFor(async () => (await gpus('node2'))?.n === '4' && (await gpus('node4'))?.n === 'unknown', {
    what: 'node2’s 4 GPUs found, node4’s unknown',
    timeoutMs: 20_000,
  });
  if (!realSmi) assert.deepEqual(await gpus('node3'), { n: '0', outsiders: '' });
  assert.match(mu.log(), /node node2: 4 GPUs \(NVIDIA H100 80GB HBM3\)/);
  assert.match(mu.log(), /node node4: GPUs unknown \(nvidia-smi failed \(exit 9\): "NVIDIA-SMI has failed because/);
  // Its GPUs unknown, with the reason, in status and a warning; the probe stands (node4 is up).
  const failed = 'nvidia-smi failed \\(exit 9\\): "NVIDIA-SMI has failed because .* installed and running\\."';
  const st = await admin(mu, ['status']);
  assert.match(st, new RegExp(`^ {2}node node4: GPUs unknown \\(${failed}\\)$`, 'm'));
  assert.match(st, new RegExp(`^warning: node node4: its GPUs are unknown, counted as 0: ${failed}$`, 'm'));
  assert.match(st, /^node4 +\d+ +2 /m); // listed, not (down)
  smi.node4!.setMode('garbage');
  const garbage = 'nvidia-smi printed something unexpected: "Failed to initialize NVML: Unknown Error"';
  const json = await waitFor(
    async () => {
      const doc = JSON.parse(await admin(mu, ['status', '--json'])) as {
        nodes: { name: string; up: boolean; gpus?: { problem?: string } }[];
      };
      const n4 = doc.nodes.find((n) => n.name === 'node4');
      return n4?.gpus?.problem === garbage ? n4 : null;
    },
    { what: 'node4’s new reason in status --json', timeoutMs: 20_000 },
  );
  assert.equal(json.up, true);
  assert.ok(mu.log().includes(`node node4: GPUs unknown (${garbage})`));
  smi.node4!.setMode('fail');

  const other = stray();
  await using ann = await joinedUser(mu, 'ann', env);
  try {
    smi.node2!.setApps([{ pid: other.pid!, gpu: 1 }]);
    await waitFor(async () => (await gpus('node2'))?.outsiders === '1', { what: 'GPU 1 an outsider’s', timeoutMs: 20_000 });
    assert.match(mu.log(), /node node2: GPUs held by outsiders: 1/);
    // ann's job, wherever it runs (the nodes share this machine's processes): node2 lists it on GPU 2; it is qpy's.
    const job = await runningJob(ann, 'sleep 3017');
    smi.node2!.setApps([
      { pid: other.pid!, gpu: 1 },
      { pid: job, gpu: 2 },
    ]);
    await probedAgain(smi.node2!);
    assert.equal((await gpus('node2'))?.outsiders, '1');
    // The outsider goes: its GPU is free again.
    other.kill('SIGKILL');
    smi.node2!.setApps([{ pid: job, gpu: 2 }]);
    await waitFor(async () => (await gpus('node2'))?.outsiders === '', { what: 'no outsider left', timeoutMs: 20_000 });
    assert.match(mu.log(), /node node2: no GPU held by outsiders/);
  } finally {
    other.kill('SIGKILL');
  }
});

test('the embedded default: the GPUs of the user’s nodes over SSH, and of this machine; another user’s job is an outsider', {
  skip,
  timeout: 120_000,
}, async () => {
  const masterLog = (u: QpyUser): string => readFileSync(join(u.qpyDir, 'master.log'), 'utf8');
  await using remote = qpyUser({
    nodes: ['node2', 'node3', 'node4'].map((n) => `${n} address=${n} cores=2 memory=16\n`).join(''),
    env: { QPY_SSH_CONFIG: sshd.cluster.sshConfig, QPY_GPU_PROBE_MS: '300' },
  });
  const node3Logins = sshd.cluster.connections(1);
  await remote.ok(['status']);
  const found = [/node node2: 4 GPUs \(NVIDIA H100 80GB HBM3\)/, /node node4: GPUs unknown/, ...(realSmi ? [] : [/node node3: no GPU\n/])];
  await waitFor(() => found.every((line) => line.test(masterLog(remote))), {
    what: 'node2’s GPUs found, node4’s unknown and none on node3, in the master’s log',
    timeoutMs: 20_000,
  });
  assert.match(await remote.ok(['status']), /^ {2}node node4: GPUs unknown \(nvidia-smi failed \(exit 9\): "NVIDIA-SMI has failed/m);
  // node3 has no nvidia-smi: looked at once, while node2 is probed again and again.
  await probedAgain(smi.node2!);
  if (!realSmi) assert.equal(sshd.cluster.connections(1), node3Logins + 1);

  // This machine, the fake first on the master's PATH; probes every 300 ms.
  const env = { PATH: `${smi.local!.dir}:${process.env.PATH}`, QPY_GPU_PROBE_MS: '300' };
  await using alice = qpyUser({ env: { ...env, QPY_USER: 'alice' } });
  await using bob = qpyUser({ env: { ...env, QPY_USER: 'bob' } });
  await alice.ok(['status']);
  await waitFor(() => /node localhost: 2 GPUs \(NVIDIA H100 80GB HBM3\)/.test(masterLog(alice)), {
    what: 'this machine’s 2 GPUs in the master’s log',
    timeoutMs: 20_000,
  });
  const own = await runningJob(alice, 'sleep 3018');
  const bobs = await runningJob(bob, 'sleep 3019');
  smi.local!.setApps([
    { pid: own, gpu: 0 },
    { pid: bobs, gpu: 1 },
  ]);
  await waitFor(() => /node localhost: GPUs held by outsiders: 1\n/.test(masterLog(alice)), {
    what: 'bob’s GPU an outsider’s for alice',
    timeoutMs: 20_000,
  });
  await waitFor(() => /node localhost: GPUs held by outsiders: 0\n/.test(masterLog(bob)), {
    what: 'alice’s GPU an outsider’s for bob',
    timeoutMs: 20_000,
  });
  smi.local!.setApps([{ pid: own, gpu: 0 }]);
  await waitFor(() => /node localhost: no GPU held by outsiders/.test(masterLog(alice)), { what: 'the outsider gone', timeoutMs: 20_000 });
  assert.doesNotMatch(masterLog(alice), /GPUs held by outsiders: 0/);
});
