/**
 * Issue 12 with real Unix accounts (as root, as CI runs): an admin account
 * runs qpy-multiuser over 3 sshd nodes; alice, bob and carol join with the
 * codes it prints and run jobs on the nodes under their own uids, which the
 * admin's `qpy-admin report` accounts for, each user apart; mallory is
 * a local account that was never added. The happy path first, then the
 * attacks of the issue on joining and authenticating: a stolen join code, a
 * re-invited user's old key, qpy-admin run by a user who may not read the
 * admin directory, and a crafted register. The attacks on a running site
 * (a dead master's cores, a removed user's jobs, a squatter on the daemon's
 * port) are in real-accounts-recovery.test.ts. One site (accounts, nodes,
 * daemon) serves every test of this file, in order; each test undoes what
 * it changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useSite } from '../helpers/real-site.js';
import { masterConnection } from '../helpers/multiuser.js';
import { waitFor } from '../helpers/wait.js';
import type { Account } from '../helpers/accounts.js';
import { readKey } from '../../src/transport/key.js';
import { QpyError } from '../../src/errors.js';
import type { UsageReport } from '../../src/protocol/usage-report.js';
import { SITE, startAndJoin, submitted, until, usedBy } from './real-accounts-helpers.js';

const s = useSite(SITE);
const skip = s.skip;
const opts = { skip, timeout: 90_000 };
let joined = false;

test(
  'happy path: the admin account starts qpy-multiuser over 3 sshd nodes and adds alice, bob and carol; ' +
    'each joins through stdin, and their jobs run on the nodes under their own uids',
  opts,
  async () => {
    const { site } = s;
    await startAndJoin(site);
    const users = [site.alice, site.bob, site.carol];
    joined = true;

    const ids = new Map<Account, number>();
    for (const u of users) ids.set(u, submitted(await site.ok(u, ['sub', `id -un; echo "$QPY_TEST_NODE"; ${until('stop-happy')}`])));
    try {
      // All three run at once, and the admin sees them.
      await waitFor(
        async () => {
          const st = await site.status();
          return users.every((u) => usedBy(st, u) === 1);
        },
        { what: 'each user running one job', timeoutMs: 30_000, intervalMs: 200 },
      );
      // The admin's probes reach every node over SSH (a probed node reports its memory in use).
      await waitFor(async () => (await site.status()).nodes.every((n) => n.up && n.usedMemGB > 0), {
        what: 'every node probed',
        timeoutMs: 10_000,
        intervalMs: 200,
      });
      const text = await site.adminOk(['status']);
      for (const u of users) assert.match(text, new RegExp(`^${u.name} `, 'm'));
    } finally {
      for (const u of users) writeFileSync(join(u.home, 'stop-happy'), '');
    }
    for (const u of users) {
      const id = ids.get(u)!;
      assert.equal(await site.ok(u, ['wait', String(id)]), 'The job ended done.\n');
      const out = join(u.home, `job_${id}.out`);
      assert.equal(statSync(out).uid, u.uid, `${out} belongs to ${u.name}`);
      const [who, node] = readFileSync(out, 'utf8').split('\n');
      assert.equal(who, u.name);
      assert.ok(
        site.cluster.nodes.some((n) => n.name === node),
        `ran on an sshd node, not ${JSON.stringify(node)}`,
      );
    }
    // The admin’s report names each real user with the run they made, its core-hours those of the job.
    await waitFor(async () => (await site.status()).users.every((x) => x.usedCores === 0), { what: 'every slot back' });
    const report = JSON.parse(await site.adminOk(['report', '--json'])) as UsageReport;
    for (const u of users) {
      const mine = report.users.find((x) => x.name === u.name);
      const job = (JSON.parse(await site.ok(u, ['check', '--json', String(ids.get(u))])) as { jobs: CheckedRun[] }).jobs[0]!;
      const hours = (job.state.endedAt - job.state.startedAt) / 3_600_000;
      assert.equal(mine?.jobs, 1, `${u.name} in the report: ${JSON.stringify(report.users)}`);
      // 1 %, or 0.1 s for a run this short: the ledger's slot spans the grant to the release, a few ms
      // more than the job (multiuser-report.test.ts holds longer jobs to 1 %).
      const slack = Math.max(0.01 * hours, 0.1 / 3600);
      assert.ok(Math.abs(mine!.coreHours - hours) <= slack, `${u.name}: ${mine!.coreHours} core-hours, the job ${hours}`);
    }
  },
);

interface CheckedRun {
  state: { startedAt: number; endedAt: number };
}

/** Mallory's watcher: every command line containing "join" that appears in /proc, one JSON string a line, until its stdin closes. */
const WATCHER = `const fs = require('fs'); const seen = new Set(); let on = true;
process.stdin.on('end', () => (on = false)).resume();
const scan = () => {
  for (const p of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(p) || p === String(process.pid)) continue;
    let c; try { c = fs.readFileSync('/proc/' + p + '/cmdline', 'latin1'); } catch { continue; }
    if (c.includes('join') && !seen.has(c)) { seen.add(c); process.stdout.write(JSON.stringify(c.split('\\0').join(' ')) + '\\n'); }
  }
  if (on) setImmediate(scan); else process.exit(0);
};
console.log('ready'); scan();`;

test(
  'a. stolen codes: mallory, watching every command line in /proc, sees alice join but never her code, and the code works only once',
  opts,
  async () => {
    const { site } = s;
    assert.ok(joined, 'needs the happy path');
    const watcher = site.accounts.spawn(site.mallory, process.execPath, ['-e', WATCHER]);
    let seen = '';
    watcher.stdout!.setEncoding('utf8').on('data', (d: string) => (seen += d));
    const ended = new Promise((r) => watcher.once('exit', r));
    await waitFor(() => seen.startsWith('ready\n'), { what: 'the watcher ready' });
    const inv = await site.invite(site.alice);
    const r = await site.join(site.alice, inv);
    watcher.stdin!.end();
    await ended;
    assert.equal(r.code, 0, r.stderr);
    const lines = seen
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => JSON.parse(l) as string);
    assert.ok(
      lines.some((l) => l.includes(` join ${inv.hostPort}`)),
      `the watcher saw the join itself: ${JSON.stringify(lines)}`,
    );
    assert.deepEqual(
      lines.filter((l) => l.includes(inv.code)),
      [],
      `alice's code was on a command line${r.legacy ? ' (this qpy join takes the code only as an argument)' : ''}`,
    );
    // Used once: mallory's try with it is refused, and the daemon's log names her (the uid owning her socket).
    const logged = statSync(site.paths.log).size;
    const stolen = await site.join(site.mallory, inv, ['--as', site.alice.name]);
    assert.equal(stolen.code, 1, stolen.stdout);
    const log = readFileSync(site.paths.log).subarray(logged).toString('utf8');
    assert.match(
      log,
      new RegExp(`${site.mallory.name}|uid[ =:]?${site.mallory.uid}\\b`),
      `the refused join names its peer in multiuser.log: ${log}`,
    );
  },
);

test('a. inviting carol again makes her a new key: the old key stops authenticating at once', opts, async () => {
  const { site } = s;
  assert.ok(joined, 'needs the happy path');
  const old = readKey(site.qpyPaths(site.carol).multiuserKey);
  const c = await masterConnection(site.paths.discovery, site.carol.name, old);
  await c.request({ type: 'status', user: site.carol.name });
  c.close();
  const inv = await site.invite(site.carol);
  try {
    await assert.rejects(async () => {
      const again = await masterConnection(site.paths.discovery, site.carol.name, old);
      try {
        await again.request({ type: 'status', user: site.carol.name });
      } finally {
        again.close();
      }
    }, 'carol’s old key still authenticates after she was invited again');
  } finally {
    const r = await site.join(site.carol, inv);
    assert.equal(r.code, 0, r.stderr);
  }
});

test('e. qpy-admin run by bob, who may not read the admin directory, says permission denied and names the path', opts, async () => {
  const { site } = s;
  assert.ok(joined, 'needs the happy path');
  const r = await site.qpyAdmin(['status'], site.bob, { env: { QPY_MULTIUSER_DIR: site.paths.dir } });
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /permission denied/i);
  assert.ok(r.stderr.includes(site.paths.dir), `names the path: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /not running/);
});

test('f. a register from alice’s connection reporting slots never granted is refused and never counted', opts, async () => {
  const { site } = s;
  assert.ok(joined, 'needs the happy path');
  const before = await site.status();
  const key = readKey(site.qpyPaths(site.alice).multiuserKey);
  const c = await masterConnection(site.paths.discovery, site.alice.name, key);
  const [n2, n3] = site.cluster.nodes.map((n) => n.name) as [string, string];
  const crafted = [
    { jobId: 900_001, node: n2, cores: 14, memGB: 1 },
    { jobId: 900_002, node: n3, cores: 1, memGB: 1 },
  ];
  try {
    const reply = await c.request({ type: 'register', user: site.alice.name, running: crafted, queueSize: 0 }).catch((err: unknown) => err);
    const st = await site.status();
    for (const n of st.nodes) assert.ok(n.usedCores <= n.cores, `${n.name}: ${n.usedCores} of ${n.cores} cores used`);
    assert.ok(st.usedCores <= st.totalCores, `${st.usedCores} of ${st.totalCores} cores used`);
    assert.equal(usedBy(st, site.alice), usedBy(before, site.alice), 'alice is charged for nothing new');
    const refused =
      reply instanceof QpyError
        ? crafted.map((x) => x.jobId)
        : ((reply as { refused?: { jobId: number }[] }).refused ?? []).map((x) => x.jobId);
    assert.deepEqual(refused.sort(), [900_001, 900_002], `both slots refused: ${JSON.stringify(reply)}`);
  } finally {
    c.close();
    await site.ok(site.alice, ['restart']); // her master registers its true books again
  }
});
