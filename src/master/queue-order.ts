/**
 * `qpy ctrlQueue jump IDS TARGET` (reference §5.9) as a pure function of the
 * queue: the listed queued jobs move, keeping their relative order, to the
 * head (`begin`), the tail (`end`), or immediately after the job TARGET.
 * Listed IDs that are not queued are ignored. Each refusal is a sentence the
 * user sees, and leaves the queue as it was.
 */
import { inRanges } from './select.js';

export type JumpTarget = 'begin' | 'end' | number;

export type JumpResult = { ok: true; queue: number[] } | { ok: false; message: string };

export function jumpQueue(queue: readonly number[], ranges: readonly [number, number][], target: JumpTarget): JumpResult {
  const listed = (id: number) => inRanges(id, ranges);
  const moving = queue.filter(listed);
  if (typeof target === 'number' && listed(target)) return { ok: false, message: 'Position is part of list: queue not reordered.' };
  if (typeof target === 'number' && !queue.includes(target)) return { ok: false, message: 'Position not found: queue not reordered.' };
  if (moving.length === 0) return { ok: false, message: 'List does not have jobs in queue: queue not reordered.' };
  if (moving.length === queue.length) return { ok: false, message: 'Queue is completely contained in list: queue not reordered.' };
  const rest = queue.filter((id) => !listed(id));
  if (target === 'begin') return { ok: true, queue: [...moving, ...rest] };
  if (target === 'end') return { ok: true, queue: [...rest, ...moving] };
  const at = rest.indexOf(target) + 1;
  return { ok: true, queue: [...rest.slice(0, at), ...moving, ...rest.slice(at)] };
}
