/**
 * What the run tracker asks a node's agent, as functions of one `ask`
 * (send a request, get its answer's lines): the liveness and run files of
 * many jobs in one request, the verdict on a job from them, the runs of a
 * job, and a process group's signals and life. Shared by every transport.
 */
import { attemptKey, endOf, parseRunFile, type EndRecord, type RunFile } from './run-files.js';
import { killGroup, notifiedEnd, silentEnd, type GroupControl, type KillSignal } from './group-kill.js';
import { agentCommand, type AgentLine, type Liveness } from './agent-script.js';
import { pollUntil } from './poll.js';

/** Send the request built for a fresh tag; resolves with its answer's lines. */
export type Ask = (build: (tag: number) => string) => Promise<AgentLine[]>;

/** One job's state as a `check` request found it. */
export interface Checked {
  state: Liveness;
  file: RunFile | null;
  /** The wait status of a gone job (or wrapper) that this agent started and reaped. */
  status?: number;
}

/** At most this many jobs per `check` request (one line to the agent). */
const CHECK_CHUNK = 256;

const yes = (lines: AgentLine[]): boolean => lines.some((l) => l.type === 'answer' && l.yes);

/** Liveness and run file of each (key, pid), in one request per chunk. */
export async function inspect(ask: Ask, ts: readonly { key: string; pid: number }[]): Promise<Map<string, Checked>> {
  const found = new Map<string, Checked>();
  for (let i = 0; i < ts.length; i += CHECK_CHUNK) {
    const lines = await ask((tag) => agentCommand.check(tag, ts.slice(i, i + CHECK_CHUNK)));
    for (const l of lines) {
      if (l.type === 'live')
        found.set(l.key, l.status === undefined ? { state: l.state, file: null } : { state: l.state, file: null, status: l.status });
      else if (l.type === 'file') {
        const c = found.get(l.key);
        if (c) c.file = parseRunFile(l.content);
      }
    }
  }
  return found;
}

/**
 * A watched job's end from what `check` found, or null while it runs. A
 * wrapper gone without a status line ended with its wait status where the
 * agent knows it, else of the signal this life sent it, if any; an unclaimed
 * run file with a live process under the pid is a wrapper before its exec
 * (its argv is still the agent's).
 */
export function verdict(t: { pid: number; signalSent: KillSignal | null }, c: Checked): EndRecord | null {
  const recorded = endOf(c.file);
  if (recorded) return recorded;
  if (c.state === 'alive') return null;
  if (c.file?.kind !== 'pid' && (c.state === 'other' || t.pid === 0)) return null;
  return c.status !== undefined ? notifiedEnd(c.status) : silentEnd(t.signalSent);
}

/** How long a job found gone with nothing recorded is given for its agent to record its end. */
const SILENT_GRACE_MS = 500;

/** Whether a check found the job's end recorded in its run file, or its wait status. */
const recordedOrReaped = (c: Checked): boolean => endOf(c.file) !== null || c.status !== undefined;

/**
 * The verdict, except that a job gone with nothing recorded ends only once
 * that has lasted SILENT_GRACE_MS (noted in `t.silentSince`): an agent that
 * outlived its master records an end within 0.1 s of it.
 */
export function settled(
  t: { pid: number; signalSent: KillSignal | null; silentSince?: number },
  c: Checked,
  now: number,
): EndRecord | null {
  const rec = verdict(t, c);
  if (!rec || recordedOrReaped(c)) return rec;
  t.silentSince ??= now;
  return now - t.silentSince < SILENT_GRACE_MS ? null : rec;
}

/** One job's check; found gone with nothing recorded, checked again after SILENT_GRACE_MS. */
export async function inspectSettled(ask: Ask, t: { key: string; pid: number }): Promise<Checked | undefined> {
  const c = (await inspect(ask, [t])).get(t.key);
  if (!c || c.state === 'alive' || recordedOrReaped(c)) return c;
  await new Promise((r) => setTimeout(r, SILENT_GRACE_MS));
  return (await inspect(ask, [t])).get(t.key);
}

/** Every attempt's run file of a job, in attempt order. */
export async function runsOf(ask: Ask, jobId: number): Promise<RunFile[]> {
  return (await ask((tag) => agentCommand.runs(tag, jobId))).flatMap((l) => (l.type === 'file' ? [parseRunFile(l.content)] : []));
}

/** Block attempt `key` for good (its run file says `none`); false if a wrapper claimed it first. */
export async function block(ask: Ask, key: string): Promise<boolean> {
  return yes(await ask((tag) => agentCommand.block(tag, key)));
}

/**
 * The last attempt of a job and its run file (null if none), a half-written
 * claim (its newline not there yet) waited for up to `limitMs`.
 */
export async function lastClaim(ask: Ask, jobId: number, limitMs: number): Promise<{ last: number; claim: RunFile | null }> {
  const all = await runsOf(ask, jobId);
  const last = all.length - 1;
  if (last < 0) return { last, claim: null };
  const key = attemptKey(jobId, last);
  const reread = async () => (await inspect(ask, [{ key, pid: 0 }])).get(key)?.file ?? null;
  return { last, claim: await pollUntil(all[last]!, reread, (f) => f?.kind !== 'incomplete', limitMs) };
}

/** Requests about many jobs are sent together, this long after the first (one `rm` for all forgotten jobs). */
const BATCH_MS = 100;

/** A request about many jobs, sent in batches: `build` makes it for the ids gathered. */
export function batched(ask: Ask, build: (tag: number, ids: number[]) => string) {
  const ids = new Set<number>();
  let timer: NodeJS.Timeout | null = null;
  const flush = (): Promise<unknown> => {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = [...ids];
    ids.clear();
    return batch.length > 0 ? ask((tag) => build(tag, batch)).catch(() => undefined) : Promise.resolve();
  };
  return {
    add(id: number): void {
      ids.add(id);
      if (timer) return;
      timer = setTimeout(() => void flush(), BATCH_MS);
      timer.unref();
    },
    /** Before anything else is asked about this id: the batch holding it goes out first. */
    before(id: number): void {
      if (ids.has(id)) void flush();
    },
    pending: () => ids.size > 0,
    flush,
    stop(): void {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

/** Signals to process group `pgid` and its life, through the agent. */
export function groupOf(ask: Ask, pgid: number): Pick<GroupControl, 'signal' | 'gone'> & { alive(): Promise<boolean> } {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) throw new Error(`invalid process group id ${pgid}`);
  const alive = async () => yes(await ask((tag) => agentCommand.group(tag, pgid)));
  return {
    signal: async (sig) => yes(await ask((tag) => agentCommand.kill(tag, sig, pgid))),
    // The group, not the wrapper: a wrapper that ended may leave children in its group (ones that ignore TERM).
    gone: async () => !(await alive()),
    alive,
  };
}

/** A given-up job's group: TERM, KILL after the grace, then true once no member is left alive. */
export async function killLeftover(ask: Ask, pgid: number, graceMs: number): Promise<boolean> {
  const g = groupOf(ask, pgid);
  await killGroup({ ...g, mayAppear: () => false, sent: () => undefined }, graceMs);
  // A KILLed process leaves the table a moment later.
  return !(await pollUntil(true, g.alive, (a) => !a, 2000));
}
