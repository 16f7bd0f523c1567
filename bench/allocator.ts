/**
 * bench/allocator: the allocator core's decisions per second (in-process,
 * pure core, strict registrations as in the shared daemon) with 200 nodes,
 * 100 users and 10,000 running jobs, and its memory; measured twice: bare,
 * and with the invariant checks on (after every decision: auditCapacity, and
 * the O(1) counter checks of the decision's user and node; every
 * BENCH_AUDIT_EVERY decisions, default 1,000, and at the end: the full
 * auditCounters, which walks every slot). Then the grant latency through a
 * real qpy-multiuser daemon on loopback (a master's `request` sent →
 * `granted` received).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createAllocator, addUser, type AllocatorState } from '../src/allocator/state.js';
import { handleMasterMessage } from '../src/allocator/handle.js';
import { auditCapacity, auditCounters } from '../src/allocator/accounting.js';
import { DEFAULT_RULES } from '../src/allocator/rules.js';
import type { AllocatorToMaster, MasterToAllocator } from '../src/protocol/master-allocator.js';
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
const AUDIT_EVERY = Number(process.env['BENCH_AUDIT_EVERY'] ?? 1000);

console.log(`bench/allocator — ${conditions()}`);

// 1. The pure core.
type Send = (m: Omit<MasterToAllocator, 'id'>) => AllocatorToMaster;

/** The cluster with every user registered (strict) and RUNNING jobs placed by real grants. */
function setUp(): { state: AllocatorState; send: Send } {
  const nodes = Array.from({ length: NODES }, (_, i) => ({
    name: `node${i}`,
    address: `node${i}`,
    cores: 64,
    memGB: 256,
    attributes: i % 10 === 0 ? ['gpu'] : [],
    prefMulticore: i % 20 === 0,
    checkDir: null,
  }));
  const state = createAllocator(nodes, DEFAULT_RULES);
  for (let u = 0; u < USERS; u++) addUser(state, `user${u}`);
  let id = 0;
  const send: Send = (m) => handleMasterMessage(state, { ...m, id: ++id } as MasterToAllocator, { trustRegistrations: false });
  for (let u = 0; u < USERS; u++) {
    send({ type: 'register', user: `user${u}`, running: [], queueSize: 50 } as never);
    for (let j = 1; j <= RUNNING / USERS; j++) {
      const r = send({ type: 'request', user: `user${u}`, jobId: j, demand: { cores: 1, memGB: 1, attrs: null }, queueSize: 50 } as never);
      if (r.type !== 'granted') throw new Error(`set-up: job ${j} of user${u} not granted: ${JSON.stringify(r)}`);
    }
  }
  return { state, send };
}

/** The invariants of one decision that cost O(1) beyond the capacity audit: the counters it moved. */
function checkDecision(state: AllocatorState, user: string, node: string | null): void {
  const u = state.userByName.get(user)!;
  const n = node === null ? undefined : state.nodeByName.get(node);
  if (
    u.usedCores < 0 ||
    state.usedCores < 0 ||
    state.usedMinCores < 0 ||
    state.usedMinCores > state.usedCores ||
    (n !== undefined && (n.usedCores < 0 || n.slotCount < 0))
  ) {
    throw new Error(`a counter went negative after a decision of ${user}`);
  }
}

function fail(what: string, problems: string[]): never {
  throw new Error(`${what}: ${problems.join('; ')}`);
}

function measure(checks: boolean): { perSecond: number; granted: number; audits: number } {
  const { state, send } = setUp();
  let decisions = 0;
  let granted = 0;
  let audits = 0;
  let next = 1_000_000;
  const decided = (user: string, node: string | null): void => {
    decisions++;
    if (!checks) return;
    const capacity = auditCapacity(state);
    if (capacity.length > 0) fail(`capacity after decision ${decisions}`, capacity);
    checkDecision(state, user, node);
    if (decisions % AUDIT_EVERY === 0) {
      audits++;
      const counters = auditCounters(state);
      if (counters.length > 0) fail(`counters after decision ${decisions}`, counters);
    }
  };
  const t0 = performance.now();
  while (performance.now() - t0 < DURATION_MS) {
    for (let k = 0; k < 100; k++) {
      const user = `user${decisions % USERS}`;
      const jobId = next++;
      const attrs = decisions % 10 === 0 ? 'gpu' : null;
      const r = send({
        type: 'request',
        user,
        jobId,
        demand: { cores: 1 + (decisions % 4 === 0 ? 3 : 0), memGB: 2, attrs },
        queueSize: 50,
      } as never);
      decided(user, r.type === 'granted' ? r.node : null);
      if (r.type === 'granted') {
        granted++;
        send({ type: 'release', user, jobId, queueSize: 50 } as never);
        decided(user, r.node);
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  if (checks) {
    audits++;
    const all = [...auditCounters(state), ...auditCapacity(state)];
    if (all.length > 0) fail('at the end', all);
  }
  return { perSecond: decisions / seconds, granted, audits };
}

global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const kept = setUp();
global.gc?.();
void kept;
const heapMB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
const bare = measure(false);
const checked = measure(true);
const where = `${NODES} nodes × 64 cores, ${USERS} users, ${RUNNING} running jobs (granted, strict registrations)`;
console.log(
  `pure core: ${where}; ${bare.perSecond.toFixed(0)} decisions/s on one core ` +
    `(requests and releases; ${bare.granted} of the requests granted), ` +
    `allocator state ${heapMB.toFixed(1)} MB of heap${global.gc ? '' : ' (run with --expose-gc for an exact figure)'}`,
);
console.log(
  "pure core with the invariant checks on (auditCapacity and the decision's counters after every decision, " +
    `the full auditCounters every ${AUDIT_EVERY} decisions: ${checked.audits} full audits, all clean): ` +
    `${checked.perSecond.toFixed(0)} decisions/s (${checked.granted} granted)`,
);

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
  const admin = await connect<AdminToAllocator, AllocatorToAdmin>({
    url,
    socket: wsSocket,
    key: readKey(paths.adminKey),
    role: 'admin',
    user: 'admin',
    replySchema: allocatorToAdminSchema,
    timeoutMs: 5000,
  });
  await admin.request({ type: 'addUser', name: 'bench' });
  const master = await connect<MasterToAllocator, AllocatorFrame>({
    url,
    socket: wsSocket,
    key: readKey(join(paths.keys, 'bench.key')),
    role: 'master',
    user: 'bench',
    replySchema: allocatorToMasterSchema,
    timeoutMs: 5000,
  });
  await master.request({ type: 'register', user: 'bench', running: [], queueSize: 1 });
  const latencies: number[] = [];
  for (let j = 1; j <= 2000; j++) {
    const t = performance.now();
    const r = await master.request({ type: 'request', user: 'bench', jobId: j, demand: { cores: 1, memGB: 1, attrs: null }, queueSize: 1 });
    latencies.push(performance.now() - t);
    if (r.type !== 'granted') throw new Error(`not granted: ${JSON.stringify(r)}`);
    await master.request({ type: 'release', user: 'bench', jobId: j, queueSize: 1 });
  }
  console.log(
    `through qpy-multiuser on loopback (each grant committed to its SQLite store before the reply): request → granted ${summary(latencies)}`,
  );
  await admin.request({ type: 'finish' });
  admin.close();
  master.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
