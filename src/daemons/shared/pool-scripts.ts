/**
 * The batch scripts of Slurm pilots (issue 18), written into each pool's
 * directory and given to `sbatch`. A pilot reached over SSH only holds its
 * node until qpy ends it or its time runs out.
 */
import type { PoolConfig } from '../../allocator/pool-line.js';

/** The batch script of a pilot reached over SSH. */
export function holdingScript(pool: PoolConfig): string {
  return [
    '#!/bin/sh',
    `# A pilot of qpy's Slurm pool ${pool.name}: it holds this node for qpy, which reaches it over SSH,`,
    '# until qpy ends it (scancel) or its time limit comes.',
    `echo "qpy pilot $SLURM_JOB_ID of pool ${pool.name} on $(hostname)"`,
    "trap 'exit 0' TERM INT",
    'while :; do sleep 60 & wait $!; done',
    '',
  ].join('\n');
}
