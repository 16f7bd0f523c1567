/**
 * The Slurm pools section of `qpy status` (issue 18), shown only where the
 * nodes file declares pools, after the original's tables: each pool's
 * settings, then each pilot with its Slurm job ID and state (why it is
 * pending, its host and node once it runs, its time left), and the last
 * failure of Slurm's commands.
 */
import { PILOT_ENDING, type ClusterStatus, type PilotView } from '../protocol/cluster.js';

/** `m:ss` or `h:mm:ss` of a time left (never negative). */
function left(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  return h > 0 ? `${h}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${Math.floor(s / 60)}:${two(s % 60)}`;
}

function pilotLine(p: PilotView, now: number): string {
  const parts = [`pilot ${p.jobId}: ${p.state}`];
  if (p.reason !== null) parts[0] += ` (${p.reason})`;
  if (p.host !== null) parts.push(`on ${p.host}`);
  if (p.node !== null) parts.push(`as node ${p.node}`);
  if (p.endsAt !== null && p.node !== null) parts.push(`${left(p.endsAt - now)} left`);
  if (p.ending !== null) parts.push(`ending (${PILOT_ENDING[p.ending] ?? p.ending})`);
  return `    ${parts.join(', ')}`;
}

/** The pool lines, each ending in a newline, or '' without pools. */
export function formatPools(status: ClusterStatus, now: number): string {
  const pools = status.pools ?? [];
  if (pools.length === 0) return '';
  const lines = ['Slurm pools:'];
  for (const pool of pools) {
    const each = `${pool.cores} core${pool.cores === 1 ? '' : 's'}, ${pool.memGB} GB, ${left(pool.timeLimitS * 1000)}`;
    lines.push(
      `  pool ${pool.name}: partition ${pool.partition}, up to ${pool.maxNodes} pilot${pool.maxNodes === 1 ? '' : 's'} of ${each}; ` +
        `reached by ${pool.reach}; ends a pilot idle ${pool.idleMin} min`,
    );
    if (pool.pilots.length === 0) lines.push('    no pilot now (one is submitted while jobs wait)');
    for (const p of pool.pilots) lines.push(pilotLine(p, now));
    if (pool.problem !== null) lines.push(`    problem: ${pool.problem}`);
  }
  return `${lines.join('\n')}\n`;
}
