/**
 * The chaos run with a ledger: a real qpy-multiuser over one node of this
 * machine, simulated users (QPY_USER) each submitting an array of short
 * jobs, and, every 1–5 s (seeded), a SIGKILL: first of a random user's
 * master, then of qpy-multiuser, each restarted at once as the CLIs would
 * (`qpy check`, `qpy-admin start`). Every job appends its QPY_TAG
 * (USER:JOB:ATTEMPT) to a ledger file as it starts; a sampler reads /proc
 * every 50 ms for the job wrappers of these users (each carries its tag in
 * its command line). At the end: no job lost (every one ends done and is in
 * the ledger), none run twice (one ledger line each), none killed or failed,
 * and never more wrappers alive at once than the node has cores.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { admin, joinedUser, testMultiuser } from './multiuser.js';
import { checkStatuses, type QpyUser } from './qpy.js';
import { waitFor } from './wait.js';
import { pidAlive } from '../../src/discovery.js';
import { Rng } from './prng.js';

export interface ChaosOptions {
  seed: number;
  /** Jobs in all, spread over the users. */
  jobs: number;
  users: number;
  cores: number;
  /** How long each job sleeps (seconds, as `sleep` takes it). */
  jobSeconds: string;
  /** SIGKILL one daemon every this many ms, chosen in [min, max] by the seed. */
  killEveryMs: [number, number];
  /** Give up waiting for the jobs after this long. */
  deadlineMs: number;
  progress?(line: string): void;
}

export interface ChaosReport {
  seed: number;
  jobs: number;
  cores: number;
  masterKills: number;
  multiuserKills: number;
  /** Most job wrappers seen alive at once. */
  maxRunning: number;
  samples: number;
  lost: number;
  duplicated: number;
  /** Jobs that ended other than done, by status. */
  notDone: Map<string, number>;
  findings: string[];
  ms: number;
}

/**
 * The tags of the live jobs of users whose names start with `prefix`: every process whose
 * environment holds their QPY_TAG (a job's command and its children; a command that has ended is
 * a zombie, whose environment reads empty, until its agent reaps it).
 */
function liveTags(prefix: string): Set<string> {
  const tags = new Set<string>();
  const wanted = `QPY_TAG=${prefix}`;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let env: string;
    try {
      env = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    const at = env.indexOf(wanted);
    if (at < 0 || (at > 0 && env[at - 1] !== '\0')) continue;
    const end = env.indexOf('\0', at);
    tags.add(env.slice(at + 'QPY_TAG='.length, end < 0 ? undefined : end));
  }
  return tags;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const rng = new Rng(opts.seed);
  const started = performance.now();
  const prefix = `ch${randomBytes(3).toString('hex')}`;
  const names = Array.from({ length: opts.users }, (_, i) => `${prefix}u${i + 1}`);
  const report: ChaosReport = {
    seed: opts.seed,
    jobs: 0,
    cores: opts.cores,
    masterKills: 0,
    multiuserKills: 0,
    maxRunning: 0,
    samples: 0,
    lost: 0,
    duplicated: 0,
    notDone: new Map(),
    findings: [],
    ms: 0,
  };
  const say = (line: string) => opts.progress?.(line);
  await using mu = testMultiuser({ nodes: `n1 address=localhost cores=${opts.cores} memory=1000\n`, env: { QPY_PROBE_MS: '0' } });
  const up = await mu.start();
  if (up.code !== 0) throw new Error(`qpy-multiuser did not start: ${up.stderr}`);
  const ledger = join(mu.dir.path, 'ledger');
  writeFileSync(ledger, '');
  const users: QpyUser[] = [];
  try {
    for (const name of names) users.push(await joinedUser(mu, name, { QPY_KILL_GRACE_MS: '1000' }));
    // The sampler: most wrappers alive at once, and any tag alive twice over (the same run started twice).
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const live = liveTags(prefix);
        report.samples++;
        report.maxRunning = Math.max(report.maxRunning, live.size);
        if (live.size > opts.cores && report.findings.length < 50)
          report.findings.push(`${live.size} jobs running at once on ${opts.cores} cores: ${[...live].join(' ')}`);
        await delay(50);
      }
    })();
    const per = Math.ceil(opts.jobs / opts.users);
    for (const u of users) {
      const out = await u.ok(['sub', '--array', `1-${per}`, `echo "$QPY_TAG" >> ${ledger}; sleep ${opts.jobSeconds}`]);
      if (!/^Jobs? /.test(out)) throw new Error(`qpy sub: ${out}`);
    }
    report.jobs = per * users.length;
    say(`chaos: seed ${opts.seed}, ${report.jobs} jobs of ${users.length} users on ${opts.cores} cores`);

    const allFinal = async (): Promise<boolean> => {
      for (const u of users) {
        const st = checkStatuses(await u.ok(['check']));
        if (st.size < per || [...st.values()].some((j) => j.status === 'queue' || j.status === 'running' || j.status === 'starting'))
          return false;
      }
      return true;
    };
    // The kills: masters in the first half of the run (as the jobs' expected end splits it), then qpy-multiuser.
    const expectedMs = (report.jobs * Number(opts.jobSeconds) * 1000) / opts.cores;
    let done = false;
    const restartMaster = async (u: QpyUser) => {
      const r = await u.qpy(['check']);
      if (r.code !== 0) report.findings.push(`qpy check after a master kill exited ${r.code}: ${r.stderr.trim()}`);
    };
    while (!done && performance.now() - started < opts.deadlineMs) {
      await delay(rng.int(opts.killEveryMs[0], opts.killEveryMs[1]));
      const ledgerLines = readFileSync(ledger, 'utf8').split('\n').length - 1;
      if (ledgerLines >= report.jobs && (done = await allFinal())) break;
      if (ledgerLines < report.jobs / 2 && performance.now() - started < expectedMs) {
        const u = rng.pick(users);
        const pid = u.masterPid();
        if (pid !== null && pidAlive(pid)) {
          process.kill(pid, 'SIGKILL');
          await waitFor(() => !pidAlive(pid), { what: 'the master gone' });
          report.masterKills++;
        }
        await restartMaster(u);
      } else {
        await mu.kill();
        report.multiuserKills++;
        await admin(mu, ['start']);
      }
      say(
        `  ${Math.round((performance.now() - started) / 1000)} s: ${ledgerLines} of ${report.jobs} jobs started, ` +
          `${report.masterKills} master and ${report.multiuserKills} qpy-multiuser kills`,
      );
    }
    // Every master is running (a kill may have been the last thing), and every job final.
    for (const u of users) await restartMaster(u);
    await waitFor(allFinal, {
      what: 'every job final',
      timeoutMs: Math.max(10_000, opts.deadlineMs - (performance.now() - started)),
      intervalMs: 500,
    }).catch((err: Error) => report.findings.push(err.message));
    sampling = false;
    await sampler;

    // The books.
    const lines = readFileSync(ledger, 'utf8').split('\n').filter(Boolean);
    const runs = new Map<string, number>();
    for (const l of lines) {
      const [user, job] = l.split(':');
      runs.set(`${user}:${job}`, (runs.get(`${user}:${job}`) ?? 0) + 1);
    }
    for (const [k, n] of runs)
      if (n > 1) {
        report.duplicated++;
        if (report.findings.length < 50) report.findings.push(`job ${k} ran ${n} times`);
      }
    for (const [i, u] of users.entries()) {
      const st = checkStatuses(await u.ok(['check']));
      for (const [id, j] of st) {
        if (j.status !== 'done') report.notDone.set(j.status, (report.notDone.get(j.status) ?? 0) + 1);
        if (!runs.has(`${names[i]}:${id}`)) {
          report.lost++;
          if (report.findings.length < 50) report.findings.push(`job ${names[i]}:${id} never started (${j.status})`);
        }
      }
      report.lost += Math.max(0, per - st.size);
    }
    for (const [status, n] of report.notDone) report.findings.push(`${n} jobs ended ${status}`);
  } finally {
    for (const u of users) await u[Symbol.asyncDispose]();
    report.ms = Math.round(performance.now() - started);
  }
  return report;
}

export function formatChaosReport(r: ChaosReport): string {
  return [
    `chaos: seed ${r.seed}, ${r.jobs} jobs on ${r.cores} cores in ${(r.ms / 1000).toFixed(1)} s`,
    `  did: ${r.masterKills} SIGKILLs of a master, ${r.multiuserKills} of qpy-multiuser, each restarted at once; ${r.samples} samples of /proc`,
    `  found: ${r.lost} lost, ${r.duplicated} run twice, ${[...r.notDone.values()].reduce((a, b) => a + b, 0)} not done, ` +
      `at most ${r.maxRunning} running at once (${r.cores} cores)`,
    ...r.findings.map((f) => `    - ${f}`),
  ].join('\n');
}
