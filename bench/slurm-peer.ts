/**
 * Slurm for bench/peers: Debian's munged, slurmctld and slurmd started by the
 * bench itself on one node of `slots` CPUs, from a configuration in a
 * temporary directory (ports chosen free, state there too), tuned to schedule
 * at once on every event (the defaults wait up to a second or more between
 * passes). Jobs are batch scripts (`sbatch --wrap`), an array for a batch;
 * the batch ends when a job depending on the whole array (`srun
 * --dependency=afterany`) runs, since `sbatch --wait` polls (about 2 s).
 * Submit-and-wait is `srun`. Needs root (slurmd starts jobs as their user).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { BENCH_BASE } from './lib.js';
import { has, runIn, type Peer } from './peer-systems.js';
import { cpuMeter } from './timing.js';

/** Why Slurm cannot run here, or null. */
export function slurmMissing(): string | null {
  const missing = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'srun', 'sinfo'].filter((t) => !has(t));
  if (missing.length > 0)
    return `Slurm: not installed (${missing.join(', ')} missing: apt-get install slurmctld slurmd slurm-client munge); not run`;
  if (process.getuid?.() !== 0) return 'Slurm: installed, but slurmd needs root to start jobs; not run';
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function slurmPeer(slots: number): Promise<Peer> {
  const meter = cpuMeter('qpy-peers-slurm');
  const dir = mkdtempSync(join(BENCH_BASE, 'qpy-peers-slurm-'));
  chmodSync(dir, 0o711);
  for (const d of ['state', 'spool', 'out']) mkdirSync(join(dir, d));
  const host = hostname().split('.')[0]!;
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      `ClusterName=qpypeers`,
      `SlurmctldHost=${host}(127.0.0.1)`,
      'SlurmUser=root',
      'SlurmdUser=root',
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'AuthType=auth/munge',
      `AuthInfo=socket=${join(dir, 'munge.sock')}`,
      'CredType=cred/munge',
      ...['StateSaveLocation=state', 'SlurmdSpoolDir=spool', 'SlurmctldPidFile=slurmctld.pid', 'SlurmdPidFile=slurmd.pid'].map((l) =>
        l.replace('=', `=${dir}/`),
      ),
      ...['SlurmctldLogFile=slurmctld.log', 'SlurmdLogFile=slurmd.log'].map((l) => l.replace('=', `=${dir}/`)),
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'SchedulerType=sched/builtin',
      'SchedulerParameters=sched_min_interval=0,batch_sched_delay=0,default_queue_depth=1000,sched_max_job_start=0',
      'SlurmdParameters=config_overrides',
      'MpiDefault=none',
      'ReturnToService=2',
      'MaxArraySize=100001',
      'MaxJobCount=200000',
      'MinJobAge=2',
      'KillWait=1',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${slots} State=UNKNOWN`,
      `PartitionName=bench Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const daemons: ChildProcess[] = [];
  const start = (file: string, args: string[]) => {
    const [f, a] = meter.wrap(file, args);
    daemons.push(spawn(f, a, { env, cwd: dir, stdio: 'ignore' }));
  };
  await runIn(null, 'mungekey', ['--create', `--keyfile=${join(dir, 'munge.key')}`]);
  chmodSync(join(dir, 'munge.key'), 0o600);
  const m = (name: string) => `--${name}=${join(dir, `munged.${name.replace('-file', '')}`)}`;
  start('munged', [
    '-F',
    '-f',
    `--socket=${join(dir, 'munge.sock')}`,
    `--key-file=${join(dir, 'munge.key')}`,
    m('log-file'),
    m('pid-file'),
    m('seed-file'),
  ]);
  start('slurmctld', ['-D', '-i', '-f', conf]);
  start('slurmd', ['-D', '-f', conf]);
  const close = async () => {
    // Each daemon gone (or 10 s passed) before its directory goes.
    const gone = daemons.map((d) => (d.exitCode !== null || d.signalCode !== null ? null : new Promise((r) => d.once('exit', r))));
    for (const d of daemons) d.kill('SIGTERM');
    await Promise.race([Promise.all(gone), delay(10_000)]);
    rmSync(dir, { recursive: true, force: true });
    meter.close();
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const state = await runIn(null, 'sinfo', ['-h', '-o', '%t'], env, dir).catch(() => '');
    if (state.trim() === 'idle') break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`Slurm did not come up within 30 s (see ${dir})`);
    }
    await delay(200);
  }
  const sh = (script: string) => runIn(meter, '/bin/sh', ['-c', script], env, dir);
  return {
    name: 'Slurm',
    meter,
    batch: async (n, _slots, command) =>
      void (await sh(
        `id=$(sbatch --parsable --array=1-${n} -o '${dir}/out/%A_%a.out' --wrap '${command}') && srun -Q --dependency=afterany:\${id%%;*} /bin/true`,
      )),
    reset: async () => undefined,
    submitWait: async () => void (await runIn(null, 'srun', ['-Q', '/bin/true'], env, dir)),
    submit: async () => void (await runIn(null, 'sbatch', ['-Q', '-o', '/dev/null', '--wrap', '/bin/true'], env, dir)),
    close,
  };
}
