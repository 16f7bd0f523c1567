/**
 * Shared pieces of the bench scripts: a private QPY_DIR, a started master,
 * direct protocol clients (to measure the master rather than process start),
 * and percentiles. Benches print figures and conditions; they assert nothing.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type Connection } from '../src/transport/client.js';
import { lightSocket } from '../src/transport/light-socket.js';
import { readKey } from '../src/transport/key.js';
import { masterToCliSchema, type CliToMaster, type MasterToCli } from '../src/protocol/user-master.js';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const QPY = join(ROOT, 'bin', 'qpy');

export interface BenchUser {
  dir: string;
  qpyDir: string;
  work: string;
  env: NodeJS.ProcessEnv;
  qpy(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  client(): Promise<Connection<CliToMaster, MasterToCli>>;
  cleanup(): void;
}

/** Where benches keep their QPY_DIR and work directory: BENCH_DIR, else the system temp dir. */
export const BENCH_BASE = process.env['BENCH_DIR'] ?? tmpdir();

/** A scratch user for a bench: its own QPY_DIR, the nodes file given, `extraEnv` for its master (set at its start). */
export function benchUser(nodes?: string, extraEnv: NodeJS.ProcessEnv = {}): BenchUser {
  const dir = mkdtempSync(join(BENCH_BASE, 'qpy-bench-'));
  const qpyDir = join(dir, 'qpy');
  const work = join(dir, 'work');
  mkdirSync(qpyDir, { mode: 0o700 });
  mkdirSync(work);
  if (nodes) writeFileSync(join(qpyDir, 'nodes'), nodes);
  const env = { ...process.env, QPY_DIR: qpyDir, ...extraEnv };
  const qpy = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
      execFile(QPY, args, { cwd: work, env, maxBuffer: 1 << 30 }, (err, stdout, stderr) => res({ code: err ? 1 : 0, stdout, stderr }));
    });
  return {
    dir,
    qpyDir,
    work,
    env,
    qpy,
    async client() {
      const d = JSON.parse(readFileSync(join(qpyDir, 'master.json'), 'utf8')) as { host: string; port: number };
      return connect<CliToMaster, MasterToCli>({
        socket: lightSocket,
        url: `ws://${d.host}:${d.port}/`,
        key: readKey(join(qpyDir, 'master.key')),
        role: 'user',
        user: 'bench',
        replySchema: masterToCliSchema,
        timeoutMs: 5000,
      });
    },
    cleanup() {
      try {
        const d = JSON.parse(readFileSync(join(qpyDir, 'master.json'), 'utf8')) as { pid: number };
        process.kill(d.pid, 'SIGKILL');
      } catch {
        /* not running */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function summary(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(1)} ms, p99 ${percentile(s, 99).toFixed(1)} ms (n=${s.length}, min ${s[0]!.toFixed(1)}, max ${s.at(-1)!.toFixed(1)})`;
}

export function conditions(): string {
  const create = fileCreateMicros();
  return (
    `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `Node ${process.version}, ${new Date().toISOString()}; files under ${BENCH_BASE} (creating a file there: ${create} µs` +
    `${Number(create) > SLOW_CREATE_US ? `: slow, so a job's three files weigh on its figures; BENCH_DIR=/dev/shm gives figures free of it` : ''})`
  );
}

/**
 * Creating a file slower than this (µs) is flagged: an ext4 without a journal, after many files were
 * deleted, skips the inodes freed in the last 30 s and creates each new file at up to 1 ms.
 */
const SLOW_CREATE_US = 200;

/** Mean cost of creating (and removing) a small file under BENCH_BASE: file systems differ by 20x on some VMs. */
export function fileCreateMicros(n = 500): string {
  const d = mkdtempSync(join(BENCH_BASE, 'qpy-probe-'));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) writeFileSync(join(d, `f${i}`), 'x\n', { flag: 'wx' });
  const us = ((performance.now() - t0) / n) * 1000;
  rmSync(d, { recursive: true, force: true });
  return us.toFixed(0);
}
