/**
 * Feasibility: could any configured node (or a Slurm pool's pilot) ever run a job, whatever is running
 * now? Asked at submission so an impossible job (too many cores, too much
 * memory, an attribute no node has, an invalid expression) is refused at
 * once with a sentence saying why, instead of waiting in the queue forever.
 * Also, for `qpy why`, why each node cannot take a job now (explainNodes).
 */
import { expressionNames, matchesNode, parseAttrExpr } from './attributes.js';
import { MEM_RESERVE_GB, newNode, type AllocatorState, type NodeState } from './state.js';
import { pilotSpec } from './pilot-nodes.js';
import { endMarginMs } from './pool-line.js';
import { pilotTimeWhy, poolLines } from './pool-why.js';
import { nodeGpuCount } from './gpus.js';
import { formatTimeLimit } from '../protocol/time-limit.js';
import type { ClusterStatus, NodeView } from '../protocol/cluster.js';

export interface FeasibilityDemand {
  cores: number;
  memGB: number;
  attrs: string | null;
  /** GPUs (absent: none). */
  gpus?: number;
  /** Its time limit in seconds (absent: none): a Slurm pool counts only if its pilots' time leaves room for it. */
  time?: number;
}

/** The node each Slurm pool could bring (named as the pool), with the longest `--time` (s) a fresh pilot takes. */
function poolNodes(state: AllocatorState): Map<NodeState, number> {
  return new Map(
    state.pools.map((p) => [
      newNode(pilotSpec({ name: p.name, address: '', pool: p.name, cores: p.cores, memGB: p.memGB })),
      Math.floor((p.timeLimitS * 1000 - endMarginMs(p.timeLimitS)) / 1000),
    ]),
  );
}

/**
 * A name or expression of the job's, quoted for a message: at most 200
 * characters (an expression may be 4096, and a message must stay within
 * what its reply may carry).
 */
function quoted(text: string): string {
  return `"${text.length > 200 ? `${text.slice(0, 200)}…` : text}"`;
}

/** A number of GB for people: at most two decimals, no trailing zeros. */
export function formatGB(gb: number): string {
  return String(Math.round(gb * 100) / 100);
}

/** Memory a node can ever promise to jobs (its total minus the fixed reserve). */
export function jobMemory(node: NodeState): number {
  return node.spec.memGB - MEM_RESERVE_GB;
}

/**
 * null when some node (up or down) has at least `cores` cores, more than
 * `memGB` GB of job memory (§3.6 requires avail_mem > m) and matching
 * attributes; otherwise the reason, e.g. `no node has 64 cores (the largest
 * has 8)`, `no node has attribute "bigmem"`, `no node has more than 21.6 GB
 * of memory for jobs`, or the expression's parse error.
 */
export function checkFeasible(state: AllocatorState, demand: FeasibilityDemand): string | null {
  if (!Number.isSafeInteger(demand.cores) || demand.cores < 1) return `a job needs at least 1 core, not ${demand.cores}`;
  if (!Number.isFinite(demand.memGB) || demand.memGB < 0) return `memory must be 0 GB or more, not ${demand.memGB}`;
  const parsed = parseAttrExpr(demand.attrs);
  if (!parsed.ok) return parsed.message;
  const expr = parsed.expr;
  const pools = poolNodes(state);
  const configured = [...state.nodes.filter((n) => !n.removed), ...pools.keys()];
  if (configured.length === 0) return 'no nodes are configured';

  const matching = configured.filter((n) => matchesNode(expr, n.spec.name, n.spec.attributes));
  const text = (demand.attrs ?? '').trim();
  if (matching.length === 0) {
    const known = (name: string): boolean => configured.some((n) => n.spec.name === name || n.spec.attributes.includes(name));
    const unknown = expressionNames(expr).filter((name) => !known(name));
    if (expr !== null && expr.kind === 'attr') return `no node has attribute ${quoted(expr.name)}`;
    const why =
      unknown.length === 0
        ? ''
        : ` (no node has ${unknown.length === 1 ? 'attribute' : 'attributes'} ${unknown.slice(0, 5).map(quoted).join(', ')}${unknown.length > 5 ? ', …' : ''})`;
    return `no node matches the attributes ${quoted(text)}${why}`;
  }

  const scope = expr === null ? '' : ` matching ${quoted(text)}`;
  const withCores = matching.filter((n) => n.spec.cores >= demand.cores);
  if (withCores.length === 0) {
    const largest = Math.max(...matching.map((n) => n.spec.cores));
    return `no node${scope} has ${demand.cores} cores (the largest has ${largest})`;
  }
  const withMem = withCores.filter((n) => jobMemory(n) > demand.memGB);
  if (withMem.length === 0) {
    const most = Math.max(...withCores.map(jobMemory));
    const coresScope = withCores.length === matching.length ? '' : ` with ${demand.cores} cores`;
    return `no node${scope}${coresScope} has more than ${formatGB(Math.max(0, most))} GB of memory for jobs`;
  }
  // A pool's pilots end at their time limit: a job whose --time does not fit before it can never run there.
  const maxTime = (n: NodeState): number => pools.get(n) ?? Infinity;
  const inTime = withMem.filter((n) => demand.time === undefined || demand.time <= maxTime(n));
  if (inTime.length === 0) {
    const longest = Math.max(...withMem.map(maxTime));
    return (
      `no node${scope} can run a job of -t ${formatTimeLimit(demand.time!)}: ` +
      `a Slurm pool's pilot leaves at most ${formatTimeLimit(longest)} for a job (its time= less a safety margin)`
    );
  }
  return gpuProblem(inTime, demand.gpus ?? 0, scope, inTime.length !== matching.length);
}

/** Why no node of `fit` (those that fit the job's cores and memory) has `gpus` GPUs, or null when one has. */
function gpuProblem(fit: NodeState[], gpus: number, scope: string, narrowed: boolean): string | null {
  if (!Number.isSafeInteger(gpus) || gpus < 0) return `a job asks for a whole number of GPUs, 0 or more, not ${gpus}`;
  if (gpus === 0 || fit.some((n) => nodeGpuCount(n) >= gpus)) return null;
  const most = Math.max(...fit.map(nodeGpuCount));
  const where = narrowed ? ' with room for its cores and memory' : '';
  return (
    `no node${scope}${where} has ${gpus} GPU${gpus === 1 ? '' : 's'} ` +
    `(${most === 0 ? 'none has any' : `the most any has is ${most}`}: a node's GPUs are its gpus= in the nodes file, or those nvidia-smi lists there)`
  );
}

/**
 * Why a node with enough GPUs cannot give `gpus` of them now, or null: each
 * device taking `share` jobs, fewer than `gpus` are free, and those held by
 * processes outside qpy are named. An approximation from the status
 * document's counts (it does not list the jobs on each device).
 */
function gpuWhy(n: NodeView, gpus: number): string | null {
  if (gpus === 0 || n.gpus === undefined) return null;
  const g = n.gpus;
  const free = Math.max(0, Math.floor(((g.total - g.outsiders.length) * g.share - g.used) / g.share));
  if (free >= gpus) return null;
  const outside = g.outsiders.length > 0 ? `, GPU ${g.outsiders.join(', ')} held by a process outside qpy` : '';
  return `${free} of ${g.total} GPUs free (busy with qpy jobs, yours or others'${outside})`;
}

/**
 * Why each node cannot take a job of `demand` for `user` now, one line per
 * node (`node2: unreachable for you: connection refused: …`), from the
 * status document alone (the master's view of the allocator): removed,
 * drained, down, unreachable for this user (with the reason its master
 * reported), attributes, too few cores, too little memory once the system
 * reserve (MEM_RESERVE_GB) is taken (said as such), cores or memory in use.
 * A node that could take the job now says so.
 */
export function explainNodes(status: ClusterStatus, user: string, demand: FeasibilityDemand): string[] {
  const parsed = parseAttrExpr(demand.attrs);
  const expr = parsed.ok ? parsed.expr : null;
  const gb = formatGB;
  const reserve = `${gb(MEM_RESERVE_GB)} GB reserved for the system`;
  return status.nodes
    .map((n) => {
      const why = ((): string => {
        if (n.removed) return 'removed from the cluster by the administrator (it takes no new jobs)';
        if (n.drained) return 'drained by the administrator (it takes no new jobs)';
        const mine = n.unreachableFor?.find((u) => u.user === user);
        if (mine) return `unreachable for you: ${mine.reason}`;
        if (!n.up) return 'down (it does not answer)';
        const tooLate = pilotTimeWhy(n, demand.time);
        if (tooLate !== null) return tooLate;
        if (!matchesNode(expr, n.name, n.attributes)) return `does not match ${quoted((demand.attrs ?? '').trim())}`;
        if (n.cores < demand.cores) return `has only ${n.cores} core${n.cores === 1 ? '' : 's'}`;
        const gpus = demand.gpus ?? 0;
        if (gpus > (n.gpus?.total ?? 0))
          return `has ${n.gpus === undefined ? 'no GPU' : `only ${n.gpus.total} GPU${n.gpus.total === 1 ? '' : 's'}`}`;
        const forJobs = n.totalMemGB - MEM_RESERVE_GB;
        if (forJobs <= demand.memGB)
          return (
            `can never run it: ${gb(n.totalMemGB)} GB of memory, ${reserve}, leaves ${gb(Math.max(0, forJobs))} GB for jobs, ` +
            `and a job needs more than its ${gb(demand.memGB)} GB`
          );
        const freeCores = n.cores - n.usedCores - n.outsiders;
        if (freeCores < demand.cores)
          return `${Math.max(0, freeCores)} of ${n.cores} cores free${n.outsiders > 0 ? ` (${n.outsiders} busy with processes not started by qpy)` : ''}`;
        const avail = n.totalMemGB - n.reqMemGB;
        if (avail <= demand.memGB)
          return (
            `${freeCores} cores free, but only ${gb(Math.max(0, avail))} GB of memory free for jobs ` +
            `(${gb(n.totalMemGB)} GB, ${reserve}, ${gb(n.reqMemGB - MEM_RESERVE_GB)} GB promised to running jobs), ` +
            `and a job needs more than its ${gb(demand.memGB)} GB`
          );
        if (demand.cores === 1 && n.totalMemGB - n.usedMemGB <= demand.memGB)
          return `only ${gb(Math.max(0, n.totalMemGB - n.usedMemGB))} GB of memory really free now (measured)`;
        return gpuWhy(n, demand.gpus ?? 0) ?? 'has room for it now';
      })();
      return `${n.name}: ${why}`;
    })
    .concat(poolLines(status.pools ?? []));
}
