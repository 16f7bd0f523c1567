/**
 * The master's end of one pilot's link, as the executor sees it: an
 * AgentTransport (executor/agent-link.ts) whose agents run on the pilot's
 * node, started, fed and ended by pushes (protocol/pilot.ts), and whose
 * output and file reads come back as the pilot's requests. The hub
 * (pilot-hub.ts) keeps the connections; here is what one carries: its
 * channels (one per agent started) and its pending reads. When the
 * connection drops, every agent on it is gone and every read fails: the
 * agent link then retries (NODE_UNREACHABLE while the pilot is away) and is
 * woken by the pilot's return (`watchReturn`).
 */
import type { AgentChannel } from '../../executor/agent-session.js';
import type { AgentTransport } from '../../executor/agent-link.js';
import type { AgentShell } from '../../executor/agent-script.js';
import { QpyError } from '../../errors.js';
import { MAX_AGENT_TEXT, MAX_RANGE_BYTES, type MasterToPilot } from '../../protocol/pilot.js';

/** How long a pilot has to answer a `readRange`. */
const READ_TIMEOUT_MS = 30_000;

interface Channel {
  stdout: ((chunk: string) => void)[];
  stderr: ((chunk: string) => void)[];
  gone: ((why: string) => void)[];
  /** Set once the agent has gone (later listeners are told at once). */
  goneWhy: string | null;
}

/** One pilot connection, after its `pilotHello`. */
export interface PilotConnection {
  readonly pool: string;
  readonly jobId: string;
  readonly host: string;
  push(frame: MasterToPilot): void;
  /** A fresh agent on the pilot's node. */
  openAgent(shell: AgentShell): AgentChannel;
  readRange(path: string, offset: number, max: number): Promise<Buffer>;
  /** The pilot's requests about its agents and reads. */
  output(channel: number, stdout: string | undefined, stderr: string | undefined): void;
  agentGone(channel: number, why: string): void;
  rangeData(ref: number, data: string | undefined, error: string | undefined): void;
  /** The connection is over: every agent gone with `why`, every read failed. */
  drop(why: string): void;
}

/** Numbers of channels and reads, unique in the master's life (a pilot never mistakes an old one for a new one). */
let nextNumber = 1;

export function pilotConnection(pool: string, jobId: string, host: string, push: (frame: MasterToPilot) => void): PilotConnection {
  const channels = new Map<number, Channel>();
  const reads = new Map<number, { resolve(b: Buffer): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  let dropped: string | null = null;
  const who = `pilot ${jobId} of pool ${pool} (${host})`;

  const gone = (n: number, why: string) => {
    const ch = channels.get(n);
    if (!ch || ch.goneWhy !== null) return;
    ch.goneWhy = why;
    channels.delete(n);
    for (const l of ch.gone) l(why);
  };

  const readOnce = (path: string, offset: number, max: number) =>
    new Promise<Buffer>((resolve, reject) => {
      if (dropped !== null) return reject(new QpyError('NODE_UNREACHABLE', `${who}: ${dropped}`));
      const ref = nextNumber++;
      const timer = setTimeout(() => {
        reads.delete(ref);
        reject(new QpyError('NODE_LINK_LOST', `${who} did not answer a read of ${path} within ${READ_TIMEOUT_MS / 1000} s`));
      }, READ_TIMEOUT_MS);
      timer.unref();
      reads.set(ref, { resolve, reject, timer });
      push({ type: 'readRange', ref, path, offset, max });
    });

  return {
    pool,
    jobId,
    host,
    push,
    openAgent(shell) {
      const n = nextNumber++;
      const ch: Channel = { stdout: [], stderr: [], gone: [], goneWhy: null };
      channels.set(n, ch);
      push({ type: 'agentOpen', channel: n, shell });
      return {
        write(text) {
          if (ch.goneWhy !== null) return;
          for (let at = 0; at < text.length; at += MAX_AGENT_TEXT)
            push({ type: 'agentInput', channel: n, text: text.slice(at, at + MAX_AGENT_TEXT) });
        },
        onStdout: (l) => void ch.stdout.push(l),
        onStderr: (l) => void ch.stderr.push(l),
        onGone(l) {
          if (ch.goneWhy !== null) l(ch.goneWhy);
          else ch.gone.push(l);
        },
        hold: () => undefined, // the hub's listener keeps the master alive anyway
        end() {
          if (ch.goneWhy === null) push({ type: 'agentEnd', channel: n });
        },
      };
    },
    async readRange(path, offset, max) {
      const parts: Buffer[] = [];
      let got = 0;
      while (got < max) {
        const want = Math.min(max - got, MAX_RANGE_BYTES);
        const part = await readOnce(path, offset + got, want);
        parts.push(part);
        got += part.length;
        if (part.length < want) break;
      }
      return Buffer.concat(parts);
    },
    output(n, stdout, stderr) {
      const ch = channels.get(n);
      if (!ch) return;
      if (stdout) for (const l of ch.stdout) l(stdout);
      if (stderr) for (const l of ch.stderr) l(stderr);
    },
    agentGone: (n, why) => gone(n, why || 'the node agent exited'),
    rangeData(ref, data, error) {
      const r = reads.get(ref);
      if (!r) return;
      reads.delete(ref);
      clearTimeout(r.timer);
      if (data !== undefined) r.resolve(Buffer.from(data, 'base64'));
      else r.reject(new QpyError('NODE_AGENT', `${who} could not read the file: ${error ?? 'no reason given'}`));
    },
    drop(why) {
      if (dropped !== null) return;
      dropped = why;
      for (const n of [...channels.keys()]) gone(n, why);
      for (const r of reads.values()) {
        clearTimeout(r.timer);
        r.reject(new QpyError('NODE_LINK_LOST', `${who}: ${why}`));
      }
      reads.clear();
    },
  };
}

/** What `pilotTransport` needs of the hub. */
export interface PilotLookup {
  /** The pilot's live connection, or null. */
  connection(): PilotConnection | null;
  /** Resolves when the pilot (re)connects; `cancel` stops waiting. */
  returned(): { returned: Promise<void>; cancel(): void };
  /** Names it in messages. */
  readonly name: string;
}

/** The AgentTransport of one pilot, connected or not. */
export function pilotTransport(lookup: PilotLookup, shell: AgentShell): AgentTransport {
  const notConnected = () =>
    new QpyError('NODE_UNREACHABLE', `${lookup.name} is not connected`, 'it connects back when its Slurm job runs; jobs there wait');
  return {
    open() {
      const conn = lookup.connection();
      return conn ? Promise.resolve(conn.openAgent(shell)) : Promise.reject(notConnected());
    },
    readRange(path, offset, max) {
      const conn = lookup.connection();
      return conn ? conn.readRange(path, offset, max) : Promise.reject(notConnected());
    },
    watchReturn: () => lookup.returned(),
    close: () => undefined,
  };
}
