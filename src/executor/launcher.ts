/**
 * Starting local wrappers in batches (see launch-batch.ts for the script and
 * spawn-worker.ts for the thread that forks). Launches asked for in the same
 * event-loop turn share one batch shell; each launch resolves with its
 * wrapper's pid once the batch shell reports it.
 *
 * Events, for the executor: `ended(key, status)` when a wrapper notifies its
 * end, and again when the batch shell reaps it (the wait status: what a
 * wrapper that could not notify died of); `closed(keys)` when a batch's pipe reaches EOF, i.e. every wrapper of
 * the batch has exited, notified or not (a wrapper SIGKILLed never notifies);
 * it lists the keys whose start was reported (the others' launches were rejected).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { batchHeader, batchTrailer, batchLine, MAX_BATCH_BYTES, MAX_BATCH_JOBS, parseBatchLine, type BatchMode } from './launch-batch.js';

export interface LauncherEvents {
  ended(key: string, status: number): void;
  closed(keys: string[]): void;
}

export interface Launcher {
  /** Start the wrapper for run key `key` with these positional arguments; resolves with its pid. */
  launch(key: string, wrapperArgs: string[]): Promise<number>;
  close(): Promise<void>;
}

interface Pending {
  key: string;
  line: (index: number) => string;
  resolve(pid: number): void;
  reject(err: Error): void;
}

interface Batch {
  jobs: Pending[];
  started: boolean[];
  /** Run key by wrapper pid, for the batch shell's `W` lines. */
  keys: Map<number, string>;
}

/** The batch shell for this machine: bash when there is one, else sh with setsid; null if neither works. */
export function findBatchShell(path = process.env['PATH'] ?? ''): { file: string; mode: BatchMode } | null {
  const which = (name: string) => {
    for (const dir of ['/bin', '/usr/bin', ...path.split(delimiter).filter(Boolean)]) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        /* next */
      }
    }
    return null;
  };
  const bash = which('bash');
  if (bash) return { file: bash, mode: 'bash' };
  const sh = which('sh');
  return sh && which('setsid') ? { file: sh, mode: 'setsid' } : null;
}

export function createLauncher(env: NodeJS.ProcessEnv, shell: { file: string; mode: BatchMode }, events: LauncherEvents): Launcher {
  const worker = new Worker(new URL('./spawn-worker.js', import.meta.url), { workerData: { env } });
  const batches = new Map<number, Batch>();
  let pending: Pending[] = [];
  let flushScheduled = false;
  let seq = 0;
  let closed = false;

  /** Spawns under way keep the process alive; running jobs do not (they are detached). */
  const hold = () => {
    if ([...batches.values()].some((b) => b.started.some((s) => !s))) worker.ref();
    else worker.unref();
  };

  function send(jobs: Pending[], script: string): void {
    const batch = ++seq;
    batches.set(batch, { jobs, started: jobs.map(() => false), keys: new Map() });
    const args = shell.mode === 'bash' ? ['--norc', '--noprofile', '-c', script] : ['-c', script];
    worker.postMessage({ batch, file: shell.file, args });
  }

  const trailer = batchTrailer(shell.mode);

  function flush(): void {
    flushScheduled = false;
    const all = pending;
    pending = [];
    let jobs: Pending[] = [];
    let script = batchHeader(shell.mode);
    for (const p of all) {
      let line = p.line(jobs.length);
      if (jobs.length > 0 && (jobs.length >= MAX_BATCH_JOBS || script.length + line.length + trailer.length > MAX_BATCH_BYTES)) {
        send(jobs, script + trailer);
        jobs = [];
        script = batchHeader(shell.mode);
        line = p.line(0);
      }
      jobs.push(p);
      script += line;
    }
    if (jobs.length > 0) send(jobs, script + trailer);
    hold();
  }

  function onLines(b: Batch, lines: string[]): void {
    for (const line of lines) {
      const ev = parseBatchLine(line);
      if (ev?.type === 'ended') events.ended(ev.key, ev.status);
      else if (ev?.type === 'reaped') {
        const key = b.keys.get(ev.pid);
        if (key !== undefined) events.ended(key, ev.status);
      } else if (ev?.type === 'started' && b.jobs[ev.index] && !b.started[ev.index]) {
        b.started[ev.index] = true;
        b.keys.set(ev.pid, b.jobs[ev.index]!.key);
        b.jobs[ev.index]!.resolve(ev.pid);
      }
    }
  }

  function onClosed(id: number, b: Batch, why: string): void {
    batches.delete(id);
    b.jobs.forEach((p, i) => {
      if (!b.started[i]) p.reject(new Error(why));
    });
    events.closed(b.jobs.filter((_, i) => b.started[i]).map((p) => p.key));
    hold();
  }

  type FromWorker =
    | { type: 'lines'; batch: number; lines: string[] }
    | { type: 'closed'; batch: number }
    | { type: 'failed'; batch: number; message: string };
  worker.on('message', (m: FromWorker) => {
    const b = batches.get(m.batch);
    if (!b) return;
    if (m.type === 'lines') onLines(b, m.lines);
    else onClosed(m.batch, b, m.type === 'failed' ? m.message : 'the launching shell ended before starting the job');
  });
  worker.on('error', (err) => {
    for (const [id, b] of batches) onClosed(id, b, err.message);
  });
  worker.unref();

  return {
    launch(key, wrapperArgs) {
      if (closed) return Promise.reject(new Error('launcher is closed'));
      return new Promise((resolve, reject) => {
        pending.push({ key, line: (index) => batchLine(shell.mode, index, wrapperArgs), resolve, reject });
        if (!flushScheduled) {
          flushScheduled = true;
          worker.ref();
          setImmediate(flush);
        }
      });
    },
    async close() {
      closed = true;
      batches.clear();
      await worker.terminate();
    },
  };
}
