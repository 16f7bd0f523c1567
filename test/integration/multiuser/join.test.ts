/**
 * Joining a real qpy-multiuser: `qpy join` reads the code from standard
 * input (never the command line), and on a terminal does not show it;
 * inviting a user again replaces the key at once and cuts the old one's
 * connections. Refused handshakes are in join-refusals.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { admin, invitation, testMultiuser } from '../../helpers/multiuser.js';
import { QPY, qpyUser, run } from '../../helpers/qpy.js';
import { waitFor } from '../../helpers/wait.js';
import { wsSocket } from '../../../src/transport/ws-socket.js';
import { readKey } from '../../../src/transport/key.js';
import type { QpyError } from '../../../src/errors.js';
import { NODES, ENV, demand, me, isError, joinWith } from './join-helpers.js';

test(
  'qpy join reads the code from standard input; a code on the command line is refused and left unused; ' +
    'users add prints command and code apart',
  async () => {
    await using mu = testMultiuser({ nodes: NODES, env: ENV });
    assert.equal((await mu.start()).code, 0);
    const added = await admin(mu, ['users', 'add', 'alice']);
    assert.match(added, /^User alice added\. Send alice the command and the code below\.$/m);
    const { hostPort, code } = invitation(added);
    assert.equal(hostPort, `127.0.0.1:${mu.port()}`);
    assert.doesNotMatch(added, new RegExp(`qpy join \\S+ ${code}`), 'the code is not on the command line it prints');
    await using alice = qpyUser({ env: { QPY_USER: 'alice' } });

    const onArgv = await run(QPY, ['join', hostPort, code], alice.work, alice.env, '');
    assert.equal(onArgv.code, 1);
    assert.equal(
      onArgv.stderr,
      'qpy: the invitation code is not given on the command line, where other users of this machine can read it ' +
        `(run qpy join ${hostPort} and paste the code when asked; if others may have seen this one, ask your administrator for a new one)\n`,
    );
    assert.ok(!existsSync(join(alice.qpyDir, 'multiuser.key')));

    const empty = await run(QPY, ['join', hostPort], alice.work, alice.env, '\n');
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^qpy: no invitation code on standard input \(/);

    const r = await run(QPY, ['join', hostPort], alice.work, alice.env, `${code}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Joined qpy-multiuser at ${hostPort} as alice\\.$`, 'm'));
    const keyFile = join(alice.qpyDir, 'multiuser.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.deepEqual(readKey(keyFile), readKey(join(mu.paths.keys, 'alice.key')));
    assert.match(
      readFileSync(mu.paths.log, 'utf8'),
      new RegExp(`user alice joined from 127\\.0\\.0\\.1:\\d+ \\(uid ${process.getuid!()} ${userInfo().username}, pid \\d+\\)`),
    );
    // Her master registered with the daemon.
    await waitFor(
      async () => {
        const s = await (await mu.admin()).request({ type: 'status' });
        return s.type === 'status' && s.status.users.some((u) => u.name === 'alice');
      },
      { what: 'alice registered' },
    );
  },
);

const hasScript = spawnSync('script', ['--version']).status === 0;

test('on a terminal, qpy join asks for the code and does not show it', {
  skip: !hasScript && 'needs script(1) for a terminal',
}, async () => {
  await using mu = testMultiuser({ nodes: NODES, env: ENV });
  assert.equal((await mu.start()).code, 0);
  const { hostPort, code } = invitation(await admin(mu, ['users', 'add', 'erin']));
  await using erin = qpyUser({ env: { QPY_USER: 'erin' } });
  // script(1) runs qpy join on a new pseudo-terminal, copying our pipe to it and it to our pipe.
  const p = spawn('script', ['-qec', `${QPY} join ${hostPort}`, '/dev/null'], {
    cwd: erin.work,
    env: erin.env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  await waitFor(() => out.includes('Invitation code: '), { what: 'the prompt' });
  p.stdin.write(`${code}\r`);
  const [status] = (await once(p, 'exit')) as [number];
  p.stdin.end();
  assert.equal(status, 0, out);
  assert.match(out, new RegExp(`Joined qpy-multiuser at ${hostPort} as erin\\.`));
  assert.ok(!out.includes(code), `the code was shown: ${out}`);
});

test(
  'inviting a user again: a new key, the old one refused at once and its master cut off; slots stay charged; ' +
    'the new code brings the master back',
  async () => {
    await using mu = testMultiuser({ nodes: NODES, env: ENV });
    assert.equal((await mu.start()).code, 0);
    const adm = await mu.admin();
    const first = await adm.request({ type: 'addUser', name: 'carol' });
    assert.ok(first.type === 'userAdded' && !first.replaced);
    if (first.type !== 'userAdded') return;
    const oldKey = await joinWith(mu.port(), 'carol', first.code);
    let closedWith: QpyError | undefined | 'open' = 'open';
    const { connect: open } = await import('../../../src/transport/client.js');
    const { allocatorToMasterSchema } = await import('../../../src/protocol/master-allocator.js');
    const master = await open({
      url: `ws://127.0.0.1:${mu.port()}/`,
      socket: wsSocket,
      key: oldKey,
      role: 'master',
      user: 'carol',
      replySchema: allocatorToMasterSchema,
      timeoutMs: 5000,
      onClose: (err) => (closedWith = err),
    });
    await master.request({ type: 'register', user: 'carol', running: [], queueSize: 1 } as never);
    assert.equal((await master.request({ type: 'request', user: 'carol', jobId: 1, demand, queueSize: 1 } as never)).type, 'granted');

    const again = await adm.request({ type: 'addUser', name: 'carol' });
    assert.ok(again.type === 'userAdded');
    if (again.type !== 'userAdded') return;
    assert.equal(again.replaced, true);
    assert.equal(again.closed, 1);
    const keyPath = join(mu.paths.keys, 'carol.key');
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    assert.notDeepEqual(readKey(keyPath), oldKey);
    // The connected master is closed, told why.
    await waitFor(() => closedWith !== 'open', { what: 'the old master connection closed' });
    assert.ok(isError('UNAUTHENTICATED', /invited carol again: this key no longer works/)(closedWith));
    // The old key no longer opens the door.
    await assert.rejects(mu.master('carol', oldKey), isError('UNAUTHENTICATED', /wrong key for user carol/));
    // Her running job's slot is still hers.
    const s = await adm.request({ type: 'status' });
    assert.deepEqual(s.type === 'status' && s.status.users.map((u) => [u.name, u.usedCores]), [['carol', 1]]);
    // The old code is spent; the new one gives the new key, which registers the running job.
    await assert.rejects(joinWith(mu.port(), 'carol', first.code), isError('UNAUTHENTICATED'));
    const newKey = await joinWith(mu.port(), 'carol', again.code);
    assert.deepEqual(newKey, readKey(keyPath));
    const back = await mu.master('carol', newKey);
    assert.equal(
      (
        await back.request({
          type: 'register',
          user: 'carol',
          running: [{ jobId: 1, node: 'n1', cores: 1, memGB: 1 }],
          queueSize: 0,
        } as never)
      ).type,
      'registered',
    );
    const log = readFileSync(mu.paths.log, 'utf8');
    assert.match(log, /user carol invited again: new key \(the old one no longer works; 1 master connection closed\)/);
    assert.match(
      log,
      new RegExp(
        `refused master "carol" from 127\\.0\\.0\\.1:\\d+ \\(${me}, pid ${process.pid}\\): authentication failed: wrong key for user carol`,
      ),
    );
  },
);
