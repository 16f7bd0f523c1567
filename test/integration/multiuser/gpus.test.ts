/**
 * GPUs through the qpy-multiuser daemon as a real process (issue 16): the
 * devices a slot holds are stored with it, so after a SIGKILL and restart
 * a GPU still held by one user's job is never given to another; the ledger
 * counts each grant's GPUs; a master's registration keeps a slot only
 * with the GPUs it was granted; and garbage in a nodes file's gpus= or
 * gpu_share= gets one clear line from `qpy-admin nodes`, the last good file
 * staying in force (its GPUs too), after a restart as well.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { QPY_ADMIN, testMultiuser } from '../../helpers/multiuser.js';
import { run } from '../../helpers/qpy.js';

const NODES = 'g1 address=localhost cores=8 memory=16 gpus=2\n';
const demand = (gpus: number) => ({ cores: 1, memGB: 1, attrs: null, gpus });

test('SIGKILL and restart: a GPU held by a job stays held, so no two jobs share it', async () => {
  await using mu = testMultiuser({ nodes: NODES, users: ['alice', 'bob'], env: { QPY_PROBE_MS: '0' } });
  assert.equal((await mu.start()).code, 0);
  const admin = await mu.admin();
  await admin.request({ type: 'addUser', name: 'alice' });
  await admin.request({ type: 'addUser', name: 'bob' });
  const alice = await mu.master('alice');
  await alice.request({ type: 'register', user: 'alice', running: [], queueSize: 1 });
  const a = await alice.request({ type: 'request', user: 'alice', jobId: 1, demand: demand(1), queueSize: 1 });
  assert.deepEqual(a.type === 'granted' && a.gpus, [0]);
  await mu.kill();
  assert.equal((await mu.start()).code, 0);
  // Bob asks first after the restart: GPU 0 is still alice's, so he gets GPU 1, then nothing.
  const bob = await mu.master('bob');
  await bob.request({ type: 'register', user: 'bob', running: [], queueSize: 2 });
  const b1 = await bob.request({ type: 'request', user: 'bob', jobId: 1, demand: demand(1), queueSize: 2 });
  assert.deepEqual(b1.type === 'granted' && b1.gpus, [1]);
  const b2 = await bob.request({ type: 'request', user: 'bob', jobId: 2, demand: demand(1), queueSize: 1 });
  assert.equal(b2.type === 'refused' && b2.reason, 'no_gpu_room');
  // Alice's master comes back and reports her job with its GPU: kept; reported with another: refused.
  const alice2 = await mu.master('alice');
  const reg = await alice2.request({
    type: 'register',
    user: 'alice',
    running: [{ jobId: 1, node: 'g1', cores: 1, memGB: 1, gpus: [0] }],
    queueSize: 0,
  });
  assert.deepEqual(reg.type === 'registered' && reg.refused, []);
  const report = await (await mu.admin()).request({ type: 'report', since: null, until: null });
  assert.ok(report.type === 'report' && (report.report.total.gpuHours ?? 0) > 0, 'the ledger counts GPU-hours');
  const vars = await (await mu.admin()).request({ type: 'variables' });
  assert.match(vars.type === 'text' ? vars.text : '', /1: node = g1, n_cores = 1, mem = 1, gpus = 0/);
});

test('garbage in gpus= or gpu_share=: one clear line, and the last good nodes file (its GPUs) stays in force', async () => {
  await using mu = testMultiuser({ nodes: NODES, env: { QPY_PROBE_MS: '0' } });
  assert.equal((await mu.start()).code, 0);
  const gpus = async () => {
    const r = await (await mu.admin()).request({ type: 'status' });
    return r.type === 'status' ? [r.status.gpus, r.status.nodes.map((n) => n.gpus?.share)] : null;
  };
  assert.deepEqual(await gpus(), [{ total: 2, used: 0 }, [1]]);
  for (const [bad, why] of [
    ['gpus=two', /gpus must be a whole number of GPUs from 0 to 1024, got "two"/],
    ['gpus=-1', /got "-1"/],
    ['gpus=1.5', /got "1\.5"/],
    ['gpus=2 gpu_share=0', /gpu_share must be the most jobs on one GPU, a whole number from 1 to 1024, got "0"/],
  ] as const) {
    writeFileSync(mu.paths.nodes, `g1 address=localhost cores=8 memory=16 ${bad}\n`);
    const r = await run(QPY_ADMIN, ['nodes'], mu.dir.path, mu.env);
    assert.equal(r.code, 1, bad);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, why);
    assert.deepEqual(await gpus(), [{ total: 2, used: 0 }, [1]], bad);
  }
  await mu.kill();
  assert.equal((await mu.start()).code, 0);
  assert.deepEqual(await gpus(), [{ total: 2, used: 0 }, [1]]);
});
