import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNodesFile, type PoolConfig } from '../../../src/allocator/nodes-file.js';
import { parseGroupNodes, parseNodeSpecs, parseNodesAndPools } from '../../../src/daemons/shared/embedded-nodes.js';
import { QpyError } from '../../../src/errors.js';

function parsed(text: string) {
  const r = parseNodesFile(text);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r;
}

function failure(text: string): string {
  const r = parseNodesFile(text);
  assert.ok(!r.ok, `expected an error for ${JSON.stringify(text)}`);
  return r.message;
}

const LINE = 'pool cpu slurm partition=short nodes=4 cores=32 memory=128 time=24:00:00';

test('a pool line with the required keys: kept beside the nodes, with its defaults', () => {
  const r = parsed(`node1 cores=2\n# the centre\n${LINE}\n`);
  assert.deepEqual(
    r.nodes.map((n) => n.name),
    ['node1'],
  );
  assert.deepEqual(r.pools, [
    {
      name: 'cpu',
      kind: 'slurm',
      partition: 'short',
      maxNodes: 4,
      cores: 32,
      memGB: 128,
      timeLimitS: 86_400,
      idleMin: 10,
      account: null,
      qos: null,
      reach: 'agent',
      back: null,
      line: 3,
    } satisfies PoolConfig,
  ]);
});

test('every optional key, in any order', () => {
  const [p] = parsed(
    'pool gpu-a100 slurm time=1:30:05 idle=0.5 qos=high account=proj_1 reach=ssh memory=7.5 cores=8 nodes=2 partition=gpu\n',
  ).pools;
  assert.equal(p!.timeLimitS, 5405);
  assert.equal(p!.idleMin, 0.5);
  assert.equal(p!.qos, 'high');
  assert.equal(p!.account, 'proj_1');
  assert.equal(p!.reach, 'ssh');
  assert.equal(p!.memGB, 7.5);
});

test('nodes named pool stay nodes', () => {
  const r = parsed('pool cores=4\n');
  assert.deepEqual([r.nodes[0]!.name, r.nodes[0]!.cores, r.pools.length], ['pool', 4, 0]);
  const legacy = parsed('pool 4 M\n');
  assert.deepEqual([legacy.nodes[0]!.name, legacy.nodes[0]!.prefMulticore, legacy.pools.length], ['pool', true, 0]);
});

test('every problem is one line naming its line number', () => {
  const cases: [string, RegExp][] = [
    ['pool cpu', /^line 1: pool cpu: expected the batch system after the name \("pool cpu slurm …"\), got nothing$/],
    ['pool cpu pbs partition=x', /^line 1: pool cpu: expected the batch system .*got "pbs"$/],
    ['pool c/u slurm', /^line 1: invalid pool name "c\/u"/],
    ['pool cpu slurm partition=short', /^line 1: pool cpu: missing nodes=, cores=, memory=, time=$/],
    [`${LINE} colour=red`, /unknown key "colour" \(known keys: partition, nodes/],
    [`${LINE} nodes=3`, /"nodes" is given twice/],
    [`${LINE} qos=`, /"qos=" needs a value/],
    [`${LINE} bare`, /expected a pair <key>=<value>, but got "bare"/],
    [LINE.replace('nodes=4', 'nodes=0'), /nodes must be the most pilots at once, a whole number from 1 to 10000, got "0"/],
    [LINE.replace('cores=32', 'cores=2.5'), /cores must be .* got "2.5"/],
    [LINE.replace('memory=128', 'memory=128G'), /memory must be a positive number of GB per pilot, got "128G"/],
    [LINE.replace('memory=128', 'memory=0'), /memory must be a positive number/],
    [LINE.replace('24:00:00', '1-00:00:00'), /time must be HH:MM:SS .* got "1-00:00:00"/],
    [LINE.replace('24:00:00', '1:60:00'), /time must be HH:MM:SS/],
    [LINE.replace('24:00:00', '00:00:00'), /time must be longer than 00:00:00/],
    [`${LINE} idle=-1`, /idle must be minutes from 0/],
    [`${LINE} reach=telnet`, /reach must be ssh or agent, got "telnet"/],
    [LINE.replace('short', 'short;rm'), /partition "short;rm" is not a Slurm name/],
    [`${LINE} account=a'b`, /account "a'b" is not a Slurm name/],
  ];
  for (const [text, re] of cases) {
    const message = failure(text);
    assert.match(message, re, text);
    assert.ok(!message.includes('\n'), message);
  }
  assert.match(failure(`node1 cores=1\n${LINE}\n${LINE}`), /^line 3: pool "cpu" is already defined on line 2$/);
  assert.match(failure(`cpu cores=1\n${LINE}`), /^line 2: pool "cpu" is already defined on line 1 \(as a node\)$/);
  assert.match(failure(`${LINE}\ncpu cores=1`), /^line 2: node "cpu" is already defined on line 1 \(as a pool\)$/);
});

test('a master reads its pools beside its nodes; a pilot-like node name clashing with a pool is refused', () => {
  const { nodes, pools } = parseNodesAndPools(`node1 cores=1 memory=1\n${LINE}\n`, '/home/u/.qpy/nodes');
  assert.deepEqual(
    nodes.map((n) => n.name),
    ['node1'],
  );
  assert.equal(pools.length, 1);
  assert.throws(
    () => parseNodesAndPools(`gpu-12 cores=1 memory=1\npool gpu slurm partition=p nodes=1 cores=1 memory=1 time=01:00:00\n`, 'f'),
    /f, line 2: node gpu-12 has the name a pilot of pool gpu would get/,
  );
});

test('qpy-multiuser takes a pool reached over SSH, and refuses one reached through its pilot, naming its line', () => {
  const ssh = `node1 cores=1 memory=1\npool p slurm partition=q nodes=2 cores=4 memory=8 time=01:00:00 reach=ssh\n`;
  assert.equal(parseGroupNodes(ssh, '/etc/qpy/nodes', true).pools.length, 1);
  assert.deepEqual(
    parseNodeSpecs(ssh, '/etc/qpy/nodes', true).map((n) => n.name),
    ['node1'],
  );
  assert.throws(
    () => parseNodeSpecs(`node1 cores=1 memory=1\n${LINE}\n`, '/etc/qpy/nodes'),
    (err: unknown) =>
      err instanceof QpyError &&
      err.code === 'NODES_FILE' &&
      /^\/etc\/qpy\/nodes, line 2: pool \S+ of qpy-multiuser needs reach=ssh/.test(err.message),
  );
});

test('back=: where pilots reached through their agent connect back to', () => {
  const back = (v: string) => parsed(`pool p slurm partition=q nodes=1 cores=1 memory=1 time=01:00:00 back=${v}\n`).pools[0]!.back;
  assert.deepEqual(back('login1'), { host: 'login1', port: 0 });
  assert.deepEqual(back('10.0.0.5:9000'), { host: '10.0.0.5', port: 9000 });
  assert.deepEqual(back('[fe80::1]:443'), { host: 'fe80::1', port: 443 });
  assert.deepEqual(back('fe80::1'), { host: 'fe80::1', port: 0 });
  assert.equal(parsed('pool p slurm partition=q nodes=1 cores=1 memory=1 time=01:00:00\n').pools[0]!.back, null);
  assert.match(failure('pool p slurm partition=q nodes=1 cores=1 memory=1 time=01:00:00 back=h:99999'), /back must be HOST or HOST:PORT/);
  assert.match(failure('pool p slurm partition=q nodes=1 cores=1 memory=1 time=01:00:00 reach=ssh back=h'), /back= is for reach=agent/);
});
