/**
 * `check --groups`, pure: the jobs a check lists, with the members of each
 * array or load summed up into one entry (counts per status, the ID and
 * index ranges, the command) and every other job left as it is.
 */
import { JOB_STATUSES, type GroupSummary, type Job, type JobStatus } from '../protocol/job.js';

export interface GroupedCheck {
  /** The jobs that are in no array or load, in the order given. */
  jobs: Job[];
  /** One entry per array or load met, in order of its ID. */
  groups: GroupSummary[];
}

/** Sums up members of arrays and loads as they are met (a million members are never held). */
export class GroupSummer {
  private readonly byId = new Map<number, { s: GroupSummary; counts: Map<JobStatus, number> }>();

  /** Count `job` in its group's entry; false if it is in no array or load. */
  add(job: Job): boolean {
    const g = job.spec.group;
    if (g === undefined) return false;
    let e = this.byId.get(g.id);
    if (e === undefined) {
      const s: GroupSummary = {
        id: g.id,
        kind: g.kind,
        first: job.id,
        last: job.id,
        indices: [g.index, g.index],
        jobs: 0,
        held: 0,
        command: job.spec.command,
        counts: [],
      };
      if (g.cap !== undefined) s.cap = g.cap;
      e = { s, counts: new Map() };
      this.byId.set(g.id, e);
    }
    const s = e.s;
    if (job.id < s.first) {
      s.first = job.id;
      if (g.kind === 'load') s.command = job.spec.command;
    }
    s.last = Math.max(s.last, job.id);
    s.indices[0] = Math.min(s.indices[0], g.index);
    s.indices[1] = Math.max(s.indices[1], g.index);
    s.jobs++;
    if (job.state.type === 'queue' && job.state.held === true) s.held++;
    e.counts.set(job.state.type, (e.counts.get(job.state.type) ?? 0) + 1);
    return true;
  }

  /** The entries, in order of their group's ID. */
  groups(): GroupSummary[] {
    const groups = [...this.byId.values()].map(({ s, counts }) => ({
      ...s,
      counts: JOB_STATUSES.flatMap((st): [JobStatus, number][] => (counts.has(st) ? [[st, counts.get(st)!]] : [])),
    }));
    return groups.sort((a, b) => a.id - b.id);
  }
}

export function summarizeGroups(listed: Iterable<Job>): GroupedCheck {
  const jobs: Job[] = [];
  const summer = new GroupSummer();
  for (const job of listed) if (!summer.add(job)) jobs.push(job);
  return { jobs, groups: summer.groups() };
}
