/**
 * Issue 12 with real Unix accounts (as root, as CI runs), the attacks on a
 * running site: a dead master's cores, a removed user's jobs, and mallory (a
 * local account never added) squatting on the daemon's port. The site is
 * set up as in real-accounts.test.ts (real-accounts-helpers.ts): an admin
 * account runs qpy-multiuser over 3 sshd nodes, alice, bob and carol join.
 * One site serves every test of this file, in order; each test undoes what
 * it changed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { useSite } from '../helpers/real-site.js';
import { checkStatuses } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';
import type { Account } from '../helpers/accounts.js';
import { pidAlive, readDiscovery } from '../../src/discovery.js';
import { CORES, SITE, startAndJoin, submitted, until, usedBy } from './real-accounts-helpers.js';

const s = useSite(SITE);
const skip = s.skip;
const opts = { skip, timeout: 90_000 };
let joined = false;

/** Jobs of `u` by ID with their status (qpy check). */
const jobsOf = async (u: Account, ...ids: string[]) => checkStatuses(await s.site.ok(u, ['check', ...ids]));

test('set-up: the admin account starts qpy-multiuser over 3 sshd nodes; alice, bob and carol join', opts, async () => {
  await startAndJoin(s.site);
  joined = true;
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
    // Granted is not yet started: the job's first line may come a moment after the grant.
    const out = join(site.bob.home, `job_${bobs}.out`);
    await waitFor(() => existsSync(out) && readFileSync(out, 'utf8') !== '', { what: `bob's job ${bobs} writing its output` });
    assert.equal(readFileSync(out, 'utf8'), `${site.bob.name}\n`);
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
