/**
 * What a pilot serves on one connection to its master: node agents started
 * through the local transport (executor/local.ts, as on the master's own
 * machine), each named by the channel of the master's `agentOpen`, their
 * stdin fed by `agentInput`, their output and end sent back; and file reads
 * (`readRange`). Several agents may run at once (a new master's agent beside
 * the last one's, which ends once its jobs have). When the connection is
 * lost, every agent's stdin is closed: it exits once its jobs have ended,
 * which go on (as over SSH); the next connection serves new ones.
 */
import type { AgentChannel } from '../executor/agent-session.js';
import { localTransport } from '../executor/local.js';
import { readLocalRange } from '../file-range.js';
import { MAX_AGENT_TEXT, type MasterToPilot, type PilotToMaster } from '../protocol/pilot.js';

/** A request to the master, without its id (the connection adds one). */
export type PilotRequest = PilotToMaster extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** The most agents one connection may have running at once. */
const MAX_AGENTS = 8;

export interface PilotAgents {
  /** A push from the master about agents or reads (others are ignored here). */
  push(frame: MasterToPilot): void;
  /** The connection is lost: close every agent's stdin and forget them. */
  endAll(): void;
}

export function pilotAgents(send: (req: PilotRequest) => void): PilotAgents {
  const agents = new Map<number, AgentChannel>();
  const starting = new Map<number, { input: string[]; end: boolean }>();
  let over = false;

  const sendText = (channel: number, stream: 'stdout' | 'stderr', text: string) => {
    for (let at = 0; at < text.length; at += MAX_AGENT_TEXT)
      send({ type: 'agentOutput', channel, [stream]: text.slice(at, at + MAX_AGENT_TEXT) } as PilotRequest);
  };

  function open(channel: number, shell: 'auto' | 'sh'): void {
    if (agents.has(channel) || starting.has(channel)) return;
    if (agents.size + starting.size >= MAX_AGENTS) {
      send({ type: 'agentGone', channel, why: `this pilot runs ${MAX_AGENTS} agents already` });
      return;
    }
    // Input (and an end) that comes while the agent is being spawned waits for it, in order.
    const early: { input: string[]; end: boolean } = { input: [], end: false };
    starting.set(channel, early);
    localTransport(shell)
      .open()
      .then(
        (ch) => {
          starting.delete(channel);
          if (over) return ch.end();
          agents.set(channel, ch);
          ch.onStdout((text) => !over && sendText(channel, 'stdout', text));
          ch.onStderr((text) => !over && sendText(channel, 'stderr', text));
          ch.onGone((why) => {
            if (agents.get(channel) !== ch) return;
            agents.delete(channel);
            if (!over) send({ type: 'agentGone', channel, why: why.slice(0, 4096) });
          });
          for (const text of early.input) ch.write(text);
          if (early.end) ch.end();
        },
        (err: unknown) => {
          starting.delete(channel);
          if (!over) send({ type: 'agentGone', channel, why: `cannot start the node agent: ${(err as Error).message}`.slice(0, 4096) });
        },
      );
  }

  function read(ref: number, path: string, offset: number, max: number): void {
    try {
      send({ type: 'rangeData', ref, data: readLocalRange(path, offset, max).toString('base64') });
    } catch (err) {
      send({ type: 'rangeData', ref, error: (err as Error).message.slice(0, 4096) });
    }
  }

  return {
    push(frame) {
      if (over) return;
      switch (frame.type) {
        case 'agentOpen':
          return open(frame.channel, frame.shell);
        case 'agentInput':
          starting.get(frame.channel)?.input.push(frame.text);
          return agents.get(frame.channel)?.write(frame.text);
        case 'agentEnd':
          if (starting.has(frame.channel)) starting.get(frame.channel)!.end = true;
          return agents.get(frame.channel)?.end();
        case 'readRange':
          return read(frame.ref, frame.path, frame.offset, frame.max);
        default:
          return;
      }
    },
    endAll() {
      over = true;
      for (const ch of agents.values()) ch.end();
      agents.clear();
    },
  };
}
