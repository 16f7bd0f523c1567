/**
 * Running qpy as a user would in tests: the installed executables under
 * bin/, a private QPY_DIR per simulated user, and a disposable handle that
 * SIGKILLs the user's master (and any job left behind) when the test ends.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, procTable } from './procs.js';
import { tempDir, type TempDir } from './temp.js';
import { waitFor } from './wait.js';

/** The package root (dist/test/helpers → ../../..). */
export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const QPY = join(ROOT, 'bin', 'qpy');
export const QPY_MASTER = join(ROOT, 'bin', 'qpy-master');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface QpyUser extends AsyncDisposable {
  /** Scratch directory holding qpyDir and work/. */
  readonly home: string;
  readonly qpyDir: string;
  /** A work directory to submit from. */
  readonly work: string;
  readonly env: NodeJS.ProcessEnv;
  /** Run `qpy ARGS` in `cwd` (default: work). */
  qpy(args: string[], cwd?: string): Promise<RunResult>;
  /** Run `qpy ARGS` and fail unless it exits 0; returns stdout. */
  ok(args: string[], cwd?: string): Promise<string>;
  /** The pid in the discovery file, or null. */
  masterPid(): number | null;
  /** SIGKILL the master (jobs live on). */
  killMaster(): void;
}

export interface UserOptions {
  /** Contents of the personal nodes file (none: this machine). */
  nodes?: string;
  env?: NodeJS.ProcessEnv;
}

/** Run `file ARGS`; `input`, if given, is written to its standard input, which is then closed. */
export function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  return new Promise((res) => {
    const child = execFile(file, args, { cwd, env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export function qpyUser(opts: UserOptions = {}): QpyUser {
  const tmp: TempDir = tempDir('qpy-user-');
  const qpyDir = join(tmp.path, 'qpy');
  const work = join(tmp.path, 'work');
  mkdirSync(qpyDir, { mode: 0o700 });
  mkdirSync(work);
  if (opts.nodes !== undefined) writeFileSync(join(qpyDir, 'nodes'), opts.nodes);
  const env: NodeJS.ProcessEnv = { ...process.env, QPY_DIR: qpyDir, QPY_KILL_GRACE_MS: '1000', ...opts.env };
  const masterPid = (): number | null => {
    try {
      return (JSON.parse(readFileSync(join(qpyDir, 'master.json'), 'utf8')) as { pid: number }).pid;
    } catch {
      return null;
    }
  };
  const killMaster = () => {
    const pid = masterPid();
    if (pid !== null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  const user: QpyUser = {
    home: tmp.path,
    qpyDir,
    work,
    env,
    qpy: (args, cwd = work) => run(QPY, args, cwd, env),
    async ok(args, cwd = work) {
      const r = await run(QPY, args, cwd, env);
      if (r.code !== 0) throw new Error(`qpy ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
    masterPid,
    killMaster,
    async [Symbol.asyncDispose]() {
      // The master's node agent goes too (found before the kill, while it is still the master's child):
      // a live agent or master may write into the directory while it is removed.
      const pid = masterPid();
      const agents = pid === null ? [] : procTable().flatMap((p) => (p.ppid === pid ? [p.pid] : []));
      killMaster();
      for (const a of agents) {
        try {
          process.kill(a, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      killLeftoverJobs(join(qpyDir, 'run'));
      if (pid !== null) await waitFor(() => !isAlive(pid), { what: `master ${pid} gone`, timeoutMs: 5_000 }).catch(() => undefined);
      await tmp[Symbol.asyncDispose]();
    },
  };
  return user;
}

/** SIGKILL the process group of every job whose run file (pid on its first line) is still in `runDir`. */
function killLeftoverJobs(runDir: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(runDir, { recursive: true }) as string[];
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.endsWith('.run')) continue;
    try {
      const pid = Number(/\d+/.exec(readFileSync(join(runDir, name), 'utf8'))?.[0]);
      if (Number.isSafeInteger(pid) && pid > 1) process.kill(-pid, 'SIGKILL');
    } catch {
      /* not a pid file, or already gone */
    }
  }
}

/** A qpy command left running (`qpy wait`, `qpy sub -W`): its stdout so far, whether it has exited, and its exit code. */
export function qpyRunning(
  u: Pick<QpyUser, 'env' | 'work'>,
  args: string[],
): { out(): string; exited(): boolean; code: Promise<number | null> } {
  const p = spawn(QPY, args, { env: u.env, cwd: u.work });
  let out = '';
  let exited = false;
  p.stdout.on('data', (d) => (out += d));
  const code = new Promise<number | null>((r) =>
    p.on('exit', (c) => {
      exited = true;
      r(c);
    }),
  );
  return { out: () => out, exited: () => exited, code };
}

/** `qpy check` output with the default format, by job ID: each job's status and whole line. */
export function checkStatuses(check: string): Map<number, { status: string; line: string }> {
  const m = new Map<number, { status: string; line: string }>();
  for (const line of check.split('\n')) {
    const r = /^(\d+)(?: \[[^\n]*?\])? \((\w+)\)/.exec(line); // a named job: `5 [its name] (done)`
    if (r) m.set(Number(r[1]), { status: r[2]!, line });
  }
  return m;
}

/** Once `check` shows job `id` as `status`, the node it runs or ran on (its `on NODE;`). */
export function nodeOnceJob(u: Pick<QpyUser, 'ok'>, id: number, status: string, timeoutMs: number): Promise<string> {
  return waitFor(
    async () => {
      const j = checkStatuses(await u.ok(['check'])).get(id);
      // The last `(on NODE;`: the command, earlier on the line, may hold the same words.
      return j?.status === status ? [...j.line.matchAll(/\(on ([^\s;]+);/g)].at(-1)?.[1] : undefined;
    },
    { what: `job ${id} ${status}, and its node`, timeoutMs },
  );
}
