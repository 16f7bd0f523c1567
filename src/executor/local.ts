/**
 * The local executor: jobs on this machine, through the same node agent and
 * run tracker as every SSH node (tracker.ts, agent-script.ts). Only the
 * transport is local: the agent is a child process of the master (`sh`,
 * which execs bash where there is one), spawned once and spawned again when
 * it dies; output files are read directly.
 *
 * The agent is detached in a session of its own, so a signal to the
 * master's terminal or process group reaches neither it nor the jobs, and
 * the jobs are its children: it reaps them (also where init does not reap
 * orphans, as in some containers). When the master dies the agent reads end
 * of file, goes on recording its jobs' ends until the last one, then exits;
 * the next master adopts them.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, realpathSync } from 'node:fs';
import type { Executor } from './executor.js';
import { readLocalRange } from '../file-range.js';
import { agentCommandLine, type AgentShell } from './agent-script.js';
import type { AgentChannel } from './agent-session.js';
import type { AgentTransport } from './agent-link.js';
import { createTracker } from './tracker.js';

/** Options of `createLocalExecutor`. */
export interface LocalExecutorOptions {
  /** Absolute directory for the run files (the master uses `$QPY_DIR/run`). */
  runDir: string;
  /** This node's name: QPY_NODE unless the launch spec sets it. */
  nodeName: string;
  /** How often jobs whose end cannot be told are checked (ms). */
  pollMs?: number;
  /** How long `adopt` waits for a half-written claim to be completed (ms). */
  claimWaitMs?: number;
  /** A job launched in this life is checked too once this old (ms): its notification is the fast path. */
  launchedPollAfterMs?: number;
  /** The agent's shell: bash when this machine has it (`auto`, the default), or always sh (tests). */
  agentShell?: AgentShell;
}

/** The agent as a child process of this one. */
export function localTransport(shell: AgentShell, env: NodeJS.ProcessEnv = process.env): AgentTransport {
  return {
    open: () =>
      new Promise<AgentChannel>((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', agentCommandLine(shell)], { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env });
        child.once('error', reject);
        child.once('spawn', () => {
          child.off('error', reject);
          const { stdin, stdout, stderr } = child;
          stdin.on('error', () => undefined); // EPIPE once it has gone: its exit tells
          stdout.setEncoding('utf8');
          stderr.setEncoding('utf8');
          const hold = (held: boolean) => {
            for (const s of [child, stdin, stdout, stderr] as { ref?(): void; unref?(): void }[]) held ? s.ref?.() : s.unref?.();
          };
          hold(false);
          resolve({
            write: (text) => void stdin.write(text),
            onStdout: (l) => stdout.on('data', l),
            onStderr: (l) => stderr.on('data', l),
            onGone(l) {
              child.once('exit', (code, signal) =>
                l(signal ? `the node agent was killed by ${signal}` : `the node agent exited (${code})`),
              );
              child.once('error', (err) => l(err.message));
            },
            hold,
            end: () => stdin.end(),
          });
        });
      }),
    readRange: (path, offset, max) => Promise.resolve(readLocalRange(path, offset, max)),
    close: () => undefined,
  };
}

/** Create an executor that runs jobs on this machine. */
export function createLocalExecutor(opts: LocalExecutorOptions): Executor {
  if (!opts.runDir.startsWith('/')) throw new Error(`run directory must be absolute: ${opts.runDir}`);
  mkdirSync(opts.runDir, { recursive: true, mode: 0o700 });
  return createTracker({
    nodeName: opts.nodeName,
    // Canonical, so that every life passes the wrapper the same RUN (the agent's identity check compares it).
    runDir: realpathSync(opts.runDir),
    transport: localTransport(opts.agentShell ?? 'auto'),
    ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
    ...(opts.claimWaitMs !== undefined ? { claimWaitMs: opts.claimWaitMs } : {}),
    ...(opts.launchedPollAfterMs !== undefined ? { launchedPollAfterMs: opts.launchedPollAfterMs } : {}),
  });
}
