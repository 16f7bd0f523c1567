/**
 * This machine's process table read from /proc, for tests that check which
 * processes of a job (or of an sshd) exist: one reader, so every test skips
 * zombies and vanishing processes the same way.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  /** One-letter state: R, S, D, Z (zombie), X (dead)… */
  state: string;
  comm: string;
  /** CPU time in ms (user + system; clock ticks of 10 ms): its own, and its reaped children's. */
  cpu: { own: number; children: number };
}

/** One process's /proc/PID/stat text (fields after the name from [0], field 3, the state). */
function parseStat(pid: number, stat: string): Proc {
  const close = stat.lastIndexOf(')');
  const f = stat.slice(close + 2).split(' ');
  const n = (i: number) => Number(f[i]);
  return {
    pid,
    comm: stat.slice(stat.indexOf('(') + 1, close),
    state: f[0]!,
    ppid: n(1),
    pgid: n(2),
    cpu: { own: (n(11) + n(12)) * 10, children: (n(13) + n(14)) * 10 },
  };
}

const procOf = (pid: number): Proc => parseStat(pid, readFileSync(`/proc/${pid}/stat`, 'latin1'));

/** Every process that could be read (one that exits while being read is skipped). */
export function procTable(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      out.push(procOf(Number(name)));
    } catch {
      // gone while listed
    }
  }
  return out;
}

/** The parent of a process (the agent, for a job or its wrapper). */
export function parentOf(pid: number): number {
  return procOf(pid).ppid;
}

/** A process's CPU time in ms: its own, and its reaped children's. */
export function cpuMs(pid: number): { own: number; children: number } {
  return procOf(pid).cpu;
}

const live = (p: Proc): boolean => p.state !== 'Z' && p.state !== 'X';

/** Is `pid` a live (non-zombie) process? */
export function isAlive(pid: number): boolean {
  return procTable().some((p) => p.pid === pid && live(p));
}

/** Live processes whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  return procTable().flatMap((p) => (p.pgid === pgid && live(p) ? [p.pid] : []));
}

/** `root` and those of its descendants for which `keep` holds (the walk goes through kept processes only). */
export function descendants(root: number, keep: (p: Proc) => boolean): number[] {
  const children = new Map<number, Proc[]>();
  for (const p of procTable()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out = [root];
  for (let k = 0; k < out.length; k++) for (const c of children.get(out[k]!) ?? []) if (keep(c)) out.push(c.pid);
  return out;
}

/**
 * SIGKILL process group `pgid`. Refuses anything but a real group id: a pid
 * of 0 or undefined would make `process.kill(-pgid)` signal the test
 * runner's own group, and end the whole run without a word.
 */
export function killGroup(pgid: number | undefined): void {
  if (pgid === undefined || !Number.isSafeInteger(pgid) || pgid <= 1) throw new Error(`not a process group: ${pgid}`);
  process.kill(-pgid, 'SIGKILL');
}
