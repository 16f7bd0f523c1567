/**
 * The SSH executor against real OpenSSH sshd nodes on loopback
 * (test/helpers/sshd-cluster.ts), beyond the conformance suite every
 * transport passes (conformance.ts): several nodes, one connection per
 * node, host keys, output paths that need quoting.
 */
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSshExecutor } from '../../../src/executor/ssh.js';
import type { Executor } from '../../../src/executor/executor.js';
import type { AgentShell } from '../../../src/executor/agent-script.js';
import { SSHD, startCluster, type Cluster } from '../../helpers/sshd-cluster.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { collect, spec } from './util.js';

const skip = SSHD ? false : 'sshd is not installed';
let cluster: Cluster;

before(async () => {
  if (skip) return;
  cluster = await startCluster(4);
  process.env['QPY_SSH_CONFIG'] = cluster.sshConfig;
});
after(async () => {
  delete process.env['QPY_SSH_CONFIG'];
  await cluster?.close();
});

/** An SSH executor for `node`, closed at the end of the test even when it fails (an open connection would hold the process). */
const open: Executor[] = [];
function executor(dir: string, node: string, extra: { pollMs?: number; agentShell?: AgentShell } = {}) {
  const ex = createSshExecutor({
    nodeName: node,
    address: node,
    runDir: join(dir, 'run'),
    pollMs: extra.pollMs ?? 100,
    agentShell: extra.agentShell ?? 'auto',
  });
  open.push(ex);
  return { ex, ...collect(ex) };
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((ex) => ex.close()));
});

/** The agent runs under bash where the node has it (job control) and under sh otherwise (setsid): both are tested. */
const SHELLS: AgentShell[] = ['auto', 'sh'];

for (const agentShell of SHELLS) {
  test(`${agentShell} agent: a job on each node: each can tell which node ran it; exit codes and quoting kept`, { skip }, async () => {
    await using tmp = tempDir();
    const wd = join(tmp.path, `a dir/it's "x"`);
    mkdirSync(wd, { recursive: true });
    for (const [i, node] of cluster.nodes.entries()) {
      const { ex, ended } = executor(tmp.path, node.name, { agentShell });
      await ex.launch(spec(10 + i, `printf '%s|%s|%s\\n' "$QPY_TEST_NODE" "$QPY_NODE" 'a  b'; exit ${i}`, wd));
      assert.deepEqual((await ended(10 + i)).outcome, { type: 'exit', code: i });
      assert.equal(readFileSync(join(wd, `job_${10 + i}.out`), 'utf8'), `${node.name}|${node.name}|a  b\n`);
      await ex.close();
    }
  });
}

test('200 short jobs over 4 nodes all end with the right exit code, one connection per node', { skip }, async () => {
  await using tmp = tempDir();
  const before = cluster.nodes.map((_, i) => cluster.connections(i));
  const exs = cluster.nodes.map((n) => executor(tmp.path, n.name));
  await Promise.all(Array.from({ length: 200 }, (_, i) => exs[i % 4]!.ex.launch(spec(1000 + i, `exit ${i % 7}`, tmp.path))));
  for (let i = 0; i < 200; i++) assert.deepEqual((await exs[i % 4]!.ended(1000 + i)).outcome, { type: 'exit', code: i % 7 });
  await waitFor(() => cluster.nodes.every((_, i) => cluster.connections(i) === before[i]! + 1), {
    what: 'one connection per node',
    timeoutMs: 2000,
  }).catch(() => undefined);
  assert.deepEqual(
    cluster.nodes.map((_, i) => cluster.connections(i) - before[i]!),
    [1, 1, 1, 1],
  );
  for (const e of exs) await e.ex.close();
});

test('an unknown host key is refused with a clear error naming the node', { skip }, async () => {
  await using tmp = tempDir();
  const config = join(tmp.path, 'ssh_config');
  writeFileSync(config, readFileSync(cluster.sshConfig, 'utf8').replaceAll(cluster.knownHosts, join(tmp.path, 'empty_known_hosts')));
  process.env['QPY_SSH_CONFIG'] = config;
  try {
    const { ex } = executor(tmp.path, 'node5');
    await assert.rejects(ex.launch(spec(1, 'true', tmp.path)), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'HOST_KEY');
      assert.match(err.message, /node node5 .*not in known_hosts/);
      return true;
    });
    await ex.close();
  } finally {
    process.env['QPY_SSH_CONFIG'] = cluster.sshConfig;
  }
});

test('readOutput reads a file on the node: any range, a quoted path, nothing for a missing file or past the end', { skip }, async () => {
  await using tmp = tempDir();
  const { ex } = executor(tmp.path, 'node3');
  const path = join(tmp.path, `out it's "x".txt`);
  const bytes = Buffer.concat([Buffer.from('héllo\n'), Buffer.from([0, 255, 10]), Buffer.alloc(300_000, 'z')]);
  writeFileSync(path, bytes);
  assert.deepEqual(await ex.readOutput(1, path, 0, 8), bytes.subarray(0, 8));
  assert.deepEqual(await ex.readOutput(1, path, 5, 6), bytes.subarray(5, 11));
  assert.deepEqual(await ex.readOutput(1, path, 100, 262_144), bytes.subarray(100, 100 + 262_144));
  assert.equal((await ex.readOutput(1, path, bytes.length, 10)).length, 0);
  assert.equal((await ex.readOutput(1, join(tmp.path, 'missing'), 0, 10)).length, 0);
  await ex.close();
});
