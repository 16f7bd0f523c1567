/**
 * The batch scripts of Slurm pilots (issue 18), written into each pool's
 * directory and given to `sbatch`. A pilot reached over SSH only holds its
 * node until qpy ends it or its time runs out; as it starts it leaves
 * `started-JOBID` (its Slurm node name) in the pool's directory, so that
 * where that directory is shared (home directories usually are) qpy learns
 * of the start at its next tick rather than at its next `squeue`.
 */
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { PoolConfig } from '../../allocator/pool-line.js';

/** The file a starting pilot leaves in its pool's directory `dir`. */
export const startedFile = (jobId: string): string => `started-${jobId}`;

/** The batch script of a pilot reached over SSH; `dir` is its pool's directory. */
export function holdingScript(pool: PoolConfig, dir: string): string {
  const quoted = `'${dir.replace(/'/g, "'\\''")}'`;
  return [
    '#!/bin/sh',
    `# A pilot of qpy's Slurm pool ${pool.name}: it holds this node for qpy, which reaches it over SSH,`,
    '# until qpy ends it (scancel) or its time limit comes.',
    `echo "qpy pilot $SLURM_JOB_ID of pool ${pool.name} on $(hostname)"`,
    `f=${quoted}/${startedFile('"$SLURM_JOB_ID"')}`,
    'echo "$SLURMD_NODENAME" > "$f.tmp" && mv "$f.tmp" "$f"',
    "trap 'exit 0' TERM INT",
    'while :; do sleep 60 & wait $!; done',
    '',
  ].join('\n');
}

/**
 * The starts that pilots of the pool directory `dir` left word of (their
 * files, consumed), for the pilots `known` says qpy knows: job ID → Slurm's
 * node name. Others' files stay until the next listing makes them known.
 */
export function readStarts(dir: string, known: (jobId: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^started-[0-9]+$/.test(n));
  } catch {
    return out;
  }
  for (const name of names) {
    const jobId = name.slice('started-'.length);
    if (!known(jobId)) continue;
    try {
      const host = readFileSync(join(dir, name), 'utf8').trim();
      if (/^[A-Za-z0-9_.-]{1,256}$/.test(host)) out.set(jobId, host);
      unlinkSync(join(dir, name));
    } catch {
      // gone meanwhile, or unreadable: the next listing tells
    }
  }
  return out;
}
