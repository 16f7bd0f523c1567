/**
 * Issue 12 with real Unix accounts (as root, as CI runs): an admin account
 * runs qpy-multiuser over 3 sshd nodes; alice, bob and carol join with the
 * codes it prints and run jobs on the nodes under their own uids; mallory is
 * a local account that was never added. The happy path first, then one test
 * per attack of the issue: a stolen join code, a re-invited user's old key, a
 * crafted register, a dead master's cores, a removed user's jobs, a squatter
 * on the daemon's port, and qpy-admin run by a user who may not read the
 * admin directory. One site (accounts, nodes, daemon) serves every test, in
 * order; each test undoes what it changed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { useSite } from '../helpers/real-site.js';
import { masterConnection } from '../helpers/multiuser.js';
import { checkStatuses } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';
import type { Account } from '../helpers/accounts.js';
import { readKey } from '../../src/transport/key.js';
import { pidAlive, readDiscovery } from '../../src/discovery.js';
import { QpyError } from '../../src/errors.js';

const CORES = 4; // per node
const s = useSite({ nodes: 3, adminEnv: { QPY_PROBE_MS: '1000', QPY_MASTER_GRACE_MS: '3000' }, userEnv: { QPY_KILL_GRACE_MS: '1000' } });
const skip = s.skip;
const opts = { skip, timeout: 90_000 };
let joined = false;

/** Jobs of `u` by ID with their status (qpy check). */
const jobsOf = async (u: Account, ...ids: string[]) => checkStatuses(await s.site.ok(u, ['check', ...ids]));
const usedBy = (st: { users: { name: string; usedCores: number }[] }, u: Account) =>
  st.users.find((x) => x.name === u.name)?.usedCores ?? 0;
/** A job that runs until the file `name` exists in its user's home (one name per test). */
const until = (name: string) => `while [ ! -e ${name} ]; do sleep 0.1; done`;
const submitted = (out: string) => Number(/^Jobs? (\d+)/.exec(out)?.[1]);

test(
  'happy path: the admin account starts qpy-multiuser over 3 sshd nodes and adds alice, bob and carol; ' +
    'each joins through stdin, and their jobs run on the nodes under their own uids',
  opts,
  async () => {
    const { site } = s;
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
  },
);

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

test('b. a dead master strands no cores: alice’s master SIGKILLed while her jobs fill the cluster; ' +
  'once they end, bob’s queued jobs start without her doing anything', {
  ...opts,
  timeout: 120_000,
}, async () => {
  const { site } = s;
  assert.ok(joined, 'needs the happy path');
  const total = site.cluster.nodes.length * CORES;
  await site.ok(site.alice, ['sub', '--array', `1-${total}`, 'sleep 4']);
  try {
    await waitFor(async () => usedBy(await site.status(), site.alice) >= CORES, {
      what: 'alice holding cores',
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    const pid = site.masterPid(site.alice)!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !pidAlive(pid), { what: 'alice’s master gone' });
    // Bob asks for his share (4 of 12 cores): more than alice left free.
    const bobs = submitted(await site.ok(site.bob, ['sub', '--array', `1-${CORES}`, `id -un; ${until('stop-b')}`]));
    // Her jobs end within 4 s; after the grace (3 s here, 30 s by default) and a probe, her slots are free.
    let seen = '';
    await waitFor(
      async () => {
        const st = await site.status();
        seen = `alice holds ${usedBy(st, site.alice)} cores, bob ${usedBy(st, site.bob)}`;
        return usedBy(st, site.alice) === 0 && usedBy(st, site.bob) === CORES;
      },
      { what: `alice’s cores released and bob running ${CORES} jobs`, timeoutMs: 50_000, intervalMs: 500 },
    ).catch((err: Error) =>
      assert.fail(
        `${err.message} (${seen}); the daemon's log ends:\n${readFileSync(site.paths.log, 'utf8').split('\n').slice(-15).join('\n')}`,
      ),
    );
    assert.equal(readFileSync(join(site.bob.home, `job_${bobs}.out`), 'utf8'), `${site.bob.name}\n`);
  } finally {
    writeFileSync(join(site.bob.home, 'stop-b'), '');
    await site.qpy(site.alice, ['kill', 'all']); // restarts her master; what it never started is killed
    await site.qpy(site.bob, ['kill', 'all']);
  }
});

test('c. a removed user is told so: bob’s qpy sub fails with NOT_ALLOWED, and why says so of a job he had queued', opts, async () => {
  const { site } = s;
  assert.ok(joined, 'needs the happy path');
  const total = site.cluster.nodes.length * CORES;
  await site.ok(site.bob, ['sub', '--array', `1-${total + 2}`, until('stop-c')]);
  try {
    await waitFor(async () => usedBy(await site.status(), site.bob) >= 1, { what: 'bob running', timeoutMs: 20_000, intervalMs: 100 });
    assert.match(await site.adminOk(['users', 'remove', site.bob.name]), new RegExp(`^User ${site.bob.name} removed`));
    const queued = [...(await jobsOf(site.bob, 'queue')).keys()];
    assert.ok(queued.length >= 2, `bob has jobs queued: ${queued}`);
    const r = await site.qpy(site.bob, ['sub', 'echo hi']);
    assert.deepEqual([r.code, r.stdout], [1, ''], `qpy sub as a removed user: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /NOT_ALLOWED|not allowed/i);
    assert.match(await site.ok(site.bob, ['why', String(queued.at(-1))]), /not allowed/i);
  } finally {
    writeFileSync(join(site.bob.home, 'stop-c'), '');
    await site.qpy(site.bob, ['kill', 'all']);
  }
});

let squatter: ChildProcess | null = null;
after(() => void squatter?.kill('SIGKILL'));

/** Mallory listens on 127.0.0.1:PORT (and keeps what connects); resolves once she holds it. */
async function squat(mallory: Account, port: number): Promise<ChildProcess> {
  const p = s.site.accounts.spawn(mallory, process.execPath, [
    '-e',
    `const kept = []; require('net').createServer((c) => kept.push(c)).listen(${port}, '127.0.0.1', () => console.log('listening'))`,
  ]);
  let out = '';
  p.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  await waitFor(() => out.includes('listening') || p.exitCode !== null, { what: 'mallory holding the port' });
  assert.equal(p.exitCode, null, `mallory could not bind port ${port}`);
  return p;
}

test(
  'd. port squatting: after qpy-multiuser dies and mallory binds its port, qpy-admin start fails naming her (user and pid)',
  opts,
  async () => {
    const { site } = s;
    assert.ok(joined, 'needs the happy path');
    const port = Number(readFileSync(site.paths.port, 'utf8'));
    const pid = readDiscovery(site.paths.discovery)!.pid;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !pidAlive(pid), { what: 'qpy-multiuser gone' });
    squatter = await squat(site.mallory, port);
    const r = await site.qpyAdmin(['start']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`${port}`));
    assert.match(r.stderr, new RegExp(`\\b(${site.mallory.name}|${site.mallory.uid})\\b`), `names mallory: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`\\b${squatter.pid}\\b`), `names the pid holding the port: ${r.stderr}`);
  },
);

test(
  'd. port squatting: qpy-multiuser started again on a new port while mallory holds the old one; alice’s master on this host still gets slots',
  opts,
  async () => {
    const { site } = s;
    assert.ok(joined, 'needs the happy path');
    const old = Number(readFileSync(site.paths.port, 'utf8'));
    const running = readDiscovery(site.paths.discovery);
    if (running && pidAlive(running.pid)) process.kill(running.pid, 'SIGKILL');
    squatter ??= await squat(site.mallory, old);
    rmSync(site.paths.port); // as the admin would, to move elsewhere
    await site.adminOk(['start']);
    assert.notEqual(Number(readFileSync(site.paths.port, 'utf8')), old);
    const id = submitted(await site.ok(site.alice, ['sub', 'id -un']));
    let seen: string | undefined;
    await waitFor(async () => (seen = (await jobsOf(site.alice, String(id))).get(id)?.status) === 'done', {
      what: `alice’s job ${id} done`,
      timeoutMs: 15_000,
      intervalMs: 250,
    }).catch(async (err: Error) =>
      assert.fail(`${err.message}: it stayed ${seen}; qpy why says: ${(await site.qpy(site.alice, ['why', String(id)])).stdout.trim()}`),
    );
    assert.equal(readFileSync(join(site.alice.home, `job_${id}.out`), 'utf8'), `${site.alice.name}\n`);
  },
);
