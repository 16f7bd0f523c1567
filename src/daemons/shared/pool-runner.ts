/**
 * The runner of the Slurm pools of a nodes file (issue 18), in whichever
 * daemon owns the node list: a master's embedded allocator (the user's own
 * pools) or qpy-multiuser (the group's). It carries out what the pure plan
 * (src/pool/plan.ts) decides at each tick: `sbatch` pilots, add each pilot's
 * node to the allocator when it runs, bound the jobs it takes by its time
 * left, take it out and `scancel` it when idle or near its end; and it polls
 * `squeue` at most once per pool every `pollMs` (10 s by default, whatever
 * the number of jobs), only while the pool has pilots. The pilots that
 * joined are saved by the owner (`save`), so that after a restart their
 * nodes are known again before running jobs are adopted.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PoolConfig } from '../../allocator/pool-line.js';
import { joinPilot, leavePilot, setJobTime, setPools } from '../../allocator/pilot-nodes.js';
import { nodeFreeCores, type AllocatorState } from '../../allocator/state.js';
import { applyListing, newPilot, pilotConnected, pilotStarted, started } from '../../pool/pilots.js';
import { goneEffects, newPoolRun, planTick, type PoolEffect, type PoolRun } from '../../pool/plan.js';
import { parseSbatchParsable, parseSqueuePilots, sbatchPilot, scancelPilots, squeuePilots } from '../../pool/slurm-cli.js';
import { restorePilots, savedPilots } from '../../pool/saved.js';
import { view } from '../../pool/view.js';
import { runSlurm } from './slurm-commands.js';
import { readStarts } from './pool-scripts.js';
import type { Log } from './log.js';

export interface PoolRunnerOptions {
  pools: readonly PoolConfig[];
  /** The allocator whose node list the pilots join. */
  state: AllocatorState;
  /** Where each pool's pilot script and Slurm output go (`DIR/NAME/`). */
  dir: string;
  /** Whose pilots `squeue` lists. */
  user: string;
  log: Log;
  now: () => number;
  /** Least time between two `squeue` of one pool (ms). */
  pollMs: number;
  /** Time between two ticks of the plan (ms). */
  tickMs: number;
  /** The pilot's batch script (its text); `dir` is the pool's directory. */
  script(pool: PoolConfig, dir: string): string;
  /** The address masters reach a pilot's node at. */
  address(pool: PoolConfig, jobId: string, host: string): string;
  onJoin(node: string, address: string): void;
  /** A pilot's node left; `failed`: it died under its jobs (they become node_failed). */
  onLeave(node: string, failed: boolean, why: string): void;
  /** The node list or its bounds changed: dispatch again. */
  onChange(): void;
  /** The saved pilots (save's text), if any. */
  saved: string | undefined;
  save(text: string): void;
  /** The environment Slurm's commands run in (SLURM_CONF and the like). */
  env?: NodeJS.ProcessEnv;
}

export interface PoolRunner {
  /** A pilot's agent connected (reach=agent) from `host`. */
  connected(pool: string, jobId: string, host: string): void;
  disconnected(pool: string, jobId: string): void;
  close(): void;
}

/** A pilot qpy ended that Slurm still lists this long after its scancel is cancelled again. */
const RECANCEL_MS = 60_000;
/** After a failed sbatch: wait 10 s, doubling to 5 minutes. */
const SUBMIT_BACKOFF_MS = [10_000, 300_000] as const;

export function startPoolRunner(opts: PoolRunnerOptions): PoolRunner {
  const runs = new Map(opts.pools.map((c) => [c.name, newPoolRun(c)]));
  const polling = new Set<string>();
  const lastPoll = new Map<string, number>();
  const backoff = new Map<string, number>();
  /** Hellos of pilots no listing had shown yet (pool/jobId → host): they count once one does. */
  const unknownHellos = new Map<string, string>();
  let closed = false;
  const poolDir = (name: string) => join(opts.dir, name);
  for (const run of runs.values()) {
    mkdirSync(poolDir(run.config.name), { recursive: true, mode: 0o700 });
    const script = join(poolDir(run.config.name), 'pilot.sh');
    writeFileSync(script, opts.script(run.config, poolDir(run.config.name)), { mode: 0o700 });
    chmodSync(script, 0o700);
  }

  const use = (node: string) => {
    const n = opts.state.nodeByName.get(node);
    return n === undefined ? null : { slots: n.slotCount, freeCores: Math.max(0, nodeFreeCores(n)) };
  };
  const queued = () => opts.state.users.reduce((sum, u) => sum + (u.removed ? 0 : u.queueSize), 0);

  function carryOut(run: PoolRun, effects: PoolEffect[]): boolean {
    let changed = false;
    const name = run.config.name;
    for (const e of effects) {
      switch (e.type) {
        case 'submit':
          for (let i = 0; i < e.count; i++) submit(run);
          break;
        case 'cancel':
          opts.log(`pool ${name}: ending pilot${e.jobIds.length === 1 ? '' : 's'} ${e.jobIds.join(' ')} (scancel)`);
          cancel(run, e.jobIds);
          break;
        case 'join': {
          const address = opts.address(run.config, e.jobId, e.host);
          joinPilot(opts.state, { name: e.node, address, pool: name, jobId: e.jobId, cores: e.cores, memGB: e.memGB });
          opts.log(`pool ${name}: pilot ${e.jobId} runs on ${e.host}: node ${e.node} joins (${e.cores} cores, ${e.memGB} GB)`);
          opts.onJoin(e.node, address);
          changed = true;
          break;
        }
        case 'leave':
          leavePilot(opts.state, e.node);
          opts.log(`pool ${name}: node ${e.node} leaves: ${e.why}`);
          opts.onLeave(e.node, e.failed, e.why);
          changed = true;
          break;
        case 'jobTime': {
          const before = opts.state.nodeByName.get(e.node)?.jobTime;
          setJobTime(opts.state, e.node, e.maxS, e.untimed);
          if (before?.untimed !== e.untimed) changed = true;
          break;
        }
      }
    }
    return changed;
  }

  /** When each pilot qpy ends was last cancelled: one a listing still shows a minute later is cancelled again. */
  const cancelledAt = new Map<string, number>();
  function cancel(run: PoolRun, jobIds: string[]): void {
    for (const id of jobIds) cancelledAt.set(id, opts.now());
    void runSlurm(scancelPilots(jobIds), poolDir(run.config.name), opts.env).catch((err: Error) => {
      run.problem = err.message;
      opts.log(`pool ${run.config.name}: ${err.message}`);
    });
  }

  function submit(run: PoolRun): void {
    const { config } = run;
    run.submitting++;
    const dir = poolDir(config.name);
    const cmd = sbatchPilot(config, join(dir, 'pilot.sh'), join(dir, 'pilot-%j.out'));
    void runSlurm(cmd, dir, opts.env)
      .then((out) => {
        const id = parseSbatchParsable(out);
        if (!id.ok) throw new Error(id.message);
        // A listing may have adopted it already, while sbatch was answering: that record stays.
        if (!run.pilots.has(id.value)) run.pilots.set(id.value, newPilot(id.value, opts.now()));
        run.problem = null;
        backoff.delete(config.name);
        opts.log(`pool ${config.name}: pilot ${id.value} submitted (sbatch)`);
        persist();
      })
      .catch((err: Error) => {
        const wait = Math.min(SUBMIT_BACKOFF_MS[1], (backoff.get(config.name) ?? SUBMIT_BACKOFF_MS[0] / 2) * 2);
        backoff.set(config.name, wait);
        run.retryAt = opts.now() + wait;
        run.problem = err.message;
        opts.log(`pool ${config.name}: ${err.message} (trying again in ${wait / 1000} s)`);
      })
      .finally(() => {
        run.submitting--;
        publish();
      });
  }

  function poll(run: PoolRun): void {
    const name = run.config.name;
    if (polling.has(name) || closed) return;
    polling.add(name);
    const listedAt = opts.now();
    lastPoll.set(name, listedAt);
    void runSlurm(squeuePilots(run.config, opts.user), poolDir(name), opts.env)
      .then((out) => {
        const rows = parseSqueuePilots(out);
        if (!rows.ok) throw new Error(rows.message);
        const gone = applyListing(run.pilots, rows.value, listedAt);
        for (const [key, host] of unknownHellos) {
          const [pool, jobId] = key.split('/') as [string, string];
          if (pool === name && pilotConnected(run.pilots, jobId, host) !== null) unknownHellos.delete(key);
        }
        const again = [...run.pilots.values()].filter(
          (p) => p.ending !== null && listedAt - (cancelledAt.get(p.jobId) ?? 0) >= RECANCEL_MS,
        );
        if (again.length > 0)
          cancel(
            run,
            again.map((p) => p.jobId),
          );
        for (const p of gone) {
          cancelledAt.delete(p.jobId);
          opts.log(`pool ${name}: pilot ${p.jobId} has ended`);
          rmSync(join(poolDir(name), `started-${p.jobId}`), { force: true });
        }
        if (carryOut(run, goneEffects(gone))) opts.onChange();
        if (gone.length > 0) persist();
        if (run.problem?.startsWith('squeue')) run.problem = null;
      })
      .catch((err: Error) => {
        run.problem = err.message;
        opts.log(`pool ${name}: ${err.message}`);
      })
      .finally(() => {
        polling.delete(name);
        tick();
      });
  }

  let savedText = '';
  function persist(): void {
    const text = savedPilots(runs);
    if (text === savedText) return;
    savedText = text;
    opts.save(text);
  }

  function publish(): void {
    setPools(opts.state, [...runs.values()].map(view));
  }

  function tick(): void {
    if (closed) return;
    const now = opts.now();
    let changed = false;
    for (const run of runs.values()) {
      if (run.config.reach === 'ssh' && [...run.pilots.values()].some((p) => !started(p) && p.ending === null))
        for (const [jobId, host] of readStarts(poolDir(run.config.name), (id) => run.pilots.has(id))) pilotStarted(run.pilots, jobId, host);
      const last = lastPoll.get(run.config.name);
      if (last === undefined || (run.pilots.size > 0 && now - last >= opts.pollMs)) poll(run);
      changed = carryOut(run, planTick(run, use, queued(), now)) || changed;
    }
    persist(); // when what is saved changed: a pilot joined, or is being ended
    publish();
    if (changed) opts.onChange();
  }

  // Pilots that joined in an earlier life are nodes again at once: their running jobs are adopted there.
  for (const [pool, pilots] of restorePilots(opts.saved, runs, opts.now())) {
    const run = runs.get(pool)!;
    for (const p of pilots) {
      run.pilots.set(p.jobId, p);
      if (p.node === null || p.host === null) continue;
      const address = opts.address(run.config, p.jobId, p.host);
      joinPilot(opts.state, { name: p.node, address, pool, jobId: p.jobId, cores: run.config.cores, memGB: run.config.memGB });
      opts.onJoin(p.node, address);
    }
  }
  publish();
  const timer = setInterval(tick, opts.tickMs);
  timer.unref();
  setImmediate(tick);

  return {
    connected(pool, jobId, host) {
      const run = runs.get(pool);
      if (run === undefined || closed) return;
      if (pilotConnected(run.pilots, jobId, host) === null) {
        // Not a pilot Slurm has shown yet: its hello counts once a listing shows that job.
        unknownHellos.set(`${pool}/${jobId}`, host);
      }
      tick();
    },
    disconnected(pool, jobId) {
      unknownHellos.delete(`${pool}/${jobId}`);
      const p = runs.get(pool)?.pilots.get(jobId);
      if (p !== undefined) p.connected = false;
      publish();
    },
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
