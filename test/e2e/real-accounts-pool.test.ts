/**
 * A user's own Slurm pool under a real Unix account (issue 18; as root, as
 * CI runs): alice's master, under her uid, submits pilots to a real Slurm as
 * alice; each pilot runs as alice, reads her pilot file (hers alone: mallory
 * cannot read its secret) and connects back to her master; her jobs run
 * there as alice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { useSite } from '../helpers/real-site.js';
import { slurmMissing, startSlurm } from '../helpers/slurm.js';
import { waitFor } from '../helpers/wait.js';
import { SITE } from './real-accounts-helpers.js';

const s = useSite({ ...SITE, nodes: 1 });

test("real accounts: alice's pilots run as alice, connect back to her master with a secret only she can read, and run her jobs", {
  skip: s.skip || slurmMissing() || false,
  timeout: 120_000,
}, async () => {
  const { site } = s;
  const { alice, mallory } = site;
  await using slurm = await startSlurm({ cpus: 2, memoryMB: 2048 });
  const env = { SLURM_CONF: slurm.conf, QPY_POOL_POLL_MS: '500' };
  const line = `pool a slurm partition=${slurm.partition} nodes=1 cores=2 memory=0.5 time=00:10:00 idle=5 back=127.0.0.1\n`;
  const setUp = await site.accounts.run(alice, '/bin/sh', ['-c', 'mkdir -p -m 700 ~/.qpy && cat > ~/.qpy/nodes'], { input: line });
  assert.equal(setUp.code, 0, setUp.stderr);
  try {
    const sub = await site.qpy(alice, ['sub', '--array', '1-4', '-m', '0.1', 'echo "$(id -un) $QPY_NODE" > who.$QPY_JOB_ID'], { env });
    assert.equal(sub.code, 0, sub.stderr);
    const who = (id: number) => {
      try {
        return readFileSync(join(alice.home, `who.${id}`), 'utf8').trim();
      } catch {
        return null;
      }
    };
    await waitFor(() => [1, 2, 3, 4].every((id) => who(id) !== null), { what: "alice's 4 jobs ran", timeoutMs: 60_000 });
    for (const id of [1, 2, 3, 4]) assert.match(who(id)!, new RegExp(`^${alice.name} a-\\d+$`), 'ran as alice, on a pilot');
    const squeue = await slurm.run('squeue', ['--noheader', '--format=%u %j']);
    assert.match(squeue, new RegExp(`^${alice.name} qpy-pilot-a$`, 'm'), "the pilot is alice's Slurm job");
    const file = join(site.qpyPaths(alice).pools, 'a', 'pilot.json');
    const st = statSync(file);
    assert.deepEqual([st.uid, st.mode & 0o777], [alice.uid, 0o600], "alice's pilot file is hers alone");
    const peek = await site.accounts.run(mallory, '/bin/cat', [file]);
    assert.notEqual(peek.code, 0, 'mallory cannot read the pool secret');
    const cert = statSync(join(site.qpyPaths(alice).dir, 'pilot-tls.pem'));
    assert.deepEqual([cert.uid, cert.mode & 0o777], [alice.uid, 0o600]);
  } finally {
    await site.qpy(alice, ['kill', 'all'], { env });
  }
});
