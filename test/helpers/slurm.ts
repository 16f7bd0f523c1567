/**
 * A real Slurm on this machine, for tests and bench/peers: Debian's munged
 * (with a key made here), slurmctld and slurmd started as this process's own
 * children, from a one-node configuration in a fresh directory (ports chosen
 * free, state, spool and logs there too). `SlurmdParameters=config_overrides`
 * lets the node declare CPUs and memory the machine may not have;
 * `ProctrackType=proctrack/linuxproc` needs no cgroups. The scheduler runs a
 * pass on every event (the defaults wait a second or more between passes).
 * Needs root: slurmd starts jobs as their user. Closing ends the daemons,
 * then whatever of this Slurm is left (a job's slurmstepd, its processes).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const TOOLS = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'srun', 'sinfo'];

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

/** Why Slurm cannot run here (a reason for `skip`), or null. */
export function slurmMissing(): string | null {
  const missing = TOOLS.filter((t) => !has(t));
  if (missing.length > 0) return `Slurm not installed (${missing.join(', ')} missing: apt-get install slurmctld slurmd slurm-client munge)`;
  if (process.getuid?.() !== 0) return 'Slurm is installed, but slurmd needs root to start jobs';
  return null;
}

export interface SlurmOptions {
  /** CPUs of the one node (default 2). */
  cpus?: number;
  /** Its memory in MB, as Slurm counts it (default 4096). */
  memoryMB?: number;
  /** The partition's name (default `qpy`). */
  partition?: string;
  /** Where the directory is made (default the system temp dir). */
  base?: string;
  /** Wraps each daemon's command line (bench/: a CPU meter). */
  wrap?: (file: string, args: string[]) => [string, string[]];
}

export interface Slurm extends AsyncDisposable {
  /** Configuration, state, logs and the munge socket. */
  dir: string;
  conf: string;
  /** The one node's name (this machine's short host name). */
  node: string;
  partition: string;
  /** The environment for Slurm's commands (SLURM_CONF set). */
  env: NodeJS.ProcessEnv;
  /** Run a Slurm command; resolves with its stdout, rejects with its stderr unless it exits 0. */
  run(file: string, args: string[]): Promise<string>;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Run `file args`; resolves with stdout, rejects with stderr unless it exits 0. */
export function runCommand(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} ${args.join(' ')}: exit ${code}: ${err}`))));
  });
}

function slurmConf(dir: string, node: string, ports: [number, number], cpus: number, memoryMB: number, partition: string): string {
  const inDir = (lines: string[]) => lines.map((l) => l.replace('=', `=${dir}/`));
  return [
    'ClusterName=qpytest',
    `SlurmctldHost=${node}(127.0.0.1)`,
    'SlurmUser=root',
    'SlurmdUser=root',
    `SlurmctldPort=${ports[0]}`,
    `SlurmdPort=${ports[1]}`,
    'AuthType=auth/munge',
    `AuthInfo=socket=${join(dir, 'munge.sock')}`,
    'CredType=cred/munge',
    ...inDir(['StateSaveLocation=state', 'SlurmdSpoolDir=spool', 'SlurmctldPidFile=slurmctld.pid', 'SlurmdPidFile=slurmd.pid']),
    ...inDir(['SlurmctldLogFile=slurmctld.log', 'SlurmdLogFile=slurmd.log']),
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
    `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memoryMB} State=UNKNOWN`,
    `PartitionName=${partition} Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
}

/** The processes of the Slurm configured by `conf` (daemons, slurmstepd and jobs: their environment names it), this one aside. */
function processesOf(conf: string): number[] {
  const mark = `SLURM_CONF=${conf}\0`;
  return readdirSync('/proc')
    .filter((n) => /^[0-9]+$/.test(n) && Number(n) !== process.pid)
    .filter((n) => {
      try {
        return readFileSync(`/proc/${n}/environ`, 'latin1').includes(mark);
      } catch {
        return false; // gone, or not readable
      }
    })
    .map(Number);
}

/** The last lines of each daemon's log, for a failure's message (the directory goes with it). */
function logTails(dir: string): string {
  const tail = (f: string) =>
    existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').trimEnd().split('\n').slice(-5).join('\n') : '(none)';
  return ['munged.log', 'slurmctld.log', 'slurmd.log'].map((f) => `${f}:\n${tail(f)}`).join('\n');
}

/** Start munged, slurmctld and slurmd; resolves once the node is idle (30 s at most). */
export async function startSlurm(opts: SlurmOptions = {}): Promise<Slurm> {
  const { cpus = 2, memoryMB = 4096, partition = 'qpy', wrap = (f, a) => [f, a] } = opts;
  const dir = realpathSync(mkdtempSync(join(opts.base ?? tmpdir(), 'qpy-slurm-')));
  chmodSync(dir, 0o711);
  for (const d of ['state', 'spool', 'out']) mkdirSync(join(dir, d));
  const node = hostname().split('.')[0]!;
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, slurmConf(dir, node, [await freePort(), await freePort()], cpus, memoryMB, partition));
  const env = { ...process.env, SLURM_CONF: conf };
  const daemons: ChildProcess[] = [];
  const start = (file: string, args: string[]) => {
    const [f, a] = wrap(file, args);
    daemons.push(spawn(f, a, { env, cwd: dir, stdio: 'ignore' }));
  };
  const close = async () => {
    // Each daemon gone (or 10 s passed) before its directory goes.
    const gone = daemons.map((d) => (d.exitCode !== null || d.signalCode !== null ? null : new Promise((r) => d.once('exit', r))));
    for (const d of daemons) d.kill('SIGTERM');
    await Promise.race([Promise.all(gone), delay(10_000, undefined, { ref: false })]);
    // A job's slurmstepd (and the job) can outlive slurmd when it ends at once: whatever is left goes too.
    for (const pid of processesOf(conf)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  };
  const run = (file: string, args: string[]) => runCommand(file, args, env, dir);
  try {
    await runCommand('mungekey', ['--create', `--keyfile=${join(dir, 'munge.key')}`]);
    chmodSync(join(dir, 'munge.key'), 0o600);
    const m = (name: string) => `--${name}=${join(dir, `munged.${name.replace('-file', '')}`)}`;
    const munge = [`--socket=${join(dir, 'munge.sock')}`, `--key-file=${join(dir, 'munge.key')}`];
    start('munged', ['-F', '-f', ...munge, m('log-file'), m('pid-file'), m('seed-file')]);
    start('slurmctld', ['-D', '-i', '-f', conf]);
    start('slurmd', ['-D', '-f', conf]);
    const deadline = performance.now() + 30_000;
    while ((await run('sinfo', ['-h', '-o', '%t']).catch(() => '')).trim() !== 'idle') {
      if (performance.now() > deadline) throw new Error(`Slurm did not come up within 30 s; ${logTails(dir)}`);
      await delay(200);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { dir, conf, node, partition, env, run, close, [Symbol.asyncDispose]: close };
}

/**
 * An ssh_config (written in Slurm's directory) in which the Slurm node's name
 * reaches a test sshd node: `clusterConfig` (sshd-cluster.ts's) with its
 * `Host node2` renamed, so that a pool reached over SSH finds its pilot's host.
 */
export function sshConfigForNode(slurm: Slurm, clusterConfig: string): string {
  const path = join(slurm.dir, 'ssh_config');
  writeFileSync(path, readFileSync(clusterConfig, 'utf8').replace(/^Host node2$/m, `Host ${slurm.node}`));
  return path;
}

/** The pilots of qpy's pools that this Slurm holds now (any pool, this user's): `JOBID STATE NAME` lines. */
export async function pilotLines(slurm: Slurm): Promise<string[]> {
  const out = await slurm.run('squeue', ['--noheader', `--user=${userInfo().username}`, '--format=%i %T %j']);
  return out.split('\n').filter((l) => l.includes('qpy-pilot-'));
}

/** A Slurm job that holds `cpus` CPUs of the node for 5 minutes (so that pilots stay pending): its ID. */
export async function occupySlurm(slurm: Slurm, cpus: number): Promise<string> {
  const args = [
    '--parsable',
    `--cpus-per-task=${cpus}`,
    '--mem=100M',
    `--output=${join(slurm.dir, 'out', 'blocker-%j.out')}`,
    '--wrap=sleep 300',
  ];
  return (await slurm.run('sbatch', args)).trim();
}
