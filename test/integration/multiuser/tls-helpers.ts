/**
 * Shared setup of the qpy-multiuser TLS tests (tls.test.ts,
 * tls-rotation.test.ts): a daemon started inside a network namespace the
 * test makes, so it listens off loopback and speaks TLS; users joined from
 * outside it; a job run to prove a master got a slot.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { admin, invitation, testMultiuser, type TestMultiuser } from '../../helpers/multiuser.js';
import { netnsSkip, type TestNetns } from '../../helpers/netns.js';
import { QPY, qpyUser, run, type QpyUser } from '../../helpers/qpy.js';
import { waitFor } from '../../helpers/wait.js';

export const skip = netnsSkip();
export const NODES = 'n1 address=localhost cores=4 memory=16\n';
export const ENV = { QPY_PROBE_MS: '0', QPY_CERTIFICATE_CONFIRM_MS: '3000' };

/** A daemon in its own namespace, listening on the namespace's address (off loopback). */
export async function daemonInNamespace(ns: TestNetns): Promise<TestMultiuser> {
  const mu = testMultiuser({ nodes: NODES, env: ENV, address: ns.inside, wrap: ns.exec });
  const r = await mu.start();
  assert.equal(r.code, 0, r.stderr);
  return mu;
}

/** A user the admin added who joined with `hostPort` (default: the daemon's own address); the join's stdout. */
export async function joinUser(mu: TestMultiuser, name: string, hostPort?: string): Promise<{ user: QpyUser; out: string; code: string }> {
  const added = invitation(await admin(mu, ['users', 'add', name]));
  const user = qpyUser({ env: { QPY_USER: name } });
  const r = await run(QPY, ['join', hostPort ?? added.hostPort], user.work, user.env, `${added.code}\n`);
  assert.equal(r.code, 0, r.stderr);
  return { user, out: r.stdout, code: added.code };
}

export const multiuserFile = (u: QpyUser) =>
  JSON.parse(readFileSync(join(u.qpyDir, 'multiuser.json'), 'utf8')) as {
    address: string;
    fingerprint?: string;
    previousFingerprint?: string;
  };

/** Run a job and wait for it to end `done`: the master got a slot from the daemon. */
export async function runsAJob(u: QpyUser): Promise<void> {
  const out = await u.ok(['sub', 'true']);
  const id = /\d+/.exec(out)![0];
  await waitFor(async () => (await u.ok(['check', id])).includes('done'), { what: `job ${id} done`, timeoutMs: 20_000 });
}
