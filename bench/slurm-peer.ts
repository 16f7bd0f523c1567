/**
 * Slurm for bench/peers: the tests' real Slurm (test/helpers/slurm.ts: its
 * own munged, slurmctld and slurmd on one node of `slots` CPUs), its daemons
 * inside the peer's CPU meter. Jobs are batch scripts (`sbatch --wrap`), an
 * array for a batch; the batch ends when a job depending on the whole array
 * (`srun --dependency=afterany`) runs, since `sbatch --wait` polls (about
 * 2 s). Submit-and-wait is `srun`. Needs root (slurmd starts jobs as their user).
 */
import { startSlurm, slurmMissing as missing } from '../test/helpers/slurm.js';
import { BENCH_BASE } from './lib.js';
import { runIn, type Peer } from './peer-systems.js';
import { cpuMeter } from './timing.js';

/** Why Slurm cannot run here, or null. */
export function slurmMissing(): string | null {
  const why = missing();
  return why === null ? null : `Slurm: ${why}; not run`;
}

export async function slurmPeer(slots: number): Promise<Peer> {
  const meter = cpuMeter('qpy-peers-slurm');
  const slurm = await startSlurm({ cpus: slots, partition: 'bench', base: BENCH_BASE, wrap: (f, a) => meter.wrap(f, a) }).catch(
    (err: unknown) => {
      meter.close();
      throw err;
    },
  );
  const { dir, env } = slurm;
  const sh = (script: string) => runIn(meter, '/bin/sh', ['-c', script], env, dir);
  return {
    name: 'Slurm',
    meter,
    batch: async (n, _slots, command) =>
      void (await sh(
        `id=$(sbatch --parsable --array=1-${n} -o '${dir}/out/%A_%a.out' --wrap '${command}') && srun -Q --dependency=afterany:\${id%%;*} /bin/true`,
      )),
    reset: async () => undefined,
    submitWait: async () => void (await runIn(null, 'srun', ['-Q', '/bin/true'], env, dir)),
    submit: async () => void (await runIn(null, 'sbatch', ['-Q', '-o', '/dev/null', '--wrap', '/bin/true'], env, dir)),
    close: async () => {
      await slurm.close();
      meter.close();
    },
  };
}
