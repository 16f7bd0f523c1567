/**
 * qpy-multiuser's Slurm pools (issue 18): the pool lines of the admin's
 * nodes file, run under the administrator's Slurm account by the shared
 * pool runner (daemons/shared/pool-runner.ts) over the allocator every
 * master asks, so the group's shares apply inside them. Pilots are reached
 * over SSH only: each user's master connects to a pilot's host as its user
 * and learns its address from its grants, as for any node. A pilot that
 * ended under jobs is told to every connected master (`nodeGone`). The
 * pilots are saved in `pools.json` in the admin directory. The pool lines
 * in force are those read at start: `qpy-admin nodes` reload says when they
 * changed.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import type { PoolConfig } from '../../allocator/pool-line.js';
import { timing } from '../../config.js';
import { startPoolRunner, type PoolRunner } from '../shared/pool-runner.js';
import { holdingScript } from '../shared/pool-scripts.js';
import { parseGroupNodes } from '../shared/embedded-nodes.js';
import type { MultiuserContext } from './context.js';

/** The pool lines of a nodes file's text (none if it does not parse: its problem is reported elsewhere). */
export function poolsOf(text: string | null | undefined): PoolConfig[] {
  if (!text) return [];
  try {
    return parseGroupNodes(text, 'nodes', true).pools;
  } catch {
    return [];
  }
}

/** Whether two sets of pool lines say the same (line numbers aside). */
export function samePools(a: readonly PoolConfig[], b: readonly PoolConfig[]): boolean {
  const key = (ps: readonly PoolConfig[]) => JSON.stringify(ps.map(({ line: _line, ...rest }) => rest));
  return key(a) === key(b);
}

export interface GroupPools {
  runner: PoolRunner | null;
  pools: PoolConfig[];
}

export function startGroupPools(ctx: MultiuserContext, pools: PoolConfig[], tellGone: (node: string, reason: string) => void): GroupPools {
  if (pools.length === 0) return { runner: null, pools };
  const file = join(ctx.paths.dir, 'pools.json');
  let saved: string | undefined;
  try {
    saved = readFileSync(file, 'utf8');
  } catch {
    saved = undefined;
  }
  const runner = startPoolRunner({
    pools,
    state: ctx.state,
    dir: join(ctx.paths.dir, 'pools'),
    user: userInfo().username,
    log: ctx.log,
    now: ctx.now,
    pollMs: timing.poolPollMs,
    tickMs: timing.poolTickMs,
    script: holdingScript,
    address: (_pool, _jobId, host) => host,
    onJoin: (node) => ctx.probe([node]),
    onLeave: (node, failed, why) => {
      if (failed) tellGone(node, why);
    },
    onChange: () => ctx.wake(),
    saved,
    save: (text) => {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, file);
    },
  });
  return { runner, pools };
}
