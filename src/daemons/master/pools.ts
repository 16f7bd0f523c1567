/**
 * The user's own Slurm pools (issue 18), run by their master's embedded
 * allocator: the pool runner (daemons/shared/pool-runner.ts) wired to this
 * master. A pilot's node is learnt by the executors when it joins; one whose
 * pilot died is given up by node-health (its jobs node_failed, retried where
 * `--retry` says); the pilots are saved in the meta table (`pools`).
 * Pilots of pools with reach=agent run the pilot program, which connects
 * back to this master's pilot hub (pilot-hub.ts); their nodes' address is
 * `pilot:POOL/JOBID`, and their executors run over the hub.
 */
import type { PoolConfig } from '../../allocator/pool-line.js';
import type { AllocatorState } from '../../allocator/state.js';
import { timing, type UserPaths } from '../../config.js';
import { startPoolRunner, type PoolRunner } from '../shared/pool-runner.js';
import { holdingScript } from '../shared/pool-scripts.js';
import type { Log } from '../shared/log.js';
import type { Dispatcher, Runtime } from './context.js';
import type { NodeHealth } from './node-health.js';
import type { NodeExecutors } from './nodes.js';
import { createPilotHub, type PilotHub } from './pilot-hub.js';
import { createTracker } from '../../executor/tracker.js';
import type { Executor } from '../../executor/executor.js';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The meta key of the saved pilots. */
export const POOLS_KEY = 'pools';

export interface UserPoolsOptions {
  pools: PoolConfig[];
  state: AllocatorState;
  paths: UserPaths;
  user: string;
  log: Log;
  saved: string | undefined;
  rt: Runtime;
  execs: NodeExecutors;
  /** Node health, once it exists (the runner starts first, so that restored pilots' nodes are known to it). */
  health(): NodeHealth | null;
  d: Dispatcher;
  /** The pilot hub (startPilotHub), or null: pools with reach=agent then run no pilot. */
  hub: PilotHub | null;
}

/** The address of a pilot's node reached through its agent. */
export const pilotAddress = (pool: string, jobId: string): string => `pilot:${pool}/${jobId}`;

/** The pool and Slurm job of a pilot's address, or null for any other address. */
export function parsePilotAddress(address: string): { pool: string; jobId: string } | null {
  const m = /^pilot:([^/]+)\/([0-9]+)$/.exec(address);
  return m ? { pool: m[1]!, jobId: m[2]! } : null;
}

/** Where a pool's pilot file is. */
export const pilotFilePath = (paths: UserPaths, pool: string): string => join(paths.pools, pool, 'pilot.json');

/** The batch script of a pilot reached through its agent: the pilot program, from this installation, with the pool's pilot file. */
export function agentScript(pool: PoolConfig, dir: string): string {
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  return [
    '#!/bin/sh',
    `# A pilot of qpy's Slurm pool ${pool.name}: it runs qpy's node agent on this node, connected back to`,
    "# the user's qpy-master over TLS, until qpy ends it (scancel) or its time limit comes.",
    `echo "qpy pilot $SLURM_JOB_ID of pool ${pool.name} on $(hostname)"`,
    `exec ${q(process.execPath)} ${q(PILOT_PROGRAM)} ${q(join(dir, 'pilot.json'))}`,
    '',
  ].join('\n');
}

const PILOT_PROGRAM = fileURLToPath(new URL('../../pilot/main.js', import.meta.url));

const isLoopbackHost = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

/**
 * The pilot hub of the pools with reach=agent, listening where their `back=`
 * says (the first one's: one listener serves them all; loopback only when
 * it names a loopback address), each pool's pilot file written; null
 * without such pools, or when the hub cannot start (logged: those pools
 * then run no pilot).
 */
export async function startPilotHub(pools: readonly PoolConfig[], paths: UserPaths, log: Log): Promise<PilotHub | null> {
  const agent = pools.filter((p) => p.reach === 'agent');
  const first = agent[0];
  if (first === undefined) return null;
  const back = first.back ?? { host: hostname(), port: 0 };
  try {
    const hub = await createPilotHub({ certPath: join(paths.dir, 'pilot-tls.pem'), log });
    const listenOn = isLoopbackHost(back.host) ? back.host : back.host.includes(':') ? '::' : '0.0.0.0';
    const port = await hub.listen(listenOn, back.port);
    for (const pool of agent) {
      if (pool.back !== null && (pool.back.host !== back.host || pool.back.port !== back.port))
        log(`pool ${pool.name}: back=${pool.back.host}:${pool.back.port} ignored: one listener serves every pool, at ${back.host}:${port}`);
      mkdirSync(join(paths.pools, pool.name), { recursive: true, mode: 0o700 });
      hub.writePilotFile(pool.name, pilotFilePath(paths, pool.name), back.host);
    }
    log(`pilots of ${agent.map((p) => `pool ${p.name}`).join(', ')} connect back to ${back.host}:${port} (TLS)`);
    return hub;
  } catch (err) {
    log(`the pilot hub could not start (${(err as Error).message}): pools ${agent.map((p) => p.name).join(', ')} run no pilot`);
    return null;
  }
}

/** The executors of pilots' nodes reached through their agent (nodes.ts `other`): trackers over the hub's links. */
export function pilotExecutors(hub: PilotHub | null, runDir: string, pollMs: number) {
  return (node: string, address: string, onLink: (problem: string | null) => void): Executor | undefined => {
    const pilot = hub && parsePilotAddress(address);
    if (!pilot) return undefined;
    return createTracker({ nodeName: node, runDir, pollMs, transport: hub!.transportFor(pilot.pool, pilot.jobId), onLink });
  };
}

export function startUserPools(o: UserPoolsOptions): PoolRunner {
  const usable = o.pools.filter((p) => p.reach === 'ssh' || o.hub !== null);
  const runner = startPoolRunner({
    pools: usable,
    state: o.state,
    dir: o.paths.pools,
    user: o.user,
    log: o.log,
    now: o.rt.now,
    pollMs: timing.poolPollMs,
    tickMs: timing.poolTickMs,
    script: (pool, dir) => (pool.reach === 'agent' ? agentScript(pool, dir) : holdingScript(pool, dir)),
    address: (pool, jobId, host) => (pool.reach === 'agent' ? pilotAddress(pool.name, jobId) : host),
    onJoin: (node, address) => void o.execs.learn(node, address),
    onLeave: (node, failed, why) => {
      if (failed) o.health()?.gone(node, why);
    },
    onChange: () => o.d.poke(),
    saved: o.saved,
    save: (text) => o.rt.committer.setMeta(POOLS_KEY, text),
  });
  o.hub?.onPilot((pool, jobId, host) => runner.connected(pool, jobId, host));
  o.hub?.onPilotGone((pool, jobId) => runner.disconnected(pool, jobId));
  return runner;
}
