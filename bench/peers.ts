/**
 * bench/peers: qpy beside `xargs -P` (the fork floor) and, where installed,
 * task-spooler, on the same workloads in turns, in one table, with the
 * ratios issue 14 sets as targets. Workloads: N `/bin/true` jobs at S = 8
 * slots (jobs/s, and the CPU time of every process involved per job), SEQ
 * sequential submit-and-wait jobs and SEQ single submissions (ms each), and
 * 32 × `sleep 1` against the ideal makespan; qpy also over 4 real sshd nodes
 * (2 cores each), and `node -e 0`, `qpy sub` and `qpy sub -W` start to end.
 * Slurm too where Debian's slurmctld, slurmd and munge are installed and
 * this runs as root (slurm-peer.ts starts them). `--quick`: smaller
 * workloads, one repetition. `--no-ssh`, `--no-slurm`: leave those out.
 */
import { SSHD, startCluster, type Cluster } from '../test/helpers/sshd-cluster.js';
import { conditions } from './lib.js';
import { has, qpyPeer, tspPeer, xargsPeer, type Peer } from './peer-systems.js';
import { measureStart, startTable, TARGET_OVER_NODE_MS } from './start-measure.js';
import { slurmMissing, slurmPeer } from './slurm-peer.js';
import { quantiles } from './timing.js';

const quick = process.argv.includes('--quick');
const SLOTS = 8;
const N = Number(process.env['BENCH_JOBS'] ?? (quick ? 200 : 1000));
const SEQ = quick ? 15 : 50;
const SLEEPS = quick ? 16 : 32;
const REPS = quick ? 1 : 3;
const START_ROUNDS = quick ? 15 : 40;

interface Figures {
  rate: number[];
  cpu: number[];
  makespan: number[];
  submitWait: number[];
  submit: number[];
}

console.log(`bench/peers — ${conditions()}`);
const peers: Peer[] = [xargsPeer()];
const qpy = await qpyPeer('qpy', `localhost cores=${SLOTS} memory=64\n`);
peers.push(qpy);
let cluster: Cluster | null = null;
if (!process.argv.includes('--no-ssh') && SSHD !== null) {
  cluster = await startCluster(4);
  const nodes = cluster.nodes.map((n) => `${n.name} address=${n.name} cores=${SLOTS / 4} memory=64`).join('\n');
  peers.push(await qpyPeer('qpy, 4 sshd nodes', `${nodes}\n`, { QPY_SSH_CONFIG: cluster.sshConfig }));
}
if (has('tsp')) peers.push(await tspPeer(SLOTS));
const noSlurm = process.argv.includes('--no-slurm') ? 'Slurm: --no-slurm; not run' : slurmMissing();
if (noSlurm === null) peers.push(await slurmPeer(SLOTS));
const notes = [
  has('tsp') ? null : 'task-spooler: not installed (apt-get install task-spooler)',
  noSlurm,
  cluster ? null : 'SSH: no sshd here, or --no-ssh; not run',
].filter((n): n is string => n !== null);

const fig = new Map<string, Figures>(peers.map((p) => [p.name, { rate: [], cpu: [], makespan: [], submitWait: [], submit: [] }]));
const timed = async (f: () => Promise<void>) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

try {
  for (const p of peers) {
    await p.batch(2 * SLOTS, SLOTS, '/bin/true'); // warm-up: daemons up, node connections open
    await p.reset();
  }
  for (let rep = 0; rep < REPS; rep++) {
    for (const p of peers) {
      const c0 = p.meter.read();
      const ms = await timed(() => p.batch(N, SLOTS, '/bin/true'));
      fig.get(p.name)!.rate.push(N / (ms / 1000));
      fig.get(p.name)!.cpu.push((p.meter.read() - c0) / N);
      await p.reset();
    }
    for (const p of peers) {
      fig.get(p.name)!.makespan.push(await timed(() => p.batch(SLEEPS, SLOTS, 'sleep 1')));
      await p.reset();
    }
    for (let i = 0; i < SEQ; i++)
      for (const p of peers) {
        if (p.submitWait) fig.get(p.name)!.submitWait.push(await timed(p.submitWait));
        if (p.submit) fig.get(p.name)!.submit.push(await timed(p.submit));
      }
    for (const p of peers) await p.reset();
  }
  const start = measureStart(qpy.user, START_ROUNDS, false);

  const ideal = Math.ceil(SLEEPS / SLOTS) * 1000;
  const med = (xs: number[]) => (xs.length === 0 ? NaN : quantiles(xs).median);
  const cell = (x: number, digits: number, unit: string) => (Number.isNaN(x) ? '—' : `${x.toFixed(digits)}${unit}`);
  console.log(
    `conditions: ${SLOTS} slots; ${REPS} repetition(s), systems in turns, medians; jobs through sh -c; CPU: ${peers[0]!.meter.scope === 'cgroup' ? 'each system in a cgroup of its own (daemon, clients and jobs)' : 'the whole machine (no cgroup could be made): other load counts too'}; over SSH, the sshd side is not counted`,
  );
  const head = [
    'system',
    `jobs/s (${N} × /bin/true)`,
    'CPU per job',
    'submit + wait one',
    'one submission',
    `${SLEEPS} × sleep 1 (ideal ${ideal / 1000} s)`,
  ];
  const rows = peers.map((p) => {
    const f = fig.get(p.name)!;
    const ssh = p.name.includes('sshd');
    return [
      p.name,
      cell(med(f.rate), 0, ''),
      ssh ? '—' : cell(med(f.cpu), 1, ' ms'),
      cell(med(f.submitWait), 0, ' ms'),
      cell(med(f.submit), 0, ' ms'),
      `${cell(med(f.makespan) / 1000, 2, ' s')} (×${(med(f.makespan) / ideal).toFixed(2)})`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, widths.map((w) => '-'.repeat(w)), ...rows])
    console.log(`| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`);
  for (const n of notes) console.log(`note: ${n}`);
  console.log('\nstart to end, in turns:');
  for (const line of startTable(start)) console.log(`  ${line}`);

  const floor = fig.get('xargs -P')!;
  const local = fig.get('qpy')!;
  const sshFig = fig.get('qpy, 4 sshd nodes');
  const subOver = start.rows.get('qpy sub (snapshot)')!.median - start.node.median;
  const waitOver = start.rows.get('qpy sub -W (snapshot)')!.median - start.node.median;
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const lr = med(local.rate) / med(floor.rate);
  const cr = med(local.cpu) / med(floor.cpu);
  console.log('\ntargets (issue 14), as ratios within this run:');
  console.log(`  throughput, local node: ${(lr * 100).toFixed(0)} % of the xargs -P floor (target ≥ 60 %): ${verdict(lr >= 0.6)}`);
  if (sshFig) {
    const sr = med(sshFig.rate) / med(floor.rate);
    console.log(`  throughput, 4 sshd nodes: ${(sr * 100).toFixed(0)} % of the floor (target ≥ 40 %): ${verdict(sr >= 0.4)}`);
  }
  console.log(`  CPU per job: ${cr.toFixed(2)}× the floor's (target ≤ 2×): ${verdict(cr <= 2)}`);
  console.log(
    `  qpy sub -W of /bin/true: node -e 0 + ${waitOver.toFixed(0)} ms (target ≤ + ${TARGET_OVER_NODE_MS.subWait}): ${verdict(waitOver <= 60)}`,
  );
  console.log(`  one qpy sub: node -e 0 + ${subOver.toFixed(0)} ms (target ≤ + ${TARGET_OVER_NODE_MS.sub}): ${verdict(subOver <= 30)}`);
} finally {
  for (const p of peers) await p.close();
  await cluster?.close();
}
