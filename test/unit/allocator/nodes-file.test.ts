import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNodesFile, type NodeConfig } from '../../../src/allocator/nodes-file.js';

function nodes(text: string): NodeConfig[] {
  const r = parseNodesFile(text);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.nodes;
}

function failure(text: string): { line: number; message: string } {
  const r = parseNodesFile(text);
  assert.ok(!r.ok, `expected an error for ${JSON.stringify(text)}`);
  return { line: r.line, message: r.message };
}

test('key=value syntax with every key', () => {
  const [n] = nodes(
    'node1 cores=6 address=localhost memory=31.5 check_dir=/scratch pref_multicore=true attributes=big,infiband attributes=fast\n',
  );
  assert.deepEqual(n, {
    name: 'node1',
    address: 'localhost',
    cores: 6,
    memGB: 31.5,
    attributes: ['big', 'infiband', 'fast'],
    prefMulticore: true,
    checkDir: '/scratch',
  });
});

test('defaults: address is the name; cores and memory null (detect); no attributes', () => {
  assert.deepEqual(nodes('localhost cores=5'), [
    { name: 'localhost', address: 'localhost', cores: 5, memGB: null, attributes: [], prefMulticore: false, checkDir: null },
  ]);
  assert.deepEqual(nodes('bare')[0], {
    name: 'bare',
    address: 'bare',
    cores: null,
    memGB: null,
    attributes: [],
    prefMulticore: false,
    checkDir: null,
  });
  assert.equal(nodes('n cores=2 pref_multicore=false')[0]!.prefMulticore, false);
});

test('legacy syntax: name N [M] [address=host] attributes', () => {
  const list = nodes('node1 4 M address=host1 big fast\nnode2 3 infiband\nnode3 8 memory=16 M');
  assert.deepEqual(list[0], {
    name: 'node1',
    address: 'host1',
    cores: 4,
    memGB: null,
    attributes: ['big', 'fast'],
    prefMulticore: true,
    checkDir: null,
  });
  assert.deepEqual(list[1], {
    name: 'node2',
    address: 'node2',
    cores: 3,
    memGB: null,
    attributes: ['infiband'],
    prefMulticore: false,
    checkDir: null,
  });
  assert.equal(list[2]!.memGB, 16);
  assert.equal(list[2]!.prefMulticore, true);
});

test('blank lines, whole-line and trailing comments, CRLF, file order kept', () => {
  const list = nodes('# cluster\n\n  node1 cores=2   # the small one\r\n\t\nnode2 cores=4 attributes=big#comment\n# end');
  assert.deepEqual(
    list.map((n) => [n.name, n.cores, n.attributes]),
    [
      ['node1', 2, []],
      ['node2', 4, ['big']],
    ],
  );
  assert.deepEqual(nodes(''), []);
  assert.deepEqual(nodes('# only comments\n\n'), []);
});

test('errors name the line and the problem', () => {
  const cases: [string, number, RegExp][] = [
    ['node1 cores=0', 1, /cores must be a positive integer, got "0"/],
    ['node1 cores=-2', 1, /cores must be a positive integer/],
    ['node1 cores=2.5', 1, /cores must be a positive integer, got "2.5"/],
    ['node1 cores=x', 1, /cores must be a positive integer/],
    ['# c\nnode1 0 big', 2, /the core count must be a positive integer, got "0"/],
    ['node1 -3 big', 1, /the core count must be a positive integer, got "-3"/],
    ['node1 memory=0', 1, /memory must be a positive number of GB, got "0"/],
    ['node1 memory=-1', 1, /memory must be a positive number of GB/],
    ['node1 memory=lots', 1, /memory must be a positive number of GB, got "lots"/],
    ['node1 cores=2\n\nnode1 cores=3', 3, /node "node1" is already defined on line 1/],
    [
      'node1 colour=red',
      1,
      /unknown key "colour" \(known keys: address, cores, memory, check_dir, pref_multicore, attributes, gpus, gpu_share\)/,
    ],
    ['node1 cores=2 big', 1, /expected a pair <key>=<value>, but got "big"/],
    ['node1 big', 1, /expected a pair <key>=<value>, but got "big"/],
    ['node1 pref_multicore=yes', 1, /pref_multicore must be true or false, got "yes"/],
    ['node1 cores=2 cores=3', 1, /"cores" is given twice/],
    ['node1 4 cores=3', 1, /"cores" is given twice/],
    ['node1 address=a address=b', 1, /"address" is given twice/],
    ['node1 address=', 1, /"address=" needs a value/],
    ['node1 attributes=', 1, /"attributes=" needs at least one attribute/],
    ['node1 attributes=a,,b', 1, /empty attribute name/],
    ['node1 attributes=and', 1, /"and" cannot be an attribute/],
    ['node1 4 not', 1, /"not" cannot be an attribute/],
    ['node1 attributes=a&b', 1, /invalid attribute "a&b"/],
    ['node1 =3', 1, /expected a pair <key>=<value>, but got "=3"/],
    ['cores=4', 1, /a line must start with the node name, got "cores=4"/],
    ['no/de cores=1', 1, /invalid node name "no\/de"/],
  ];
  for (const [text, line, re] of cases) {
    const f = failure(text);
    assert.equal(f.line, line, text);
    assert.match(f.message, re, text);
    assert.ok(f.message.startsWith(`line ${line}: `), f.message);
  }
});

test('duplicate attributes on one node are kept once', () => {
  assert.deepEqual(nodes('n 2 big big attributes=big,fast')[0]!.attributes, ['big', 'fast']);
});

test('gpus= and gpu_share=: counted GPUs and jobs per GPU, in both syntaxes; absent keys stay absent', () => {
  const [a, b, c] = nodes('a cores=8 gpus=4 gpu_share=2\nb 4 M gpus=0 big\nc cores=2\n');
  assert.equal(a!.gpus, 4);
  assert.equal(a!.gpuShare, 2);
  assert.equal(b!.gpus, 0);
  assert.equal(b!.gpuShare, undefined);
  assert.deepEqual(b!.attributes, ['big']);
  assert.equal('gpus' in c!, false);
  assert.equal('gpuShare' in c!, false);
});

test('bad gpus= and gpu_share= values: one clear line each', () => {
  for (const [text, part] of [
    ['n gpus=-1', 'gpus must be a whole number of GPUs from 0 to 1024, got "-1"'],
    ['n gpus=1.5', 'got "1.5"'],
    ['n gpus=lots', 'got "lots"'],
    ['n gpus=', '"gpus=" needs a value'],
    ['n gpus=2000', 'got "2000"'],
    ['n gpu_share=0', 'gpu_share must be the most jobs on one GPU, a whole number from 1 to 1024, got "0"'],
    ['n gpus=1 gpus=2', '"gpus" is given twice'],
  ] as const) {
    const f = failure(text);
    assert.equal(f.line, 1);
    assert.ok(f.message.includes(part), `${text}: ${f.message}`);
  }
});
