/**
 * The SSH executor: jobs on one remote node through the same node agent and
 * run tracker as this machine (tracker.ts, agent-script.ts). Only the
 * transport differs: the agent runs on ONE long-lived SSH connection, opened
 * on first use, as one exec channel; output files are read on the node
 * through a short exec channel on that connection (read-output.ts). The run
 * directory is read and written through the agent, so the node's file system
 * need not be shared. While the node's port does not even answer (refused,
 * timed out), a TCP knock every second notices its return, so a node whose
 * sshd comes back is used again within about a second.
 */
import type { Client } from 'ssh2';
import { Socket } from 'node:net';
import type { Executor } from './executor.js';
import { readRemoteRange } from './read-output.js';
import { agentCommandLine, type AgentShell } from './agent-script.js';
import type { AgentTransport } from './agent-link.js';
import { createTracker } from './tracker.js';
import { connectSsh, openExec } from '../ssh/connection.js';
import { QpyError } from '../errors.js';
import { resolveSsh, type SshSettings } from '../ssh/ssh-config.js';
import { portUnanswered } from '../ssh/plain-words.js';

export interface SshExecutorOptions {
  /** The node's name in qpy (QPY_NODE, messages). */
  nodeName: string;
  /** What to give `ssh -G`: an address or an ssh_config alias. */
  address: string;
  /** Absolute run directory on the node (created by the agent). */
  runDir: string;
  pollMs?: number;
  /** A job launched in this life is checked too once this old (ms): its notification is the fast path. */
  launchedPollAfterMs?: number;
  keepaliveMs?: number;
  /** The agent's shell: bash when the node has it (`auto`, the default), or always sh (tests). */
  agentShell?: AgentShell;
  /** Told when the link is lost or an attempt to open it fails (with the reason), and when it is back (null). */
  onLink?: (problem: string | null) => void;
}

/** While the node's port does not answer, it is knocked at this often (a TCP connect, closed at once). */
const KNOCK_MS = 1000;

/** Does a TCP connection to host:port open within `timeoutMs`? */
function knock(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.connect(port, host);
  });
}

/** The agent on an exec channel of one kept SSH connection. */
export function sshTransport(opts: SshExecutorOptions): AgentTransport {
  let client: Client | null = null;
  /** The node's SSH settings as last resolved (where to knock). */
  let settings: SshSettings | null = null;
  return {
    async open() {
      settings = await resolveSsh(opts.address);
      const c = await connectSsh(opts.nodeName, settings, { keepaliveMs: opts.keepaliveMs ?? 2000 });
      const ch = await openExec(c, agentCommandLine(opts.agentShell ?? 'auto')).catch((err: unknown) => {
        c.end();
        throw err;
      });
      client = c;
      ch.setEncoding('utf8');
      ch.stderr.setEncoding('utf8');
      return {
        write: (text) => void ch.write(text),
        onStdout: (l) => ch.on('data', l),
        onStderr: (l) => ch.stderr.on('data', l),
        onGone(l) {
          const gone = (why: string) => {
            if (client === c) client = null;
            c.end();
            l(why);
          };
          // The agent's exit, not the channel's close: its wrappers may hold the channel open.
          ch.once('exit', () => gone('the node agent ended'));
          ch.once('close', () => gone('the connection to the node was lost'));
          ch.once('error', (err: Error) => gone(err.message));
          c.once('close', () => gone('the connection to the node was lost'));
        },
        hold: () => undefined,
        end: () => ch.end(),
      };
    },
    readRange(path, offset, max) {
      if (client === null) return Promise.reject(new QpyError('NODE_UNREACHABLE', `node ${opts.nodeName} is not connected`));
      return readRemoteRange(client, path, offset, max);
    },
    watchReturn(failure) {
      if (settings === null || !portUnanswered(failure.message)) return null;
      const { host, port } = settings;
      let timer: NodeJS.Timeout | null = null;
      let cancelled = false;
      const returned = new Promise<void>((resolve) => {
        const next = () => {
          timer = setTimeout(() => {
            void knock(host, port, KNOCK_MS).then((open) => (cancelled ? undefined : open ? resolve() : next()));
          }, KNOCK_MS);
          timer.unref();
        };
        next();
      });
      return {
        returned,
        cancel() {
          cancelled = true;
          if (timer) clearTimeout(timer);
        },
      };
    },
    close() {
      client?.end();
      client = null;
    },
  };
}

export function createSshExecutor(opts: SshExecutorOptions): Executor {
  return createTracker({
    nodeName: opts.nodeName,
    runDir: opts.runDir,
    transport: sshTransport(opts),
    ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
    ...(opts.launchedPollAfterMs !== undefined ? { launchedPollAfterMs: opts.launchedPollAfterMs } : {}),
    ...(opts.onLink ? { onLink: opts.onLink } : {}),
  });
}
