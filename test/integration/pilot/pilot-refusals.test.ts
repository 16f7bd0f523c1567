/**
 * What the pilot link refuses, and what never crashes the hub: a pilot file
 * with a wrong secret or a wrong certificate fingerprint (the pilot keeps
 * trying, and connects once the file is right again), a bad pilot file or
 * no SLURM_JOB_ID (one line, exit 1), garbage frames, a hello whose job ID or host is none, requests before
 * `pilotHello`, a hello for another pool, an unknown pool, and a second
 * connection claiming the same job (it replaces the first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { connect } from '../../../src/transport/client.js';
import { wsSocket } from '../../../src/transport/ws-socket.js';
import { masterToPilotSchema, type MasterToPilot, type PilotFile, type PilotToMaster } from '../../../src/protocol/pilot.js';
import type { QpyError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { startHub, startPilotProcess } from './setup.js';

const readFile = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as PilotFile;
function writeFile(path: string, file: PilotFile): void {
  writeFileSync(path, JSON.stringify(file), { mode: 0o600 });
}

test('a pilot with a wrong secret or fingerprint is refused, keeps trying, and connects once its file is right', async () => {
  await using tmp = tempDir();
  const h = await startHub(tmp.path);
  const good = readFile(h.file);
  const file = join(tmp.path, 'pilot.json');
  writeFile(file, { ...good, secret: 'ab'.repeat(32) });
  const pilot = startPilotProcess(file);
  try {
    await waitFor(() => pilot.stderr().includes('UNAUTHENTICATED: wrong key for pool p1'), { what: 'the refusal' });
    writeFile(file, { ...good, fingerprint: `${'AB:'.repeat(31)}AB` });
    await waitFor(() => pilot.stderr().includes('CERTIFICATE_MISMATCH'), { what: 'the certificate refused', timeoutMs: 15_000 });
    assert.deepEqual(h.events, []);
    assert.ok(
      h.log.some((l) => /refused pilot "p1" from 127\.0\.0\.1/.test(l)),
      h.log.join('\n'),
    );
    writeFile(file, good);
    await waitFor(() => h.hub.connected('p1', '101'), { what: 'the pilot connected', timeoutMs: 20_000 });
  } finally {
    pilot.child.kill('SIGTERM');
    assert.equal(await pilot.exited, 0);
    await h.hub.close();
  }
});

test('a bad pilot file, or no SLURM_JOB_ID: one line on stderr, exit 1', async () => {
  await using tmp = tempDir();
  const cases: [string, string | null, RegExp][] = [];
  const file = (name: string, text: string, mode = 0o600) => {
    const path = join(tmp.path, name);
    writeFileSync(path, text, { mode });
    chmodSync(path, mode);
    return path;
  };
  const valid: PilotFile = {
    version: 1,
    host: '127.0.0.1',
    port: 1,
    fingerprint: `${'AB:'.repeat(31)}AB`,
    pool: 'p',
    secret: 'ab'.repeat(32),
  };
  cases.push([join(tmp.path, 'missing.json'), '1', /^qpy-pilot: pilot file .*missing\.json: cannot be read: ENOENT/]);
  cases.push([file('open.json', JSON.stringify(valid), 0o644), '1', /open to other users \(mode 644\).*\nhint: run: chmod 600 /]);
  cases.push([file('json.json', '{'), '1', /json\.json: not valid JSON/]);
  cases.push([file('field.json', JSON.stringify({ ...valid, port: 0 })), '1', /\$\.port: expected an integer from 1 to 65535/]);
  cases.push([file('fp.json', JSON.stringify({ ...valid, fingerprint: 'x' })), '1', /"fingerprint" is not a SHA-256 fingerprint/]);
  cases.push([file('ok.json', JSON.stringify(valid)), null, /^qpy-pilot: SLURM_JOB_ID is not set/]);
  cases.push([join(tmp.path, 'ok.json'), '12_3', /^qpy-pilot: SLURM_JOB_ID is not set \(or not a job ID\)/]);
  for (const [path, jobId, expected] of cases) {
    const p = startPilotProcess(path, jobId);
    assert.equal(await p.exited, 1, path);
    assert.match(p.stderr(), expected);
    assert.ok(
      p
        .stderr()
        .split('\n')
        .filter((l) => l && !l.startsWith('hint: ')).length === 1,
      p.stderr(),
    );
  }
});

test('the hub survives garbage, requests before hello, another pool’s hello, an unknown pool, and a second claim on a job', async () => {
  await using tmp = tempDir();
  const h = await startHub(tmp.path);
  const good = readFile(h.file);
  const url = `wss://127.0.0.1:${good.port}/`;
  const open = (pool = 'p1', secret = good.secret, onClose?: (err?: QpyError) => void) =>
    connect<PilotToMaster, MasterToPilot>({
      url,
      socket: wsSocket,
      pin: { pinned: [good.fingerprint] },
      key: Buffer.from(secret, 'hex'),
      role: 'pilot',
      user: pool,
      replySchema: masterToPilotSchema,
      timeoutMs: 5000,
      ...(onClose ? { onClose } : {}),
    });
  try {
    // Garbage before the handshake: refused, the hub goes on.
    const raw = new WebSocket(url, { rejectUnauthorized: false });
    await new Promise((r) => raw.once('open', r));
    raw.send('\u0000not json{');
    await new Promise((r) => raw.once('close', r));
    await assert.rejects(open('nosuchpool', good.secret), { code: 'UNAUTHENTICATED' });

    let aClosed: string | null = null;
    const a = await open('p1', good.secret, (err) => (aClosed = err ? `${err.code}: ${err.message}` : 'closed'));
    await assert.rejects(a.request({ type: 'agentGone', channel: 1, why: 'x' }), { code: 'BAD_REQUEST', message: 'say pilotHello first' });
    await assert.rejects(a.request({ type: 'pilotHello', pool: 'other', jobId: '5', host: 'h' }), { code: 'BAD_REQUEST' });
    // A job ID or host that is none (found by the frame fuzzer: they named nodes, `a-C TWIQ0I`, and `qpy status`
    // printed the host's terminal escapes raw): refused, nothing joins.
    await assert.rejects(a.request({ type: 'pilotHello', pool: 'p1', jobId: 'C TWIQ0I', host: 'h' }), {
      code: 'BAD_REQUEST',
      message: 'jobId is not a Slurm job ID (digits)',
    });
    await assert.rejects(a.request({ type: 'pilotHello', pool: 'p1', jobId: '5', host: 'n\u001b[31m\u202e' }), {
      code: 'BAD_REQUEST',
      message: /^host is not a host name/,
    });
    await assert.rejects(a.request({ type: 'agentOutput', channel: 0 } as never), { code: 'BAD_REQUEST' });
    await assert.rejects(a.request({ type: 'nonsense' } as never), { code: 'BAD_FRAME' });
    await a.request({ type: 'pilotHello', pool: 'p1', jobId: '5', host: 'first' });
    await assert.rejects(a.request({ type: 'pilotHello', pool: 'p1', jobId: '5', host: 'first' }), { code: 'BAD_REQUEST' });
    // Output, ends and reads for channels and refs it was never given are ignored.
    await a.request({ type: 'agentOutput', channel: 99, stdout: 'x' });
    await a.request({ type: 'rangeData', ref: 99, data: '' });
    assert.equal(h.hub.connected('p1', '5'), 'first');

    const b = await open('p1', good.secret);
    await b.request({ type: 'pilotHello', pool: 'p1', jobId: '5', host: 'second' });
    assert.equal(h.hub.connected('p1', '5'), 'second');
    assert.equal(
      await waitFor(() => aClosed, { what: 'the first connection closed' }),
      'UNAUTHENTICATED: another connection claimed this pilot',
    );
    assert.equal(h.hub.connected('p1', '5'), 'second', 'the replaced connection closing does not drop the new one');
    assert.deepEqual(h.events, ['pilot p1/5 first', 'pilot p1/5 second']);
    b.close();
    await waitFor(() => h.events.includes('gone p1/5'), { what: 'gone after the second closed' });
  } finally {
    await h.hub.close();
  }
});
