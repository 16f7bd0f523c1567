/**
 * One live node agent (remote-agent.ts) on one SSH connection: requests out
 * on the channel's stdin, answers matched back by tag, and the wrappers' `E`
 * lines handed to `onEnded`. A session dies with its channel or connection;
 * the SSH executor then opens a new one.
 */
import type { Client, ClientChannel } from 'ssh2';
import { QpyError } from '../errors.js';
import { agentCommandLine, agentInit, parseAgentLine, type AgentLine, type AgentShell } from './remote-agent.js';
import { openExec } from '../ssh/connection.js';

export interface AgentSession {
  /** Send the line built for a fresh tag; resolves with the answer's lines (through D, A or S). */
  request(build: (tag: number) => string): Promise<AgentLine[]>;
  /** Resolves when the session has died (channel or connection closed), with the reason. */
  readonly closed: Promise<string>;
  close(): void;
}

interface Waiting {
  lines: AgentLine[];
  resolve(lines: AgentLine[]): void;
  reject(err: Error): void;
}

/** Start the agent on `client` with run directory `runDir`; resolves once it is ready. */
export async function startAgent(
  node: string,
  client: Client,
  runDir: string,
  shell: AgentShell,
  onEnded: (key: string, status: number) => void,
): Promise<AgentSession> {
  const ch: ClientChannel = await openExec(client, agentCommandLine(shell));
  const waiting = new Map<number, Waiting>();
  let tag = 0;
  let dead: string | null = null;
  let onClosed!: (why: string) => void;
  const closed = new Promise<string>((r) => (onClosed = r));
  let ready!: { resolve(): void; reject(e: Error): void };
  const readyP = new Promise<void>((resolve, reject) => (ready = { resolve, reject }));
  let stderr = '';

  const die = (why: string) => {
    if (dead !== null) return;
    dead = why;
    // Requests in flight may or may not have been carried out.
    for (const w of waiting.values()) w.reject(new QpyError('NODE_LINK_LOST', `node ${node}: ${why}`));
    waiting.clear();
    ready.reject(new QpyError('NODE_AGENT', `node ${node}: ${why}`));
    onClosed(why);
  };

  const onLine = (line: string) => {
    const ev = parseAgentLine(line);
    if (!ev) return;
    switch (ev.type) {
      case 'ready':
        return ready.resolve();
      case 'failed':
        return die(ev.reason);
      case 'ended':
        return onEnded(ev.key, ev.status);
      default: {
        const w = waiting.get(ev.tag);
        if (!w) return;
        if (ev.type === 'file') return void w.lines.push(ev);
        waiting.delete(ev.tag);
        w.lines.push(ev);
        w.resolve(w.lines);
      }
    }
  };

  let rest = '';
  ch.setEncoding('utf8');
  ch.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const l of lines) onLine(l);
  });
  ch.stderr.setEncoding('utf8');
  ch.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-2000);
  });
  ch.on('close', () => die(stderr.trim().split('\n').at(-1) || 'the connection to the node was lost'));
  ch.on('error', (err: Error) => die(err.message));
  client.once('close', () => die('the connection to the node was lost'));
  ch.write(agentInit(runDir));
  await readyP;

  // Requests of one event-loop turn go out in one write: one SSH packet, one read by the agent.
  let outgoing = '';
  const send = () => {
    if (dead === null && outgoing) ch.write(outgoing);
    outgoing = '';
  };

  return {
    request(build) {
      if (dead !== null) return Promise.reject(new QpyError('NODE_UNREACHABLE', `node ${node}: ${dead}`));
      const t = ++tag;
      return new Promise((resolve, reject) => {
        waiting.set(t, { lines: [], resolve, reject });
        if (!outgoing) setImmediate(send);
        outgoing += build(t);
      });
    },
    closed,
    close() {
      ch.end();
      die('closed');
    },
  };
}
