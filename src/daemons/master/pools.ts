/**
 * The user's own Slurm pools (issue 18), run by their master's embedded
 * allocator: the pool runner (daemons/shared/pool-runner.ts) wired to this
 * master. A pilot's node is learnt by the executors when it joins; one whose
 * pilot died is given up by node-health (its jobs node_failed, retried where
 * `--retry` says); the pilots are saved in the meta table (`pools`).
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
}

export function startUserPools(o: UserPoolsOptions): PoolRunner {
  const agentPools = o.pools.filter((p) => p.reach === 'agent');
  for (const p of agentPools) o.log(`pool ${p.name}: reach=agent is not available in this version; the pool is not used`);
  return startPoolRunner({
    pools: o.pools.filter((p) => p.reach === 'ssh'),
    state: o.state,
    dir: o.paths.pools,
    user: o.user,
    log: o.log,
    now: o.rt.now,
    pollMs: timing.poolPollMs,
    tickMs: timing.poolTickMs,
    script: holdingScript,
    address: (_pool, _jobId, host) => host,
    onJoin: (node, address) => void o.execs.learn(node, address),
    onLeave: (node, failed, why) => {
      if (failed) o.health()?.gone(node, why);
    },
    onChange: () => o.d.poke(),
    saved: o.saved,
    save: (text) => o.rt.committer.setMeta(POOLS_KEY, text),
  });
}
