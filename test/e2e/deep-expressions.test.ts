/**
 * Issue 13, finding 5: attribute expressions nested too deep (or thousands of
 * unbalanced "(") overflowed the stack of the CLI's master and of
 * qpy-multiuser ("internal error: Maximum call stack size exceeded"). Now
 * they get BAD_EXPR at 64 levels, one clear line, and the daemons go on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { qpyUser, type QpyUser } from '../helpers/qpy.js';
import { joinedUser, testMultiuser } from '../helpers/multiuser.js';
import { readKey } from '../../src/transport/key.js';
import { QpyError } from '../../src/errors.js';

// attrs are at most 4096 characters on the wire: 2000 balanced levels fit.
const nested = (depth: number): string => `${'('.repeat(depth)}big${')'.repeat(depth)}`;

/** `qpy sub -a attrs true` fails with one line naming the depth limit, exit 1, no stack trace. */
async function refusedTooDeep(u: QpyUser, attrs: string): Promise<void> {
  const r = await u.qpy(['sub', '-a', attrs, 'true']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^qpy: invalid attribute expression ".*": parentheses and "not" nest more than 64 deep\n$/);
  assert.ok(r.stderr.length < 300, r.stderr);
  assert.equal(r.stdout, '');
}

test('qpy sub: 3000 "(" and 65 levels get one clear line and exit 1; 64 levels are accepted', { timeout: 60_000 }, async () => {
  await using u = qpyUser({ nodes: 'localhost cores=2 memory=16 attributes=big\n' });
  await refusedTooDeep(u, '('.repeat(3000));
  await refusedTooDeep(u, nested(2000));
  await refusedTooDeep(u, nested(65));
  await refusedTooDeep(u, `${'not '.repeat(65)}big`);
  const config = await u.qpy(['config', 'defaultAttr', nested(65)]);
  assert.equal(config.code, 1);
  assert.match(config.stderr, /^qpy: defaultAttr: invalid attribute expression .*nest more than 64 deep\n$/);
  // Other mistakes keep their message; the master still serves.
  assert.match((await u.qpy(['sub', '-a', '((big)', 'true'])).stderr, /^qpy: invalid attribute expression "\(\(big\)": missing "\)"\n$/);
  assert.match(await u.ok(['sub', '-a', nested(64), 'true']), /^Job 1 received\.\n$/);
});

test('qpy-multiuser: request and feasible from a joined user’s master get BAD_EXPR; the daemon goes on', { timeout: 90_000 }, async () => {
  await using mu = testMultiuser({ nodes: 'n1 address=localhost cores=2 memory=16 attributes=big\n', env: { QPY_PROBE_MS: '0' } });
  assert.equal((await mu.start()).code, 0);
  await using alice = await joinedUser(mu, 'alice');
  const c = await mu.master('alice', readKey(join(alice.qpyDir, 'multiuser.key')));
  const reply = await c.request({ type: 'register', user: 'alice', running: [], queueSize: 0 });
  assert.equal(reply.type, 'registered');
  for (const attrs of ['('.repeat(3000), nested(2000), nested(65)]) {
    const demand = { cores: 1, memGB: 1, attrs };
    for (const msg of [
      { type: 'request', user: 'alice', jobId: 7, demand, queueSize: 1 } as const,
      { type: 'feasible', user: 'alice', demand } as const,
    ]) {
      await assert.rejects(c.request(msg), (err: unknown) => {
        assert.ok(err instanceof QpyError);
        assert.equal(err.code, 'BAD_EXPR', `${msg.type}: ${err.message}`);
        assert.match(err.message, /nest more than 64 deep$/);
        return true;
      });
    }
  }
  // Within the limit: granted, and feasible.
  const ok = await c.request({ type: 'feasible', user: 'alice', demand: { cores: 1, memGB: 1, attrs: nested(64) } });
  assert.deepEqual(ok.type === 'feasibility' && ok.problem, null);
  const granted = await c.request({
    type: 'request',
    user: 'alice',
    jobId: 8,
    demand: { cores: 1, memGB: 1, attrs: nested(64) },
    queueSize: 1,
  });
  assert.equal(granted.type, 'granted');
  assert.doesNotMatch(mu.log(), /Maximum call stack|internal error/i);
  // The joined user's own submissions are refused by the master the same way.
  await refusedTooDeep(alice, '('.repeat(3000));
});
