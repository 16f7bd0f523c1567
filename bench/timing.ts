/**
 * Timing pieces of bench/cli-start and bench/peers: commands run in turns
 * (interleaved, so a busy machine weighs on each alike), each round's wall
 * time, and the CPU time of everything a workload starts, daemons included:
 * a cgroup (cpuacct v1 or v2) that the workload's first process joins, so
 * every process it forks, detached or not, is counted; where no cgroup can be
 * made, the whole machine's CPU time (/proc/stat), which then counts other
 * load too (the figures say which).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Timed {
  label: string;
  file: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface Stats {
  median: number;
  p25: number;
  min: number;
  /** Mean CPU time of the command and its children (ms). */
  cpu: number;
}

/** CPU time of this process's waited-for children so far (ms), from /proc/self/stat. */
function childCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK;
}
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Run each command once per round, in turns; a command that fails stops the bench with its stderr. */
export function interleave(cmds: Timed[], rounds: number): Map<string, Stats> {
  const wall = cmds.map((): number[] => []);
  const cpu = cmds.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    cmds.forEach((c, i) => {
      const c0 = childCpuMs();
      const t0 = performance.now();
      const res = spawnSync(c.file, c.args, { env: c.env ?? process.env, cwd: c.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      wall[i]!.push(performance.now() - t0);
      cpu[i]! += childCpuMs() - c0;
      if (res.status !== 0) throw new Error(`${c.label}: exit ${res.status}: ${res.stderr}`);
    });
  }
  return new Map(cmds.map((c, i) => [c.label, { ...quantiles(wall[i]!), cpu: cpu[i]! / rounds }]));
}

export function quantiles(samples: number[]): { median: number; p25: number; min: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p25: at(0.25), min: s[0]! };
}

/** Counts the CPU time of the processes started through `wrap` (their descendants included). */
export interface CpuMeter {
  /** How it counts: 'cgroup' (only the workload) or 'machine' (everything running). */
  readonly scope: 'cgroup' | 'machine';
  /** [file, args] that runs `file args` inside the meter. */
  wrap(file: string, args: string[]): [string, string[]];
  /** CPU time counted so far (ms). */
  read(): number;
  close(): void;
}

/** A cgroup of its own where one can be made (root, or a delegated cgroup), else the machine's CPU time. */
export function cpuMeter(name: string): CpuMeter {
  for (const [base, file, scale] of [
    ['/sys/fs/cgroup/cpuacct', 'cpuacct.usage', 1e-6],
    ['/sys/fs/cgroup/unified', 'cpu.stat', 1e-3],
    ['/sys/fs/cgroup', 'cpu.stat', 1e-3],
  ] as const) {
    const dir = join(base, `${name}-${process.pid}`);
    try {
      if (!existsSync(base)) continue;
      mkdirSync(dir);
      readFileSync(join(dir, file), 'utf8');
    } catch {
      continue;
    }
    const procs = join(dir, 'cgroup.procs');
    return {
      scope: 'cgroup',
      wrap: (f, args) => ['/bin/sh', ['-c', `echo $$ > '${procs}' && exec "$@"`, 'sh', f, ...args]],
      read() {
        const text = readFileSync(join(dir, file), 'utf8');
        const v = file === 'cpu.stat' ? Number(/usage_usec (\d+)/.exec(text)?.[1]) : Number(text);
        return v * scale;
      },
      close() {
        // Processes left in it (a daemon not stopped) keep it; it is empty and removable once they end.
        try {
          for (const pid of readFileSync(procs, 'utf8').split('\n').filter(Boolean)) writeFileSync(join(base, 'cgroup.procs'), pid);
          rmdirSync(dir);
        } catch {
          /* left behind: harmless */
        }
      },
    };
  }
  return {
    scope: 'machine',
    wrap: (f, args) => [f, args],
    read() {
      const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
      const busy = cpu.reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0); // all but idle and iowait
      return (busy * 1000) / CLK_TCK;
    },
    close() {},
  };
}
