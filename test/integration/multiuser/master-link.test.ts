/**
 * The master's link to qpy-multiuser (src/daemons/master/multiuser-link.ts)
 * against a real daemon: a job that ends while the link registers, after the
 * registration listed it as running, has its slot released once the
 * registration is done. (The release used to be answered by the link alone,
 * and the daemon kept the slot charged until the master registered again.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { daemonAt, testMultiuser } from '../../helpers/multiuser.js';
import { waitFor } from '../../helpers/wait.js';
import { readKey } from '../../../src/transport/key.js';
import { multiuserLink, type MultiuserLink } from '../../../src/daemons/master/multiuser-link.js';

test('a job that ends while the link registers (listed as running by it) is released once the registration is done', async () => {
  await using mu = testMultiuser({ nodes: 'n1 address=localhost cores=8 memory=64\n', users: ['alice'], env: { QPY_PROBE_MS: '0' } });
  assert.equal((await mu.start()).code, 0);
  let admin = await mu.admin();
  await admin.request({ type: 'addUser', name: 'alice' });
  const usedCores = async () => {
    const s = await admin.request({ type: 'status' });
    return s.type === 'status' ? (s.status.users.find((u) => u.name === 'alice')?.usedCores ?? 0) : -1;
  };
  let registrations = 0;
  let running = false;
  const link: MultiuserLink = multiuserLink({
    url: daemonAt(mu.paths.discovery).url,
    key: readKey(join(mu.paths.keys, 'alice.key')),
    user: 'alice',
    log: () => undefined,
    registration() {
      // After the daemon's restart, job 1 runs as the link registers again, and ends before the daemon answers.
      if (++registrations === 2) {
        running = false;
        void link.request({ type: 'release', user: 'alice', jobId: 1, queueSize: 0, ended: 'done' });
        return { running: [{ jobId: 1, node: 'n1', cores: 1, memGB: 1 }], queueSize: 0 };
      }
      return { running: running ? [{ jobId: 1, node: 'n1', cores: 1, memGB: 1 }] : [], queueSize: 0 };
    },
    onRegistered: () => undefined,
    onAddress: () => undefined,
  });
  try {
    await link.firstAttempt;
    const granted = await link.request({
      type: 'request',
      user: 'alice',
      jobId: 1,
      demand: { cores: 1, memGB: 1, attrs: null },
      queueSize: 1,
    });
    assert.equal(granted.type, 'granted');
    running = true;
    assert.equal(await usedCores(), 1);
    // The daemon is SIGKILLed and started again: it restores the slot from its store, and the link registers again.
    await mu.kill();
    assert.equal((await mu.start()).code, 0);
    admin.close();
    admin = await mu.admin();
    await waitFor(() => registrations >= 2 && link.reachable?.() === true, { what: 'the link registered again' });
    await waitFor(async () => (await usedCores()) === 0, { what: 'the slot of the job that ended released' });
  } finally {
    link.close();
    admin.close();
  }
});
