/**
 * A big `qpy load` arrives in parts: the parts received so far wait here,
 * under a stage token, until the last one commits them all. A load whose
 * next part has not come for STAGE_TTL_MS was abandoned (its `qpy load`
 * killed) and is dropped. Kept in the master's context (one per daemon).
 */
import { QpyError } from '../errors.js';

/** A load whose next part has not come for this long was abandoned: it is dropped. */
export const STAGE_TTL_MS = 10 * 60_000;

export class Staging {
  private readonly staged = new Map<number, { commands: string[]; touchedAt: number }>();
  private nextStage = 1;

  get size(): number {
    return this.staged.size;
  }

  /** Drop the loads not added to since `now - STAGE_TTL_MS`. */
  expire(now: number): void {
    for (const [stage, s] of this.staged) if (now - s.touchedAt > STAGE_TTL_MS) this.staged.delete(stage);
  }

  /** Start a load with its first part; its stage token. */
  open(commands: readonly string[], now: number): number {
    const stage = this.nextStage++;
    this.staged.set(stage, { commands: [...commands], touchedAt: now });
    return stage;
  }

  /** Add a part to a load; every command of it so far. NOT_FOUND if it was dropped (or the master restarted). */
  add(stage: number, commands: readonly string[], now: number): string[] {
    const s = this.staged.get(stage);
    if (!s)
      throw new QpyError(
        'NOT_FOUND',
        'this load was lost (the master restarted, or its next part came too late): nothing of it was submitted',
        'load the file again',
      );
    for (const c of commands) s.commands.push(c);
    s.touchedAt = now;
    return s.commands;
  }

  /** Its last part came: the load is no longer staged. */
  close(stage: number): void {
    this.staged.delete(stage);
  }
}
