/**
 * qpy-multiuser's nodes, as users see them (issue 12, items 5 and 7b),
 * on real sshd nodes: a node that was down takes new jobs within seconds of
 * its return, without waiting for the next 60 s probe round; and a node a
 * user's master cannot reach (its host key unknown to that user) is shown
 * unreachable for that user, with the SSH error in plain words, by
 * `qpy status`, `qpy-admin status` and `qpy why`, while the daemon's own
 * probes find it fine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useCluster } from '../helpers/sshd-cluster.js';
import { admin, joinedUser, testMultiuser } from '../helpers/multiuser.js';
import { checkStatuses } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

const sshd = useCluster(2);
const skip = sshd.skip;

test('a node that was down takes a new job within 5 s of its return (probes every 60 s)', { skip, timeout: 90_000 }, async () => {
  const [a] = sshd.cluster.nodes.map((n) => n.name) as [string, string];
  const env = { QPY_SSH_CONFIG: sshd.cluster.sshConfig, QPY_PROBE_MS: '60000' };
  await sshd.cluster.crash(0);
  await using mu = testMultiuser({ nodes: `${a} address=${a} cores=2 memory=16\n`, env });
  await admin(mu, ['start']);
  await waitFor(async () => /\(down\)/.test(await admin(mu, ['status'])), { what: `${a} seen down`, timeoutMs: 30_000 });
  await using alice = await joinedUser(mu, 'alice', env);
  await alice.ok(['sub', '-m', '1', 'echo "$QPY_NODE" > where']);
  // Long enough for the daemon's retries to have backed off to 4 s.
  await waitFor(async () => /down|unreachable/.test(await alice.ok(['why', '1'])), { what: 'why says the node is down' });
  await sshd.cluster.start(0);
  const back = Date.now();
  await waitFor(async () => checkStatuses(await alice.ok(['check'])).get(1)?.status === 'done', {
    what: 'the job run on the returned node',
    timeoutMs: 20_000,
    intervalMs: 100,
  });
  const took = Date.now() - back;
  assert.ok(took < 5000, `the returned node took its job after ${took} ms`);
  assert.equal(readFileSync(join(alice.work, 'where'), 'utf8'), `${a}\n`);
});

test('a node whose host key the user does not know: status and why say so for that user, in plain words', {
  skip,
  timeout: 90_000,
}, async () => {
  const [a] = sshd.cluster.nodes.map((n) => n.name) as [string, string];
  // The user's own ssh_config points at a known_hosts without the nodes' keys.
  const empty = join(sshd.cluster.dir, 'empty_known_hosts');
  writeFileSync(empty, '');
  const userConfig = join(sshd.cluster.dir, 'ssh_config.unknown-hosts');
  writeFileSync(userConfig, readFileSync(sshd.cluster.sshConfig, 'utf8').replace(/UserKnownHostsFile \S+/g, `UserKnownHostsFile ${empty}`));
  await using mu = testMultiuser({
    nodes: `${a} address=${a} cores=2 memory=16\n`,
    env: { QPY_SSH_CONFIG: sshd.cluster.sshConfig, QPY_PROBE_MS: '1000' },
  });
  await admin(mu, ['start']);
  await using bob = await joinedUser(mu, 'bob', { QPY_SSH_CONFIG: userConfig });
  await bob.ok(['sub', '-m', '1', 'true']);
  const why = await waitFor(
    async () => {
      const text = await bob.ok(['why', '1']);
      return /host key/i.test(text) ? text : null;
    },
    { what: 'why names the host key', timeoutMs: 30_000 },
  );
  assert.match(why, new RegExp(`${a}.*host key`, 'i'));
  assert.match(why, /^No node can take job 1 \(1 core and 1 GB\) now; it starts when one can:\n/);
  const status = await bob.ok(['status']);
  assert.match(status, new RegExp(`${a}.*\\(unreachable\\)`));
  assert.match(status, new RegExp(`node ${a} is unreachable for bob: .*host key`, 'i'));
  assert.match(await admin(mu, ['status']), new RegExp(`node ${a} is unreachable for bob: .*host key`, 'i'));
  assert.doesNotMatch(await admin(mu, ['status']), /\(down\)/, 'the daemon itself reaches the node');
});
