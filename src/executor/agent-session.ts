/**
 * One live node agent (agent-script.ts), whatever carries it: requests out on
 * its stdin, answers matched back by tag, and the `E` lines of jobs' ends handed
 * to `onEnded`. The transport only supplies the agent's streams (an
 * `AgentChannel`: a child process here, an SSH exec channel on a node). A
 * session is over when the agent has gone; `E` lines that wrappers of that
 * agent (on a node without bash) still write on its stdout are passed on as
 * long as it carries them.
 */
import { QpyError } from '../errors.js';
import type { EndNotice } from './wrapper.js';
import { agentInit, frameRequests, parseAgentLine, type AgentLine, type AgentReader, type LimitsMethod } from './agent-script.js';

/** The agent's streams, as a transport gives them. */
export interface AgentChannel {
  write(text: string): void;
  /** Chunks of the agent's stdout (text). */
  onStdout(listener: (chunk: string) => void): void;
  /** Chunks of its stderr (text): its last words explain a death. */
  onStderr(listener: (chunk: string) => void): void;
  /** Once, when the agent has gone (exited, or the link to it was lost); `why` may be empty. */
  onGone(listener: (why: string) => void): void;
  /** Whether the channel should keep this process alive (requests are waiting for answers). */
  hold(held: boolean): void;
  /** Close its stdin: the agent exits; jobs go on. */
  end(): void;
}

export interface AgentSession {
  /** Send the line built for a fresh tag; resolves with the answer's lines (through D, A or S). */
  request(build: (tag: number) => string): Promise<AgentLine[]>;
  /** Resolves when the session has died, with the reason. */
  readonly closed: Promise<string>;
  /** How this agent keeps limits and measures usage (its `R` line). */
  readonly limits: LimitsMethod;
  close(): void;
}

interface Waiting {
  lines: AgentLine[];
  resolve(lines: AgentLine[]): void;
  reject(err: Error): void;
}

/** Start the agent on `ch` with run directory `runDir`; resolves once it is ready. */
export async function startAgent(
  node: string,
  ch: AgentChannel,
  runDir: string,
  onEnded: (notice: EndNotice) => void,
): Promise<AgentSession> {
  const waiting = new Map<number, Waiting>();
  let tag = 0;
  let dead: string | null = null;
  let reader: AgentReader = 'line';
  let limits: LimitsMethod = 'none';
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
    ch.hold(false);
    ready.reject(new QpyError('NODE_AGENT', `node ${node}: ${why}`));
    onClosed(why);
  };

  const onLine = (line: string) => {
    const ev = parseAgentLine(line);
    if (!ev) return;
    switch (ev.type) {
      case 'ready':
        reader = ev.reader;
        limits = ev.limits;
        return ready.resolve();
      case 'failed':
        return die(ev.reason);
      case 'ended': {
        const { type: _, ...notice } = ev;
        return onEnded(notice);
      }
      default: {
        const w = waiting.get(ev.tag);
        if (!w) return;
        w.lines.push(ev);
        if (ev.type === 'file' || ev.type === 'live') return;
        waiting.delete(ev.tag);
        if (waiting.size === 0) ch.hold(false);
        w.resolve(w.lines);
      }
    }
  };

  let rest = '';
  ch.onStdout((chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const l of lines) onLine(l);
  });
  ch.onStderr((d) => {
    stderr = (stderr + d).slice(-2000);
  });
  ch.onGone((why) => die(stderr.trim().split('\n').at(-1) || why || 'the agent ended'));
  ch.hold(true);
  ch.write(agentInit(runDir));
  await readyP;
  ch.hold(false);

  // Requests of one event-loop turn go out in one write: one packet, one read by the agent.
  let outgoing = '';
  const send = () => {
    if (dead === null && outgoing) ch.write(frameRequests(outgoing, reader));
    outgoing = '';
  };

  return {
    request(build) {
      if (dead !== null) return Promise.reject(new QpyError('NODE_UNREACHABLE', `node ${node}: ${dead}`));
      const t = ++tag;
      return new Promise((resolve, reject) => {
        waiting.set(t, { lines: [], resolve, reject });
        ch.hold(true);
        if (!outgoing) setImmediate(send);
        outgoing += build(t);
      });
    },
    closed,
    limits,
    close() {
      ch.end();
      die('closed');
    },
  };
}
