/**
 * Checks on what a user submits, before anything is stored: the values a
 * scheduler must refuse (no cores, negative memory, an empty command…).
 */
import type { JobSpec } from '../protocol/job.js';
import { namesProblem } from '../protocol/output-names.js';
import { type QpyError, invalid } from '../errors.js';
import { MAX_TIME_LIMIT } from '../protocol/time-limit.js';
import { MAX_SLOT_GPUS } from '../protocol/master-allocator.js';

/** The largest core count and memory one job may ask for (sanity bounds). */
export const MAX_CORES = 100_000;
export const MAX_MEM_GB = 1_000_000;
/** The most GPUs one job may ask for (the wire's bound, MAX_SLOT_GPUS). */
export const MAX_GPUS = MAX_SLOT_GPUS;

export function validateSpec(spec: JobSpec): QpyError | null {
  if (spec.command.trim() === '') return invalid('the command is empty', 'usage: qpy sub [options] COMMAND [ARGS...]');
  if (!Number.isSafeInteger(spec.cores) || spec.cores < 1 || spec.cores > MAX_CORES) {
    return invalid(`invalid number of cores: ${spec.cores} (must be a whole number from 1 to ${MAX_CORES})`);
  }
  if (!Number.isFinite(spec.memGB) || spec.memGB < 0 || spec.memGB > MAX_MEM_GB) {
    return invalid(`invalid memory: ${spec.memGB} (must be a number of GB, 0 or more)`);
  }
  if (spec.gpus !== undefined && (!Number.isSafeInteger(spec.gpus) || spec.gpus < 0 || spec.gpus > MAX_GPUS)) {
    return invalid(`invalid number of GPUs: ${spec.gpus} (must be a whole number from 0 to ${MAX_GPUS})`);
  }
  if (spec.time !== undefined && (!Number.isSafeInteger(spec.time) || spec.time < 1 || spec.time > MAX_TIME_LIMIT)) {
    return invalid(`invalid time limit: ${spec.time} seconds (must be a whole number from 1 to ${MAX_TIME_LIMIT})`);
  }
  if (!spec.cwd.startsWith('/')) return invalid(`the submission directory must be absolute: ${spec.cwd}`);
  if (spec.command.includes('\0') || spec.cwd.includes('\0')) return invalid('NUL characters are not allowed');
  const names = namesProblem(spec);
  return names === null ? null : invalid(names);
}
