/**
 * Repair of a qpy-multiuser store written by an older version, which took a
 * master's numbers unchecked: slots with cores 2^53−1 or negative, memory
 * 1e308, a node or user named "", a job ID that is no whole number. Charged
 * again at start, such a slot makes every status document invalid or drives
 * the counters out of range (negative once released). Pure: rows in, the rows
 * to keep and a sentence for each dropped one out.
 *
 * Bad rows are dropped, never clamped: no grant ever had such values (every
 * grant fits a configured node, and the wire bounds are those below), so the
 * row records a forged or corrupt report, not a job that holds cores. A
 * clamped value would charge the user for cores no master holds; a dropped
 * slot of a job that really runs is reported again by its master at its next
 * registration, and settled there like any other report.
 */
import { MAX_SLOT_CORES, MAX_SLOT_GPUS, MAX_SLOT_MEM_GB } from '../protocol/master-allocator.js';
import type { AllocatorSnapshot, StoredSlot } from './allocator-store.js';

/** Longest user or node name the wire accepts (master-allocator.ts). */
const MAX_NAME = 256;

const validName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME;
const intIn = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

/** Why this stored slot is impossible, or null when it is one the daemon could have granted. */
export function slotProblem(s: StoredSlot): string | null {
  if (!validName(s.user)) return `the user name must be 1 to ${MAX_NAME} characters`;
  if (!intIn(s.jobId, 0, Number.MAX_SAFE_INTEGER)) return 'the job ID must be a whole number of 0 or more';
  if (!validName(s.node)) return `the node name must be 1 to ${MAX_NAME} characters`;
  if (!intIn(s.cores, 1, MAX_SLOT_CORES)) return `the cores must be a whole number from 1 to ${MAX_SLOT_CORES}`;
  if (typeof s.memGB !== 'number' || !Number.isFinite(s.memGB) || s.memGB < 0 || s.memGB > MAX_SLOT_MEM_GB)
    return `the memory must be from 0 to ${MAX_SLOT_MEM_GB} GB`;
  const gpus = s.gpus ?? [];
  if (gpus.some((g) => !intIn(g, 0, MAX_SLOT_GPUS - 1)) || new Set(gpus).size !== gpus.length)
    return `the GPUs must be distinct device indices from 0 to ${MAX_SLOT_GPUS - 1}`;
  return null;
}

/** A stored row as a log line shows it (values as stored, JSON-quoted so "" and odd text are visible). */
const show = (v: unknown): string => (typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v)));

export interface Repair {
  /** The snapshot without the bad rows. */
  snap: AllocatorSnapshot;
  /** Store rowids of the slots to delete. */
  slotRows: number[];
  /** Users to delete (with their slots), by name as stored. */
  userNames: string[];
  /** One sentence per dropped row, for the log. */
  lines: string[];
}

/** Drop every impossible slot and every user with an impossible name (with its slots). */
export function repairSnapshot(snap: AllocatorSnapshot): Repair {
  const lines: string[] = [];
  const userNames: string[] = [];
  const users = snap.users.filter((u) => {
    if (validName(u.name)) return true;
    userNames.push(u.name);
    lines.push(`dropped user ${show(u.name)} from the store: a user name must be 1 to ${MAX_NAME} characters (its slots go with it)`);
    return false;
  });
  const slots: StoredSlot[] = [];
  const keptRows: number[] = [];
  const slotRows: number[] = [];
  snap.slots.forEach((s, i) => {
    const problem = slotProblem(s);
    if (problem === null) {
      slots.push(s);
      keptRows.push(snap.slotRows[i]!);
      return;
    }
    slotRows.push(snap.slotRows[i]!);
    lines.push(
      `dropped slot of user ${show(s.user)}, job ${show(s.jobId)} ` +
        `(${show(s.cores)} cores, ${show(s.memGB)} GB, node ${show(s.node)}) from the store: ${problem}`,
    );
  });
  return { snap: { ...snap, users, slots, slotRows: keptRows }, slotRows, userNames, lines };
}
