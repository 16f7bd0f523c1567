/**
 * The systems bench/peers compares, each running the same workloads through
 * its own ordinary interface: `xargs -P S` (the fork floor: one `sh -c` per
 * job, nothing queued or recorded), qpy (an array submitted and waited for by
 * `qpy sub -W`; its master keeps every job and its output files), and
 * task-spooler (`tsp`, where installed: one `tsp` call per job, output kept).
 * Each system's processes, its daemon and jobs included, run in a CPU meter
 * of its own (timing.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_BASE, QPY, benchUser, type BenchUser } from './lib.js';
import { cpuMeter, type CpuMeter } from './timing.js';

export interface Peer {
  name: string;
  meter: CpuMeter;
  /** Run `n` copies of `command` at `slots` at once, to their end. */
  batch(n: number, slots: number, command: string): Promise<void>;
  /** Forget the finished jobs (between workloads; not timed). */
  reset(): Promise<void>;
  /** One job submitted and waited for, as one command (null: the system has none). */
  submitWait: (() => Promise<void>) | null;
  /** One job submitted, as one command (null: nothing to submit). */
  submit: (() => Promise<void>) | null;
  close(): Promise<void>;
}

/** Run `file args` inside `meter` (null: as it is, for latencies); rejects with its stderr unless it exits 0. */
export function runIn(
  meter: CpuMeter | null,
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd?: string,
): Promise<string> {
  const [f, a] = meter ? meter.wrap(file, args) : [file, args];
  return new Promise((resolve, reject) => {
    const child = spawn(f, a, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${file} ${args.join(' ')}: exit ${code}: ${err}`))));
  });
}

export const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

export function xargsPeer(): Peer {
  const meter = cpuMeter('qpy-peers-xargs');
  return {
    name: 'xargs -P',
    meter,
    batch: async (n, slots, command) =>
      void (await runIn(meter, '/bin/sh', ['-c', `seq ${n} | xargs -P ${slots} -n 1 sh -c '${command}'`])),
    reset: async () => undefined,
    submitWait: null,
    submit: null,
    close: async () => meter.close(),
  };
}

/** qpy with a personal nodes file (`nodes`: the local node, or sshd nodes with QPY_SSH_CONFIG in `env`). */
export async function qpyPeer(name: string, nodes: string, env: NodeJS.ProcessEnv = {}): Promise<Peer & { user: BenchUser }> {
  const meter = cpuMeter(`qpy-peers-${name.replace(/\W+/g, '-')}`);
  const user = benchUser(nodes);
  Object.assign(user.env, env);
  const qpy = (args: string[]) => runIn(meter, QPY, args, user.env, user.work);
  await qpy(['check']); // the master starts inside the meter
  return {
    name,
    meter,
    user,
    async batch(n, _slots, command) {
      await qpy(['sub', '-W', '-m', '0', '--array', `1-${n}`, command]);
    },
    reset: async () => void (await qpy(['clean', 'all'])),
    submitWait: async () => void (await runIn(null, QPY, ['sub', '-W', '-m', '0', '/bin/true'], user.env, user.work)),
    submit: async () => void (await runIn(null, QPY, ['sub', '-m', '0', '/bin/true'], user.env, user.work)),
    async close() {
      user.cleanup();
      meter.close();
    },
  };
}

/** task-spooler with a private socket and output directory; its server starts inside the meter. */
export async function tspPeer(slots: number): Promise<Peer> {
  const meter = cpuMeter('qpy-peers-tsp');
  const dir = mkdtempSync(join(BENCH_BASE, 'qpy-peers-tsp-'));
  const env = { ...process.env, TS_SOCKET: join(dir, 'socket'), TMPDIR: dir, TS_MAXFINISHED: '100000' };
  const sh = (script: string) => runIn(meter, '/bin/sh', ['-c', script], env, dir);
  await sh(`tsp -S ${slots}`);
  return {
    name: 'task-spooler',
    meter,
    async batch(n, _slots, command) {
      // One `tsp` per job, then one job that needs every slot: it starts (tsp keeps order) once all others ended.
      await sh(`i=0; while [ $i -lt ${n} ]; do tsp sh -c '${command}' >/dev/null; i=$((i+1)); done; tsp -w "$(tsp -N ${slots} /bin/true)"`);
    },
    reset: async () => void (await sh('tsp -C')),
    submitWait: async () => void (await runIn(null, 'tsp', ['-f', '/bin/true'], env, dir)),
    submit: async () => void (await runIn(null, 'tsp', ['/bin/true'], env, dir)),
    async close() {
      await sh('tsp -K').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      meter.close();
    },
  };
}
