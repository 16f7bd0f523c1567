/**
 * The parsers of nvidia-smi's answers on the real output of an H100 node
 * (test/fixtures/gpu/, idle and with one process holding 4 GiB), then on
 * malformed answers, which give unknown (null) or skip the line, never a
 * throw; and the probe's GPU lines as parseProbe reads them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { APPS_QUERY, GPU_QUERY, gpuOutsiders, parseGpuApp, parseGpuList, type GpuApp } from '../../../src/executor/gpu-query.js';
import { parseProbe } from '../../../src/executor/node-probe.js';

/** The section of a fixture file under `== NAME` (up to the next `==` line). */
function section(file: string, name: string): string {
  const text = readFileSync(fileURLToPath(new URL(`../../../../test/fixtures/gpu/${file}`, import.meta.url)), 'utf8');
  const lines = text.split('\n');
  const from = lines.indexOf(`== ${name}`);
  assert.ok(from >= 0, `${file} has no section ${name}`);
  const to = lines.findIndex((l, i) => i > from && l.startsWith('== '));
  return lines.slice(from + 1, to < 0 ? undefined : to).join('\n');
}

const H100 = { index: 0, uuid: 'GPU-71cce139-079d-ad15-ff95-123e2d23e0eb', name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559 };
const none = (): undefined => undefined;

test('the queries ask for the fields the parsers read, in CSV without header or units', () => {
  assert.equal(GPU_QUERY, 'nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used --format=csv,noheader,nounits');
  assert.equal(APPS_QUERY, 'nvidia-smi --query-compute-apps=pid,gpu_uuid,used_memory --format=csv,noheader,nounits');
});

test('the real --query-gpu lines, idle and busy, read as one H100 (fields past memory.used are ignored)', () => {
  assert.deepEqual(parseGpuList(section('nvidia-smi-idle.txt', 'query-gpu')), [{ ...H100, usedMiB: 0 }]);
  assert.deepEqual(parseGpuList(section('nvidia-smi-busy.txt', 'query-gpu')), [{ ...H100, usedMiB: 4623 }]);
  assert.deepEqual(parseGpuList(''), []);
  assert.deepEqual(parseGpuList('\n\n'), []);
});

test('the real --query-compute-apps line reads as pid 441 on that GPU with 4614 MiB; its owner is as the probe said', () => {
  const line = section('nvidia-smi-busy.txt', 'query-compute-apps').trim();
  assert.deepEqual(parseGpuApp('-', line, none), { pid: 441, uuid: H100.uuid, usedMiB: 4614, owner: null });
  assert.equal(parseGpuApp('qpy', line, none)!.owner, 'qpy');
  const alice = { pid: 400, user: 'alice', jobId: 12, attempt: 1 };
  assert.deepEqual(parseGpuApp('400', line, (g) => (g === 400 ? alice : undefined))!.owner, alice);
});

test('several GPUs come back sorted by index; a repeated index or UUID makes the list unknown', () => {
  const gpu = (i: number, uuid = `GPU-0000000${i}-aaaa-bbbb-cccc-dddddddddddd`) => `${i}, ${uuid}, NVIDIA H100 80GB HBM3, 81559, 0`;
  assert.deepEqual(
    parseGpuList([gpu(1), gpu(0)].join('\n'))!.map((d) => d.index),
    [0, 1],
  );
  assert.equal(parseGpuList([gpu(0), gpu(0, 'GPU-other')].join('\n')), null);
  assert.equal(parseGpuList([gpu(0), gpu(1, 'GPU-00000000-aaaa-bbbb-cccc-dddddddddddd')].join('\n')), null);
});

test('a malformed --query-gpu answer is unknown (null), whatever the line', () => {
  const good = '0, GPU-71cce139-079d-ad15-ff95-123e2d23e0eb, NVIDIA H100 80GB HBM3, 81559, 0';
  for (const bad of [
    'No devices were found',
    'Failed to initialize NVML: Unknown Error',
    '0, GPU-71cce139, NVIDIA H100 80GB HBM3, 81559', // a field short
    'x, GPU-71cce139, NVIDIA H100, 81559, 0',
    '-1, GPU-71cce139, NVIDIA H100, 81559, 0',
    '0, 71cce139, NVIDIA H100, 81559, 0',
    '0, GPU-71cce139, , 81559, 0',
    '0, GPU-71cce139, NVIDIA H100, 81559 MiB, 0', // units
    '0, GPU-71cce139, NVIDIA H100, -5, 0',
    'index, uuid, name, memory.total [MiB], memory.used [MiB]', // a header
    '\u0000\u0001\u0002',
  ])
    assert.equal(parseGpuList(`${good}\n${bad}`), null, bad);
  // Where nvidia-smi has no figure it says so in brackets: read as 0.
  assert.equal(parseGpuList('0, GPU-71cce139, NVIDIA H100, [N/A], [Not Supported]')![0]!.memoryMiB, 0);
});

test('compute apps: a line naming no GPU is skipped; a pid nvidia-smi could not give is null', () => {
  assert.equal(parseGpuApp('-', 'No running processes found', none), null);
  assert.equal(parseGpuApp('-', '441', none), null);
  assert.equal(parseGpuApp('-', '441, GPU x, 4614', none), null);
  assert.deepEqual(parseGpuApp('-', '[N/A], GPU-71cce139, [N/A]', none), { pid: null, uuid: 'GPU-71cce139', usedMiB: 0, owner: null });
  assert.equal(parseGpuApp('garbage', '441, GPU-71cce139, 5', none)!.owner, null);
});

test('outsiders: the GPUs holding a process the caller does not claim, once each, sorted; unknown GPUs ignored', () => {
  const devices = parseGpuList(['0, GPU-a, H100, 81559, 0', '1, GPU-b, H100, 81559, 0', '2, GPU-c, H100, 81559, 0'].join('\n'))!;
  const alice = { user: 'alice', jobId: 1, attempt: 1 };
  const bob = { user: 'bob', jobId: 2, attempt: 1 };
  const apps: GpuApp[] = [
    { pid: 10, uuid: 'GPU-c', usedMiB: 1, owner: null },
    { pid: 11, uuid: 'GPU-c', usedMiB: 1, owner: null },
    { pid: 12, uuid: 'GPU-a', usedMiB: 1, owner: alice },
    { pid: 13, uuid: 'GPU-b', usedMiB: 1, owner: bob },
    { pid: 14, uuid: 'GPU-zzz', usedMiB: 1, owner: null },
  ];
  assert.deepEqual(
    gpuOutsiders(devices, apps, (o) => o !== null),
    [2],
  );
  assert.deepEqual(
    gpuOutsiders(devices, apps, (o) => o === 'qpy' || (o !== null && o.user === 'alice')),
    [1, 2],
  );
  assert.deepEqual(
    gpuOutsiders(devices, [], () => false),
    [],
  );
});

const BASE = 'cores 8\nload 1.5\nmem 16777216 8388608\n';

test('the probe: no nvidia-smi is no GPU; nvidia-smi that failed or printed nonsense is unknown, with the reason', () => {
  assert.deepEqual(parseProbe(BASE)!.gpuDevices, []);
  assert.deepEqual(parseProbe(BASE)!.gpuApps, []);
  assert.equal(parseProbe(BASE)!.gpuProblem, null);
  for (const [gpuPart, problem] of [
    ['gpu-smi\n', 'the probe stopped before nvidia-smi answered'],
    [
      'gpu-smi\ngpu Failed to initialize NVML\ngpus-ok\ngpu-apps-ok\n',
      'nvidia-smi printed something unexpected: "Failed to initialize NVML"',
    ],
    ['gpu-smi\ngpu 0, GPU-a, H100, 1, 0\n', 'the probe stopped before nvidia-smi answered'],
    ['gpu-smi\ngpus-failed 9 No devices were found\n', 'nvidia-smi failed (exit 9): "No devices were found"'],
    ['gpu-smi\ngpus-failed 127 \n', 'nvidia-smi failed (exit 127)'],
    ['gpu-smi\ngpus-failed 124 \n', 'nvidia-smi did not answer within 6 s'],
    ['gpu-smi\ngpu 0, GPU-a, H100, 1, 0\ngpu 0, GPU-b, H100, 1, 0\ngpus-ok\n', 'nvidia-smi listed GPU 0 ("GPU-b") twice'],
    [`gpu-smi\ngpu \u0007${'x'.repeat(300)}\ngpus-ok\n`, `nvidia-smi printed something unexpected: "?${'x'.repeat(156)}..."`],
  ]) {
    const r = parseProbe(BASE + gpuPart)!;
    assert.equal(r.gpuDevices, null, gpuPart);
    assert.equal(r.gpuApps, null, gpuPart);
    assert.equal(r.gpuProblem, problem);
    assert.equal(r.cores, 8); // the rest of the probe stands
  }
});

test('the probe: GPUs and apps with their owners, from the tag list; apps unknown without gpu-apps-ok', () => {
  const gpus = 'gpu-smi\ngpu 0, GPU-a, NVIDIA H100 80GB HBM3, 81559, 4623\ngpu 1, GPU-b, NVIDIA H100 80GB HBM3, 81559, 0\ngpus-ok\n';
  const apps = 'gpu-app 4242 441, GPU-a, 4614\ngpu-app - 77, GPU-b, 10\ngpu-app qpy 78, GPU-b, 10\ngpu-app - junk\ngpu-apps-ok\n';
  const r = parseProbe(`${BASE}tag 4242 alice:12:1\ntags-ok\n${gpus}${apps}`)!;
  assert.deepEqual(
    r.gpuDevices!.map((d) => [d.index, d.uuid, d.usedMiB]),
    [
      [0, 'GPU-a', 4623],
      [1, 'GPU-b', 0],
    ],
  );
  assert.deepEqual(
    r.gpuApps!.map((a) => [a.pid, a.uuid, a.owner]),
    [
      [441, 'GPU-a', { pid: 4242, user: 'alice', jobId: 12, attempt: 1 }],
      [77, 'GPU-b', null],
      [78, 'GPU-b', 'qpy'],
    ],
  );
  assert.deepEqual(
    gpuOutsiders(r.gpuDevices!, r.gpuApps!, (o) => o !== null),
    [1],
  );
  assert.equal(parseProbe(BASE + gpus)!.gpuApps, null);
  assert.deepEqual(parseProbe(BASE + gpus)!.gpuDevices!.length, 2);
});
