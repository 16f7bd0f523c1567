/**
 * GPUs shared by real Unix accounts (issue 16; as root, as CI runs): the
 * admin account's qpy-multiuser owns a node with two GPUs (`gpus=2`), alice
 * and bob each run their master under their own uid and each queue two
 * one-GPU jobs. Under `even` rules each holds one GPU at a time, on distinct
 * devices (read from the jobs' own output, written as each user), and the
 * second jobs run once the first have ended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useSite } from '../helpers/real-site.js';
import { waitFor } from '../helpers/wait.js';
import { SITE, submitted, until } from './real-accounts-helpers.js';

const s = useSite({ ...SITE, nodes: 1 });

test('real accounts: two users share a 2-GPU node, one GPU each, on distinct devices, as their jobs say', {
  skip: s.skip,
  timeout: 120_000,
}, async () => {
  const { site } = s;
  const node = site.cluster.nodes[0]!.name;
  const setUp = await site.accounts.run(
    site.admin,
    '/bin/sh',
    ['-c', 'mkdir -m 700 ~/.qpy-multiuser && cat > ~/.qpy-multiuser/nodes && echo even > ~/.qpy-multiuser/distribution_rules'],
    { input: `${node} address=${node} cores=4 memory=64 gpus=2\n` },
  );
  assert.equal(setUp.code, 0, setUp.stderr);
  await site.adminOk(['start']);
  const users = [site.alice, site.bob];
  for (const u of users) assert.equal((await site.join(u, await site.invite(u))).code, 0);
  const job = (n: number) => `echo "$(id -un) $CUDA_VISIBLE_DEVICES" > gpu.${n}; ${until(`go.${n}`)}`;
  const seen = (u: (typeof users)[number], n: number): string | null => {
    try {
      return readFileSync(join(u.home, `gpu.${n}`), 'utf8').trim();
    } catch {
      return null;
    }
  };
  try {
    // Each runs its first job: one GPU each, both of the node's in use. (Had alice queued both of hers
    // while bob queued nothing, she would have borrowed his idle GPU, as cores are lent.)
    for (const u of users) assert.equal(submitted(await site.ok(u, ['sub', '-g', '1', job(1)])), 1);
    await waitFor(() => users.every((u) => seen(u, 1) !== null), { what: 'both first jobs started', timeoutMs: 30_000 });
    const st = await site.status();
    assert.deepEqual(
      users.map((u) => st.users.find((x) => x.name === u.name)?.gpus?.used),
      [1, 1],
    );
    assert.equal(st.nodes.find((n) => n.name === node)?.gpus?.used, 2);
    const first = users.map((u) => seen(u, 1)!.split(' '));
    assert.deepEqual(
      first.map((f) => f[0]),
      users.map((u) => u.name),
      'each job ran as its user',
    );
    assert.notEqual(first[0]![1], first[1]![1], 'distinct devices');
    assert.deepEqual(first.map((f) => f[1]).sort(), ['0', '1']);
    // Their second jobs wait: each user's share is in use, and neither is idle to lend.
    for (const u of users) assert.equal(submitted(await site.ok(u, ['sub', '-g', '1', job(2)])), 2);
    for (const u of users)
      await waitFor(async () => /Your share of the GPUs is in use/.test(await site.ok(u, ['why', '2'])), {
        what: `${u.name}'s job 2 waiting`,
      });
    assert.deepEqual([seen(site.alice, 2), seen(site.bob, 2)], [null, null], 'the second jobs wait for a GPU');
    // The first jobs end: each user's second job gets the GPU back.
    for (const u of users) writeFileSync(join(u.home, 'go.1'), '');
    await waitFor(() => users.every((u) => seen(u, 2) !== null), { what: 'both second jobs started', timeoutMs: 30_000 });
    const second = users.map((u) => seen(u, 2)!.split(' ')[1]);
    assert.deepEqual(second.sort(), ['0', '1']);
  } finally {
    for (const u of users) writeFileSync(join(u.home, 'go.2'), '');
    for (const u of users) await site.qpy(u, ['kill', 'all']);
  }
});
