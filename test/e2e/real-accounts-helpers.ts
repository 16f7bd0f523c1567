/**
 * Shared by the real-accounts tests (real-accounts.test.ts,
 * real-accounts-recovery.test.ts): the site each file makes (3 sshd nodes
 * of 4 cores, short probe, grace and kill times), its set-up (the admin
 * account starts qpy-multiuser; alice, bob and carol join with the codes it
 * prints), and small readers of what the site shows.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import type { Account } from '../helpers/accounts.js';
import type { Site, SiteOptions } from '../helpers/real-site.js';

export const CORES = 4; // per node
export const SITE: SiteOptions = {
  nodes: 3,
  adminEnv: { QPY_PROBE_MS: '1000', QPY_MASTER_GRACE_MS: '3000' },
  userEnv: { QPY_KILL_GRACE_MS: '1000' },
};

export const usedBy = (st: { users: { name: string; usedCores: number }[] }, u: Account) =>
  st.users.find((x) => x.name === u.name)?.usedCores ?? 0;
/** A job that runs until the file `name` exists in its user's home (one name per test). */
export const until = (name: string) => `while [ ! -e ${name} ]; do sleep 0.1; done`;
export const submitted = (out: string) => Number(/^Jobs? (\d+)/.exec(out)?.[1]);

/**
 * The admin account writes its nodes and rules files and starts
 * qpy-multiuser; alice, bob and carol each join through stdin, and get a
 * key that is theirs alone.
 */
export async function startAndJoin(site: Site): Promise<void> {
  const nodes = `${site.cluster.nodes.map((n) => `${n.name} address=${n.name} cores=${CORES} memory=64`).join('\n')}\n`;
  const setUp = await site.accounts.run(
    site.admin,
    '/bin/sh',
    ['-c', 'mkdir -m 700 ~/.qpy-multiuser && cat > ~/.qpy-multiuser/nodes && echo even > ~/.qpy-multiuser/distribution_rules'],
    { input: nodes },
  );
  assert.equal(setUp.code, 0, setUp.stderr);
  assert.match(
    await site.adminOk(['start']),
    new RegExp(`^qpy-multiuser started \\(pid \\d+, port \\d+, directory ${site.paths.dir}\\)\\.\\n$`),
  );
  const users = [site.alice, site.bob, site.carol];
  for (const u of users) {
    const r = await site.join(u, await site.invite(u));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Joined qpy-multiuser at 127\\.0\\.0\\.1:\\d+ as ${u.name}\\.$`, 'm'));
    const key = statSync(site.qpyPaths(u).multiuserKey);
    assert.deepEqual([key.uid, key.mode & 0o777], [u.uid, 0o600], `${u.name}'s key is hers alone`);
  }
}
