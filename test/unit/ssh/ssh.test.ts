/** The pure parts of SSH support: `ssh -G` output, known_hosts checks, the node agent's lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { parseSshG } from '../../../src/ssh/ssh-config.js';
import { blobKeyType, checkHostKey, hostFieldMatches, knownHostsLine, knownHostsName } from '../../../src/ssh/known-hosts.js';
import { agentCommand, frameRequests, launchCommand, parseAgentLine } from '../../../src/executor/agent-script.js';
import { wrapperArgs } from '../../../src/executor/wrapper.js';

const G = `user alice
hostname 10.0.0.7
port 2222
identityfile ~/.ssh/id_ed25519
identityfile /keys/other
identitiesonly no
stricthostkeychecking accept-new
userknownhostsfile ~/.ssh/known_hosts ~/.ssh/known_hosts2
globalknownhostsfile /etc/ssh/ssh_known_hosts
connecttimeout 7
proxyjump none
`;

test('ssh -G output gives host, port, user, keys, known_hosts files and the host key policy', () => {
  const s = parseSshG(G, { SSH_AUTH_SOCK: '/tmp/agent' }, '/home/alice');
  assert.equal(s.host, '10.0.0.7');
  assert.equal(s.port, 2222);
  assert.equal(s.user, 'alice');
  assert.deepEqual(s.identityFiles, ['/home/alice/.ssh/id_ed25519', '/keys/other']);
  assert.deepEqual(s.knownHostsFiles, ['/home/alice/.ssh/known_hosts', '/home/alice/.ssh/known_hosts2', '/etc/ssh/ssh_known_hosts']);
  assert.equal(s.hostKeyPolicy, 'accept-new');
  assert.equal(s.connectTimeoutMs, 7000);
  assert.equal(s.agent, '/tmp/agent');
  assert.equal(s.unsupported, null);
  assert.equal(parseSshG('stricthostkeychecking true\n').hostKeyPolicy, 'yes');
  assert.equal(parseSshG('stricthostkeychecking false\n').hostKeyPolicy, 'no');
  assert.equal(parseSshG('stricthostkeychecking ask\n').hostKeyPolicy, 'yes');
  assert.equal(parseSshG('identityagent none\n', { SSH_AUTH_SOCK: '/a' }).agent, null);
  assert.match(parseSshG('proxyjump bastion\n').unsupported ?? '', /ProxyJump bastion/);
});

const blob = (type: string, body = randomBytes(32)) => {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, body]);
};

test('known_hosts: known, changed, unknown, revoked; ports, patterns and hashed names', () => {
  const key = blob('ssh-ed25519');
  const other = blob('ssh-ed25519');
  const rsa = blob('ssh-rsa');
  assert.equal(blobKeyType(key), 'ssh-ed25519');
  const name = knownHostsName('10.0.0.7', 2222);
  assert.equal(name, '[10.0.0.7]:2222');
  const line = knownHostsLine(name, key);
  assert.equal(checkHostKey([line], name, key), 'known');
  assert.equal(checkHostKey([line], name, other), 'changed');
  assert.equal(checkHostKey([line], name, rsa), 'unknown');
  assert.equal(checkHostKey([line], '10.0.0.7', key), 'unknown', 'port 22 is another entry');
  assert.equal(checkHostKey([`# comment\n\n${line.replace(name, 'a,[10.0.0.*]:2222,!b')}`], name, key), 'known');
  assert.equal(checkHostKey([`@revoked ${line}`, line], name, key), 'revoked');
  assert.equal(checkHostKey([`@cert-authority ${line}`], name, key), 'unknown');
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('node9').digest('base64')}`;
  assert.ok(hostFieldMatches(hashed, 'node9'));
  assert.ok(!hostFieldMatches(hashed, 'node8'));
  assert.ok(!hostFieldMatches('node*,!node3', 'node3'));
  assert.ok(hostFieldMatches('node?', 'NODE4'));
});

test('agent commands quote their arguments and refuse anything odd; its lines parse', () => {
  // After the command line, the argv to exec without sh: none for a shell line, quoted words for a plain one.
  assert.equal(
    launchCommand(4, ['/run', '0', '17', '/w d', `it's`, 'job_17.out', 'logs/a b.err', 'QPY_NODE=n']),
    `_q_launch 4 0 '17' '/w d' 'it'\\''s' '' '' 'job_17.out' 'logs/a b.err' 'QPY_NODE=n'\n`,
  );
  assert.equal(
    launchCommand(5, ['/run', '0', '17', '/w', '/bin/true x', 'o', ''], 3),
    `_q_launch 5 3 '17' '/w' '/bin/true x' ''\\''/bin/true'\\'' '\\''x'\\''' '' 'o' ''\n`,
  );
  // Limits: SECONDS:GRACE_MS:KB, either end empty when not set.
  assert.equal(
    launchCommand(6, ['/run', '0', '18', '/w', 'sleep 9', 'o', 'e'], 0, { timeLimit: { seconds: 120, graceMs: 5000 } }),
    `_q_launch 6 0 '18' '/w' 'sleep 9' ''\\''sleep'\\'' '\\''9'\\''' '120:5000:' 'o' 'e'\n`,
  );
  assert.match(launchCommand(6, ['/run', '0', '18', '/w', 'x'], 0, { memLimit: { kb: 2048, graceMs: 100 } }), / ':100:2048' '' ''\n$/);
  assert.throws(() => launchCommand(6, ['/run', '0', '18', '/w', 'x'], 0, { timeLimit: { seconds: 0, graceMs: 5000 } }));
  assert.throws(() => launchCommand(6, ['/run', '0', '18', '/w', 'x'], 0, { memLimit: { kb: 1.5, graceMs: 5000 } }));
  assert.equal(JSON.stringify(parseAgentLine('E 18 143 time')), JSON.stringify({ type: 'ended', key: '18', status: 143, limit: 'time' }));
  assert.equal(
    JSON.stringify(parseAgentLine('E 18 137 memory')),
    JSON.stringify({ type: 'ended', key: '18', status: 137, limit: 'memory' }),
  );
  assert.throws(() => launchCommand(5, ['/run', '0', '17', '/w'], -1));
  assert.equal(agentCommand.kill(1, 'TERM', 42), '_q_kill 1 TERM 42\n');
  assert.throws(() => agentCommand.kill(1, 'TERM; rm -rf /', 42));
  assert.throws(() => agentCommand.block(1, '1; x'));
  assert.equal(
    agentCommand.check(2, [
      { key: '1', pid: 40 },
      { key: '2.a1', pid: 0 },
    ]),
    '_q_check 2 1 40 2.a1 0\n',
  );
  assert.throws(() => agentCommand.check(2, [{ key: '1 x', pid: 40 }]));
  assert.equal(agentCommand.remove(3, [4, 5]), '_q_rm 3 4 5\n');
  assert.equal(frameRequests('_q_kill 1 TERM 42\né\n', 'block'), '_q_b         21;_q_kill 1 TERM 42\né\n');
  assert.equal(frameRequests('_q_kill 1 TERM 42\n', 'line'), '_q_kill 1 TERM 42\n');
  assert.deepEqual(parseAgentLine('R 99'), { type: 'ready', pid: 99, reader: 'line', limits: 'none' });
  assert.deepEqual(parseAgentLine('R 99 block'), { type: 'ready', pid: 99, reader: 'block', limits: 'none' });
  assert.deepEqual(parseAgentLine('R 99 block proc'), { type: 'ready', pid: 99, reader: 'block', limits: 'proc' });
  assert.deepEqual(parseAgentLine('R 99 block cgroup'), { type: 'ready', pid: 99, reader: 'block', limits: 'cgroup' });
  assert.deepEqual(parseAgentLine('R 99 line none'), { type: 'ready', pid: 99, reader: 'line', limits: 'none' });
  assert.deepEqual(parseAgentLine('L 4 17.a2 2'), { type: 'live', tag: 4, key: '17.a2', state: 'other' });
  assert.deepEqual(parseAgentLine('L 4 17 0 137'), { type: 'live', tag: 4, key: '17', state: 'gone', status: 137 });
  assert.deepEqual(parseAgentLine('X setsid is not installed on this node'), {
    type: 'failed',
    reason: 'setsid is not installed on this node',
  });
  assert.deepEqual(parseAgentLine('S 3 1234 17.a1'), { type: 'started', tag: 3, pid: 1234, key: '17.a1' });
  assert.deepEqual(parseAgentLine('E 17 3'), { type: 'ended', key: '17', status: 3 });
  assert.deepEqual(parseAgentLine('F 5 17 1234|exit 3|'), { type: 'file', tag: 5, key: '17', content: '1234\nexit 3\n' });
  assert.deepEqual(parseAgentLine('A 6 1'), { type: 'answer', tag: 6, yes: true });
  assert.deepEqual(parseAgentLine('D 7'), { type: 'done', tag: 7 });
  for (const bad of ['', 'S 1 2', 'E x 1', 'A 1 2', 'L 1 2 3', 'hello']) assert.equal(parseAgentLine(bad), null, bad);
});

test('the job tag is the last word of a launch, wherever the caller put it (the waiting agent lists it in its marker by that)', () => {
  const args = wrapperArgs({
    runDir: '/r',
    key: '7',
    jobId: 7,
    cwd: '/w',
    command: 'true',
    env: { QPY_JOB_ID: '7', QPY_TAG: 'me:7:1', QPY_TIME_LIMIT: '60', CUDA_VISIBLE_DEVICES: '' },
  });
  assert.equal(args.at(-1), 'QPY_TAG=me:7:1');
  assert.deepEqual(args.slice(-4, -1), ['QPY_JOB_ID=7', 'QPY_TIME_LIMIT=60', 'CUDA_VISIBLE_DEVICES=']);
});
