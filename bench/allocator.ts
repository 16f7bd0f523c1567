/**
 * bench/allocator: the allocator core's decisions per second (in-process,
 * pure core) with 200 nodes, 100 users and 10,000 running jobs, and its
 * memory; then the grant latency through a real qpy-multiuser daemon on
 * loopback (a master's `request` sent → `granted` received).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createAllocator, addUser } from '../src/allocator/state.js';
import { handleMasterMessage } from '../src/allocator/handle.js';
import { DEFAULT_RULES } from '../src/allocator/rules.js';
import type { MasterToAllocator } from '../src/protocol/master-allocator.js';
import { allocatorToMasterSchema, type AllocatorFrame } from '../src/protocol/master-allocator.js';
import { allocatorToAdminSchema, type AdminToAllocator, type AllocatorToAdmin } from '../src/protocol/admin-allocator.js';
import { multiuserPaths } from '../src/config.js';
import { readDiscovery } from '../src/discovery.js';
import { connect } from '../src/transport/client.js';
import { wsSocket } from '../src/transport/ws-socket.js';
import { readKey } from '../src/transport/key.js';
import { BENCH_BASE, ROOT, conditions, summary } from './lib.js';

const NODES = 200;
const USERS = 100;
const RUNNING = 10_000;
const DURATION_MS = Number(process.env['BENCH_MS'] ?? 3000);

console.log(`bench/allocator — ${conditions()}`);

// 1. The pure core.
global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const nodes = Array.from({ length: NODES }, (_, i) => ({ name: `node${i}`, address: `node${i}`, cores: 64, memGB: 256, attributes: i % 10 === 0 ? ['gpu'] : [], prefMulticore: i % 20 === 0, checkDir: null }));
const state = createAllocator(nodes, DEFAULT_RULES);
for (let u = 0; u < USERS; u++) addUser(state, `user${u}`);
let id = 0;
const send = (m: Omit<MasterToAllocator, 'id'>) => handleMasterMessage(state, { ...m, id: ++id } as MasterToAllocator);
for (let u = 0; u < USERS; u++) {
  const running = Array.from({ length: RUNNING / USERS }, (_, j) => ({ jobId: j + 1, node: `node${(u * 7 + j) % NODES}`, cores: 1, memGB: 1 }));
  send({ type: 'register', user: `user${u}`, running, queueSize: 50 } as never);
}
global.gc?.();
const heapMB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
let decisions = 0;
let granted = 0;
const t0 = performance.now();
let next = 1_000_000;
while (performance.now() - t0 < DURATION_MS) {
  for (let k = 0; k < 100; k++) {
    const user = `user${decisions % USERS}`;
    const jobId = next++;
    const attrs = decisions % 10 === 0 ? 'gpu' : null;
    const r = send({ type: 'request', user, jobId, demand: { cores: 1 + (decisions % 4 === 0 ? 3 : 0), memGB: 2, attrs }, queueSize: 50 } as never);
    decisions++;
    if (r.type === 'granted') {
      granted++;
      send({ type: 'release', user, jobId, queueSize: 50 } as never);
      decisions++;
    }
  }
}
const seconds = (performance.now() - t0) / 1000;
console.log(`pure core: ${NODES} nodes × 64 cores, ${USERS} users, ${RUNNING} running jobs; ${(decisions / seconds).toFixed(0)} decisions/s on one core (requests and releases; ${granted} of the requests granted), allocator state ${heapMB.toFixed(1)} MB of heap${global.gc ? '' : ' (run with --expose-gc for an exact figure)'}`);

// 2. Grant latency through the daemon.
const dir = mkdtempSync(join(BENCH_BASE, 'qpy-bench-mu-'));
const paths = multiuserPaths(join(dir, 'admin'));
mkdirSync(paths.dir, { mode: 0o700 });
writeFileSync(paths.nodes, 'n1 address=localhost cores=64 memory=256\nn2 address=localhost cores=64 memory=256\n');
const env = { ...process.env, QPY_MULTIUSER_DIR: paths.dir, QPY_PROBE_MS: '0' };
try {
  const started = spawnSync(process.execPath, [join(ROOT, 'admin', 'qpy-multiuser')], { env, encoding: 'utf8' });
  if (started.status !== 0) throw new Error(started.stderr);
  const url = `ws://127.0.0.1:${readDiscovery(paths.discovery)!.port}/`;
  const admin = await connect<AdminToAllocator, AllocatorToAdmin>({ url, socket: wsSocket, key: readKey(paths.adminKey), role: 'admin', user: 'admin', replySchema: allocatorToAdminSchema, timeoutMs: 5000 });
  await admin.request({ type: 'addUser', name: 'bench' });
  const master = await connect<MasterToAllocator, AllocatorFrame>({ url, socket: wsSocket, key: readKey(join(paths.keys, 'bench.key')), role: 'master', user: 'bench', replySchema: allocatorToMasterSchema, timeoutMs: 5000 });
  await master.request({ type: 'register', user: 'bench', running: [], queueSize: 1 });
  const latencies: number[] = [];
  for (let j = 1; j <= 2000; j++) {
    const t = performance.now();
    const r = await master.request({ type: 'request', user: 'bench', jobId: j, demand: { cores: 1, memGB: 1, attrs: null }, queueSize: 1 });
    latencies.push(performance.now() - t);
    if (r.type !== 'granted') throw new Error(`not granted: ${JSON.stringify(r)}`);
    await master.request({ type: 'release', user: 'bench', jobId: j, queueSize: 1 });
  }
  console.log(`through qpy-multiuser on loopback (each grant committed to its SQLite store before the reply): request → granted ${summary(latencies)}`);
  await admin.request({ type: 'finish' });
  admin.close();
  master.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
