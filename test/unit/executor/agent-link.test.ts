/**
 * The agent link's retry loop keeps going by itself: a node whose agent
 * cannot be started is tried again on its backoff with no caller asking
 * (a master with no job there must still come back to a node that
 * returns), and the link reports its recovery. The transport is an
 * in-process stand-in: this is the loop's own rule, which the e2e tests
 * (test/e2e/gpu-share-ssh.test.ts, node-return.test.ts) meet over real sshd.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAgentLink, type AgentTransport } from '../../../src/executor/agent-link.js';
import type { AgentChannel } from '../../../src/executor/agent-session.js';
import { waitFor } from '../../helpers/wait.js';

/** A channel whose agent answers its start-up with its ready line. */
function readyChannel(): AgentChannel {
  let out: ((chunk: string) => void) | null = null;
  return {
    write: () => queueMicrotask(() => out?.('R 4242 block proc\n')),
    onStdout: (l) => void (out = l),
    onStderr: () => undefined,
    onGone: () => undefined,
    hold: () => undefined,
    end: () => undefined,
  };
}

test('a link whose agent could not be started is tried again with no caller, and reports its recovery', { timeout: 20_000 }, async () => {
  let attempts = 0;
  const transport: AgentTransport = {
    open: async () => {
      attempts++;
      if (attempts <= 2) throw new Error('connect ECONNREFUSED 127.0.0.3:22');
      return readyChannel();
    },
    readRange: async () => Buffer.alloc(0),
    close: () => undefined,
  };
  const states: (string | null)[] = [];
  const link = createAgentLink({
    node: 'n3',
    runDir: '/tmp/qpy-run',
    transport,
    onEnded: () => undefined,
    onLost: () => undefined,
    onLink: (problem) => states.push(problem),
  });
  try {
    await assert.rejects(link.session());
    // Nobody asks again: the loop itself tries after 1 s and 2 s more.
    await waitFor(() => link.current() !== null, { what: 'the agent started by the retry loop', timeoutMs: 10_000 });
    assert.equal(attempts, 3);
    assert.equal(states.at(-1), null, 'recovery reported');
    assert.equal(states.filter((s) => s !== null).length, 2);
  } finally {
    link.close();
  }
});
