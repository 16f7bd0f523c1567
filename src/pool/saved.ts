/**
 * The pilots a pool runner keeps across restarts (issue 18): those known to
 * Slurm, with the node each joined as, saved as JSON by the daemon that owns
 * the pools (the master's meta table, qpy-multiuser's admin directory). A
 * restarted daemon knows their nodes again before it adopts the jobs running
 * there; the first `squeue` then corrects the rest. Pure: text in and out.
 */
import { arrayOf, nullable, num, obj, str, strMax, type Infer } from '../protocol/schema.js';
import { newPilot, type Pilot } from './pilots.js';
import type { PoolRun } from './plan.js';

const savedSchema = obj({
  pools: arrayOf(
    obj({
      name: str,
      pilots: arrayOf(
        obj({ jobId: strMax(64), since: num, host: nullable(strMax(256)), node: nullable(strMax(256)), endsAt: nullable(num) }),
        100_000,
      ),
    }),
    1000,
  ),
});
type Saved = Infer<typeof savedSchema>;

/** The text to save for these pools' pilots (not those being ended: they hold no job). */
export function savedPilots(runs: ReadonlyMap<string, PoolRun>): string {
  const doc: Saved = {
    pools: [...runs.values()].map((r) => ({
      name: r.config.name,
      pilots: [...r.pilots.values()]
        .filter((p) => p.ending === null)
        .map((p) => ({ jobId: p.jobId, since: p.since, host: p.host, node: p.node, endsAt: p.endsAt })),
    })),
  };
  return JSON.stringify(doc);
}

/**
 * The saved pilots of the pools still configured (`runs`), by pool; a pilot
 * that had joined counts as running until a listing says otherwise. Text
 * that is not a save gives nothing (the first listing finds the pilots).
 */
export function restorePilots(text: string | undefined, runs: ReadonlyMap<string, PoolRun>, now: number): Map<string, Pilot[]> {
  const out = new Map<string, Pilot[]>();
  if (text === undefined) return out;
  let doc: Saved;
  try {
    doc = savedSchema(JSON.parse(text), '$');
  } catch {
    return out;
  }
  for (const pool of doc.pools) {
    const run = runs.get(pool.name);
    if (run === undefined) continue;
    const pilots = pool.pilots.map((s) => {
      const p = newPilot(s.jobId, Math.min(s.since, now));
      p.host = s.host;
      p.endsAt = s.endsAt;
      if (s.node !== null && s.host !== null) {
        p.node = s.node;
        p.slurmState = 'RUNNING';
        p.idleSince = now;
      }
      return p;
    });
    out.set(pool.name, pilots);
  }
  return out;
}
