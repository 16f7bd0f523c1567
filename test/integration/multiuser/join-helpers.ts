/**
 * Shared setup of the join and handshake tests of qpy-multiuser
 * (join.test.ts, join-refusals.test.ts): the nodes file and environment, a
 * demand of one core, this process's owner as refusal logs name it, a
 * matcher for a coded error, and a join done as the protocol does it.
 */
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { connect } from '../../../src/transport/client.js';
import { wsSocket } from '../../../src/transport/ws-socket.js';
import { inviteKey, openUserKey } from '../../../src/transport/invite.js';
import { allocatorToJoinSchema, type AllocatorToJoin, type JoinToAllocator } from '../../../src/protocol/admin-allocator.js';
import { QpyError } from '../../../src/errors.js';

export const NODES = 'n1 address=localhost cores=4 memory=16\n';
export const ENV = { QPY_PROBE_MS: '0' };
export const demand = { cores: 1, memGB: 1, attrs: null };
export const me = `uid ${process.getuid!()} ${userInfo().username}`;

export function isError(code: string, message?: RegExp) {
  return (err: unknown) => err instanceof QpyError && err.code === code && (message === undefined || message.test(err.message));
}

/** Join as the protocol does, with `code`; the user's key. */
export async function joinWith(port: number, user: string, code: string): Promise<Buffer> {
  const j = await connect<JoinToAllocator, AllocatorToJoin>({
    url: `ws://127.0.0.1:${port}/`,
    socket: wsSocket,
    key: inviteKey(code, user),
    role: 'join',
    user,
    replySchema: allocatorToJoinSchema,
    timeoutMs: 5000,
  });
  try {
    const r = await j.request({ type: 'join' });
    assert.equal(r.type, 'joined');
    return openUserKey(inviteKey(code, user), r as Extract<AllocatorToJoin, { type: 'joined' }>);
  } finally {
    j.close();
  }
}
