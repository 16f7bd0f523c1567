/**
 * The queue and the personal nodes file: a job that cannot fit now does not
 * block later jobs that can; freed cores are used at once; a nodes file with
 * a remote node is refused with a clear message and shown by status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

const statusOf = (out: string, id: number) => new RegExp(`^${id} \\((\\w+)\\)`, 'm').exec(out)?.[1];

test('a job that does not fit waits without blocking later jobs; freed cores are used at once', { timeout: 60_000 }, async () => {
  await using u = qpyUser({ nodes: 'node1 cores=2 memory=32 address=localhost\n' });
  await u.ok(['sub', '-m', '0.1', 'while [ ! -e go1 ]; do sleep 0.05; done']); // 1: holds one core
  await u.ok(['sub', '-m', '0.1', '-n', '2', 'echo big']); // 2: needs both cores
  await u.ok(['sub', '-m', '0.1', 'while [ ! -e go3 ]; do sleep 0.05; done']); // 3: fits beside 1
  const both = await waitFor(
    async () => {
      const out = await u.ok(['check']);
      return statusOf(out, 1) === 'running' && statusOf(out, 3) === 'running' ? out : null;
    },
    { what: 'jobs 1 and 3 running' },
  );
  assert.equal(statusOf(both, 2), 'queue');
  assert.match(both, /^1 \(running\):.* \(on node1; /m);
  writeFileSync(join(u.work, 'go1'), '');
  writeFileSync(join(u.work, 'go3'), '');
  await waitFor(async () => statusOf(await u.ok(['check']), 2) === 'done', { what: 'job 2 done once cores were freed', timeoutMs: 5000 });
  const status = await u.ok(['status']);
  assert.match(status, /^node1 +0 +2 /m);
  assert.match(status, /There are 0 out of a total of 2 cores being used\./);
});

test('a nodes file with a remote node lacking its size is refused clearly; status says why', { timeout: 60_000 }, async () => {
  await using u = qpyUser({ nodes: '# my machines\nlocalhost cores=2\nfar cores=8 address=far.example.org\n' });
  const r = await u.qpy(['sub', 'true']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /remote node far needs its cores and memory/);
  const s = await u.ok(['status']);
  assert.match(s, /warning: .*remote node far needs its cores and memory/);
  // A syntax error names the line.
  writeFileSync(join(u.qpyDir, 'nodes'), 'localhost cores=two\n');
  await u.ok(['restart']);
  const r2 = await u.qpy(['sub', 'true']);
  assert.match(r2.stderr, /nodes, line 1: /);
  // Fixed file, restart: jobs run.
  writeFileSync(join(u.qpyDir, 'nodes'), 'localhost 2 big\n');
  await u.ok(['restart']);
  assert.equal(await u.ok(['sub', '-m', '0.1', '-a', 'big', 'true']), 'Job 1 received.\n');
});

test('a job whose directory vanished before it started fails and says why', { timeout: 60_000 }, async () => {
  await using u = qpyUser({ nodes: 'localhost cores=1 memory=32\n' });
  const { mkdirSync, rmSync } = await import('node:fs');
  const gone = join(u.work, 'gone');
  mkdirSync(gone);
  await u.ok(['sub', '-m', '0.1', 'while [ ! -e go ]; do sleep 0.05; done']);
  await u.ok(['sub', '-m', '0.1', 'true'], gone);
  await waitFor(async () => statusOf(await u.ok(['check']), 1) === 'running', { what: 'job 1 running' });
  rmSync(gone, { recursive: true });
  writeFileSync(join(u.work, 'go'), '');
  const out = await waitFor(
    async () => {
      const s = await u.ok(['check', '2']);
      return statusOf(s, 2) === 'failed' ? s : null;
    },
    { what: 'job 2 failed' },
  );
  assert.match(out, /; not started: job directory does not exist\)$/m);
});
