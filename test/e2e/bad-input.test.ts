/**
 * Bad input from a user or a stranger on the master's port: one clear line
 * on stderr, exit status 1, no stack trace, and the master keeps serving.
 */
import { PROTOCOL_VERSION } from '../../src/protocol/version.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

test('bad command lines get one clear line and exit 1; the master keeps serving', { timeout: 60_000 }, async () => {
  await using u = qpyUser({ nodes: 'localhost cores=2 memory=16 attributes=big\n' });
  await u.ok(['sub', 'true']);
  const cases: [string[], RegExp][] = [
    [['sub', '--bogus', 'true'], /unknown option '--bogus'/],
    [['sub', '-n', '0', 'true'], /-n needs a whole number of cores of 1 or more, not '0'/],
    [['sub', '-n', 'abc', 'true'], /-n needs a whole number of cores/],
    [['sub', '-m', '-1', 'true'], /-m needs an amount of memory in GB/],
    [['sub', '-a', 'big and', 'true'], /invalid attribute expression/i],
    [['sub', '-a', 'big xx', 'true'], /invalid attribute expression/i],
    [['sub', '-a', 'gpu', 'true'], /job refused: .*gpu/],
    [['sub', '-n', '64', 'true'], /job refused: .*64 cores/],
    [['sub', '-m', '500', 'true'], /job refused: .*memory/],
    [['sub'], /missing required argument/],
    [['check', 'foo'], /Unknown pattern for checking jobs: foo/],
    [['check', '3-'], /Unknown pattern for checking jobs: 3-/],
    [['kill', 'foo'], /Range with wrong format or invalid status: foo/],
    [['kill', '99'], /Nothing to do: required jobs not found\./],
    [['clean', 'running'], /Range with wrong format or invalid status: running/],
    [['history', 'queue'], /Unknown pattern for history: queue/],
    [['history', '3-'], /Unknown pattern for history: 3-/],
    [['history', '--since', '2x'], /Bad time for --since: 2x/],
    [['history', '--until', '2025-02-30'], /Bad time for --until: 2025-02-30/],
    [['history', '--since', '1d', '--until', '2d'], /--since 1d is not before --until 2d/],
    [['history', '--since'], /option '--since <WHEN>' argument missing/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [args, re] of cases) {
    const r = await u.qpy(args);
    assert.equal(r.code, 1, `qpy ${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, re, `qpy ${args.join(' ')}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line for qpy ${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '');
  }
  // No usage: help on stderr, exit 1.
  const bare = await u.qpy([]);
  assert.equal(bare.code, 1);
  assert.match(bare.stderr, /Usage: qpy/);
  // Still serving.
  assert.match(await u.ok(['sub', 'true']), /^Job 2 received\.\n$/);
});

test('garbage frames and wrong keys are refused; the master keeps serving', { timeout: 60_000 }, async () => {
  await using u = qpyUser({ env: { QPY_HANDSHAKE_MS: '1500' } });
  await u.ok(['check']);
  const { port } = JSON.parse(readFileSync(join(u.qpyDir, 'master.json'), 'utf8')) as { port: number };
  const url = `ws://127.0.0.1:${port}/`;

  const talk = (frames: (string | Buffer)[], waitClose = true) =>
    new Promise<{ received: string[]; closed: boolean }>((resolve) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const received: string[] = [];
      ws.on('message', (d) => {
        received.push(d.toString());
        if (received.length === 1) for (const f of frames) ws.send(f);
      });
      ws.on('close', () => resolve({ received, closed: true }));
      ws.on('error', () => resolve({ received, closed: true }));
      if (!waitClose) setImmediate(() => resolve({ received, closed: false }));
    });

  // Not JSON, before authenticating: an error reply, then the socket is closed.
  const g = await talk(['this is not json']);
  assert.match(g.received[0]!, /"type":"hello"/);
  assert.match(g.received[1]!, /"code":"UNAUTHENTICATED"/);
  assert.ok(g.closed);
  // A wrong key.
  const bad = await talk([
    JSON.stringify({ type: 'auth', protocol: PROTOCOL_VERSION, role: 'user', user: 'x', nonce: 'ab', mac: '00'.repeat(32) }),
  ]);
  assert.match(bad.received[1]!, /"code":"UNAUTHENTICATED".*wrong key/);
  // A replayed handshake: a proof made for another nonce fails the same way.
  // Silence: closed after the handshake deadline.
  const silent = await talk([]);
  assert.ok(silent.closed);
  assert.match(silent.received.join(''), /no authentication within the deadline/);
  // Binary garbage.
  const bin = await talk([Buffer.from([0xff, 0x00, 0x13])]);
  assert.match(bin.received[1]!, /"code":"UNAUTHENTICATED"/);

  // A client with a wrong key file gets a clear error.
  const keyPath = join(u.qpyDir, 'master.key');
  const good = readFileSync(keyPath, 'utf8');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(keyPath, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
  const r = await u.qpy(['check']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /authentication failed: wrong key/);
  writeFileSync(keyPath, good, { mode: 0o600 });

  await waitFor(async () => (await u.qpy(['check'])).code === 0, { what: 'master still serving' });
  assert.match(await u.ok(['sub', 'true']), /^Job 1 received\.\n$/);
});

test('an unusable QPY_DIR or a vanished working directory is one clear error, not a hang', { timeout: 60_000 }, async () => {
  await using u = qpyUser();
  const { run, QPY } = await import('../helpers/qpy.js');
  const bad = await run(QPY, ['check'], u.work, { ...u.env, QPY_DIR: '/proc/qpy-no-such-dir' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /qpy: cannot create the directory \/proc\/qpy-no-such-dir/);
  const { mkdirSync } = await import('node:fs');
  const gone = join(u.work, 'gone');
  mkdirSync(gone);
  const { spawn } = await import('node:child_process');
  // A shell whose working directory is deleted under it, as happens to users.
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const sh = spawn('/bin/sh', ['-c', `rmdir "${gone}" && "${QPY}" check`], { cwd: gone, env: u.env });
    let err = '';
    sh.stderr.on('data', (d) => (err += d));
    sh.on('close', (code) => resolve({ code, err }));
  });
  assert.equal(r.code, 1);
  assert.match(r.err, /qpy: the current directory no longer exists/);
});

test('found by the CLI fuzzer: qpy load - with empty input ends (exit 1, one line); errors with a suggestion or a newline in a value stay on one line', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser();
  const { run, QPY } = await import('../helpers/qpy.js');
  const empty = await run(QPY, ['load', '-'], u.work, u.env, '');
  assert.deepEqual([empty.code, empty.stderr], [1, 'qpy: nothing to load: - has no commands\n']);
  for (const [args, re] of [
    [['Sub', 'true'], /^qpy: unknown command 'Sub' \(Did you mean sub\?\) \(see qpy --help\)\n$/],
    [['release', 'a\nb'], /^qpy: .*a b.*\n$/],
    [['check', '\u001b[31m'], /^qpy: .*\\x1b\[31m.*\n$/],
  ] as const) {
    const r = await u.qpy([...args]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});
