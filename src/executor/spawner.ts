/**
 * Starting detached children off the main thread (see spawn-worker.ts): a
 * promise per spawn resolving with the pid, and one exit callback per pid.
 */
import { Worker } from 'node:worker_threads';

export interface Spawner {
  /** Start `file args…` detached (own session), stdio on /dev/null; resolves with its pid. */
  spawn(file: string, args: string[], onExit: (code: number | null, signal: NodeJS.Signals | null) => void): Promise<number>;
  close(): Promise<void>;
}

type FromWorker =
  | { type: 'spawned'; seq: number; pid: number }
  | { type: 'failed'; seq: number; message: string }
  | { type: 'exit'; pid: number; code: number | null; signal: NodeJS.Signals | null };

/**
 * `threads` workers take spawns in turn. One is the default: measured on a
 * 2-core machine, three threads started no more jobs per second and cost
 * more CPU (every fork copies a bigger process).
 */
export function createSpawner(env: NodeJS.ProcessEnv, threads = 1): Spawner {
  const workers = Array.from({ length: threads }, () => new Worker(new URL('./spawn-worker.js', import.meta.url), { workerData: { env } }));
  let seq = 0;
  const starting = new Map<number, { resolve(pid: number): void; reject(e: Error): void; onExit: (code: number | null, signal: NodeJS.Signals | null) => void }>();
  const exits = new Map<number, (code: number | null, signal: NodeJS.Signals | null) => void>();
  /** Exits that arrived before their 'spawned' message was handled. */
  const early = new Map<number, [number | null, NodeJS.Signals | null]>();
  const onMessage = (m: FromWorker) => {
    if (m.type === 'exit') {
      const cb = exits.get(m.pid);
      if (cb) {
        exits.delete(m.pid);
        cb(m.code, m.signal);
      } else early.set(m.pid, [m.code, m.signal]);
      return;
    }
    const s = starting.get(m.seq);
    if (!s) return;
    starting.delete(m.seq);
    if (starting.size === 0) holdWhileStarting();
    if (m.type === 'failed') return s.reject(new Error(m.message));
    const done = early.get(m.pid);
    if (done) {
      early.delete(m.pid);
      queueMicrotask(() => s.onExit(...done));
    } else exits.set(m.pid, s.onExit);
    s.resolve(m.pid);
  };
  const onError = (err: Error) => {
    for (const s of starting.values()) s.reject(err);
    starting.clear();
  };
  for (const w of workers) {
    w.on('message', onMessage);
    w.on('error', onError);
    w.unref(); // after the listeners, which would otherwise ref it again
  }
  /** A spawn under way keeps the process alive; running children do not (like an unref'd ChildProcess). */
  const holdWhileStarting = () => {
    for (const w of workers) {
      if (starting.size > 0) w.ref();
      else w.unref();
    }
  };
  return {
    spawn(file, args, onExit) {
      return new Promise((resolve, reject) => {
        const n = ++seq;
        starting.set(n, { resolve, reject, onExit });
        if (starting.size === 1) holdWhileStarting();
        workers[n % workers.length]!.postMessage({ seq: n, file, args });
      });
    },
    async close() {
      exits.clear();
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
