/**
 * Shared builders for the master-core unit tests: a valid JobSpec, a job in
 * each status (with the data that status carries), selectors, and an
 * assertion for ILLEGAL_TRANSITION refusals.
 */
import assert from 'node:assert/strict';
import type { Job, JobSpec, JobState, JobStatus, Outcome } from '../../../src/protocol/job.js';
import type { Selector } from '../../../src/protocol/selector.js';
import { QpyError } from '../../../src/errors.js';

export function spec(over: Partial<JobSpec> = {}): JobSpec {
  return { command: 'echo hi', cwd: '/home/u/work', cores: 1, memGB: 1, attrs: null, ...over };
}

/** The state of a job with status `status`, with plausible times. */
export function stateOf(status: JobStatus | 'killing'): JobState {
  const ended = { node: 'n1', startedAt: 100, endedAt: 200 };
  switch (status) {
    case 'queue':
      return { type: 'queue' };
    case 'running':
      return { type: 'running', node: 'n1', startedAt: 100, pid: 42, killRequested: false };
    case 'killing':
      return { type: 'running', node: 'n1', startedAt: 100, pid: 42, killRequested: true };
    case 'done':
      return { type: 'done', ...ended, outcome: { type: 'exit', code: 0 } };
    case 'failed':
      return { type: 'failed', ...ended, outcome: { type: 'exit', code: 1 } };
    case 'killed':
      return { type: 'killed', ...ended, outcome: { type: 'signal', signal: 'SIGTERM' } };
    case 'timeout':
      return { type: 'timeout', ...ended, outcome: { type: 'signal', signal: 'SIGTERM' } };
    case 'out_of_memory':
      return { type: 'out_of_memory', ...ended, outcome: { type: 'signal', signal: 'SIGKILL' } };
    case 'undone':
      return { type: 'undone', endedAt: 50 };
    case 'node_failed':
      return { type: 'node_failed', ...ended };
  }
}

/** A job `id` in `status` ('killing' = running with a kill requested). */
export function job(id: number, status: JobStatus | 'killing' = 'queue', over: Partial<JobSpec> = {}): Job {
  return { id, spec: spec(over), queuedAt: 10, state: stateOf(status) };
}

export function sel(over: Partial<Selector> = {}): Selector {
  return { statuses: [], dirs: [], ranges: [], ...over };
}

export const EXIT0: Outcome = { type: 'exit', code: 0 };

/** Every status a test can put a job in, including running-with-kill-requested. */
export const ALL_STATES = [
  'queue',
  'running',
  'killing',
  'done',
  'failed',
  'killed',
  'undone',
  'node_failed',
  'timeout',
  'out_of_memory',
] as const;

/** Asserts that `fn` throws a QpyError with code ILLEGAL_TRANSITION. */
export function assertIllegal(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof QpyError, `expected a QpyError, got ${String(err)}`);
    assert.equal(err.code, 'ILLEGAL_TRANSITION');
    return true;
  });
}

/** The IDs of `jobs`, for compact assertions. */
export function ids(jobs: Iterable<Job>): number[] {
  return [...jobs].map((j) => j.id);
}
