/**
 * What the executor is given to start a job: its command (the script copy
 * in place of the original, the user's sourceTheseFiles first), its
 * directory, its output files, the QPY_* variables the job sees, and the
 * limits its node agent keeps (`-t`, and `-m` unless memory limits are off
 * for it), with the grace between TERM and KILL that `qpy kill` gives.
 * GPUs: the devices of its grant in CUDA_VISIBLE_DEVICES and QPY_GPUS (their
 * UUIDs in QPY_GPU_UUIDS where known); a job without GPUs gets an empty
 * CUDA_VISIBLE_DEVICES, so that it sees none and cannot take one by accident.
 */
import type { Job } from '../../protocol/job.js';
import type { Settings } from '../../protocol/settings.js';
import type { LaunchSpec } from '../../executor/executor.js';
import { jobTag, shellQuote, TAG_VAR } from '../../executor/wrapper.js';
import { withSourcedFiles } from '../../master/settings.js';
import { outputFiles } from '../../protocol/output-names.js';

/** The launch of a job committed as running on `node`. */
export function launchSpec(job: Job, node: string, user: string, settings: Settings, graceMs: number): LaunchSpec {
  const { spec } = job;
  const attempt = (job.attempts?.length ?? 0) + 1;
  return {
    jobId: job.id,
    node,
    command: withSourcedFiles(
      settings.sourceTheseFiles,
      spec.copy ? shellQuote(spec.copy.path) + spec.command.slice(spec.copy.wordEnd) : spec.command,
    ),
    cwd: spec.cwd,
    ...outputFiles(job.id, spec),
    env: {
      QPY_JOB_ID: String(job.id),
      QPY_NODE: node,
      QPY_N_CORES: String(spec.cores),
      QPY_MEM: memText(spec.memGB),
      QPY_ATTEMPT: String(attempt),
      ...(spec.group ? { QPY_ARRAY_ID: String(spec.group.id), QPY_ARRAY_INDEX: String(spec.group.index) } : {}),
      ...(spec.name === undefined ? {} : { QPY_JOB_NAME: spec.name }),
      [TAG_VAR]: jobTag(user, job.id, attempt),
      ...(spec.time !== undefined ? { QPY_TIME_LIMIT: String(spec.time) } : {}),
      ...gpuVariables(job),
    },
    ...(spec.time !== undefined ? { timeLimit: { seconds: spec.time, graceMs } } : {}),
    ...(spec.memLimit === true && spec.memGB > 0 ? { memLimit: { kb: Math.ceil(spec.memGB * GB_KB), graceMs } } : {}),
  };
}

/** CUDA_VISIBLE_DEVICES, QPY_GPUS and QPY_GPU_UUIDS of a job committed as running: see the header. */
export function gpuVariables(job: Job): Record<string, string> {
  const s = job.state;
  const gpus = s.type === 'running' ? (s.gpus ?? []) : [];
  if (gpus.length === 0) return { CUDA_VISIBLE_DEVICES: '' };
  const list = gpus.join(',');
  const uuids = s.type === 'running' ? s.gpuUuids : undefined;
  return { CUDA_VISIBLE_DEVICES: list, QPY_GPUS: list, ...(uuids === undefined ? {} : { QPY_GPU_UUIDS: uuids.join(',') }) };
}

/** KiB in a GB as `-m` counts it (the allocator's GB are 2^30 bytes, as /proc reports memory in KiB). */
const GB_KB = 1024 * 1024;

/** QPY_MEM as the original wrote it (a Python float: 5.0, 0.01). */
export function memText(gb: number): string {
  return Number.isInteger(gb) ? gb.toFixed(1) : String(gb);
}
