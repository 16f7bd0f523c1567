/**
 * A recording outbox for the master core's decisions (as HyperQueue tests
 * its reactor): effects are collected instead of carried out, and read back
 * by kind. Also a fresh MasterCore and a few allocator replies.
 */
import type { Effect } from '../../../src/master/effects.js';
import type { MasterCore } from '../../../src/master/core.js';
import { emptyState, submit } from '../../../src/master/state.js';
import { Staging } from '../../../src/master/staging.js';
import { Listings } from '../../../src/master/listings.js';
import { DEFAULT_SETTINGS } from '../../../src/protocol/settings.js';
import type { AllocatorToMaster } from '../../../src/protocol/master-allocator.js';
import type { Job, JobSpec } from '../../../src/protocol/job.js';
import { spec } from './fixtures.js';

type Of<T extends Effect['type']> = Extract<Effect, { type: T }>;

export class Outbox {
  readonly effects: Effect[] = [];

  /** Record effects; returns them (for chaining in assertions). */
  push(effects: readonly Effect[]): Effect[] {
    this.effects.push(...effects);
    return [...effects];
  }

  of<T extends Effect['type']>(type: T): Of<T>[] {
    return this.effects.filter((e): e is Of<T> => e.type === type);
  }

  /** The effect kinds in order (commitSoon's followers inline after it, marked `soon:`). */
  kinds(): string[] {
    return this.effects.flatMap((e) => (e.type === 'commitSoon' ? ['commitSoon', ...e.afterwards.map((a) => `soon:${a.type}`)] : [e.type]));
  }

  clear(): void {
    this.effects.length = 0;
  }
}

/** The effect kinds of a list, in order. */
export const kinds = (effects: readonly Effect[]): string[] => effects.map((e) => e.type);

export function makeCore(): MasterCore {
  return {
    state: emptyState(),
    user: 'u',
    settings: DEFAULT_SETTINGS,
    notes: new Map(),
    staging: new Staging(),
    listings: new Listings(),
    refusals: new Map(),
  };
}

/** Submit a job to the core's state (at time 0). */
export function add(core: MasterCore, over: Partial<JobSpec> = {}): Job {
  return submit(core.state, spec(over), 0);
}

export const granted = (jobId: number, node = 'n1'): AllocatorToMaster =>
  ({ type: 'granted', id: 0, jobId, node, address: null }) as unknown as AllocatorToMaster;
export const refused = (jobId: number, reason: 'no_room' | 'no_node'): AllocatorToMaster =>
  ({ type: 'refused', id: 0, jobId, reason }) as unknown as AllocatorToMaster;
export const allocError = (code: string): AllocatorToMaster =>
  ({ type: 'error', id: 0, code, message: code }) as unknown as AllocatorToMaster;
