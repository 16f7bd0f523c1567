/**
 * The wire shapes of the cluster as the allocator sees it: nodes, users and
 * the status document shown by `qpy status` (and `qpy-admin status`).
 */
import { arrayOf, bool, int, literal, nullable, num, obj, oneOf, optional, str, strMax, type Infer } from './schema.js';

/**
 * How a node's agent keeps limits and measures usage (executor/agent-script.ts,
 * its `R` line): `cgroup`, memory limits kept by the kernel in a cgroup v2
 * subtree of its own, time limits and usage from /proc; `proc`, all from
 * /proc; `none`, not at all (no bash 4.4, or no /proc).
 */
export const LIMITS_METHODS = ['cgroup', 'proc', 'none'] as const;
export type LimitsMethod = (typeof LIMITS_METHODS)[number];

/** What the administrator's `limits` file may say of memory limits (see allocator/limits-file.ts). */
export const MEMORY_POLICIES = ['on', 'required', 'off'] as const;

/** The cluster's limits: the longest time limit (seconds, null: none) and the memory policy. */
export const clusterLimitsSchema = obj({ maxTime: nullable(int), memoryLimits: oneOf(MEMORY_POLICIES) });
export type ClusterLimits = Infer<typeof clusterLimitsSchema>;

/** Node addresses that mean this machine: jobs there start without SSH. */
export const LOCAL_ADDRESSES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** Does this address mean this machine (jobs run without SSH)? */
export const isLocalAddress = (address: string): boolean => LOCAL_ADDRESSES.includes(address);

/**
 * Is `address` a loopback address or name, in any of its written forms:
 * `localhost`, 127.0.0.0/8 (also IPv4-mapped), `::1` (also unabbreviated)?
 * Wider than isLocalAddress: 127.0.0.2 is loopback, yet a node of its own.
 */
export function isLoopback(address: string): boolean {
  const a = address
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '');
  if (a === 'localhost' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a)) return true;
  return a.includes(':') && a.endsWith('1') && /^[0:]+$/.test(a.slice(0, -1));
}

/** Memory a job asks for when `qpy sub` is given no -m (GB). */
export const DEFAULT_JOB_MEM_GB = 5;

export const nodeViewSchema = obj({
  name: str,
  address: str,
  cores: int,
  /** Cores held by qpy slots on this node. */
  usedCores: int,
  /** Busy processes not started by qpy (from probing; 0 when not probed). */
  outsiders: int,
  load: num,
  totalMemGB: num,
  usedMemGB: num,
  /** Memory promised to slots plus the node's fixed reserve. */
  reqMemGB: num,
  disk: nullable(obj({ usedGB: num, totalGB: num })),
  attributes: arrayOf(str),
  up: bool,
  /** Drained by the admin: takes no new jobs. */
  drained: bool,
  /** Gone from the nodes file: takes no new jobs, listed until its last job ends. */
  removed: bool,
  prefMulticore: bool,
  /** Users whose masters cannot reach the node, with the reason each reported (absent: none). */
  unreachableFor: optional(arrayOf(obj({ user: str, reason: str }))),
  /**
   * In a master's `status` only: how its agent there keeps time and memory
   * limits and measures usage, `proc` (sampling /proc) or `none` (no bash 4.4
   * or no /proc: not enforced); absent until it has started an agent there.
   */
  limits: optional(oneOf(LIMITS_METHODS)),
  /**
   * Its GPUs (issue 16), present when it has any or some job holds one:
   * `total` devices, `used` jobs on them (each device takes up to `share`),
   * `outsiders` the device indices a process outside qpy holds; `problem`
   * why its probe could not tell its GPUs (nvidia-smi failed or printed
   * something unexpected: they count as 0 unless the nodes file says gpus=).
   */
  gpus: optional(obj({ total: int, used: int, share: int, outsiders: arrayOf(int), problem: optional(strMax(1024)) })),
  /**
   * A pilot's node (issue 18): the pool it belongs to and the Slurm job
   * holding it; `maxJobS` the longest `--time` it still takes, `untimed`
   * whether a job without one may start (false once it nears its limit).
   */
  pilot: optional(obj({ pool: str, jobId: str, maxJobS: nullable(int), untimed: bool })),
});
export type NodeView = Infer<typeof nodeViewSchema>;

export const userViewSchema = obj({
  name: str,
  usedCores: int,
  queueSize: int,
  minCores: int,
  extraCores: int,
  /** Its GPUs (in jobs on GPUs), present where the cluster has GPUs: used now, and its part (min + extra). */
  gpus: optional(obj({ used: int, min: int, extra: int, queue: int })),
});
export type UserView = Infer<typeof userViewSchema>;

/** One pilot of a Slurm pool (issue 18), as its pool runner last knew it. */
export const pilotViewSchema = obj({
  /** Slurm's job ID. */
  jobId: strMax(64),
  /** Slurm's state at the last `squeue` (PENDING, RUNNING, …); SUBMITTED before any listing showed it. */
  state: strMax(64),
  /** Why Slurm keeps it pending (`Resources`, `Priority`, …), or null. */
  reason: nullable(strMax(256)),
  /** The host Slurm gave it, or null. */
  host: nullable(strMax(256)),
  /** Its node in the node list once joined, else null. */
  node: nullable(strMax(256)),
  /** When its time limit runs out (ms since the epoch), or null while unknown. */
  endsAt: nullable(num),
  /** reach=agent: whether its agent is connected now. */
  connected: bool,
  /** Why qpy is ending it (`idle`, `time`, `surplus`), or null. */
  ending: nullable(strMax(32)),
});
export type PilotView = Infer<typeof pilotViewSchema>;

/** Why qpy ends a pilot (PilotView.ending), in words: for `qpy status` and the web pages. */
export const PILOT_ENDING: Readonly<Record<string, string>> = {
  idle: 'idle',
  time: 'near its time limit',
  surplus: 'not needed',
};

/** A Slurm pool (a `pool` line of the nodes file) and its pilots. */
export const poolViewSchema = obj({
  name: strMax(256),
  kind: literal('slurm'),
  partition: strMax(256),
  /** The most pilots at once, and what each asks for. */
  maxNodes: int,
  cores: int,
  memGB: num,
  timeLimitS: int,
  idleMin: num,
  reach: oneOf(['ssh', 'agent'] as const),
  pilots: arrayOf(pilotViewSchema, 100_000),
  /** The last failure of sbatch, squeue or scancel, or null. */
  problem: nullable(strMax(4096)),
});
export type PoolView = Infer<typeof poolViewSchema>;

export const clusterStatusSchema = obj({
  users: arrayOf(userViewSchema),
  nodes: arrayOf(nodeViewSchema),
  /** Sum of the cores of all nodes. */
  totalCores: int,
  /** Cores in use: qpy slots plus outsiders. */
  usedCores: int,
  /** Problems the operator should see (a bad nodes file, say), one line each. */
  warnings: arrayOf(str),
  /** The administrator's limits, when qpy-multiuser sets any (absent: none, memory limits on). */
  limits: optional(clusterLimitsSchema),
  /** The GPUs, present where any node has some: `total` = Σ devices × gpu_share of the nodes taking jobs, `used` = jobs on GPUs. */
  gpus: optional(obj({ total: int, used: int })),
  /** The Slurm pools (issue 18), present where the nodes file declares any. */
  pools: optional(arrayOf(poolViewSchema, 1000)),
});
export type ClusterStatus = Infer<typeof clusterStatusSchema>;
