/**
 * bench/chaos [JOBS [SEED [CORES [JOB_SECONDS]]]]: the chaos run of the
 * hostile-input suite (test/helpers/chaos.ts) at length: JOBS short jobs
 * (default 5,000) of 3 simulated users on a real qpy-multiuser with CORES
 * cores (default 8), their masters and then qpy-multiuser SIGKILLed every
 * 1–5 s (SEED, or QPY_CHAOS_SEED, replays the kill times) and restarted as
 * the CLIs would. Prints what it did and found; exits 1 if a job was lost,
 * run twice or not done, or more ran than cores.
 */
import { runChaos, formatChaosReport } from '../test/helpers/chaos.js';
import { seedFrom } from '../test/helpers/prng.js';

const jobs = Number(process.argv[2] ?? 5000);
const seed = seedFrom(process.argv[3] ?? process.env['QPY_CHAOS_SEED']);
const cores = Number(process.argv[4] ?? 8);
const jobSeconds = process.argv[5] ?? '0.3';
if (!Number.isSafeInteger(jobs) || jobs < 1 || !Number.isSafeInteger(cores) || cores < 1 || !(Number(jobSeconds) >= 0)) {
  process.stderr.write('usage: bench/chaos [JOBS [SEED [CORES [JOB_SECONDS]]]]\n');
  process.exit(1);
}
process.stdout.write(
  `bench/chaos: ${jobs} jobs, seed ${seed}, ${cores} cores, jobs of ${jobSeconds} s (replay: bench/chaos ${jobs} ${seed} ${cores} ${jobSeconds})\n`,
);
const report = await runChaos({
  seed,
  jobs,
  users: 3,
  cores,
  jobSeconds,
  killEveryMs: [1000, 5000],
  deadlineMs: Math.max(120_000, ((jobs * Number(jobSeconds)) / cores) * 4000),
  progress: (l) => process.stdout.write(`${l}\n`),
});
process.stdout.write(`${formatChaosReport(report)}\n`);
process.exitCode = report.findings.length ? 1 : 0;
