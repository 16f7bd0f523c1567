/**
 * What the executor is given to start a job: its command (the script copy
 * in place of the original, the user's sourceTheseFiles first), its
 * directory, its output files and the QPY_* variables the job sees.
 */
import type { Job } from '../../protocol/job.js';
import type { Settings } from '../../protocol/settings.js';
import type { LaunchSpec } from '../../executor/executor.js';
import { jobTag, shellQuote, TAG_VAR } from '../../executor/wrapper.js';
import { withSourcedFiles } from '../../master/settings.js';
import { outputFiles } from '../../protocol/output-names.js';

/** The launch of a job committed as running on `node`. */
export function launchSpec(job: Job, node: string, user: string, settings: Settings): LaunchSpec {
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
    },
  };
}

/** QPY_MEM as the original wrote it (a Python float: 5.0, 0.01). */
export function memText(gb: number): string {
  return Number.isInteger(gb) ? gb.toFixed(1) : String(gb);
}
